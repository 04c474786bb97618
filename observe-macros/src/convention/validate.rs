//! `observe.toml` against the rules of what it may say: one `check_*` per section, each
//! applying its overrides to the built-in convention and reporting every problem with
//! the file, line, column and key. Every problem is reported at once.

use std::path::Path;

use toml::Spanned;

use super::file::{ConventionFile, LabelFile, NamesFile, OutcomesFile, PresetFile};
use super::located::Errors;
use super::model::{Convention, LabelRule, NameTemplates, Preset, Unit, outcome_rule};
use crate::rules::{self, Kind, NameContext};
use crate::text::{one_of, snake_case_violation, to_snake_case};
use crate::vocab;

/// The convention `text` (the contents of `path`) describes.
pub(crate) fn parse(
    text: &str,
    path: &Path,
    default_namespace: String,
) -> Result<Convention, Vec<String>> {
    let mut errors = Errors {
        path,
        text,
        messages: Vec::new(),
    };
    let file: ConventionFile = match toml::from_str(text) {
        Ok(file) => file,
        Err(error) => {
            let message = error.message().trim_end().to_owned();
            errors.at(error.span(), "", message);
            return Err(errors.messages);
        }
    };
    let mut convention = Convention::builtin(default_namespace);
    convention.source = Some(path.to_path_buf());
    let e = &mut errors;
    let c = &mut convention;
    // In dependency order: `service` is checked against `services`, `required_labels`
    // against `labels`, the templates under the final namespace.
    check_namespace(e, c, file.namespace);
    check_services(e, c, file.services);
    check_default_service(e, c, file.service);
    check_outcomes(e, c, file.outcomes);
    check_forbidden_labels(e, c, file.forbidden_labels);
    for (name, label) in file.labels {
        check_label(e, c, name, label);
    }
    check_required_labels(e, c, file.required_labels);
    for (name, preset) in file.presets {
        check_preset(e, c, name, preset);
    }
    check_series_budget(e, c, file.series_budget);
    check_names(e, c, file.names);
    if errors.messages.is_empty() {
        Ok(convention)
    } else {
        Err(errors.messages)
    }
}

/// `namespace` is snake_case: it starts every metric name. Valid: `namespace = "acme"`.
fn check_namespace(
    errors: &mut Errors<'_>,
    c: &mut Convention,
    namespace: Option<Spanned<String>>,
) {
    let Some(namespace) = namespace else { return };
    if let Some(reason) = snake_case_violation(namespace.get_ref()) {
        errors.at(
            Some(namespace.span()),
            "namespace",
            format!(
                "namespace `{}` {reason}; write `namespace = \"{}\"`",
                namespace.get_ref(),
                to_snake_case(namespace.get_ref())
            ),
        );
    }
    c.namespace = namespace.into_inner();
}

/// Every listed service is snake_case. Valid: `services = ["billing", "ledger"]`.
fn check_services(
    errors: &mut Errors<'_>,
    c: &mut Convention,
    services: Option<Vec<Spanned<String>>>,
) {
    let Some(services) = services else { return };
    for service in &services {
        errors.snake_case(service, "services", "service");
    }
    c.services = Some(services.into_iter().map(Spanned::into_inner).collect());
}

/// The default `service` is snake_case and, with a `services` list, in it.
/// Valid: `service = "billing"`.
fn check_default_service(
    errors: &mut Errors<'_>,
    c: &mut Convention,
    service: Option<Spanned<String>>,
) {
    let Some(service) = service else { return };
    errors.snake_case(&service, "service", "service");
    if let Some(services) = &c.services
        && !services.contains(service.get_ref())
    {
        errors.at(
            Some(service.span()),
            "service",
            format!(
                "the default service `{}` is not in `services`; add it there",
                service.get_ref()
            ),
        );
    }
    c.default_service = Some(service.into_inner());
}

