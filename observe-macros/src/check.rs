//! The convention applied to one attribute: one `check_*` fn per rule, each reporting into
//! the `Ctxt` at the offending token. The result is a `Site` that `expand` trusts.

use std::collections::BTreeSet;
use std::path::PathBuf;

use proc_macro2::{Ident, TokenStream};
use syn::ext::IdentExt;
use syn::{ItemFn, LitStr};

use crate::args::{InstrumentedArgs, LabelArg, LevelArg};
use crate::config::Convention;
use crate::convention::{
    BASELINE_LABELS, FORBIDDEN_LABELS, NAME_SUFFIXES_RESERVED, Preset, RESERVED_LABELS, Unit,
    closest, one_of, snake_case_violation, to_snake_case,
};
use crate::ctxt::Ctxt;

/// Everything `expand` needs, validated.
pub(crate) struct Site {
    pub(crate) krate: syn::Path,
    pub(crate) fn_name: String,
    pub(crate) service: String,
    /// `<namespace>_<service>[_<name>]`: the common prefix of the four metric names.
    pub(crate) stem: String,
    /// `name`, if given, for the HELP text.
    pub(crate) name: Option<String>,
    pub(crate) operation: String,
    pub(crate) preset: Preset,
    /// `TRACE` … `ERROR`.
    pub(crate) level: Ident,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) recorded_args: Vec<Ident>,
    pub(crate) fields: Option<TokenStream>,
    /// The OpenTelemetry span kind (`otel.kind`), if not the default `internal`.
    pub(crate) kind: Option<String>,
    /// The argument whose trace headers the span continues.
    pub(crate) parent: Option<Ident>,
    pub(crate) convention_source: Option<PathBuf>,
}

const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];
/// OpenTelemetry's span kinds, as `tracing-opentelemetry` reads them from `otel.kind`.
const KINDS: &[&str] = &["server", "client", "producer", "consumer", "internal"];

pub(crate) fn site(
    cx: &Ctxt,
    args: &InstrumentedArgs,
    convention: &Convention,
    item: &ItemFn,
    arg_idents: &[Ident],
) -> Site {
    let fn_name = item.sig.ident.unraw().to_string();
    let service = check_service(cx, args, convention);
    let name = args.name.get().and_then(|lit| check_name(cx, lit));
    let operation = args
        .operation
        .get()
        .map_or_else(|| fn_name.clone(), |lit| check_operation(cx, lit));
    let preset = check_histogram(cx, args.histogram.get(), convention);
    let level = check_level(cx, args.level.get());
    let labels = args
        .labels
        .get()
        .map_or_else(Vec::new, |labels| check_labels(cx, labels));
    let recorded_args = check_skip(cx, args, arg_idents);
    let kind = args.kind.get().and_then(|lit| check_kind(cx, lit));
    let parent = args
        .parent
        .get()
        .and_then(|ident| check_parent(cx, ident, arg_idents));
    let mut stem = format!("{}_{service}", convention.namespace);
    if let Some(name) = &name {
        stem = format!("{stem}_{name}");
    }
    Site {
        krate: args
            .krate
            .get()
            .cloned()
            .unwrap_or_else(|| syn::parse_quote!(::observe)),
        fn_name,
        service,
        stem,
        name,
        operation,
        preset,
        level,
        labels,
        recorded_args,
        fields: args.fields.get().cloned(),
        kind,
        parent,
        convention_source: convention.source.clone(),
    }
}

/// `service` is required (unless `observe.toml` sets `service`) and snake_case: it is the
/// metric subsystem and the `service` label. Valid: `service = "parsing"`.
fn check_service(cx: &Ctxt, args: &InstrumentedArgs, convention: &Convention) -> String {
    let Some(lit) = args.service.get() else {
        return match &convention.default_service {
            Some(service) => service.clone(),
            None if args.attempted.contains(&"service") => String::from("service"),
            None => {
                // Nothing to point at but the attribute itself.
                cx.error_at(
                    proc_macro2::Span::call_site(),
                    "missing argument `service`",
                    Some("name the service the metrics belong to, e.g. `#[instrumented(service = \"parsing\")]`, or set `service` in `observe.toml`".to_owned()),
                );
                String::from("service")
            }
        };
    };
    let service = lit.value();
    if let Some(reason) = snake_case_violation(&service) {
        cx.error_spanned_by(
            lit,
            format!("service `{service}` {reason}"),
            Some(format!("write `service = \"{}\"`", to_snake_case(&service))),
        );
    }
    service
}

