//! `observe::counter!`, `gauge!` and `histogram!`: metrics that are not function-shaped.
//! The full name and every label are checked against the convention exactly like the
//! attribute's; the expansion is a `static` site with cached handles.
//!
//! `counter!("copilot_parsing_retry_attempts_total", help = "…", labels(queue = queue))`

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Token};

use crate::check::{MetricNames, check_service_allowed, report_unknown_preset};
use crate::config::Convention;
use crate::convention::{Preset, Unit, closest, one_of};
use crate::ctxt::Ctxt;
use crate::labels::{self, CheckedLabel, Domain, Factor, LabelUse, LabelValue};
use crate::rules::{self, Kind, NameContext};

/// Every option the function-like macros accept after the name.
const KEYS: &[&str] = &["help", "service", "preset", "labels", "crate"];

/// Labels observe sets on every series of these metrics.
const SET_BY_OBSERVE: &[(&str, &str)] = &[
    (
        "service",
        "it is the metric's service, from its name or `service = \"…\"`",
    ),
    (
        "environment",
        "it comes from `OBSERVE_ENVIRONMENT` at runtime",
    ),
];

struct MetricArgs {
    name: LitStr,
    help: Option<LitStr>,
    service: Option<LitStr>,
    preset: Option<LitStr>,
    labels: Vec<(Ident, Expr)>,
    krate: Option<syn::Path>,
}

/// The expansion, or with `enabled` false (the `observe/enabled` feature off) a handle that
/// records nothing, once the call has passed every check.
pub(crate) fn expand(kind: Kind, input: TokenStream, enabled: bool) -> TokenStream {
    let cx = Ctxt::new();
    let Some(args) = parse(&cx, input) else {
        return cx
            .check()
            .err()
            .map(syn::Error::into_compile_error)
            .unwrap_or_default();
    };
    let site = match crate::config::load() {
        Ok(convention) => Some(check(&cx, kind, &args, &convention)),
        Err(messages) => {
            crate::expand::config_errors(&cx, messages);
            None
        }
    };
    match (cx.check(), site) {
        (Ok(()), Some(_)) if !enabled => noop(kind, TokenStream::new(), &args),
        (Ok(()), Some(site)) => generate(kind, &args, &site),
        (Err(errors), _) => noop(kind, errors.into_compile_error(), &args),
        (Ok(()), None) => unreachable!("a failed config load reports an error"),
    }
}

/// The errors (if any), and a handle of the right type that records nothing, so the
/// caller's code still checks; the label values are still evaluated, as they would be.
fn noop(kind: Kind, errors: TokenStream, args: &MetricArgs) -> TokenStream {
    let krate = krate(args);
    let ty = match kind {
        Kind::Counter => quote!(CounterRef),
        Kind::Gauge => quote!(GaugeRef),
        Kind::Histogram => quote!(HistogramRef),
    };
    let values = args.labels.iter().map(|(_, value)| value);
    quote! {{
        #errors
        let _ = (#(&#values,)*);
        #krate::#ty::noop()
    }}
}

fn krate(args: &MetricArgs) -> syn::Path {
    args.krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::observe))
}

