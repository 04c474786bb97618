//! What `counter!`, `gauge!` and `histogram!` return: a copyable handle to the metric
//! registered for the call's label values, which records nothing before `init`.

use metrics::{Counter, Gauge, Histogram};

/// A counter from `observe::counter!`. Before `observe::init` it records nothing.
#[derive(Clone, Copy)]
pub struct CounterRef(pub(super) Option<&'static Counter>);

impl CounterRef {
    /// One that records nothing: what a macro with errors expands to.
    #[doc(hidden)]
    pub const fn noop() -> Self {
        CounterRef(None)
    }

    /// Adds `value`.
    #[inline]
    pub fn increment(self, value: u64) {
        if let Some(counter) = self.0 {
            counter.increment(value);
        }
    }
}

/// A gauge from `observe::gauge!`. Before `observe::init` it records nothing.
#[derive(Clone, Copy)]
pub struct GaugeRef(pub(super) Option<&'static Gauge>);

impl GaugeRef {
    /// One that records nothing: what a macro with errors expands to.
    #[doc(hidden)]
    pub const fn noop() -> Self {
        GaugeRef(None)
    }

    /// Sets it to `value`.
    #[inline]
    pub fn set(self, value: f64) {
        if let Some(gauge) = self.0 {
            gauge.set(value);
        }
    }

    /// Adds `value`.
    #[inline]
    pub fn increment(self, value: f64) {
        if let Some(gauge) = self.0 {
            gauge.increment(value);
        }
    }

    /// Subtracts `value`.
    #[inline]
    pub fn decrement(self, value: f64) {
        if let Some(gauge) = self.0 {
            gauge.decrement(value);
        }
    }
}

/// A histogram from `observe::histogram!`. Before `observe::init` it records nothing.
#[derive(Clone, Copy)]
pub struct HistogramRef(pub(super) Option<&'static Histogram>);

impl HistogramRef {
    /// One that records nothing: what a macro with errors expands to.
    #[doc(hidden)]
    pub const fn noop() -> Self {
        HistogramRef(None)
    }

    /// Records one observation.
    #[inline]
    pub fn record(self, value: f64) {
        if let Some(histogram) = self.0 {
            histogram.record(value);
        }
    }
}
