//! The convention in force for the annotated crate: `observe.toml`, found from the crate's
//! `CARGO_MANIFEST_DIR` upwards (stopping at the workspace root), over the built-in
//! default of `CONVENTION.md` with the package name as namespace. A malformed file is an
//! error naming the file, line and key; every problem in it is reported at once.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::convention::{Preset, Unit, builtin_presets, snake_case_violation, to_snake_case};
use crate::rules::{self, Kind, NameContext};

pub(crate) const FILE_NAME: &str = "observe.toml";

/// The convention a crate is checked against.
#[derive(Debug)]
pub(crate) struct Convention {
    /// Metric name prefix (the RFC's `copilot`).
    pub(crate) namespace: String,
    /// Service used when the attribute names none.
    pub(crate) default_service: Option<String>,
    /// The services metrics may belong to; `None` allows any snake_case service.
    pub(crate) services: Option<Vec<String>>,
    /// Labels every metric must carry besides the ones observe sets itself.
    pub(crate) required_labels: Vec<String>,
    /// Unbounded identifiers that may never be labels.
    pub(crate) forbidden_labels: Vec<String>,
    /// Declared labels: value sets and cardinality bounds.
    pub(crate) labels: BTreeMap<String, LabelRule>,
    pub(crate) presets: Vec<Preset>,
    pub(crate) names: NameTemplates,
    pub(crate) outcomes: Outcomes,
    /// The most series one metric may have: the product of its labels' bounds.
    pub(crate) series_budget: u64,
    /// The file it came from: a tracked input of the expansion, so editing it recompiles.
    pub(crate) source: Option<PathBuf>,
    /// `[slo.<service>]`: the declared SLOs.
    pub(crate) slos: BTreeMap<String, crate::slo::ServiceSlo>,
}

/// What a label may hold.
#[derive(Debug, Clone)]
pub(crate) struct LabelRule {
    /// The declared values, if the set is closed.
    pub(crate) values: Option<Vec<String>>,
    /// How many distinct values it may take.
    pub(crate) max: u64,
}

/// The names of `#[instrumented]`'s four metrics. `{prefix}` is
/// `<namespace>_<service>[_<name>]`, `{unit}` the histogram preset's unit.
#[derive(Debug, Clone)]
pub(crate) struct NameTemplates {
    pub(crate) duration: String,
    pub(crate) processed: String,
    pub(crate) failures: String,
    pub(crate) active: String,
}

impl NameTemplates {
    pub(crate) fn render(template: &str, prefix: &str, unit: Unit) -> String {
        template
            .replace("{prefix}", prefix)
            .replace("{unit}", unit.suffix())
    }
}

/// The `outcome` label's three values.
#[derive(Debug, Clone)]
pub(crate) struct Outcomes {
    pub(crate) success: String,
    pub(crate) failure: String,
    pub(crate) cancelled: String,
}

impl Outcomes {
    pub(crate) fn all(&self) -> [&str; 3] {
        [&self.success, &self.failure, &self.cancelled]
    }
}

/// Bounds of `CONVENTION.md`'s label table, and observe's own labels.
fn builtin_labels(outcomes: &Outcomes) -> BTreeMap<String, LabelRule> {
    let bounded = |max| LabelRule { values: None, max };
    let closed = |values: &[&str]| LabelRule {
        values: Some(values.iter().map(|v| (*v).to_owned()).collect()),
        max: values.len() as u64,
    };
    BTreeMap::from([
        ("service".to_owned(), bounded(20)),
        // One value per process: the exposition a scrape sees.
        ("environment".to_owned(), bounded(1)),
        ("operation".to_owned(), bounded(20)),
        ("outcome".to_owned(), closed(&outcomes.all())),
        ("error_type".to_owned(), bounded(50)),
        ("error_code".to_owned(), bounded(60)),
        ("queue".to_owned(), bounded(30)),
        ("vhost".to_owned(), bounded(5)),
        ("collection".to_owned(), bounded(10)),
        ("database".to_owned(), bounded(10)),
        ("dependency".to_owned(), bounded(20)),
        (
            "status".to_owned(),
            closed(&[
                "pending",
                "processing",
                "processed",
                "failed",
                "retrying",
                "archived",
            ]),
        ),
    ])
}

/// The RFC's unbounded identifiers.
const DEFAULT_FORBIDDEN: &[&str] = &[
    "user_id",
    "email",
    "ip_address",
    "message_id",
    "document_id",
    "thread_id",
    "timestamp",
    "request_id",
    "trace_id",
];

/// Series one metric may have by default. The RFC bounds labels, not metrics; 10 000 is a
/// common per-metric alerting threshold. The baseline duration histogram of a service (20
/// operations × 3 outcomes × 13 bucket series = 780) fits with room for one small label; a
/// `queue` label at its default bound of 30 does not, until its values are declared.
pub(crate) const DEFAULT_SERIES_BUDGET: u64 = 10_000;

