//! The rules of `counter!`, `gauge!` and `histogram!`, and the `MetricSite` they
//! produce. The full name and every label are checked exactly like the attribute's.

use syn::{Expr, ExprLit, Lit, LitStr};

use super::labels::{self, CheckedLabel, Factor, LabelUse, LabelValue, SET_BY_METRIC_MACROS};
use super::{PresetUse, check_preset};
use crate::args::MetricArgs;
use crate::convention::{Convention, MetricNames, Preset, Unit};
use crate::ctxt::Ctxt;
use crate::rules::{self, Kind, NameContext};
use crate::text::{closest, one_of};

/// What `expand` needs for one call, validated.
pub(crate) struct MetricSite {
    pub(crate) service: String,
    pub(crate) help: String,
    pub(crate) labels: Vec<CheckedLabel>,
    pub(crate) preset: Option<Preset>,
    /// The series this site can produce, and the budget its family's total is held to.
    pub(crate) series: u64,
    pub(crate) series_budget: u64,
}

pub(crate) fn site(
    cx: &Ctxt,
    kind: Kind,
    args: &MetricArgs,
    convention: &Convention,
) -> MetricSite {
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
    let preset = check_histogram_preset(cx, kind, args, &name, convention);
    let uses: Vec<LabelUse<'_>> = args
        .label_list()
        .iter()
        .map(|(key, value)| LabelUse {
            key,
            value: match literal(value) {
                Some(lit) => LabelValue::Literal(lit),
                None => LabelValue::Runtime,
            },
        })
        .collect();
    let labels = labels::check_labels(
        cx,
        convention,
        &uses,
        SET_BY_METRIC_MACROS,
        args.name.span(),
    );
    let mut factors: Vec<Factor> = labels.iter().map(Factor::of).collect();
    if let Some(preset) = &preset {
        factors.push(Factor::bucket_series(preset));
    }
    let series = labels::check_budget(cx, args.name.span(), &name, &factors, convention);
    MetricSite {
        service,
        help,
        labels,
        preset,
        series,
        series_budget: convention.series_budget,
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

pub(crate) fn literal(expr: &Expr) -> Option<&LitStr> {
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
    if let Some(lit) = args.service.get() {
        return super::check_service(cx, lit, convention);
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
    match args.help.get() {
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
fn check_histogram_preset(
    cx: &Ctxt,
    kind: Kind,
    args: &MetricArgs,
    name: &str,
    convention: &Convention,
) -> Option<Preset> {
    if kind != Kind::Histogram {
        if let Some(lit) = args.preset.get() {
            cx.error_spanned_by(
                lit,
                format!("a {} has no buckets, so no preset", kind.noun()),
                Some("remove `preset`, or use `observe::histogram!`".to_owned()),
            );
        }
        return None;
    }
    let unit = rules::histogram_unit(name).and_then(Unit::parse)?;
    let Some(lit) = args.preset.get() else {
        let found = convention.presets.iter().find(|p| p.unit == unit).cloned();
        if found.is_none() {
            let unit = unit.suffix();
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
    check_preset(cx, lit, unit, PresetUse::Metric { name }, convention)
}
