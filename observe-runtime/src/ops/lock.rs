//! `metrics.lock`: the baseline of every family's name, type, unit, labels and buckets,
//! and the breaking changes between a baseline and the code. Removing or renaming a
//! family, changing its type or unit, adding or removing a label and changing buckets
//! break dashboards, alerts and queries; adding a family does not.

use std::fmt;
use std::fmt::Write as _;

use super::catalog::{Catalog, MetricType};
use super::promql::number;

/// One family as locked.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let lock = observe::ops::Lock::of(&observe::ops::catalog());
/// let duration = lock.families.iter().find(|f| f.name == "copilot_parsing_duration_seconds").unwrap();
/// assert_eq!(duration.unit.as_deref(), Some("seconds"));
/// assert!(duration.labels.contains(&"outcome".to_owned()));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LockedFamily {
    /// The metric name.
    pub name: String,
    /// Its type.
    pub kind: MetricType,
    /// Its unit, if any.
    pub unit: Option<String>,
    /// Its label names, sorted.
    pub labels: Vec<String>,
    /// Its bucket bounds (histograms).
    pub buckets: Vec<f64>,
}

/// The contents of `metrics.lock`.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let committed = observe::ops::Lock::of(&observe::ops::catalog()).render(); // `ops/metrics.lock`
/// let baseline = observe::ops::Lock::parse(&committed).unwrap();
/// let now = observe::ops::Lock::of(&observe::ops::catalog());
/// assert!(baseline.breaking_changes(&now).is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lock {
    /// The families, sorted by name.
    pub families: Vec<LockedFamily>,
}

/// A change to a locked family that breaks its users: dashboards, alerts and queries.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// use observe::ops::{Change, Lock};
///
/// let baseline = Lock::of(&observe::ops::catalog());
/// let mut current = baseline.clone();
/// current.families.retain(|f| f.name != "copilot_parsing_failures_total");
/// let changes = baseline.breaking_changes(&current);
/// assert_eq!(changes[0].metric, "copilot_parsing_failures_total");
/// assert_eq!(changes[0].change, Change::Removed(None));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BreakingChange {
    /// The locked family's name.
    pub metric: String,
    /// What changed.
    pub change: Change,
}

/// What changed in a locked family.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// use observe::ops::{Change, Lock};
///
/// let baseline = Lock::of(&observe::ops::catalog());
/// let mut current = baseline.clone();
/// let duration = current.families.iter_mut().find(|f| f.name == "copilot_parsing_duration_seconds").unwrap();
/// duration.buckets.push(120.0);
/// let change = &baseline.breaking_changes(&current)[0].change;
/// assert!(matches!(change, Change::BucketsChanged(from, to) if to.len() == from.len() + 1));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The family is gone; perhaps renamed to the new family of the same shape given.
    Removed(Option<String>),
    /// Type changed (from, to).
    TypeChanged(MetricType, MetricType),
    /// Unit changed, added or dropped (from, to).
    UnitChanged(Option<String>, Option<String>),
    /// A label is no longer on the family.
    LabelRemoved(String),
    /// A label is new on an existing family: queries grouping or matching on the old
    /// label set change meaning.
    LabelAdded(String),
    /// Different bucket bounds (from, to): quantiles and `le` matchers change.
    BucketsChanged(Vec<f64>, Vec<f64>),
}

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| number(*v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unit(u: &Option<String>) -> &str {
    u.as_deref().unwrap_or("none")
}

impl fmt::Display for BreakingChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.metric;
        match &self.change {
            Change::Removed(Some(to)) => {
                write!(f, "metric `{name}` was removed or renamed (to `{to}`?)")
            }
            Change::Removed(None) => write!(f, "metric `{name}` was removed or renamed"),
            Change::TypeChanged(from, to) => {
                write!(f, "metric `{name}` changed type from {from} to {to}")
            }
            Change::UnitChanged(from, to) => {
                write!(
                    f,
                    "metric `{name}` changed unit from {} to {}",
                    unit(from),
                    unit(to)
                )
            }
            Change::LabelRemoved(label) => write!(f, "metric `{name}` lost label `{label}`"),
            Change::LabelAdded(label) => write!(f, "metric `{name}` gained label `{label}`"),
            Change::BucketsChanged(from, to) => write!(
                f,
                "metric `{name}` changed buckets from [{}] to [{}]",
                list(from),
                list(to)
            ),
        }
    }
}

const HEADER: &str = "# metrics.lock: the metric families this program exposes, checked by observe::ops::check.\n\
# Removing or renaming a family, or changing its type, unit, labels or buckets, fails the\n\
# check; rerun with OBSERVE_OPS_UPDATE=1 to accept the change. Additions are not breaking.\n";