/// `[outcomes]` renames are snake_case and the three values differ.
/// Valid: `[outcomes] failure = "error"`.
fn check_outcomes(errors: &mut Errors<'_>, c: &mut Convention, outcomes: Option<OutcomesFile>) {
    let Some(outcomes) = outcomes else { return };
    let mut set = |slot: &mut String, value: Option<Spanned<String>>, key: &str| {
        if let Some(value) = value {
            errors.snake_case(&value, key, "outcome");
            *slot = value.into_inner();
        }
    };
    set(
        &mut c.outcomes.success,
        outcomes.success,
        "outcomes.success",
    );
    set(
        &mut c.outcomes.failure,
        outcomes.failure,
        "outcomes.failure",
    );
    set(
        &mut c.outcomes.cancelled,
        outcomes.cancelled,
        "outcomes.cancelled",
    );
    let all = c.outcomes.all();
    if all[0] == all[1] || all[0] == all[2] || all[1] == all[2] {
        errors.at(
            None,
            "outcomes",
            format!("the outcome values must differ, but are {}", one_of(all)),
        );
    }
    let rule = outcome_rule(&c.outcomes);
    c.labels.insert(vocab::LABEL_OUTCOME.to_owned(), rule);
}

/// `forbidden_labels` are label names. Valid: `forbidden_labels = ["customer_id"]`.
fn check_forbidden_labels(
    errors: &mut Errors<'_>,
    c: &mut Convention,
    forbidden: Option<Vec<Spanned<String>>>,
) {
    let Some(forbidden) = forbidden else { return };
    for label in &forbidden {
        errors.label_name(label, "forbidden_labels");
    }
    c.forbidden_labels = forbidden.into_iter().map(Spanned::into_inner).collect();
}

/// `[labels.<name>]`: a snake_case name not also forbidden, distinct non-empty `values`,
/// and a bound: `max` (at least 1, at least the number of values) or the values' count.
/// Valid: `[labels.team] values = ["payments", "risk"]`.
fn check_label(
    errors: &mut Errors<'_>,
    c: &mut Convention,
    name: String,
    label: Spanned<LabelFile>,
) {
    let key = format!("labels.{name}");
    let span = label.span();
    let label = label.into_inner();
    if let Some(reason) = snake_case_violation(&name) {
        errors.at(
            Some(span.clone()),
            &key,
            format!("label name `{name}` {reason}"),
        );
    }
    if c.forbidden_labels.contains(&name) {
        errors.at(
            Some(span.clone()),
            &key,
            format!("label `{name}` is also in `forbidden_labels`; remove one of the two"),
        );
    }
    if let Some(values) = &label.values {
        let mut seen = Vec::new();
        for value in values {
            if value.get_ref().is_empty() {
                errors.at(
                    Some(value.span()),
                    &key,
                    "a label value must not be empty".to_owned(),
                );
            } else if seen.contains(&value.get_ref()) {
                errors.at(
                    Some(value.span()),
                    &key,
                    format!("value `{}` is listed twice", value.get_ref()),
                );
            }
            seen.push(value.get_ref());
        }
    }
    let values: Option<Vec<String>> = label
        .values
        .map(|v| v.into_iter().map(Spanned::into_inner).collect());
    let max = match (&label.max, &values) {
        (Some(max), _) if *max.get_ref() < 1 => {
            errors.at(
                Some(max.span()),
                &format!("{key}.max"),
                "`max` must be at least 1".to_owned(),
            );
            1
        }
        (Some(max), Some(values)) if (*max.get_ref() as usize) < values.len() => {
            errors.at(
                Some(max.span()),
                &format!("{key}.max"),
                format!(
                    "`max` is {} but {} values are listed",
                    max.get_ref(),
                    values.len()
                ),
            );
            values.len() as u64
        }
        (Some(max), _) => *max.get_ref() as u64,
        (None, Some(values)) => values.len() as u64,
        (None, None) => {
            errors.at(
                Some(span),
                &key,
                format!("label `{name}` needs `values` or `max`: its cardinality must be bounded"),
            );
            1
        }
    };
    c.labels.insert(name, LabelRule { values, max });
}

/// `required_labels` are label names with a declared bound.
/// Valid: `required_labels = ["team"]` with `[labels.team]`.
fn check_required_labels(
    errors: &mut Errors<'_>,
    c: &mut Convention,
    required: Option<Vec<Spanned<String>>>,
) {
    let Some(required) = required else { return };
    for label in &required {
        errors.label_name(label, "required_labels");
        if !c.labels.contains_key(label.get_ref()) {
            errors.at(
                Some(label.span()),
                "required_labels",
                format!(
                    "required label `{0}` has no bound; declare it under `[labels.{0}]` with `values` or `max`",
                    label.get_ref()
                ),
            );
        }
    }
    c.required_labels = required.into_iter().map(Spanned::into_inner).collect();
}