/// `name` becomes part of every metric name, so it is snake_case and carries no suffix
/// observe appends itself. Valid: `name = "generation"` → `…_generation_duration_seconds`.
fn check_name(cx: &Ctxt, lit: &LitStr) -> Option<String> {
    let name = lit.value();
    if let Some(reason) = snake_case_violation(&name) {
        cx.error_spanned_by(
            lit,
            format!("metric name part `{name}` {reason}"),
            Some(format!("write `name = \"{}\"`", to_snake_case(&name))),
        );
        return None;
    }
    if let Some(suffix) = NAME_SUFFIXES_RESERVED.iter().find(|s| name.ends_with(*s)) {
        let trimmed = name.trim_end_matches(suffix);
        cx.error_spanned_by(
            lit,
            format!("metric name part `{name}` must not end in `{suffix}`: observe appends the unit and type suffixes itself"),
            Some(format!("write `name = \"{trimmed}\"`")),
        );
        return None;
    }
    Some(name)
}

/// `operation` is a label value; it must be non-empty. Valid: `operation = "parse"`.
fn check_operation(cx: &Ctxt, lit: &LitStr) -> String {
    let operation = lit.value();
    if operation.trim().is_empty() {
        cx.error_spanned_by(
            lit,
            "operation must not be empty",
            Some("remove `operation` to use the function's name, or name the operation".to_owned()),
        );
    }
    operation
}

/// `histogram` names a preset of the convention whose unit is seconds: the histogram
/// observes each call's duration. Valid: `histogram = "latency"`.
fn check_histogram(cx: &Ctxt, lit: Option<&LitStr>, convention: &Convention) -> Preset {
    let fallback = || {
        convention
            .presets
            .iter()
            .find(|p| p.unit == Unit::Seconds)
            .cloned()
            .expect("the built-in convention has a seconds preset")
    };
    let Some(lit) = lit else { return fallback() };
    let wanted = lit.value();
    let names = || convention.presets.iter().map(|p| p.name.as_str());
    match convention.presets.iter().find(|p| p.name == wanted) {
        Some(preset) if preset.unit == Unit::Seconds => preset.clone(),
        Some(preset) => {
            let seconds: Vec<&str> = convention
                .presets
                .iter()
                .filter(|p| p.unit == Unit::Seconds)
                .map(|p| p.name.as_str())
                .collect();
            cx.error_spanned_by(
                lit,
                format!(
                    "preset `{wanted}` measures {}, but `#[instrumented]` records call durations in seconds",
                    preset.unit.suffix()
                ),
                Some(format!(
                    "use a seconds preset ({}); record {} with a histogram of its own",
                    one_of(seconds),
                    preset.unit.suffix()
                )),
            );
            fallback()
        }
        None => {
            let help = match closest(&wanted, names()) {
                Some(near) => format!("did you mean `{near}`? the presets are {}", one_of(names())),
                None => format!("the presets are {}", one_of(names())),
            };
            cx.error_spanned_by(
                lit,
                format!("unknown histogram preset `{wanted}`"),
                Some(help),
            );
            fallback()
        }
    }
}

/// `level` is a `tracing` level. Valid: `level = "debug"`.
fn check_level(cx: &Ctxt, level: Option<&LevelArg>) -> Ident {
    let (text, span) = match level {
        None => return Ident::new("INFO", proc_macro2::Span::call_site()),
        Some(LevelArg::Str(lit)) => (lit.value(), lit.span()),
        Some(LevelArg::Path(path)) => match path.segments.last() {
            Some(segment) => (segment.ident.to_string(), segment.ident.span()),
            None => (String::new(), proc_macro2::Span::call_site()),
        },
    };
    let lower = text.to_ascii_lowercase();
    if LEVELS.contains(&lower.as_str()) {
        return Ident::new(&lower.to_ascii_uppercase(), span);
    }
    let help = match closest(&lower, LEVELS.iter().copied()) {
        Some(near) => format!(
            "did you mean `{near}`? expected one of {}",
            one_of(LEVELS.iter().copied())
        ),
        None => format!("expected one of {}", one_of(LEVELS.iter().copied())),
    };
    cx.error_at(span, format!("unknown level `{text}`"), Some(help));
    Ident::new("INFO", span)
}

/// The span kind is one of OpenTelemetry's five. Valid: `kind = "consumer"`.
fn check_kind(cx: &Ctxt, lit: &LitStr) -> Option<String> {
    let kind = lit.value();
    if KINDS.contains(&kind.as_str()) {
        return Some(kind);
    }
    let help = match closest(&kind.to_ascii_lowercase(), KINDS.iter().copied()) {
        Some(near) => format!(
            "did you mean `{near}`? expected one of {}",
            one_of(KINDS.iter().copied())
        ),
        None => format!("expected one of {}", one_of(KINDS.iter().copied())),
    };
    cx.error_spanned_by(lit, format!("unknown span kind `{kind}`"), Some(help));
    None
}

