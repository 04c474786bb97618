//! A call site of `observe::counter!`, `gauge!` or `histogram!`: its checked description,
//! and one cached series per combination of runtime label values, so a warm call does no
//! registry lookup, no hashing and no allocation. Runtime label values outside their
//! declared set (or past their bound) are recorded under `_OTHER` and counted.

use std::sync::OnceLock;

use super::handles::{CounterRef, GaugeRef, HistogramRef};
use super::series::{self, CounterCell, Family, Registered, Registry};
use crate::names::{LABEL_OVERFLOW_METRIC, LABEL_SERVICE, OTHER_LABEL_VALUE};

/// Counter, gauge or histogram.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

/// What one label of a metric may hold, as checked at compile time.
#[doc(hidden)]
#[derive(Debug)]
pub enum LabelDomain {
    /// A literal, checked at compile time.
    Const(&'static str),
    /// A runtime value from a declared set.
    Set(&'static [&'static str]),
    /// A runtime value; the first `max` distinct values are kept.
    Bounded(usize),
}

/// Everything the macro knows about one metric call site.
#[doc(hidden)]
#[derive(Debug)]
pub struct MetricSiteMeta {
    pub kind: MetricKind,
    pub name: &'static str,
    pub help: &'static str,
    pub service: &'static str,
    pub module_path: &'static str,
    /// Labels in the order written; runtime values come in this order, `Const` skipped.
    pub labels: &'static [(&'static str, LabelDomain)],
    /// Histogram bucket bounds (the preset's); empty for counters and gauges.
    pub buckets: &'static [f64],
    /// Where the call is.
    pub file: &'static str,
    pub line: u32,
    /// The most series this site can give the family (counted at compile time), and the
    /// convention's `series_budget` for the family's total, checked at `init`.
    pub series: u64,
    pub series_budget: u64,
}

/// One metric call site. Generated as a `static` inside the macro's expansion.
#[doc(hidden)]
pub struct MetricSite {
    meta: MetricSiteMeta,
    state: OnceLock<State>,
}

/// HELP of `observe_runtime_label_overflow_total` (also in the catalogue).
pub(crate) const OVERFLOW_HELP: &str = "Label values recorded as `_OTHER` because they were outside the label's declared set or bound, by metric and label.";

