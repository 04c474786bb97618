//! The series of `counter!`, `gauge!` and `histogram!`, in observe's own storage: one
//! registered series per metric name and label set, shared by every site that names it,
//! holding a few atomics. A histogram counts into its preset's buckets as it records, so
//! an observation is a bucket scan and two atomic updates: no buffer, no allocation, no
//! lock (the `metrics-exporter-prometheus` histogram this replaces appended each
//! observation to a lock-free block list, allocating blocks, and sorted them into buckets
//! at the next upkeep or scrape).
//!
//! Series are registered in a [`Registry`] on first use (cold: a lock and a map lookup),
//! and live as long as the program; sites cache them per label-value combination, so a
//! warm call never looks here. The process has one registry ([`global`]); each
//! `observe::testing` capture has its own.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::metric_site::MetricKind;

/// A counter's total.
pub(super) struct CounterCell(AtomicU64);

/// A gauge's value, as `f64` bits.
pub(super) struct GaugeCell(AtomicU64);

/// A histogram's observations per bucket (finite bounds, then `+Inf`; not cumulative)
/// and their sum, as `f64` bits.
pub(super) struct HistogramCell {
    bounds: &'static [f64],
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl CounterCell {
    #[inline]
    pub(super) fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
}

impl GaugeCell {
    #[inline]
    pub(super) fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }

    #[inline]
    pub(super) fn add(&self, value: f64) {
        add_f64(&self.0, value);
    }
}

impl HistogramCell {
    fn new(bounds: &'static [f64]) -> Self {
        HistogramCell {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Counts `value` in the first bucket whose bound it does not exceed (`+Inf` for NaN,
    /// as Prometheus clients do) and adds it to the sum.
    #[inline]
    pub(super) fn record(&self, value: f64) {
        let bucket = self
            .bounds
            .iter()
            .position(|&bound| value <= bound)
            .unwrap_or(self.bounds.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        add_f64(&self.sum, value);
    }
}

/// Adds to an `f64` kept as bits: a compare-exchange loop, uncontended one round.
#[inline]
fn add_f64(word: &AtomicU64, value: f64) {
    let mut current = word.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(current) + value).to_bits();
        match word.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}

/// What a registered series records into.
pub(super) enum Cell {
    Counter(CounterCell),
    Gauge(GaugeCell),
    Histogram(HistogramCell),
}

/// One series' HELP and cell; its name and labels are its key in the [`Registry`].
pub(crate) struct Registered {
    help: &'static str,
    pub(super) cell: Cell,
}

impl Registered {
    /// Its counter, unless another kind of metric took the series (a capture only: `init`
    /// refuses a program that gives a name two kinds).
    #[inline]
    pub(super) fn counter(&'static self) -> Option<&'static CounterCell> {
        match &self.cell {
            Cell::Counter(counter) => Some(counter),
            _ => None,
        }
    }

    /// Its gauge; see [`Registered::counter`].
    #[inline]
    pub(super) fn gauge(&'static self) -> Option<&'static GaugeCell> {
        match &self.cell {
            Cell::Gauge(gauge) => Some(gauge),
            _ => None,
        }
    }

    /// Its histogram; see [`Registered::counter`].
    #[inline]
    pub(super) fn histogram(&'static self) -> Option<&'static HistogramCell> {
        match &self.cell {
            Cell::Histogram(histogram) => Some(histogram),
            _ => None,
        }
    }
}

/// What a series holds at one read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Counter(u64),
    Gauge(f64),
    /// Per bucket (finite bounds, then `+Inf`): the bound and the observations in it, not
    /// cumulative; then the sum.
    Histogram(Vec<(f64, u64)>, f64),
}

/// One series as read for a render.
#[derive(Debug, Clone)]
pub(crate) struct SeriesRead {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) labels: Vec<(&'static str, String)>,
    pub(crate) value: Value,
}

impl Registered {
    fn read(&self, (name, labels): &SeriesKey) -> SeriesRead {
        let value = match &self.cell {
            Cell::Counter(c) => Value::Counter(c.0.load(Ordering::Relaxed)),
            Cell::Gauge(g) => Value::Gauge(f64::from_bits(g.0.load(Ordering::Relaxed))),
            Cell::Histogram(h) => Value::Histogram(
                h.bounds
                    .iter()
                    .copied()
                    .chain([f64::INFINITY])
                    .zip(h.buckets.iter().map(|b| b.load(Ordering::Relaxed)))
                    .collect(),
                f64::from_bits(h.sum.load(Ordering::Relaxed)),
            ),
        };
        SeriesRead {
            name,
            help: self.help,
            labels: labels
                .iter()
                .map(|(label, value)| (*label, value.to_string()))
                .collect(),
            value,
        }
    }
}

/// The name and label set a series is known by (`service` first, then as written).
type SeriesKey = (&'static str, Box<[(&'static str, Box<str>)]>);

/// Every series registered so far, by name and label set.
#[derive(Default)]
pub(crate) struct Registry {
    series: Mutex<BTreeMap<SeriesKey, &'static Registered>>,
}

/// What a new series needs besides its labels.
pub(super) struct Family {
    pub(super) kind: MetricKind,
    pub(super) name: &'static str,
    pub(super) help: &'static str,
    /// A histogram's bucket bounds.
    pub(super) buckets: &'static [f64],
}

impl Registry {
    /// An empty registry; `const`, so the process's is a plain `static` and a warm call
    /// that passes it along reads no initialisation flag.
    pub(crate) const fn new() -> Self {
        Registry {
            series: Mutex::new(BTreeMap::new()),
        }
    }

    /// The series of `family` with `labels`: the one already registered under that name
    /// and label set, whichever site registered it (its kind and buckets are the same:
    /// `init` refuses a name used with two), or a new one. Cold: once per site and label
    /// combination.
    #[cold]
    pub(super) fn series(
        &self,
        family: &Family,
        labels: Vec<(&'static str, Box<str>)>,
    ) -> &'static Registered {
        let key: SeriesKey = (family.name, labels.into_boxed_slice());
        // A poisoned lock only means a registration panicked (allocation); the map is whole.
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(registered) = series.get(&key) {
            return registered;
        }
        let registered: &'static Registered = Box::leak(Box::new(Registered {
            help: family.help,
            cell: match family.kind {
                MetricKind::Counter => Cell::Counter(CounterCell(AtomicU64::new(0))),
                MetricKind::Gauge => Cell::Gauge(GaugeCell(AtomicU64::new(0f64.to_bits()))),
                MetricKind::Histogram => Cell::Histogram(HistogramCell::new(family.buckets)),
            },
        }));
        series.insert(key, registered);
        registered
    }