/// `parent` names one of the function's arguments, whose headers carry the trace context
/// to continue. Valid: `parent = headers` on `fn handle(headers: &HeaderMap)`.
fn check_parent(cx: &Ctxt, ident: &Ident, arg_idents: &[Ident]) -> Option<Ident> {
    let wanted = ident.unraw().to_string();
    if let Some(arg) = arg_idents.iter().find(|arg| arg.unraw() == wanted) {
        return Some(arg.clone());
    }
    let names: Vec<String> = arg_idents.iter().map(|i| i.unraw().to_string()).collect();
    let help = match closest(&wanted, names.iter().map(String::as_str)) {
        Some(near) => format!("did you mean `{near}`?"),
        None if names.is_empty() => {
            "add an argument holding the incoming headers (an `http::HeaderMap` or a string map) and name it here".to_owned()
        }
        None => format!(
            "name the argument holding the incoming headers: {}",
            one_of(names.iter().map(String::as_str))
        ),
    };
    cx.error_spanned_by(
        ident,
        format!("`parent` names no argument `{wanted}`"),
        Some(help),
    );
    None
}

/// Extra constant labels: snake_case names, none reserved by the exposition, none that
/// observe sets itself, none of the RFC's unbounded identifiers, no duplicates.
/// Valid: `labels(queue = "parsing")`.
fn check_labels(cx: &Ctxt, labels: &[LabelArg]) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for LabelArg { key, value } in labels {
        let name = key.unraw().to_string();
        if !seen.insert(name.clone()) {
            cx.error_spanned_by(
                key,
                format!("duplicate label `{name}`"),
                Some(format!("remove one of the `{name}` labels")),
            );
            continue;
        }
        if let Some(reason) = snake_case_violation(&name) {
            cx.error_spanned_by(
                key,
                format!("label name `{name}` {reason}"),
                Some(format!("rename it to `{}`", to_snake_case(&name))),
            );
        } else if RESERVED_LABELS.contains(&name.as_str()) || name.starts_with("__") {
            cx.error_spanned_by(
                key,
                format!("label name `{name}` is reserved by the Prometheus exposition format"),
                Some("choose another label name".to_owned()),
            );
        } else if BASELINE_LABELS.contains(&name.as_str()) {
            cx.error_spanned_by(
                key,
                format!("label `{name}` is set by observe on every series"),
                Some(match name.as_str() {
                    "service" => "set it with the `service` argument".to_owned(),
                    "operation" => "set it with the `operation` argument".to_owned(),
                    "environment" => "it comes from `OBSERVE_ENVIRONMENT` at runtime".to_owned(),
                    _ => format!("remove `{name}`: observe computes it per call"),
                }),
            );
        } else if FORBIDDEN_LABELS.contains(&name.as_str()) {
            cx.error_spanned_by(
                key,
                format!("label `{name}` is forbidden: its values are unbounded, and every value would be a new series"),
                Some(format!("record it on the span instead: `fields({name} = …)`")),
            );
        } else if value.value().is_empty() {
            cx.error_spanned_by(
                value,
                format!("label `{name}` has an empty value"),
                Some("give it a value or remove it".to_owned()),
            );
        } else {
            out.push((name, value.value()));
        }
    }
    out
}

/// `skip(..)` names arguments of the function; the rest are recorded on the span with
/// their `Debug` form, as `tracing::instrument` does. Valid: `skip(payload)`.
fn check_skip(cx: &Ctxt, args: &InstrumentedArgs, arg_idents: &[Ident]) -> Vec<Ident> {
    if args.skip_all.get().is_some() {
        return Vec::new();
    }
    let skipped = args.skip.get().map_or(&[][..], Vec::as_slice);
    let names: Vec<String> = arg_idents.iter().map(|i| i.unraw().to_string()).collect();
    for ident in skipped {
        let wanted = ident.unraw().to_string();
        if !names.contains(&wanted) {
            let help = match closest(&wanted, names.iter().map(String::as_str)) {
                Some(near) => format!("did you mean `{near}`?"),
                None if names.is_empty() => "the function has no arguments to skip".to_owned(),
                None => format!(
                    "the arguments are {}",
                    one_of(names.iter().map(String::as_str))
                ),
            };
            cx.error_spanned_by(
                ident,
                format!("`skip` names no argument `{wanted}`"),
                Some(help),
            );
        }
    }
    arg_idents
        .iter()
        .filter(|arg| !skipped.iter().any(|s| s.unraw() == arg.unraw()))
        .cloned()
        .collect()
}
