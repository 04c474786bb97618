//! Shared by the in-process behaviour tests: one runtime per test process, and the
//! exposition rendered by the real exporter, parsed by a real parser.
#![allow(dead_code)]

use std::collections::BTreeSet;
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

/// Renders and parses everything recorded so far.
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
        found.first().map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{metric} is not a scalar: {other:?}"),
        })
    }

    /// Like `value`, with 0 for a series that does not exist.
    pub fn count(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(metric, labels).unwrap_or(0.0)
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
