//! Building the [`Catalog`] from plain descriptions of the call sites: the runtime maps
//! its linked `#[instrumented]` and `counter!`/`gauge!`/`histogram!` sites to these, and
//! tests can write them by hand.

use std::collections::BTreeMap;

use super::catalog::{
    Catalog, Family, Label, LabelValues, LatencyObjective, MetricType, Operation, Service,
    SourceSite,
};
use super::slo::{Objective, SloSource, Window, rfc_default};

/// The `error_type` bound of an operation whose error classes are not known at compile
/// time (CONVENTION.md's table: about 50 exception class names).
pub(crate) const UNKNOWN_ERROR_CLASSES: u64 = 50;
/// The `error_type` of a panic, possible on every operation.
const PANIC: &str = "Panic";

/// One `#[instrumented]` function.
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
/// let catalog = observe::ops::build(&[charge], &[]);
/// assert_eq!(catalog.services[0].operations[0].name, "charge");
/// ```
#[derive(Debug, Clone)]
pub struct InstrumentedSite {
    /// Its `service`.
    pub service: String,
    /// Its `operation` label.
    pub operation: String,
    /// Where it is.
    pub site: SourceSite,
    /// Constant labels from `labels(..)`.
    pub labels: Vec<(String, String)>,
    /// Names and HELP texts of its duration histogram, processed counter, failures
    /// counter and in-flight gauge.
    pub metrics: [(String, String); 4],
    /// The duration histogram's buckets.
    pub buckets: Vec<f64>,
    /// The `outcome` values: success, failure, cancelled.
    pub outcomes: [String; 3],
    /// Its error classes where the error type derives `ErrorLabel`; `None` if unknown.
    pub error_classes: Option<Vec<String>>,
    /// Its declared SLO.
    pub slo: SiteSlo,
}

/// One `counter!`, `gauge!` or `histogram!` call site.
///
/// ```
/// # use observe::ops::{LabelValues, MacroSite, MetricType, SourceSite};
/// let retries = MacroSite {
///     kind: MetricType::Counter,
///     name: "copilot_billing_retry_attempts_total".into(),
///     help: "Charges retried, by gateway.".into(),
///     service: "billing".into(),
///     site: SourceSite {
///         file: "src/billing.rs".into(),
///         line: 40,
///         module_path: "shop::billing".into(),
///         what: "counter!".into(),
///     },
///     labels: vec![("gateway".into(), LabelValues::Set(vec!["stripe".into(), "adyen".into()]))],
///     buckets: vec![],
/// };
/// let catalog = observe::ops::build(&[], &[retries]);
/// let family = catalog.family("copilot_billing_retry_attempts_total").unwrap();
/// assert_eq!(family.max_series, 2);
/// ```
#[derive(Debug, Clone)]
pub struct MacroSite {
    /// Counter, gauge or histogram.
    pub kind: MetricType,
    /// The full name.
    pub name: String,
    /// HELP text.
    pub help: String,
    /// Its `service`.
    pub service: String,
    /// Where it is.
    pub site: SourceSite,
    /// Its labels besides `service` and `environment`, with their values.
    pub labels: Vec<(String, LabelValues)>,
    /// Bucket bounds (histograms).
    pub buckets: Vec<f64>,
}

/// What was declared for one function (resolved by the macro: the attribute's `slo(…)`,
/// else `observe.toml`'s `[slo.<service>.operations.<op>]`, else `[slo.<service>]`).
/// Every `None` takes the RFC's default.
///
/// ```
/// use observe::ops::{Objective, SiteSlo, Window};
///
/// let slo = SiteSlo {
///     window: Some(Window::parse("28d").unwrap()),
///     availability: Some(Objective::parse("99.95%").unwrap()),
///     latency: Some((0.5, Objective::parse("99%").unwrap())),
///     ..SiteSlo::default() // the RFC's defaults for the rest
/// };
/// assert_eq!(slo.availability.unwrap().budget(), "0.0005");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteSlo {
    /// The service's compliance window.
    pub window: Option<Window>,
    /// Share of calls that must succeed.
    pub availability: Option<Objective>,
    /// `(threshold in seconds, share of calls within it)`; the threshold is a bucket bound.
    pub latency: Option<(f64, Objective)>,
    /// The service's throughput floor.
    pub min_calls_per_minute: Option<u32>,
    /// The alerts' `component` label.
    pub component: Option<String>,
    /// The operations `observe.toml` declares an SLO for, in this function's service.
    pub declared_operations: Vec<String>,
}

impl SiteSlo {
    fn declares_anything(&self) -> bool {
        *self != SiteSlo::default()
    }
}