/// `[presets.<name>]`: a snake_case name, a known unit, strictly increasing finite
/// buckets. It replaces a built-in preset of the same name.
/// Valid: `[presets.fast] unit = "seconds"` and `buckets = [0.001, 0.005]`.
fn check_preset(
    errors: &mut Errors<'_>,
    c: &mut Convention,
    name: String,
    preset: Spanned<PresetFile>,
) {
    let key = format!("presets.{name}");
    let span = preset.span();
    let preset = preset.into_inner();
    if let Some(reason) = snake_case_violation(&name) {
        errors.at(Some(span), &key, format!("preset name `{name}` {reason}"));
    }
    let unit = Unit::parse(preset.unit.get_ref()).unwrap_or_else(|| {
        errors.at(
            Some(preset.unit.span()),
            &format!("{key}.unit"),
            format!(
                "unknown unit `{}`; expected one of {}",
                preset.unit.get_ref(),
                one_of(vocab::HISTOGRAM_UNITS)
            ),
        );
        Unit::Seconds
    });
    let buckets_span = preset.buckets.span();
    let buckets = preset.buckets.into_inner();
    if let Some(problem) = bucket_problem(&buckets) {
        errors.at(Some(buckets_span), &format!("{key}.buckets"), problem);
    }
    c.presets.retain(|p| p.name != name);
    c.presets.push(Preset {
        name,
        unit,
        buckets,
    });
}

/// `series_budget` is at least 1. Valid: `series_budget = 5000`.
fn check_series_budget(errors: &mut Errors<'_>, c: &mut Convention, budget: Option<Spanned<i64>>) {
    let Some(budget) = budget else { return };
    if *budget.get_ref() < 1 {
        errors.at(
            Some(budget.span()),
            "series_budget",
            "`series_budget` must be at least 1".to_owned(),
        );
    } else {
        c.series_budget = *budget.get_ref() as u64;
    }
}

/// `[names]` templates give names that pass every rule of their metric type.
/// Valid: `[names] processed = "{prefix}_calls_total"`.
fn check_names(errors: &mut Errors<'_>, c: &mut Convention, names: Option<NamesFile>) {
    let Some(names) = names else { return };
    let slots = &mut c.names;
    let templates = [
        (
            names.duration,
            Kind::Histogram,
            "names.duration",
            &mut slots.duration,
        ),
        (
            names.processed,
            Kind::Counter,
            "names.processed",
            &mut slots.processed,
        ),
        (
            names.failures,
            Kind::Counter,
            "names.failures",
            &mut slots.failures,
        ),
        (names.active, Kind::Gauge, "names.active", &mut slots.active),
    ];
    for (template, kind, key, slot) in templates {
        if let Some(template) = template {
            check_template(errors, &template, kind, key, &c.namespace);
            *slot = template.into_inner();
        }
    }
}

/// A template must start with `{prefix}`, use only `{prefix}` and `{unit}`, and give a
/// name that passes every rule of its metric type.
fn check_template(
    errors: &mut Errors<'_>,
    template: &Spanned<String>,
    kind: Kind,
    key: &str,
    namespace: &str,
) {
    let text = template.get_ref();
    let unknown = text
        .match_indices('{')
        .map(|(i, _)| &text[i..text[i..].find('}').map_or(text.len(), |j| i + j + 1)])
        .find(|p| *p != "{prefix}" && *p != "{unit}");
    if let Some(placeholder) = unknown {
        errors.at(
            Some(template.span()),
            key,
            format!(
                "unknown placeholder `{placeholder}`; templates know `{{prefix}}` and `{{unit}}`"
            ),
        );
        return;
    }
    if !text.starts_with("{prefix}_") {
        errors.at(
            Some(template.span()),
            key,
            format!("template `{text}` must start with `{{prefix}}_` (namespace and service)"),
        );
        return;
    }
    let sample = NameTemplates::render(text, &format!("{namespace}_service"), Unit::Seconds);
    let cx = NameContext {
        namespace,
        service: "service",
    };
    for v in rules::metric_name(&sample, kind, &cx) {
        errors.at(
            Some(template.span()),
            key,
            format!(
                "template `{text}` gives {}: {}; {}",
                kind.noun(),
                v.message,
                v.help
            ),
        );
    }
}