impl Convention {
    fn builtin(namespace: String) -> Convention {
        let outcomes = Outcomes {
            success: "success".to_owned(),
            failure: "failure".to_owned(),
            cancelled: "cancelled".to_owned(),
        };
        Convention {
            namespace,
            default_service: None,
            services: None,
            required_labels: Vec::new(),
            forbidden_labels: DEFAULT_FORBIDDEN.iter().map(|s| (*s).to_owned()).collect(),
            labels: builtin_labels(&outcomes),
            presets: builtin_presets(),
            names: NameTemplates {
                duration: "{prefix}_duration_{unit}".to_owned(),
                processed: "{prefix}_messages_processed_total".to_owned(),
                failures: "{prefix}_failures_total".to_owned(),
                active: "{prefix}_active_workers_current".to_owned(),
            },
            outcomes,
            series_budget: DEFAULT_SERIES_BUDGET,
            source: None,
            slos: BTreeMap::new(),
        }
    }

    pub(crate) fn label(&self, name: &str) -> Option<&LabelRule> {
        self.labels.get(name)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConventionFile {
    namespace: Option<Spanned<String>>,
    service: Option<Spanned<String>>,
    services: Option<Vec<Spanned<String>>>,
    required_labels: Option<Vec<Spanned<String>>>,
    forbidden_labels: Option<Vec<Spanned<String>>>,
    series_budget: Option<Spanned<i64>>,
    #[serde(default)]
    labels: BTreeMap<String, Spanned<LabelFile>>,
    #[serde(default)]
    presets: BTreeMap<String, Spanned<PresetFile>>,
    names: Option<NamesFile>,
    outcomes: Option<OutcomesFile>,
    #[serde(default)]
    slo: BTreeMap<String, Spanned<crate::slo::SloFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelFile {
    values: Option<Vec<Spanned<String>>>,
    max: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    unit: Spanned<String>,
    buckets: Spanned<Vec<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamesFile {
    duration: Option<Spanned<String>>,
    processed: Option<Spanned<String>>,
    failures: Option<Spanned<String>>,
    active: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomesFile {
    success: Option<Spanned<String>>,
    failure: Option<Spanned<String>>,
    cancelled: Option<Spanned<String>>,
}

/// Loads the convention for the crate being compiled. Every problem of a malformed file
/// is one message naming `file:line:column` and the key.
pub(crate) fn load() -> Result<Convention, Vec<String>> {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "app".to_owned());
    let default_namespace = to_snake_case(&package);
    match manifest_dir.as_deref().and_then(find_file) {
        None => Ok(Convention::builtin(default_namespace)),
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| vec![format!("cannot read `{}`: {e}", path.display())])?;
            parse(&text, &path, default_namespace)
        }
    }
}

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
    if let Some(namespace) = file.namespace {
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
        convention.namespace = namespace.into_inner();
    }
    if let Some(services) = file.services {
        for service in &services {
            errors.snake_case(service, "services", "service");
        }
        convention.services = Some(services.into_iter().map(Spanned::into_inner).collect());
    }
    if let Some(service) = file.service {
        errors.snake_case(&service, "service", "service");
        if let Some(services) = &convention.services
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
        convention.default_service = Some(service.into_inner());
    }
    if let Some(outcomes) = file.outcomes {
        let mut set = |slot: &mut String, value: Option<Spanned<String>>, key: &str| {
            if let Some(value) = value {
                errors.snake_case(&value, key, "outcome");
                *slot = value.into_inner();
            }
        };
        set(
            &mut convention.outcomes.success,
            outcomes.success,
            "outcomes.success",
        );
        set(
            &mut convention.outcomes.failure,
            outcomes.failure,
            "outcomes.failure",
        );
        set(
            &mut convention.outcomes.cancelled,
            outcomes.cancelled,
            "outcomes.cancelled",
        );
        let all = convention.outcomes.all();
        if all[0] == all[1] || all[0] == all[2] || all[1] == all[2] {
            errors.at(
                None,
                "outcomes",
                format!(
                    "the outcome values must differ, but are {}",
                    crate::convention::one_of(all)
                ),
            );
        }
        let outcome_rule = builtin_labels(&convention.outcomes).remove("outcome");
        convention
            .labels
            .extend(outcome_rule.map(|r| ("outcome".to_owned(), r)));
    }
    if let Some(forbidden) = file.forbidden_labels {
        for label in &forbidden {
            errors.label_name(label, "forbidden_labels");
        }
        convention.forbidden_labels = forbidden.into_iter().map(Spanned::into_inner).collect();
    }
    for (name, label) in file.labels {
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
        if convention.forbidden_labels.contains(&name) {
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
                    format!(
                        "label `{name}` needs `values` or `max`: its cardinality must be bounded"
                    ),
                );
                1
            }
        };
        convention.labels.insert(name, LabelRule { values, max });
    }
    if let Some(required) = file.required_labels {
        for label in &required {
            errors.label_name(label, "required_labels");
            if !convention.labels.contains_key(label.get_ref()) {
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
        convention.required_labels = required.into_iter().map(Spanned::into_inner).collect();
    }
    for (name, preset) in file.presets {
        let key = format!("presets.{name}");
        let span = preset.span();
        let preset = preset.into_inner();
        if let Some(reason) = snake_case_violation(&name) {
            errors.at(Some(span), &key, format!("preset name `{name}` {reason}"));
        }
        let unit = match Unit::parse(preset.unit.get_ref()) {
            Some(unit) => unit,
            None => {
                errors.at(
                    Some(preset.unit.span()),
                    &format!("{key}.unit"),
                    format!(
                        "unknown unit `{}`; expected one of {}",
                        preset.unit.get_ref(),
                        crate::convention::one_of(Unit::ALL.iter().map(|u| u.suffix()))
                    ),
                );
                Unit::Seconds
            }
        };
        let buckets_span = preset.buckets.span();
        let buckets = preset.buckets.into_inner();
        if let Some(problem) = bucket_problem(&buckets) {
            errors.at(Some(buckets_span), &format!("{key}.buckets"), problem);
        }
        convention.presets.retain(|p| p.name != name);
        convention.presets.push(Preset {
            name,
            unit,
            buckets,
        });
    }
    if let Some(budget) = file.series_budget {
        if *budget.get_ref() < 1 {
            errors.at(
                Some(budget.span()),
                "series_budget",
                "`series_budget` must be at least 1".to_owned(),
            );
        } else {
            convention.series_budget = *budget.get_ref() as u64;
        }
    }
    if let Some(names) = file.names {
        let slots = &mut convention.names;
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
                errors.template(&template, kind, key, &convention.namespace);
                *slot = template.into_inner();
            }
        }
    }
    let mut slo_errors = Vec::new();
    convention.slos = crate::slo::from_file(file.slo, convention.services.as_deref(), &mut slo_errors);
    for (span, key, message) in slo_errors {
        errors.at(span, &key, message);
    }
    if errors.messages.is_empty() {
        Ok(convention)
    } else {
        Err(errors.messages)
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

/// Collects the file's problems as `path:line:column: key `k`: message`.
struct Errors<'a> {
    path: &'a Path,
    text: &'a str,
    messages: Vec<String>,
}