/// The catalogue of these sites, with their declared SLOs (the RFC's defaults elsewhere).
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
/// # use observe::ops::{LabelValues, MacroSite, MetricType};
/// let retries = MacroSite {
///     kind: MetricType::Counter,
///     name: "copilot_billing_retry_attempts_total".into(),
///     help: "Charges retried, by gateway.".into(),
///     service: "billing".into(),
///     site: SourceSite {
///         file: "src/billing.rs".into(),
///         line: 40,
///         module_path: "shop::billing".into(),
///         what: "counter!".into(),
///     },
///     labels: vec![("gateway".into(), LabelValues::Set(vec!["stripe".into(), "adyen".into()]))],
///     buckets: vec![],
/// };
/// let catalog = observe::ops::build(&[charge], &[retries]);
/// let names: Vec<&str> = catalog.families.iter().map(|f| f.name.as_str()).collect();
/// assert_eq!(names.len(), 5);
/// assert!(names.contains(&"copilot_billing_failures_total"));
/// ```
pub fn build(instrumented: &[InstrumentedSite], macros: &[MacroSite]) -> Catalog {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut services: BTreeMap<String, Service> = BTreeMap::new();
    for site in instrumented {
        add_instrumented(&mut families, site);
        let service = services
            .entry(site.service.clone())
            .or_insert_with(|| new_service(&site.service));
        declare(service, &site.slo);
        let op = operation(site, service);
        if !service
            .operations
            .iter()
            .any(|o| o.name == op.name && o.duration == op.duration)
        {
            service.operations.push(op);
        }
    }
    for site in macros {
        add_macro(&mut families, site);
    }
    let mut catalog = Catalog {
        families: families.into_values().collect(),
        services: services.into_values().collect(),
    };
    catalog.normalise();
    catalog
}

/// SLOs declared for operations no linked function of their service has: each a message
/// naming the operation and the ones that exist.
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
/// let mut charge = charge;
/// charge.slo.declared_operations = vec!["charge".into(), "refund".into()];
/// let problems = observe::ops::unknown_operations(&[charge]);
/// assert_eq!(problems.len(), 1);
/// assert!(problems[0].contains("refund"));
/// ```
pub fn unknown_operations(instrumented: &[InstrumentedSite]) -> Vec<String> {
    let mut problems = Vec::new();
    for site in instrumented {
        for declared in &site.slo.declared_operations {
            let known: Vec<&str> = instrumented
                .iter()
                .filter(|s| s.service == site.service)
                .map(|s| s.operation.as_str())
                .collect();
            let message = format!(
                "`observe.toml` declares an SLO for operation `{declared}` of service `{}`, but no linked `#[instrumented]` function of that service has it; its operations: {}",
                site.service,
                known.join(", ")
            );
            if !known.contains(&declared.as_str()) && !problems.contains(&message) {
                problems.push(message);
            }
        }
    }
    problems
}

fn new_service(name: &str) -> Service {
    Service {
        name: name.to_owned(),
        component: name.to_owned(),
        slo: rfc_default(name),
        operations: Vec::new(),
    }
}

/// The service-level keys a site declares override the RFC's defaults.
fn declare(service: &mut Service, slo: &SiteSlo) {
    if !slo.declares_anything() {
        return;
    }
    service.slo.source = SloSource::Declared;
    if let Some(window) = slo.window {
        service.slo.window = window;
    }
    if let Some(floor) = slo.min_calls_per_minute {
        service.slo.min_calls_per_minute = Some(floor);
    }
    if let Some(component) = &slo.component {
        service.component = component.clone();
    }
}

/// The operation with its objectives: declared, else the RFC's. A default latency
/// threshold that is not a bucket bound of the operation's histogram cannot be measured,
/// so it does not apply (a declared one was checked at compile time).
fn operation(site: &InstrumentedSite, service: &Service) -> Operation {
    let availability = site.slo.availability.unwrap_or(service.slo.availability);
    let latency = site
        .slo
        .latency
        .or(service
            .slo
            .latency
            .filter(|(threshold, _)| site.buckets.contains(threshold)))
        .map(|(threshold_seconds, target)| LatencyObjective {
            threshold_seconds,
            target,
        });
    let mut error_classes = site.error_classes.clone().unwrap_or_default();
    error_classes.push(PANIC.to_owned());
    error_classes.sort();
    error_classes.dedup();
    Operation {
        name: site.operation.clone(),
        duration: site.metrics[0].0.clone(),
        processed: site.metrics[1].0.clone(),
        failures: site.metrics[2].0.clone(),
        active: site.metrics[3].0.clone(),
        buckets: site.buckets.clone(),
        outcomes: site.outcomes.clone(),
        error_classes,
        availability,
        latency,
        site: site.site.clone(),
    }
}

