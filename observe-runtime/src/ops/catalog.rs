//! The catalogue: every metric family and every instrumented operation of a program, with
//! what operations teams need to know about them (type, unit, HELP, labels and their
//! bounds, buckets, error classes, source sites, SLOs). Every generated artefact is a pure
//! function of this value, so it can be built from the linked call sites
//! (`observe::catalog()`) or by hand in a test.

use std::fmt;

use super::slo::{Objective, Slo};

/// Every metric family and instrumented operation of a program, in a stable order
/// (families and services by name, operations by name).
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// The metric families, sorted by name, one per name.
    pub families: Vec<Family>,
    /// The services, sorted by name, with their instrumented operations.
    pub services: Vec<Service>,
}

/// One metric family: one name, one type, one unit, one HELP text.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The full metric name, e.g. `copilot_parsing_duration_seconds`.
    pub name: String,
    /// Counter, gauge or histogram.
    pub kind: MetricType,
    /// The HELP text.
    pub help: String,
    /// The unit, from the name's suffix (`seconds`, `bytes`, `tokens`, `messages`), if any.
    pub unit: Option<String>,
    /// The service the family belongs to (its `service` label).
    pub service: String,
    /// Every label any site gives the family, sorted by name, with the values it may hold.
    pub labels: Vec<Label>,
    /// Histogram bucket upper bounds (without `+Inf`); empty for counters and gauges.
    pub buckets: Vec<f64>,
    /// The `operation` values of the `#[instrumented]` functions recording it.
    pub operations: Vec<String>,
    /// The `error_type` values it may carry where the error type derives `ErrorLabel`.
    pub error_classes: Vec<String>,
    /// Where it is recorded, sorted.
    pub sites: Vec<SourceSite>,
    /// The exact maximum number of label sets: the sum over its sites of the product of
    /// each site's label cardinalities (a constant label counts 1 at its site).
    pub max_series: u64,
}

/// Counter, gauge or histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MetricType {
    /// Monotonically increasing.
    Counter,
    /// Goes up and down.
    Gauge,
    /// A distribution in fixed buckets, with `_sum` and `_count`.
    Histogram,
}

impl MetricType {
    /// The Prometheus `# TYPE` word.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
        }
    }

    /// Parses a `# TYPE` word.
    pub fn parse(word: &str) -> Option<MetricType> {
        match word {
            "counter" => Some(MetricType::Counter),
            "gauge" => Some(MetricType::Gauge),
            "histogram" => Some(MetricType::Histogram),
            _ => None,
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label of a family and what it may hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The label's name.
    pub name: String,
    /// Its values.
    pub values: LabelValues,
}

/// What a label may hold.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelValues {
    /// A closed set known at compile time (literals, a declared `values = [...]`, the
    /// outcomes, the error classes); runtime values outside it are recorded as `_OTHER`.
    Set(Vec<String>),
    /// Runtime values, the first `max` kept and the others recorded as `_OTHER`.
    Bounded(usize),
    /// One value per process, set at `init` (`environment`).
    PerProcess,
}

impl LabelValues {
    /// The number of values the label can take in one process.
    pub fn cardinality(&self) -> u64 {
        match self {
            LabelValues::Set(values) => values.len() as u64,
            LabelValues::Bounded(max) => *max as u64 + 1,
            LabelValues::PerProcess => 1,
        }
    }
}

impl fmt::Display for LabelValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelValues::Set(values) => {
                let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                f.write_str(&quoted.join(", "))
            }
            LabelValues::Bounded(max) => write!(f, "first {max} runtime values, then `_OTHER`"),
            LabelValues::PerProcess => f.write_str("one per process (set at `init`)"),
        }
    }
}

/// A place in the source where a family is recorded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceSite {
    /// The source file, as `file!()` gives it.
    pub file: String,
    /// The line.
    pub line: u32,
    /// The module path.
    pub module_path: String,
    /// What is there: `#[instrumented] fn decode` or `counter!`.
    pub what: String,
}

impl fmt::Display for SourceSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} ({})", self.file, self.line, self.what)
    }
}

/// A service: the `service` label of its families, its operations and its SLO defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The service's name.
    pub name: String,
    /// The alerts' `component` label (the RFC's `message_bus`, `document_processing`, …);
    /// the service's name unless declared.
    pub component: String,
    /// The service's SLO: window and throughput floor, and the objectives its operations
    /// inherit.
    pub slo: Slo,
    /// Its `#[instrumented]` operations, sorted by name.
    pub operations: Vec<Operation>,
}

/// One `#[instrumented]` operation and its four families.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The `operation` label.
    pub name: String,
    /// The duration histogram's name.
    pub duration: String,
    /// The processed counter's name (`outcome` label).
    pub processed: String,
    /// The failures counter's name (`error_type` label).
    pub failures: String,
    /// The in-flight gauge's name.
    pub active: String,
    /// The duration histogram's buckets, in seconds.
    pub buckets: Vec<f64>,
    /// The `outcome` values: success, failure, cancelled.
    pub outcomes: [String; 3],
    /// The `error_type` values it may report, where known from a derived `ErrorLabel`.
    pub error_classes: Vec<String>,
    /// Its objectives: declared on the operation, else the service's, else the defaults.
    pub availability: Objective,
    /// Its latency objective, if any applies.
    pub latency: Option<LatencyObjective>,
    /// Where the function is.
    pub site: SourceSite,
}

impl Operation {
    /// The `outcome` value of a failed call.
    pub fn failure_outcome(&self) -> &str {
        &self.outcomes[1]
    }
}

/// "`target` of calls complete within `threshold_seconds`".
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyObjective {
    /// The threshold, equal to one of the histogram's bucket bounds.
    pub threshold_seconds: f64,
    /// The share of calls that must complete within it.
    pub target: Objective,
}

impl Catalog {
    /// The family of this name.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families
            .binary_search_by(|f| f.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.families[i])
    }

    /// Sorts everything into the catalogue's stable order.
    pub fn normalise(&mut self) {
        self.families.sort_by(|a, b| a.name.cmp(&b.name));
        for family in &mut self.families {
            family.labels.sort_by(|a, b| a.name.cmp(&b.name));
            family.operations.sort();
            family.operations.dedup();
            family.error_classes.sort();
            family.error_classes.dedup();
            family.sites.sort();
        }
        self.services.sort_by(|a, b| a.name.cmp(&b.name));
        for service in &mut self.services {
            service
                .operations
                .sort_by(|a, b| (&a.name, &a.duration).cmp(&(&b.name, &b.duration)));
        }
    }
}