fn parse(cx: &Ctxt, input: TokenStream) -> Option<MetricArgs> {
    let parser = |stream: ParseStream| -> syn::Result<(LitStr, Vec<RawOption>)> {
        let name: LitStr = stream.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the metric's full name as a string literal\n\n= help: write e.g. `counter!(\"copilot_parsing_retry_attempts_total\", help = \"…\")`",
            )
        })?;
        let mut options = Vec::new();
        while !stream.is_empty() {
            stream.parse::<Token![,]>()?;
            if stream.is_empty() {
                break;
            }
            options.push(stream.parse()?);
        }
        Ok((name, options))
    };
    let (name, options) = match parser.parse2(input) {
        Ok(parsed) => parsed,
        Err(error) => {
            cx.syn_error(error);
            return None;
        }
    };
    let mut args = MetricArgs {
        name,
        help: None,
        service: None,
        preset: None,
        labels: Vec::new(),
        krate: None,
    };
    let mut seen: Vec<String> = Vec::new();
    for RawOption { key, value } in options {
        let key_name = key.unraw().to_string();
        if seen.contains(&key_name) {
            cx.error_spanned_by(
                &key,
                format!("duplicate argument `{key_name}`"),
                Some(format!("remove one of the `{key_name}` arguments")),
            );
            continue;
        }
        seen.push(key_name.clone());
        match (key_name.as_str(), value) {
            ("help", OptionValue::Str(s)) => args.help = Some(s),
            ("service", OptionValue::Str(s)) => args.service = Some(s),
            ("preset", OptionValue::Str(s)) => args.preset = Some(s),
            ("crate", OptionValue::Path(p)) => args.krate = Some(p),
            ("labels", OptionValue::List(tokens)) => {
                match Punctuated::<LabelExpr, Token![,]>::parse_terminated.parse2(tokens) {
                    Ok(labels) => {
                        args.labels = labels.into_iter().map(|l| (l.key, l.value)).collect()
                    }
                    Err(error) => cx.syn_error(error),
                }
            }
            (known, _) if KEYS.contains(&known) => {
                let example = match known {
                    "labels" => "labels(queue = queue_name)",
                    "crate" => "crate = ::observe",
                    "preset" => "preset = \"latency\"",
                    "service" => "service = \"parsing\"",
                    _ => "help = \"Number of retried parse attempts.\"",
                };
                cx.error_spanned_by(
                    &key,
                    format!("malformed argument `{known}`"),
                    Some(format!("write it as `{example}`")),
                );
            }
            (unknown, _) => {
                let help = match closest(unknown, KEYS.iter().copied()) {
                    Some(near) => format!(
                        "did you mean `{near}`? expected one of {}",
                        one_of(KEYS.iter().copied())
                    ),
                    None => format!(
                        "expected one of {}; labels go inside `labels(…)`",
                        one_of(KEYS.iter().copied())
                    ),
                };
                cx.error_spanned_by(&key, format!("unknown argument `{unknown}`"), Some(help));
            }
        }
    }
    Some(args)
}

struct RawOption {
    key: Ident,
    value: OptionValue,
}

enum OptionValue {
    Str(LitStr),
    Path(syn::Path),
    List(TokenStream),
    Other,
}

impl Parse for RawOption {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.call(Ident::parse_any)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            if input.peek(LitStr) {
                OptionValue::Str(input.parse()?)
            } else if input.peek(Lit) {
                input.parse::<Lit>()?;
                OptionValue::Other
            } else {
                OptionValue::Path(input.call(syn::Path::parse_mod_style)?)
            }
        } else if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            OptionValue::List(content.parse()?)
        } else {
            OptionValue::Other
        };
        Ok(RawOption { key, value })
    }
}

/// `queue = "parsing"` or `queue = expr` inside `labels(…)`.
struct LabelExpr {
    key: Ident,
    value: Expr,
}

impl Parse for LabelExpr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.call(Ident::parse_any)?;
        input.parse::<Token![=]>()?;
        Ok(LabelExpr {
            key,
            value: input.parse()?,
        })
    }
}

/// What `generate` needs, validated.
struct MetricSite {
    service: String,
    help: String,
    labels: Vec<CheckedLabel>,
    preset: Option<Preset>,
    /// `observe.toml`, a tracked input.
    source: Option<std::path::PathBuf>,
}

fn check(cx: &Ctxt, kind: Kind, args: &MetricArgs, convention: &Convention) -> MetricSite {
    let name = args.name.value();
    let service = check_service(cx, args, &name, convention);
    let context = NameContext {
        namespace: &convention.namespace,
        service: &service,
    };
    for v in rules::metric_name(&name, kind, &context) {
        cx.error_spanned_by(&args.name, v.message, Some(v.help));
    }
    check_not_instrumented(cx, args, &name, &service, convention);
    let help = check_help(cx, args);
    let preset = check_preset(cx, kind, args, &name, convention);
    let uses: Vec<LabelUse<'_>> = args
        .labels
        .iter()
        .map(|(key, value)| LabelUse {
            key,
            value: match literal(value) {
                Some(lit) => LabelValue::Literal(lit),
                None => LabelValue::Runtime,
            },
        })
        .collect();
    let labels = labels::check_labels(cx, convention, &uses, SET_BY_OBSERVE, args.name.span());
    let mut factors: Vec<Factor> = labels.iter().map(Factor::of).collect();
    if let Some(preset) = &preset {
        factors.push(Factor::bucket_series(preset));
    }
    labels::check_budget(cx, args.name.span(), &name, &factors, convention);
    MetricSite {
        service,
        help,
        labels,
        preset,
        source: convention.source.clone(),
    }
}