/// The unit the name ends with (`<namespace>_<subsystem>_<metric>_<unit>[_total]`).
fn unit_of(name: &str) -> Option<String> {
    let stem = name.strip_suffix("_total").unwrap_or(name);
    ["seconds", "bytes", "tokens", "messages"]
        .into_iter()
        .find(|u| stem.ends_with(&format!("_{u}")))
        .map(str::to_owned)
}

/// What a site says about the family it records.
struct FamilyUse<'a> {
    kind: MetricType,
    name: &'a str,
    help: &'a str,
    service: &'a str,
    buckets: &'a [f64],
}

/// Adds the site's `labels` to the family (merging value sets) and its series product.
fn merge_into(
    families: &mut BTreeMap<String, Family>,
    usage: FamilyUse<'_>,
    labels: Vec<(String, LabelValues)>,
    site: &SourceSite,
) {
    let FamilyUse {
        kind,
        name,
        help,
        service,
        buckets,
    } = usage;
    let family = families.entry(name.to_owned()).or_insert_with(|| Family {
        name: name.to_owned(),
        kind,
        help: help.to_owned(),
        unit: unit_of(name),
        service: service.to_owned(),
        labels: Vec::new(),
        buckets: buckets.to_vec(),
        operations: Vec::new(),
        error_classes: Vec::new(),
        sites: Vec::new(),
        max_series: 0,
    });
    let mut product = 1u64;
    let all = [
        (
            "service".to_owned(),
            LabelValues::Set(vec![service.to_owned()]),
        ),
        ("environment".to_owned(), LabelValues::PerProcess),
    ];
    for (label, values) in all.into_iter().chain(labels) {
        product = product.saturating_mul(values.cardinality());
        match family.labels.iter_mut().find(|l| l.name == label) {
            Some(existing) => existing.values = union(&existing.values, &values),
            None => family.labels.push(Label {
                name: label,
                values,
            }),
        }
    }
    family.max_series = family.max_series.saturating_add(product);
    if !family.sites.contains(site) {
        family.sites.push(site.clone());
    }
}

fn union(a: &LabelValues, b: &LabelValues) -> LabelValues {
    match (a, b) {
        (LabelValues::Set(x), LabelValues::Set(y)) => {
            let mut all = x.clone();
            all.extend(y.iter().cloned());
            all.sort();
            all.dedup();
            LabelValues::Set(all)
        }
        (LabelValues::Bounded(x), LabelValues::Bounded(y)) => LabelValues::Bounded(*x.max(y)),
        (LabelValues::PerProcess, _) | (_, LabelValues::PerProcess) => LabelValues::PerProcess,
        (LabelValues::Bounded(n), _) | (_, LabelValues::Bounded(n)) => LabelValues::Bounded(*n),
    }
}

fn add_instrumented(families: &mut BTreeMap<String, Family>, site: &InstrumentedSite) {
    let constant =
        |name: &str, value: &str| (name.to_owned(), LabelValues::Set(vec![value.to_owned()]));
    let mut base = vec![constant("operation", &site.operation)];
    base.extend(site.labels.iter().map(|(k, v)| constant(k, v)));
    let outcomes = (
        "outcome".to_owned(),
        LabelValues::Set(site.outcomes.to_vec()),
    );
    let classes = match &site.error_classes {
        Some(classes) => {
            let mut all = classes.clone();
            all.push(PANIC.to_owned());
            all.sort();
            all.dedup();
            LabelValues::Set(all)
        }
        None => LabelValues::Bounded(UNKNOWN_ERROR_CLASSES as usize),
    };
    type Role<'a> = (MetricType, Option<(String, LabelValues)>, &'a [f64]);
    let roles: [Role<'_>; 4] = [
        (MetricType::Histogram, Some(outcomes.clone()), &site.buckets),
        (MetricType::Counter, Some(outcomes), &[]),
        (
            MetricType::Counter,
            Some(("error_type".to_owned(), classes)),
            &[],
        ),
        (MetricType::Gauge, None, &[]),
    ];
    for ((name, help), (kind, extra, buckets)) in site.metrics.iter().zip(roles) {
        let mut labels = base.clone();
        labels.extend(extra);
        let usage = FamilyUse {
            kind,
            name,
            help,
            service: &site.service,
            buckets,
        };
        merge_into(families, usage, labels, &site.site);
        if let Some(family) = families.get_mut(name) {
            family.operations.push(site.operation.clone());
            if name == &site.metrics[2].0 {
                family
                    .error_classes
                    .extend(site.error_classes.iter().flatten().cloned());
                family.error_classes.push(PANIC.to_owned());
            }
        }
    }
}

fn add_macro(families: &mut BTreeMap<String, Family>, site: &MacroSite) {
    let usage = FamilyUse {
        kind: site.kind,
        name: &site.name,
        help: &site.help,
        service: &site.service,
        buckets: &site.buckets,
    };
    merge_into(families, usage, site.labels.clone(), &site.site);
}
