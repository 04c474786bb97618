//! The catalogue: every metric family and every instrumented operation of a program, with
//! what operations teams need to know about them (type, unit, HELP, labels and their
//! bounds, buckets, error classes, source sites, SLOs). Every generated artefact is a pure
//! function of this value, so it can be built from the linked call sites
//! (`observe::catalog()`) or by hand in a test.

use std::fmt;

use super::slo::{Objective, Slo};

/// Every metric family and instrumented operation of a program, in a stable order
/// (families and services by name, operations by name).
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let catalog = observe::ops::catalog();
/// let processed = catalog.family("copilot_parsing_messages_processed_total").unwrap();
/// assert!(processed.operations.contains(&"parse".to_owned()));
/// assert!(catalog.services.iter().any(|s| s.name == "parsing"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// The metric families, sorted by name, one per name.
    pub families: Vec<Family>,
    /// The services, sorted by name, with their instrumented operations.
    pub services: Vec<Service>,
}

/// One metric family: one name, one type, one unit, one HELP text.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let catalog = observe::ops::catalog();
/// let failures = catalog.family("copilot_parsing_failures_total").unwrap();
/// assert_eq!(failures.kind, observe::ops::MetricType::Counter);
/// assert!(failures.labels.iter().any(|l| l.name == "error_type"));
/// ```
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
///
/// ```
/// use observe::ops::MetricType;
///
/// let kind = MetricType::parse("histogram").unwrap();
/// assert_eq!(kind, MetricType::Histogram);
/// assert_eq!(format!("# TYPE copilot_parsing_duration_seconds {kind}"), "# TYPE copilot_parsing_duration_seconds histogram");
/// ```
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
    ///
    /// ```
    /// assert_eq!(observe::ops::MetricType::Gauge.as_str(), "gauge");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
        }
    }

    /// Parses a `# TYPE` word.
    ///
    /// ```
    /// use observe::ops::MetricType;
    ///
    /// assert_eq!(MetricType::parse("counter"), Some(MetricType::Counter));
    /// assert_eq!(MetricType::parse("summary"), None);
    /// ```
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
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let catalog = observe::ops::catalog();
/// let processed = catalog.family("copilot_parsing_messages_processed_total").unwrap();
/// let outcome = processed.labels.iter().find(|l| l.name == "outcome").unwrap();
/// assert_eq!(outcome.values.cardinality(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The label's name.
    pub name: String,
    /// Its values.
    pub values: LabelValues,
}

/// What a label may hold.
///
/// ```
/// use observe::ops::LabelValues;
///
/// let queue = LabelValues::Set(vec!["parsing".into(), "chunking".into()]);
/// assert_eq!(queue.to_string(), "`parsing`, `chunking`");
/// assert_eq!(LabelValues::Bounded(20).to_string(), "first 20 runtime values, then `_OTHER`");
/// ```
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
    ///
    /// ```
    /// use observe::ops::LabelValues;
    ///
    /// assert_eq!(LabelValues::Bounded(20).cardinality(), 21, "and `_OTHER`");
    /// assert_eq!(LabelValues::PerProcess.cardinality(), 1);
    /// ```
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
///
/// ```
/// let site = observe::ops::SourceSite {
///     file: "src/parse.rs".into(),
///     line: 42,
///     module_path: "service::parse".into(),
///     what: "#[instrumented] fn decode".into(),
/// };
/// assert_eq!(site.to_string(), "src/parse.rs:42 (#[instrumented] fn decode)");
/// ```
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
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let catalog = observe::ops::catalog();
/// let parsing = catalog.services.iter().find(|s| s.name == "parsing").unwrap();
/// // `observe.toml` declares the parsing service's window and availability.
/// assert_eq!(parsing.slo.window.to_string(), "30d");
/// ```
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
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let catalog = observe::ops::catalog();
/// let parsing = catalog.services.iter().find(|s| s.name == "parsing").unwrap();
/// let parse = parsing.operations.iter().find(|o| o.name == "parse").unwrap();
/// assert_eq!(parse.processed, "copilot_parsing_messages_processed_total");
/// assert_eq!(parse.availability.to_string(), "99.9%"); // `[slo.parsing.operations.parse]`
/// ```
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
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// let catalog = observe::ops::catalog();
    /// let parse = catalog.services.iter().flat_map(|s| &s.operations).find(|o| o.name == "parse").unwrap();
    /// let bad = format!("{}{{outcome=\"{}\"}}", parse.processed, parse.failure_outcome());
    /// assert_eq!(bad, r#"copilot_parsing_messages_processed_total{outcome="failure"}"#);
    /// ```
    pub fn failure_outcome(&self) -> &str {
        &self.outcomes[1]
    }
}

/// "`target` of calls complete within `threshold_seconds`".
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let catalog = observe::ops::catalog();
/// let parse = catalog.services.iter().flat_map(|s| &s.operations).find(|o| o.name == "parse").unwrap();
/// // `observe.toml`: `latency = { threshold = "5s", target = "95%" }` for the parsing service.
/// let latency = parse.latency.as_ref().unwrap();
/// assert_eq!((latency.threshold_seconds, latency.target.to_string()), (5.0, "95%".to_owned()));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyObjective {
    /// The threshold, equal to one of the histogram's bucket bounds.
    pub threshold_seconds: f64,
    /// The share of calls that must complete within it.
    pub target: Objective,
}

impl Catalog {
    /// The family of this name.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// let catalog = observe::ops::catalog();
    /// assert!(catalog.family("copilot_parsing_duration_seconds").is_some());
    /// assert!(catalog.family("copilot_parsing_nothing_total").is_none());
    /// ```
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families
            .binary_search_by(|f| f.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.families[i])
    }

    /// Sorts everything into the catalogue's stable order.
    ///
    /// ```
    /// # use observe::ops::{InstrumentedSite, SiteSlo, SourceSite};
    /// # let family = |suffix: &str| (format!("copilot_billing_{suffix}"), format!("Charges: {suffix}."));
    /// let charge = InstrumentedSite {
    ///     service: "billing".into(),
    ///     operation: "charge".into(),
    ///     site: SourceSite {
    ///         file: "src/billing.rs".into(),
    ///         line: 12,
    ///         module_path: "shop::billing".into(),
    ///         what: "#[instrumented] fn charge".into(),
    ///     },
    ///     labels: vec![],
    ///     metrics: ["duration_seconds", "messages_processed_total", "failures_total", "active_workers_current"]
    ///         .map(family),
    ///     buckets: vec![0.1, 0.5, 1.0],
    ///     outcomes: ["success", "failure", "cancelled"].map(String::from),
    ///     error_classes: Some(vec!["Declined".into()]),
    ///     slo: SiteSlo::default(),
    /// };
    /// let mut catalog = observe::ops::build(&[charge], &[]);
    /// catalog.families.reverse(); // edited by hand…
    /// catalog.normalise(); // …then sorted again, so `family` finds by name
    /// assert!(catalog.family("copilot_billing_duration_seconds").is_some());
    /// ```
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
