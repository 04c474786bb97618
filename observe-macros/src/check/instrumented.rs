//! `#[instrumented]`'s own rules, and the `Site` they produce: everything `expand`
//! needs for one function, validated.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span, TokenStream};
use syn::ext::IdentExt;
use syn::{ItemFn, LitStr};

use super::labels::{
    self, CheckedLabel, Domain, Factor, LabelUse, LabelValue, SET_BY_INSTRUMENTED,
};
use super::{PresetUse, check_preset};
use crate::args::{InstrumentedArgs, LabelArg, LevelArg, ValueFormat};
use crate::convention::{Convention, MetricNames, Preset, Unit};
use crate::ctxt::Ctxt;
use crate::rules::{self, NAME_SUFFIXES_RESERVED, NameContext};
use crate::text::{closest, one_of, snake_case_violation, to_snake_case};
use crate::vocab::{LABEL_ERROR_TYPE, LABEL_OUTCOME, SPAN_KINDS};

/// Everything `expand` needs, validated.
pub(crate) struct Site {
    pub(crate) krate: syn::Path,
    pub(crate) fn_name: String,
    /// The span's name: `span_name`, else the function's name.
    pub(crate) span_name: String,
    /// The span's (and `ret`/`err` events') target: `target`, else the module path.
    pub(crate) target: Option<String>,
    /// `ret`: an event with the returned value, at the span's level.
    pub(crate) ret: Option<ValueFormat>,
    /// `err`: an event with the error, at `ERROR`, when the function returns `Err`.
    pub(crate) err: Option<ValueFormat>,
    pub(crate) service: String,
    /// The four metrics' names, from the convention's templates.
    pub(crate) names: MetricNames,
    /// `outcome` values: success, failure, cancelled.
    pub(crate) outcomes: [String; 3],
    /// `name`, if given, for the HELP text.
    pub(crate) name: Option<String>,
    pub(crate) operation: String,
    pub(crate) preset: Preset,
    /// `TRACE` … `ERROR`.
    pub(crate) level: Ident,
    /// `level = Level::DEBUG` as written (a path of two segments or more), referenced by
    /// the expansion so the user's `use tracing::Level` is used, as under tracing.
    pub(crate) level_path: Option<syn::Path>,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) recorded_args: Vec<Ident>,
    pub(crate) fields: Option<TokenStream>,
    /// The OpenTelemetry span kind (`otel.kind`), if not the default `internal`.
    pub(crate) kind: Option<String>,
    /// The argument whose trace headers the span continues.
    pub(crate) parent: Option<Ident>,
    /// The operation's SLO as declared (attribute, else `observe.toml`).
    pub(crate) slo: crate::slo::Resolved,
    /// The series this site can produce in each of its four families (duration,
    /// processed, failures, active), and the budget each family's total is held to.
    pub(crate) series: [u64; 4],
    pub(crate) series_budget: u64,
}

const LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];

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
    let checked = check_labels(
        cx,
        convention,
        args.labels.get().map_or(&[][..], Vec::as_slice),
    );
    let recorded_args = check_skip(cx, args, arg_idents);
    let kind = args.kind.get().and_then(|lit| check_kind(cx, lit));
    let parent = args
        .parent
        .get()
        .and_then(|ident| check_parent(cx, ident, arg_idents));
    let mut prefix = format!("{}_{service}", convention.namespace);
    if let Some(name) = &name {
        prefix = format!("{prefix}_{name}");
    }
    let names = MetricNames::of(&convention.names, &prefix, preset.unit);
    let name_span = args.name.get().map_or_else(
        || {
            args.service
                .get()
                .map_or_else(Span::call_site, LitStr::span)
        },
        LitStr::span,
    );
    if snake_case_violation(&service).is_none() {
        check_metric_names(cx, &names, convention, &service, name_span);
    }
    let series = check_budgets(cx, &names, &checked, &preset, convention);
    let labels = checked
        .into_iter()
        .filter_map(|label| match label.domain {
            Domain::Const { value, .. } => Some((label.name, value)),
            _ => None,
        })
        .collect();
    let outcomes = convention.outcomes.all().map(str::to_owned);
    let slo = check_slo(cx, args, convention, &service, &operation, &preset);
    Site {
        krate: args.krate.krate(),
        span_name: args
            .span_name
            .get()
            .map_or_else(|| fn_name.clone(), LitStr::value),
        target: args.target.get().map(LitStr::value),
        ret: args
            .ret
            .get()
            .map(|ret| ret.format.unwrap_or(ValueFormat::Debug)),
        err: args
            .err
            .get()
            .map(|err| err.format.unwrap_or(ValueFormat::Display)),
        fn_name,
        service,
        names,
        outcomes,
        name,
        operation,
        preset,
        level,
        labels,
        recorded_args,
        level_path: match args.level.get() {
            Some(LevelArg::Path(path)) if path.segments.len() > 1 => Some(path.clone()),
            _ => None,
        },
        fields: args.fields.get().cloned(),
        kind,
        parent,
        slo,
        series,
        series_budget: convention.series_budget,
    }
}

