//! The convention a crate is checked against: its types and the built-in defaults of
//! `CONVENTION.md` that `observe.toml` overrides. No I/O, no validation.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::rules::Kind;
use crate::vocab;

/// The file a crate's convention is read from.
pub(crate) const FILE_NAME: &str = "observe.toml";

/// The convention a crate is checked against.
#[derive(Debug, Clone)]
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

/// The names of `#[instrumented]`'s four metrics for one prefix, rendered.
#[derive(Debug, Clone)]
pub(crate) struct MetricNames {
    pub(crate) duration: String,
    pub(crate) processed: String,
    pub(crate) failures: String,
    pub(crate) active: String,
}

impl MetricNames {
    pub(crate) fn of(templates: &NameTemplates, prefix: &str, unit: Unit) -> Self {
        let render = |t: &str| NameTemplates::render(t, prefix, unit);
        MetricNames {
            duration: render(&templates.duration),
            processed: render(&templates.processed),
            failures: render(&templates.failures),
            active: render(&templates.active),
        }
    }

    pub(crate) fn with_kinds(&self) -> [(&str, Kind); 4] {
        [
            (&self.duration, Kind::Histogram),
            (&self.processed, Kind::Counter),
            (&self.failures, Kind::Counter),
            (&self.active, Kind::Gauge),
        ]
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

/// The unit a histogram preset measures in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Bytes,
    Tokens,
    Messages,
}

impl Unit {
    /// In `vocab::HISTOGRAM_UNITS`' order.
    pub(crate) const ALL: [Unit; 4] = [Unit::Seconds, Unit::Bytes, Unit::Tokens, Unit::Messages];

    pub(crate) fn suffix(self) -> &'static str {
        vocab::HISTOGRAM_UNITS[self as usize]
    }

    pub(crate) fn parse(s: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.suffix() == s)
    }
}

/// A named set of histogram buckets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Preset {
    pub(crate) name: String,
    pub(crate) unit: Unit,
    pub(crate) buckets: Vec<f64>,
}

/// The convention's standard presets (`vocab::BUILTIN_PRESETS`).
pub(crate) fn builtin_presets() -> Vec<Preset> {
    vocab::BUILTIN_PRESETS
        .iter()
        .filter_map(|(name, unit, buckets)| {
            Some(Preset {
                name: (*name).to_owned(),
                unit: Unit::parse(unit)?,
                buckets: buckets.to_vec(),
            })
        })
        .collect()
}

/// The `outcome` label's rule: exactly the three outcome values.
pub(crate) fn outcome_rule(outcomes: &Outcomes) -> LabelRule {
    LabelRule {
        values: Some(outcomes.all().iter().map(|v| (*v).to_owned()).collect()),
        max: 3,
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
        (vocab::LABEL_SERVICE.to_owned(), bounded(20)),
        // One value per process: the exposition a scrape sees.
        (vocab::LABEL_ENVIRONMENT.to_owned(), bounded(1)),
        (vocab::LABEL_OPERATION.to_owned(), bounded(20)),
        (vocab::LABEL_OUTCOME.to_owned(), outcome_rule(outcomes)),
        (vocab::LABEL_ERROR_TYPE.to_owned(), bounded(50)),
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
    /// `CONVENTION.md`'s convention under `namespace`: what applies without `observe.toml`.
    pub(crate) fn builtin(namespace: String) -> Convention {
        let outcomes = Outcomes {
            success: vocab::OUTCOME_SUCCESS.to_owned(),
            failure: vocab::OUTCOME_FAILURE.to_owned(),
            cancelled: vocab::OUTCOME_CANCELLED.to_owned(),
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
        }
    }

    pub(crate) fn label(&self, name: &str) -> Option<&LabelRule> {
        self.labels.get(name)
    }

    /// The preset `#[instrumented]` uses without `histogram = "…"`: the first in seconds.
    /// `None` only if `observe.toml` could remove the built-in ones, which it cannot.
    pub(crate) fn default_duration_preset(&self) -> Option<&Preset> {
        self.presets.iter().find(|p| p.unit == Unit::Seconds)
    }
}