/// Why `buckets` cannot be a histogram's bounds, if they cannot.
pub(crate) fn bucket_problem(buckets: &[f64]) -> Option<String> {
    if buckets.is_empty() {
        return Some("buckets must not be empty".to_owned());
    }
    if let Some(b) = buckets.iter().find(|b| !b.is_finite()) {
        return Some(format!(
            "bucket `{b}` is not finite; `+Inf` is added by the exposition"
        ));
    }
    buckets.windows(2).find(|w| w[1] <= w[0]).map(|w| {
        format!(
            "buckets must increase strictly, but `{}` follows `{}`",
            w[1], w[0]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        parse(text, Path::new("observe.toml"), "app".to_owned()).unwrap_err()
    }

    #[test]
    fn a_full_file_parses() {
        let c = parse(
            r#"
namespace = "acme"
services = ["billing", "ledger"]
service = "billing"
required_labels = ["team"]
forbidden_labels = ["user_id", "customer_id"]
series_budget = 5000

[labels.team]
values = ["payments", "risk"]

[labels.region]
max = 4

[presets.fast]
unit = "seconds"
buckets = [0.001, 0.005, 0.01]

[names]
processed = "{prefix}_calls_total"

[outcomes]
failure = "error"
"#,
            Path::new("observe.toml"),
            "app".to_owned(),
        )
        .unwrap();
        assert_eq!(c.namespace, "acme");
        assert_eq!(
            c.services.as_deref(),
            Some(&["billing".to_owned(), "ledger".to_owned()][..])
        );
        assert_eq!(c.label("team").unwrap().max, 2);
        assert_eq!(c.label("region").unwrap().max, 4);
        assert_eq!(
            c.label("outcome").unwrap().values.as_ref().unwrap()[1],
            "error"
        );
        assert!(
            c.presets
                .iter()
                .any(|p| p.name == "fast" && p.buckets.len() == 3)
        );
        assert_eq!(c.names.processed, "{prefix}_calls_total");
        assert_eq!(c.series_budget, 5000);
    }

    #[test]
    fn errors_name_line_and_key() {
        assert_eq!(
            errors("namespace = \"x\"\nbogus = 1\n"),
            [
                "invalid `observe.toml` at observe.toml:2:1: unknown field `bogus`, expected one of `namespace`, `service`, `services`, `required_labels`, `forbidden_labels`, `series_budget`, `labels`, `presets`, `names`, `outcomes`"
            ]
        );
        assert_eq!(
            errors("[presets.slow]\nunit = \"seconds\"\nbuckets = [1.0, 0.5]\n"),
            [
                "invalid `observe.toml` at observe.toml:3:11: key `presets.slow.buckets`: buckets must increase strictly, but `0.5` follows `1`"
            ]
        );
        assert_eq!(
            errors("[presets.slow]\nunit = \"hours\"\nbuckets = [1.0]\n"),
            [
                "invalid `observe.toml` at observe.toml:2:8: key `presets.slow.unit`: unknown unit `hours`; expected one of `seconds`, `bytes`, `tokens` or `messages`"
            ]
        );
        let many = errors(
            "namespace = \"Acme\"\n[labels.queue]\n[presets.p]\nunit = \"seconds\"\nbuckets = []\n",
        );
        assert_eq!(many.len(), 3, "{many:?}");
    }

    #[test]
    fn bad_toml_is_located() {
        let e = errors("namespace = \n");
        assert!(
            e[0].starts_with("invalid `observe.toml` at observe.toml:1:"),
            "{e:?}"
        );
    }

    #[test]
    fn templates_are_checked_as_names() {
        let e = errors("[names]\nprocessed = \"{prefix}_calls\"\nactive = \"{service}_x\"\n");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("must end in `_total`"), "{e:?}");
        assert!(e[1].contains("unknown placeholder `{service}`"), "{e:?}");
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket_problem(&[0.1, 1.0]), None);
        assert!(bucket_problem(&[]).is_some());
        assert!(bucket_problem(&[1.0, 1.0]).is_some());
        assert!(bucket_problem(&[f64::INFINITY]).is_some());
    }
}