impl Errors<'_> {
    fn at(&mut self, span: Option<Range<usize>>, key: &str, message: String) {
        let location = match span {
            Some(span) => {
                let before = &self.text[..span.start.min(self.text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{}:{line}:{column}", self.path.display())
            }
            None => self.path.display().to_string(),
        };
        let key = if key.is_empty() {
            String::new()
        } else {
            format!(" key `{key}`:")
        };
        self.messages.push(format!(
            "invalid `{FILE_NAME}` at {location}:{key} {message}"
        ));
    }

    fn snake_case(&mut self, value: &Spanned<String>, key: &str, what: &str) {
        if let Some(reason) = snake_case_violation(value.get_ref()) {
            self.at(
                Some(value.span()),
                key,
                format!(
                    "{what} `{}` {reason}; write `{}`",
                    value.get_ref(),
                    to_snake_case(value.get_ref())
                ),
            );
        }
    }

    fn label_name(&mut self, value: &Spanned<String>, key: &str) {
        if let Some(v) = rules::label_name_shape(value.get_ref()) {
            self.at(
                Some(value.span()),
                key,
                format!("{}; {}", v.message, v.help),
            );
        }
    }

    /// A template must start with `{prefix}`, use only `{prefix}` and `{unit}`, and give a
    /// name that passes every rule of its metric type.
    fn template(&mut self, template: &Spanned<String>, kind: Kind, key: &str, namespace: &str) {
        let text = template.get_ref();
        let unknown = text
            .match_indices('{')
            .map(|(i, _)| &text[i..text[i..].find('}').map_or(text.len(), |j| i + j + 1)])
            .find(|p| *p != "{prefix}" && *p != "{unit}");
        if let Some(placeholder) = unknown {
            self.at(
                Some(template.span()),
                key,
                format!("unknown placeholder `{placeholder}`; templates know `{{prefix}}` and `{{unit}}`"),
            );
            return;
        }
        if !text.starts_with("{prefix}_") {
            self.at(
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
            self.at(
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
}

/// `observe.toml` in `start` or an ancestor, not above the workspace root (the first
/// directory whose `Cargo.toml` declares `[workspace]`).
fn find_file(start: &Path) -> Option<PathBuf> {
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
        if manifest.lines().any(|line| line.trim() == "[workspace]") {
            return None;
        }
    }
    None
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
                "invalid `observe.toml` at observe.toml:2:1: unknown field `bogus`, expected one of `namespace`, `service`, `services`, `required_labels`, `forbidden_labels`, `series_budget`, `labels`, `presets`, `names`, `outcomes`, `slo`"
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