/// N013: not one of the four metrics `#[instrumented]` records for the service, which would
/// give that name two families in one exposition (`init` also rejects it across crates).
fn check_not_instrumented(
    cx: &Ctxt,
    args: &MetricArgs,
    name: &str,
    service: &str,
    convention: &Convention,
) {
    let prefix = format!("{}_{service}", convention.namespace);
    let names = MetricNames::of(&convention.names, &prefix, Unit::Seconds);
    if let Some((_, kind)) = names.with_kinds().into_iter().find(|(n, _)| *n == name) {
        let role = match kind {
            Kind::Histogram => "duration histogram",
            Kind::Gauge => "in-flight gauge",
            Kind::Counter if name == names.failures => "failure counter",
            Kind::Counter => "processed counter",
        };
        cx.error_spanned_by(
            &args.name,
            format!(
                "metric `{name}` is the {role} `#[instrumented]` records for service `{service}`"
            ),
            Some(format!(
                "give this metric a name of its own, such as `{prefix}_<what>_{}`, or let `#[instrumented]` on the function record it",
                name.rsplit('_').next().unwrap_or_default()
            )),
        );
    }
}

fn literal(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

/// S001/S002: the service is `service = "…"`, else the longest of `services` the name
/// starts with, else the crate's default service, else the name's second segment.
fn check_service(cx: &Ctxt, args: &MetricArgs, name: &str, convention: &Convention) -> String {
    if let Some(lit) = &args.service {
        let service = lit.value();
        match crate::convention::snake_case_violation(&service) {
            Some(reason) => cx.error_spanned_by(
                lit,
                format!("service `{service}` {reason}"),
                Some(format!(
                    "write `service = \"{}\"`",
                    crate::convention::to_snake_case(&service)
                )),
            ),
            None => check_service_allowed(cx, lit, &service, convention),
        }
        return service;
    }
    let rest = name
        .strip_prefix(&convention.namespace)
        .and_then(|r| r.strip_prefix('_'));
    let starts = |service: &str| rest.is_some_and(|r| r.starts_with(&format!("{service}_")));
    if rest.is_none() {
        // No namespace: N002 reports it; guess the service from the name's start so the
        // suggested name is right.
        let candidates = convention
            .services
            .iter()
            .flatten()
            .chain(&convention.default_service);
        if let Some(service) = candidates
            .filter(|s| name.starts_with(&format!("{s}_")))
            .max_by_key(|s| s.len())
        {
            return service.clone();
        }
    }
    if let Some(services) = &convention.services {
        if let Some(service) = services
            .iter()
            .filter(|s| starts(s))
            .max_by_key(|s| s.len())
        {
            return service.clone();
        }
        if let Some(rest) = rest {
            let first = rest.split('_').next().unwrap_or(rest);
            let listed = one_of(services.iter().map(String::as_str));
            let help = match closest(first, services.iter().map(String::as_str)) {
                Some(near) => format!(
                    "did you mean `{}_{near}_{}`? the services are {listed}",
                    convention.namespace,
                    rest.strip_prefix(first)
                        .unwrap_or(rest)
                        .trim_start_matches('_')
                ),
                None => {
                    format!("the services are {listed}; add it to `services` in `observe.toml`")
                }
            };
            cx.error_spanned_by(
                &args.name,
                format!("metric `{name}` names no service of `observe.toml`'s `services`"),
                Some(help),
            );
            return first.to_owned();
        }
    }
    if let Some(service) = &convention.default_service
        && (starts(service) || rest.is_none())
    {
        return service.clone();
    }
    rest.and_then(|r| r.split('_').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("service")
        .to_owned()
}

/// M001: every metric has HELP text (promlint), one non-empty line.
fn check_help(cx: &Ctxt, args: &MetricArgs) -> String {
    match &args.help {
        Some(lit) if lit.value().trim().is_empty() || lit.value().contains('\n') => {
            cx.error_spanned_by(
                lit,
                "HELP text must be one non-empty line",
                Some(
                    "say what it counts, e.g. `help = \"Parse attempts retried after a failure.\"`"
                        .to_owned(),
                ),
            );
            String::new()
        }
        Some(lit) => lit.value(),
        None => {
            cx.error_spanned_by(
                &args.name,
                format!("metric `{}` has no HELP text", args.name.value()),
                Some(
                    "add `help = \"…\"` saying what it measures: Prometheus shows it as `# HELP`"
                        .to_owned(),
                ),
            );
            String::new()
        }
    }
}

/// H001/H002: a histogram's preset exists and measures the unit its name ends in; without
/// `preset`, the first preset of that unit. Counters and gauges take none.
fn check_preset(
    cx: &Ctxt,
    kind: Kind,
    args: &MetricArgs,
    name: &str,
    convention: &Convention,
) -> Option<Preset> {
    if kind != Kind::Histogram {
        if let Some(lit) = &args.preset {
            cx.error_spanned_by(
                lit,
                format!("a {} has no buckets, so no preset", kind.noun()),
                Some("remove `preset`, or use `observe::histogram!`".to_owned()),
            );
        }
        return None;
    }
    let unit = rules::histogram_unit(name)?;
    let Some(lit) = &args.preset else {
        let found = convention
            .presets
            .iter()
            .find(|p| p.unit.suffix() == unit)
            .cloned();
        if found.is_none() {
            cx.error_spanned_by(
                &args.name,
                format!("no histogram preset measures {unit}"),
                Some(format!(
                    "declare one in `observe.toml`: `[presets.<name>]` with `unit = \"{unit}\"` and `buckets`"
                )),
            );
        }
        return found;
    };
    let wanted = lit.value();
    match convention.presets.iter().find(|p| p.name == wanted) {
        Some(preset) if preset.unit.suffix() == unit => Some(preset.clone()),
        Some(preset) => {
            let matching: Vec<&str> = convention
                .presets
                .iter()
                .filter(|p| p.unit.suffix() == unit)
                .map(|p| p.name.as_str())
                .collect();
            cx.error_spanned_by(
                lit,
                format!(
                    "preset `{wanted}` measures {}, but `{name}` is in {unit}",
                    preset.unit.suffix()
                ),
                Some(if matching.is_empty() {
                    format!("declare a preset with `unit = \"{unit}\"` in `observe.toml`")
                } else {
                    format!("use a preset in {unit}: {}", one_of(matching))
                }),
            );
            None
        }
        None => {
            report_unknown_preset(cx, lit, convention);
            None
        }
    }
}

fn generate(kind: Kind, args: &MetricArgs, site: &MetricSite) -> TokenStream {
    let krate = krate(args);
    let private = quote!(#krate::__private);
    let name = args.name.value();
    let (help, service) = (&site.help, &site.service);
    let kind_tokens = match kind {
        Kind::Counter => quote!(#private::MetricKind::Counter),
        Kind::Gauge => quote!(#private::MetricKind::Gauge),
        Kind::Histogram => quote!(#private::MetricKind::Histogram),
    };
    let labels = site.labels.iter().map(|label| {
        let label_name = &label.name;
        let domain = match &label.domain {
            Domain::Const { value, .. } => quote!(#private::LabelDomain::Const(#value)),
            Domain::Set(values) => quote!(#private::LabelDomain::Set(&[#(#values),*])),
            Domain::Bounded(max) => {
                let max = Literal::usize_unsuffixed(*max as usize);
                quote!(#private::LabelDomain::Bounded(#max))
            }
        };
        quote!((#label_name, #domain))
    });
    let runtime_values = args
        .labels
        .iter()
        .filter(|(_, value)| literal(value).is_none())
        .map(|(_, value)| quote!(::core::convert::AsRef::<str>::as_ref(&#value)));
    let buckets = site
        .preset
        .iter()
        .flat_map(|p| p.buckets.iter().map(|b| Literal::f64_suffixed(*b)));
    let method = Ident::new(kind.noun(), Span::call_site());
    let tracked = site.source.as_ref().map(|path| {
        let path = path.display().to_string();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    quote! {{
        #tracked
        static __OBSERVE_METRIC: #private::MetricSite = #private::MetricSite::new(#private::MetricSiteMeta {
            kind: #kind_tokens,
            name: #name,
            help: #help,
            service: #service,
            module_path: ::core::module_path!(),
            labels: &[#(#labels),*],
            buckets: &[#(#buckets),*],
            file: ::core::file!(),
            line: ::core::line!(),
        });
        #private::inventory::submit! {
            #private::MetricSiteRegistration(&__OBSERVE_METRIC)
        }
        __OBSERVE_METRIC.#method(&[#(#runtime_values),*])
    }}
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use crate::rules::Kind;

    /// With the `enabled` feature off the call is still checked, then records nothing.
    #[test]
    fn disabled_is_checked_then_a_noop() {
        let call = quote!(
            "copilot_parsing_retry_attempts_total",
            help = "Retries.",
            labels(queue = q)
        );
        let enabled = super::expand(Kind::Counter, call.clone(), true).to_string();
        assert!(enabled.contains("MetricSite"), "{enabled}");
        let disabled = super::expand(Kind::Counter, call, false).to_string();
        assert!(disabled.contains("CounterRef :: noop"), "{disabled}");
        assert!(!disabled.contains("MetricSite"), "{disabled}");
        let bad = super::expand(
            Kind::Counter,
            quote!("copilot_parsing_retries", help = "R."),
            false,
        );
        assert!(bad.to_string().contains("must end in `_total`"), "{bad}");
    }
}