/// Registers a metric site for the runtime's start-up (histogram buckets).
#[doc(hidden)]
pub struct MetricSiteRegistration(pub &'static MetricSite);

inventory::collect!(MetricSiteRegistration);

/// Built once, on the first call after `init` (or per `observe::testing` capture).
pub(super) struct State {
    /// One slot per combination of runtime label values (each with `_OTHER`).
    handles: Box<[OnceLock<&'static Registered>]>,
    /// Per runtime label: its domain, its interned values (`Bounded` only), and the
    /// counter of values mapped to `_OTHER`.
    runtime: Box<[RuntimeLabel]>,
}

struct RuntimeLabel {
    name: &'static str,
    domain: &'static LabelDomain,
    interned: Box<[OnceLock<Box<str>>]>,
    /// `None` only if another kind of metric took the overflow counter's name.
    others: OnceLock<Option<&'static CounterCell>>,
}

impl MetricSite {
    pub const fn new(meta: MetricSiteMeta) -> Self {
        MetricSite {
            meta,
            state: OnceLock::new(),
        }
    }

    pub fn meta(&self) -> &MetricSiteMeta {
        &self.meta
    }

    /// Registers the series now (at `init`) when every label is a literal, so it exists
    /// from start-up; sites with runtime labels register per value on first use.
    pub(crate) fn register_now(&'static self) {
        if self
            .meta
            .labels
            .iter()
            .all(|(_, d)| matches!(d, LabelDomain::Const(_)))
        {
            let _ = self.series(&[]);
        }
    }

    /// The counter for these runtime label values.
    #[inline]
    pub fn counter(&'static self, values: &[&str]) -> CounterRef {
        CounterRef(self.series(values).and_then(Registered::counter))
    }

    /// The gauge for these runtime label values.
    #[inline]
    pub fn gauge(&'static self, values: &[&str]) -> GaugeRef {
        GaugeRef(self.series(values).and_then(Registered::gauge))
    }

    /// The histogram for these runtime label values.
    #[inline]
    pub fn histogram(&'static self, values: &[&str]) -> HistogramRef {
        HistogramRef(self.series(values).and_then(Registered::histogram))
    }

    /// The counter of the series at `index`: the macro's expansion resolved the label
    /// values to their positions in the declared sets (see `series_at`).
    #[inline]
    pub fn counter_at(&'static self, index: usize) -> CounterRef {
        CounterRef(self.series_at(index).and_then(Registered::counter))
    }

    /// The gauge of the series at `index` (see `counter_at`).
    #[inline]
    pub fn gauge_at(&'static self, index: usize) -> GaugeRef {
        GaugeRef(self.series_at(index).and_then(Registered::gauge))
    }

    /// The histogram of the series at `index` (see `counter_at`).
    #[inline]
    pub fn histogram_at(&'static self, index: usize) -> HistogramRef {
        HistogramRef(self.series_at(index).and_then(Registered::histogram))
    }

    /// Counts one value of the `label`-th runtime label recorded as `_OTHER`: the
    /// expansion's match found it outside the declared set.
    #[cold]
    pub fn label_overflowed(&'static self, label: usize) {
        self.in_scope(|state, registry| {
            if let Some(runtime) = state.runtime.get(label) {
                self.count_other(runtime, registry);
            }
        });
    }

    /// The series at `index` of the site's slots, the combination of runtime label
    /// positions the expansion computed when every runtime label has a declared set: a
    /// warm call reads one slot, with no string compared (`series` compares them).
    #[inline]
    fn series_at(&'static self, index: usize) -> Option<&'static Registered> {
        self.in_scope(|state, registry| {
            // Only a bug in the expansion gives an index past the slots; the last is
            // every label's `_OTHER`.
            let index = index.min(state.handles.len() - 1);
            *state.handles[index].get_or_init(|| self.register_at(state, index, registry))
        })
    }

    /// The series of these runtime label values.
    #[inline]
    fn series(&'static self, values: &[&str]) -> Option<&'static Registered> {
        self.in_scope(|state, registry| self.series_in(state, values, registry))
    }

    /// `f` of the site's state and the registry its series are in: the global ones after
    /// `init` (the state built on the first call); before it there is nowhere to record
    /// to, so the `observe::testing` capture's inside one, else `None`, and nothing is
    /// cached in the site.
    #[inline(always)]
    fn in_scope<R>(&'static self, f: impl FnOnce(&'static State, &Registry) -> R) -> Option<R> {
        let state = match self.state.get() {
            Some(state) => state,
            None if crate::global::is_initialised() => self.state.get_or_init(|| self.build()),
            None => return super::capture::with_state(self, f),
        };
        Some(f(state, series::global()))
    }

    /// The series of these values in `state`, registered in `registry` on first use.
    #[inline]
    pub(super) fn series_in(
        &'static self,
        state: &'static State,
        values: &[&str],
        registry: &Registry,
    ) -> &'static Registered {
        let mut index = 0;
        for (label, value) in state.runtime.iter().zip(values) {
            index = index * label.slots() + self.resolve(label, value, registry);
        }
        state.handles[index].get_or_init(|| self.register(state, values, registry))
    }

    /// The value's position in its label's domain; `_OTHER` is the last.
    fn resolve(&self, label: &RuntimeLabel, value: &str, registry: &Registry) -> usize {
        let found = match label.domain {
            LabelDomain::Set(set) => set.iter().position(|v| *v == value),
            LabelDomain::Bounded(_) => label.intern(value),
            LabelDomain::Const(_) => Some(0),
        };
        found.unwrap_or_else(|| {
            self.count_other(label, registry);
            label.slots() - 1
        })
    }

    fn count_other(&self, label: &RuntimeLabel, registry: &Registry) {
        let others = label
            .others
            .get_or_init(|| self.register_others_counter(label.name, registry));
        if let Some(others) = others {
            others.increment(1);
        }
    }

    pub(super) fn build(&self) -> State {
        let runtime: Box<[RuntimeLabel]> = self
            .meta
            .labels
            .iter()
            .filter(|(_, domain)| !matches!(domain, LabelDomain::Const(_)))
            .map(|(name, domain)| RuntimeLabel {
                name,
                domain,
                interned: match domain {
                    LabelDomain::Bounded(max) => (0..*max).map(|_| OnceLock::new()).collect(),
                    _ => Box::new([]),
                },
                others: OnceLock::new(),
            })
            .collect();
        let combinations = runtime.iter().map(RuntimeLabel::slots).product();
        State {
            handles: (0..combinations).map(|_| OnceLock::new()).collect(),
            runtime,
        }
    }

    /// Registers the series for these values (those outside the domain as `_OTHER`).
    #[cold]
    fn register(&self, state: &State, values: &[&str], registry: &Registry) -> &'static Registered {
        let mut labels = vec![(LABEL_SERVICE, Box::from(self.meta.service))];
        let mut runtime = state.runtime.iter().zip(values);
        for (name, domain) in self.meta.labels {
            let value = match domain {
                LabelDomain::Const(value) => value,
                _ => match runtime.next() {
                    Some((label, value)) if label.contains(value) => value,
                    _ => OTHER_LABEL_VALUE,
                },
            };
            labels.push((*name, Box::from(value)));
        }
        let family = Family {
            kind: self.meta.kind,
            name: self.meta.name,
            help: self.meta.help,
            buckets: self.meta.buckets,
        };
        registry.series(&family, labels)
    }

    /// Registers the series at `index`: its label values recovered from the positions.
    #[cold]
    fn register_at(&self, state: &State, index: usize, registry: &Registry) -> &'static Registered {
        let mut rest = index;
        let mut values = vec![OTHER_LABEL_VALUE; state.runtime.len()];
        for (label, value) in state.runtime.iter().zip(values.iter_mut()).rev() {
            let position = rest % label.slots();
            rest /= label.slots();
            if let LabelDomain::Set(set) = label.domain
                && let Some(declared) = set.get(position)
            {
                *value = declared;
            }
        }
        self.register(state, &values, registry)
    }

    #[cold]
    fn register_others_counter(
        &self,
        label: &'static str,
        registry: &Registry,
    ) -> Option<&'static CounterCell> {
        let family = Family {
            kind: MetricKind::Counter,
            name: LABEL_OVERFLOW_METRIC,
            help: OVERFLOW_HELP,
            buckets: &[],
        };
        let labels = vec![
            (LABEL_SERVICE, Box::from(self.meta.service)),
            ("metric", Box::from(self.meta.name)),
            ("label", Box::from(label)),
        ];
        registry.series(&family, labels).counter()
    }
}

impl RuntimeLabel {
    /// Values it can take, `_OTHER` included.
    fn slots(&self) -> usize {
        match self.domain {
            LabelDomain::Set(set) => set.len() + 1,
            LabelDomain::Bounded(max) => max + 1,
            LabelDomain::Const(_) => 1,
        }
    }

    /// The value's slot, taking a free one if the bound allows; `None` once it is full.
    fn intern(&self, value: &str) -> Option<usize> {
        for (i, slot) in self.interned.iter().enumerate() {
            let held = match slot.get() {
                Some(held) => held,
                None => slot.get_or_init(|| value.into()),
            };
            if &**held == value {
                return Some(i);
            }
        }
        None
    }

    fn contains(&self, value: &str) -> bool {
        match self.domain {
            LabelDomain::Set(set) => set.contains(&value),
            LabelDomain::Bounded(_) => self
                .interned
                .iter()
                .any(|s| s.get().is_some_and(|h| &**h == value)),
            LabelDomain::Const(_) => true,
        }
    }
}

/// Every metric site linked into this program.
pub(crate) fn all_metric_sites() -> impl Iterator<Item = &'static MetricSite> {
    inventory::iter::<MetricSiteRegistration>
        .into_iter()
        .map(|registration| registration.0)
}