impl Lock {
    /// The lock of a catalogue.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// let lock = observe::ops::Lock::of(&observe::ops::catalog());
    /// assert!(lock.families.iter().any(|f| f.name == "copilot_parsing_messages_processed_total"));
    /// ```
    pub fn of(catalog: &Catalog) -> Lock {
        Lock {
            families: catalog
                .families
                .iter()
                .map(|f| LockedFamily {
                    name: f.name.clone(),
                    kind: f.kind,
                    unit: f.unit.clone(),
                    labels: f.labels.iter().map(|l| l.name.clone()).collect(),
                    buckets: f.buckets.clone(),
                })
                .collect(),
        }
    }

    /// The file's text.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// let text = observe::ops::Lock::of(&observe::ops::catalog()).render();
    /// assert!(text.contains("copilot_parsing_messages_processed_total"));
    /// # let _ = "commit it as ops/metrics.lock";
    /// ```
    pub fn render(&self) -> String {
        let mut out = String::from(HEADER);
        for f in &self.families {
            let _ = write!(out, "\n[{}]\ntype = {}\n", f.name, f.kind);
            if let Some(unit) = &f.unit {
                let _ = writeln!(out, "unit = {unit}");
            }
            let _ = writeln!(out, "labels = {}", f.labels.join(" "));
            if f.kind == MetricType::Histogram {
                let _ = writeln!(out, "buckets = {}", list(&f.buckets).replace(',', ""));
            }
        }
        out
    }

    /// Parses a file written by [`Lock::render`].
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// use observe::ops::Lock;
    ///
    /// let lock = Lock::of(&observe::ops::catalog());
    /// assert_eq!(Lock::parse(&lock.render()), Ok(lock));
    /// ```
    pub fn parse(text: &str) -> Result<Lock, String> {
        let mut families: Vec<LockedFamily> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let at = || format!("metrics.lock:{}: `{line}`", n + 1);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                families.push(LockedFamily {
                    name: name.to_owned(),
                    kind: MetricType::Counter,
                    unit: None,
                    labels: Vec::new(),
                    buckets: Vec::new(),
                });
                continue;
            }
            let (Some(family), Some((key, value))) = (families.last_mut(), line.split_once('='))
            else {
                return Err(format!("{}: expected `[name]` or `key = value`", at()));
            };
            let value = value.trim();
            match key.trim() {
                "type" => {
                    family.kind = MetricType::parse(value)
                        .ok_or_else(|| format!("{}: unknown type", at()))?;
                }
                "unit" => family.unit = Some(value.to_owned()),
                "labels" => family.labels = value.split_whitespace().map(str::to_owned).collect(),
                "buckets" => {
                    family.buckets = value
                        .split_whitespace()
                        .map(|b| {
                            b.parse::<f64>()
                                .map_err(|_| format!("{}: bad bucket `{b}`", at()))
                        })
                        .collect::<Result<_, _>>()?;
                }
                other => return Err(format!("{}: unknown key `{other}`", at())),
            }
        }
        Ok(Lock { families })
    }

    /// What `current` breaks of this baseline, in the baseline's order.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// use observe::ops::Lock;
    ///
    /// let baseline = Lock::of(&observe::ops::catalog());
    /// let mut renamed = baseline.clone();
    /// renamed.families.retain(|f| f.name != "copilot_parsing_active_workers_current");
    /// for change in baseline.breaking_changes(&renamed) {
    ///     eprintln!("breaks dashboards and alerts: {change}");
    /// }
    /// assert_eq!(baseline.breaking_changes(&renamed).len(), 1);
    /// ```
    pub fn breaking_changes(&self, current: &Lock) -> Vec<BreakingChange> {
        let find = |lock: &Lock, name: &str| lock.families.iter().find(|f| f.name == name).cloned();
        let mut changes = Vec::new();
        for old in &self.families {
            let mut push = |change| {
                changes.push(BreakingChange {
                    metric: old.name.clone(),
                    change,
                })
            };
            let Some(new) = find(current, &old.name) else {
                let renamed_to = current
                    .families
                    .iter()
                    .find(|f| {
                        find(self, &f.name).is_none()
                            && (f.kind, &f.labels, &f.unit) == (old.kind, &old.labels, &old.unit)
                    })
                    .map(|f| f.name.clone());
                push(Change::Removed(renamed_to));
                continue;
            };
            if new.kind != old.kind {
                push(Change::TypeChanged(old.kind, new.kind));
            }
            if new.unit != old.unit {
                push(Change::UnitChanged(old.unit.clone(), new.unit.clone()));
            }
            for label in old.labels.iter().filter(|l| !new.labels.contains(l)) {
                push(Change::LabelRemoved(label.clone()));
            }
            for label in new.labels.iter().filter(|l| !old.labels.contains(l)) {
                push(Change::LabelAdded(label.clone()));
            }
            if new.buckets != old.buckets && new.kind == old.kind {
                push(Change::BucketsChanged(
                    old.buckets.clone(),
                    new.buckets.clone(),
                ));
            }
        }
        changes
    }
}