    /// Every series, by name then labels (the map's order).
    pub(crate) fn read(&self) -> Vec<SeriesRead> {
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        series
            .iter()
            .map(|(key, series)| series.read(key))
            .collect()
    }
}

/// The process's registry: the series `/metrics` shows.
pub(crate) fn global() -> &'static Registry {
    static GLOBAL: Registry = Registry::new();
    &GLOBAL
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: &[f64] = &[1.0, 5.0];

    fn family(kind: MetricKind, name: &'static str) -> Family {
        Family {
            kind,
            name,
            help: "Help.",
            buckets: BOUNDS,
        }
    }

    fn labels(queue: &str) -> Vec<(&'static str, Box<str>)> {
        vec![("service", "parsing".into()), ("queue", queue.into())]
    }

    #[test]
    fn a_histogram_counts_into_its_buckets_as_it_records() {
        let registry = Registry::default();
        let series = registry.series(&family(MetricKind::Histogram, "h"), labels("a"));
        let Cell::Histogram(cell) = &series.cell else {
            panic!("a histogram");
        };
        for value in [0.5, 1.0, 3.0, 7.0, f64::NAN] {
            cell.record(value);
        }
        let reads = registry.read();
        let Value::Histogram(buckets, sum) = &reads[0].value else {
            panic!("a histogram");
        };
        assert_eq!(buckets, &[(1.0, 2), (5.0, 1), (f64::INFINITY, 2)]);
        assert!(
            sum.is_nan(),
            "NaN is added to the sum, as Prometheus clients do"
        );
    }

    #[test]
    fn one_name_and_label_set_is_one_series_whichever_site_registers_it() {
        let registry = Registry::default();
        let gauge = family(MetricKind::Gauge, "g");
        let first = registry.series(&gauge, labels("a"));
        let again = registry.series(&gauge, labels("a"));
        let other = registry.series(&gauge, labels("b"));
        assert!(std::ptr::eq(first, again));
        assert!(!std::ptr::eq(first, other));
        let (Cell::Gauge(up), Cell::Gauge(down)) = (&first.cell, &again.cell) else {
            panic!("gauges");
        };
        up.add(3.0);
        down.add(-1.0);
        let counter = registry.series(&family(MetricKind::Counter, "c"), labels("a"));
        let Cell::Counter(counter_cell) = &counter.cell else {
            panic!("a counter");
        };
        counter_cell.increment(4);
        let read: Vec<(&str, String, Value)> = registry
            .read()
            .into_iter()
            .map(|r| (r.name, r.labels[1].1.clone(), r.value))
            .collect();
        assert_eq!(
            read,
            [
                ("c", "a".to_owned(), Value::Counter(4)),
                ("g", "a".to_owned(), Value::Gauge(2.0)),
                ("g", "b".to_owned(), Value::Gauge(0.0)),
            ]
        );
    }

    #[test]
    fn concurrent_additions_are_all_kept() {
        let registry = Registry::default();
        let series = registry.series(&family(MetricKind::Histogram, "h"), labels("a"));
        let Cell::Histogram(cell) = &series.cell else {
            panic!("a histogram");
        };
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..10_000).for_each(|_| cell.record(2.0)));
            }
        });
        let Value::Histogram(buckets, sum) = &registry.read()[0].value else {
            panic!("a histogram");
        };
        assert_eq!(buckets[1], (5.0, 40_000));
        assert_eq!(*sum, 80_000.0);
    }
}
