//! The Prometheus exposition, parsed by a real parser (`prometheus-parse`): whether it comes
//! from this process's runtime (`scrape`), a child's `/metrics` or a Pushgateway.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use prometheus_parse::{Sample, Scrape, Value};

/// The runtime of this test process (no listener: tests render in-process).
pub fn observe() -> &'static observe::Guard {
    observe_started(false)
}

/// The same, with `init`'s default log subscriber, if this is the first start.
pub fn observe_with_logging() -> &'static observe::Guard {
    observe_started(true)
}

fn observe_started(logging: bool) -> &'static observe::Guard {
    static GUARD: OnceLock<observe::Guard> = OnceLock::new();
    GUARD.get_or_init(|| {
        observe::builder()
            .environment("test")
            .without_metrics_listener()
            .logging(logging)
            .init()
            .expect("observe starts")
    })
}

/// Renders and parses everything this process recorded so far.
pub fn scrape() -> Exposition {
    Exposition::parse(&observe().render())
}

pub struct Exposition {
    pub raw: String,
    scrape: Scrape,
}

impl Exposition {
    pub fn parse(raw: &str) -> Self {
        let lines = raw.lines().map(|l| Ok(l.to_owned()));
        let scrape = Scrape::parse(lines).expect("the exposition parses");
        Exposition {
            raw: raw.to_owned(),
            scrape,
        }
    }

    /// Every sample, of every family.
    pub fn all_samples(&self) -> &[Sample] {
        &self.scrape.samples
    }

    /// Samples of `metric` whose labels include every pair of `labels`.
    pub fn samples<'a>(
        &'a self,
        metric: &'a str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a Sample> {
        self.scrape.samples.iter().filter(move |s| {
            s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        })
    }

    /// The one sample of `metric` matching `labels`; `None` if there is none.
    pub fn value(&self, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let found: Vec<&Sample> = self.samples(metric, labels).collect();
        assert!(
            found.len() <= 1,
            "{metric}{labels:?} matches {} series",
            found.len()
        );
        found.first().map(|s| scalar(metric, s))
    }

    /// Like `value`, with 0 for a series that does not exist.
    pub fn count(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(metric, labels).unwrap_or(0.0)
    }

    /// The values of `metric` keyed by the values of the labels `keys`, e.g.
    /// `["decode", "success"] => 10.0` for `keys = ["operation", "outcome"]`. Fails on a
    /// series without one of the labels, on two series with the same key, and on
    /// histograms (use `<name>_count`).
    pub fn values_by(&self, metric: &str, keys: &[&str]) -> BTreeMap<Vec<String>, f64> {
        let mut values = BTreeMap::new();
        for sample in self.samples(metric, &[]) {
            let key: Vec<String> = keys
                .iter()
                .map(|k| {
                    sample
                        .labels
                        .get(k)
                        .unwrap_or_else(|| panic!("{metric}{{{}}} has no `{k}`", sample.labels))
                        .to_owned()
                })
                .collect();
            let previous = values.insert(key.clone(), scalar(metric, sample));
            assert!(previous.is_none(), "{metric}: two series for {key:?}");
        }
        values
    }

    /// The cumulative `(le, count)` buckets of one histogram series.
    pub fn buckets(&self, metric: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
        let found: Vec<&Sample> = self.samples(metric, labels).collect();
        assert_eq!(
            found.len(),
            1,
            "{metric}{labels:?} matches {} series",
            found.len()
        );
        match &found[0].value {
            Value::Histogram(buckets) => buckets.iter().map(|b| (b.less_than, b.count)).collect(),
            other => panic!("{metric} is not a histogram: {other:?}"),
        }
    }

    /// The label names of every series of `metric` with `operation`.
    pub fn label_names(&self, metric: &str, operation: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for sample in self.samples(metric, &[("operation", operation)]) {
            names.extend(sample.labels.keys().cloned());
        }
        names
    }

    pub fn help(&self, metric: &str) -> Option<&str> {
        self.scrape.docs.get(metric).map(String::as_str)
    }

    /// The `# TYPE` line of `metric`.
    pub fn type_of(&self, metric: &str) -> Option<&str> {
        let prefix = format!("# TYPE {metric} ");
        self.raw
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
    }
}

/// The value of a counter, gauge or untyped sample.
fn scalar(metric: &str, sample: &Sample) -> f64 {
    match sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        ref other => panic!("{metric}: expected a single value, got {other:?}"),
    }
}

/// An expected [`Exposition::values_by`] result, written as `(&["decode", "success"], 10.0)`
/// pairs.
pub fn expected(entries: &[(&[&str], f64)]) -> BTreeMap<Vec<String>, f64> {
    entries
        .iter()
        .map(|(key, value)| (key.iter().map(|s| (*s).to_owned()).collect(), *value))
        .collect()
}