/// S001: a latency SLO's threshold is a bucket bound of the function's preset, else the
/// histogram cannot tell how many calls were faster. Valid: `slo(latency(threshold =
/// "5s", target = "95%"))` with the `latency` preset (…, 2.5, 5, 10, …).
fn check_slo(
    cx: &Ctxt,
    args: &InstrumentedArgs,
    convention: &Convention,
    service: &str,
    operation: &str,
    preset: &Preset,
) -> crate::slo::Resolved {
    let attr = args.slo.get();
    match crate::slo::resolve(
        &convention.slos,
        service,
        operation,
        attr,
        &preset.name,
        &preset.buckets,
    ) {
        Ok(resolved) => resolved,
        Err(unmeasurable) => {
            let span = unmeasurable.span.unwrap_or_else(|| {
                args.histogram
                    .get()
                    .or(args.service.get())
                    .map_or_else(proc_macro2::Span::call_site, LitStr::span)
            });
            cx.error_at(span, unmeasurable.message, Some(unmeasurable.help));
            crate::slo::Resolved::default()
        }
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
                    Span::call_site(),
                    "missing argument `service`",
                    Some("name the service the metrics belong to, e.g. `#[instrumented(service = \"parsing\")]`, or set `service` in `observe.toml`".to_owned()),
                );
                String::from("service")
            }
        };
    };
    super::check_service(cx, lit, convention)
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
    let checked = lit
        .and_then(|lit| check_preset(cx, lit, Unit::Seconds, PresetUse::CallDurations, convention));
    checked.unwrap_or_else(|| default_duration_preset(cx, convention))
}

/// The first preset in seconds. `observe.toml` can redefine the built-in `latency` in
/// another unit, leaving none: an error, and an empty stand-in since nothing is expanded.
fn default_duration_preset(cx: &Ctxt, convention: &Convention) -> Preset {
    if let Some(preset) = convention.default_duration_preset() {
        return preset.clone();
    }
    cx.error_at(
        Span::call_site(),
        "no histogram preset measures seconds, so call durations have no buckets",
        Some("declare one in `observe.toml`: `[presets.<name>]` with `unit = \"seconds\"` and `buckets`".to_owned()),
    );
    Preset {
        name: String::new(),
        unit: Unit::Seconds,
        buckets: Vec::new(),
    }
}

/// `level` is a `tracing` level. Valid: `level = "debug"`.
fn check_level(cx: &Ctxt, level: Option<&LevelArg>) -> Ident {
    let (text, span) = match level {
        None => return Ident::new("INFO", Span::call_site()),
        Some(LevelArg::Str(lit)) => (lit.value(), lit.span()),
        Some(LevelArg::Path(path)) => match path.segments.last() {
            Some(segment) => (segment.ident.to_string(), segment.ident.span()),
            None => (String::new(), Span::call_site()),
        },
        // tracing's numbering: 1 is the most verbose.
        Some(LevelArg::Int(n)) => match n.base10_parse::<usize>() {
            Ok(level @ 1..=5) => (LEVELS[level - 1].to_owned(), n.span()),
            _ => {
                cx.error_spanned_by(
                    n,
                    format!("unknown level `{n}`"),
                    Some("a numeric level is 1 (trace) to 5 (error)".to_owned()),
                );
                return Ident::new("INFO", n.span());
            }
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
    if SPAN_KINDS.contains(&kind.as_str()) {
        return Some(kind);
    }
    let help = match closest(&kind.to_ascii_lowercase(), SPAN_KINDS.iter().copied()) {
        Some(near) => format!(
            "did you mean `{near}`? expected one of {}",
            one_of(SPAN_KINDS.iter().copied())
        ),
        None => format!("expected one of {}", one_of(SPAN_KINDS.iter().copied())),
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
    // tracing's `parent = <span>` means something else: say so.
    let help = format!(
        "{help}\n  observe's `parent` continues the W3C trace context of incoming headers; tracing's `parent = <span>` has no counterpart: the call's span is a child of the current span"
    );
    cx.error_spanned_by(
        ident,
        format!("`parent` names no argument `{wanted}`"),
        Some(help),
    );
    None
}

/// Extra constant labels: every label rule (see `labels`), with the five labels observe
/// sets itself on this function's metrics reserved. Valid: `labels(queue = "parsing")`.
fn check_labels(cx: &Ctxt, convention: &Convention, labels: &[LabelArg]) -> Vec<CheckedLabel> {
    let uses: Vec<LabelUse<'_>> = labels
        .iter()
        .map(|LabelArg { key, value }| LabelUse {
            key,
            value: LabelValue::Literal(value),
        })
        .collect();
    labels::check_labels(
        cx,
        convention,
        &uses,
        SET_BY_INSTRUMENTED,
        Span::call_site(),
    )
}

/// N001–N012 on the four generated names: a `name` part can still bring a type word or
/// a non-base unit into them. Reported on `name` (or `service`).
fn check_metric_names(
    cx: &Ctxt,
    names: &MetricNames,
    convention: &Convention,
    service: &str,
    at: Span,
) {
    let context = NameContext {
        namespace: &convention.namespace,
        service,
    };
    let mut reported = BTreeSet::new();
    for (name, kind) in names.with_kinds() {
        for v in rules::metric_name(name, kind, &context) {
            if reported.insert(v.rule) {
                cx.error_at(at, v.message, Some(v.help));
            }
        }
    }
}

/// C001 for each of the four metrics, counting what this site can produce: its
/// operation is one value, so outcome (or error class) × the extra labels (each literal,
/// so 1) × bucket series for the histogram. The sum over a family's sites, in however
/// many functions and crates, is checked at `init`.
fn check_budgets(
    cx: &Ctxt,
    names: &MetricNames,
    labels: &[CheckedLabel],
    preset: &Preset,
    convention: &Convention,
) -> [u64; 4] {
    let bound = |label: &str| convention.label(label).map_or(1, |r| r.max);
    let with = |base: &[&str], tail: Option<Factor>| {
        let mut factors: Vec<Factor> = base.iter().map(|l| Factor::new(*l, bound(l))).collect();
        factors.extend(labels.iter().map(Factor::of));
        factors.extend(tail);
        factors
    };
    let buckets = Factor::bucket_series(preset);
    let at = Span::call_site();
    let families = [
        (&names.duration, with(&[LABEL_OUTCOME], Some(buckets))),
        (&names.processed, with(&[LABEL_OUTCOME], None)),
        (&names.failures, with(&[LABEL_ERROR_TYPE], None)),
        (&names.active, with(&[], None)),
    ];
    families.map(|(name, factors)| labels::check_budget(cx, at, name, &factors, convention))
}

/// `skip(..)` names arguments of the function; the rest are recorded on the span with
/// their `Debug` form, as `tracing::instrument` does. Valid: `skip(payload)`.
fn check_skip(cx: &Ctxt, args: &InstrumentedArgs, arg_idents: &[Ident]) -> Vec<Ident> {
    if args.skip_all.get().is_some() {
        return Vec::new();
    }
    let skipped = args.skip.get().map_or(&[][..], Vec::as_slice);
    // `skip(self)`, as tracing accepts: observe never records the receiver anyway.
    let skipped: Vec<&Ident> = skipped.iter().filter(|ident| *ident != "self").collect();
    let names: Vec<String> = arg_idents.iter().map(|i| i.unraw().to_string()).collect();
    for ident in &skipped {
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
