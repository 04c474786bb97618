//! What `counter!`, `gauge!` and `histogram!` return: a copyable handle to the series
//! registered for the call's label values, which records nothing before `init`.

use super::series::{CounterCell, GaugeCell, HistogramCell};

/// A counter from `observe::counter!`. Before `observe::init` it records nothing.
///
/// ```
/// let (_, recorded) = observe::testing::capture(|| {
///     let retries: observe::CounterRef =
///         observe::counter!("copilot_parsing_retry_attempts_total", help = "Parse attempts retried.");
///     retries.increment(2);
/// });
/// assert_eq!(recorded.value("copilot_parsing_retry_attempts_total", &[]), 2.0);
/// ```
#[derive(Clone, Copy)]
pub struct CounterRef(pub(super) Option<&'static CounterCell>);

impl CounterRef {
    /// One that records nothing: what a macro with errors expands to.
    #[doc(hidden)]
    pub const fn noop() -> Self {
        CounterRef(None)
    }

    /// Adds `value`.
    ///
    /// ```
    /// fn parsed(bytes: usize) {
    ///     observe::counter!("copilot_parsing_read_bytes_total", help = "Bytes parsed.")
    ///         .increment(bytes as u64);
    /// }
    ///
    /// let (_, recorded) = observe::testing::capture(|| (parsed(10), parsed(5)));
    /// assert_eq!(recorded.value("copilot_parsing_read_bytes_total", &[]), 15.0);
    /// ```
    #[inline]
    pub fn increment(self, value: u64) {
        if let Some(counter) = self.0 {
            counter.increment(value);
        }
    }
}

/// A gauge from `observe::gauge!`. Before `observe::init` it records nothing.
///
/// ```
/// let (_, recorded) = observe::testing::capture(|| {
///     let depth: observe::GaugeRef = observe::gauge!(
///         "copilot_parsing_queue_depth_messages",
///         help = "Messages waiting, by queue.",
///         labels(queue = "parsing"),
///     );
///     depth.set(12.0);
/// });
/// assert_eq!(recorded.value("copilot_parsing_queue_depth_messages", &[("queue", "parsing")]), 12.0);
/// ```
#[derive(Clone, Copy)]
pub struct GaugeRef(pub(super) Option<&'static GaugeCell>);

impl GaugeRef {
    /// One that records nothing: what a macro with errors expands to.
    #[doc(hidden)]
    pub const fn noop() -> Self {
        GaugeRef(None)
    }

    /// Sets it to `value`.
    ///
    /// ```
    /// fn polled(waiting: usize) {
    ///     observe::gauge!("copilot_parsing_queue_depth_messages", help = "Messages waiting.")
    ///         .set(waiting as f64);
    /// }
    ///
    /// let (_, recorded) = observe::testing::capture(|| (polled(7), polled(3)));
    /// assert_eq!(recorded.value("copilot_parsing_queue_depth_messages", &[]), 3.0);
    /// ```
    #[inline]
    pub fn set(self, value: f64) {
        if let Some(gauge) = self.0 {
            gauge.set(value);
        }
    }

    /// Adds `value`.
    ///
    /// ```
    /// let in_flight = || {
    ///     observe::gauge!("copilot_parsing_in_flight_requests_current", help = "Requests in flight.")
    /// };
    /// let (_, recorded) = observe::testing::capture(|| {
    ///     in_flight().increment(1.0);
    ///     in_flight().increment(1.0);
    /// });
    /// assert_eq!(recorded.value("copilot_parsing_in_flight_requests_current", &[]), 2.0);
    /// ```
    #[inline]
    pub fn increment(self, value: f64) {
        if let Some(gauge) = self.0 {
            gauge.add(value);
        }
    }

    /// Subtracts `value`.
    ///
    /// ```
    /// let in_flight = || {
    ///     observe::gauge!("copilot_parsing_in_flight_requests_current", help = "Requests in flight.")
    /// };
    /// let (_, recorded) = observe::testing::capture(|| {
    ///     in_flight().increment(1.0);
    ///     in_flight().decrement(1.0); // the request finished
    /// });
    /// assert_eq!(recorded.value("copilot_parsing_in_flight_requests_current", &[]), 0.0);
    /// ```
    #[inline]
    pub fn decrement(self, value: f64) {
        if let Some(gauge) = self.0 {
            gauge.add(-value);
        }
    }
}

/// A histogram from `observe::histogram!`. Before `observe::init` it records nothing.
///
/// ```
/// let (_, recorded) = observe::testing::capture(|| {
///     let batch: observe::HistogramRef =
///         observe::histogram!("copilot_chunking_batch_size_messages", help = "Messages per batch.");
///     batch.record(30.0);
/// });
/// assert_eq!(recorded.value("copilot_chunking_batch_size_messages_count", &[]), 1.0);
/// ```
#[derive(Clone, Copy)]
pub struct HistogramRef(pub(super) Option<&'static HistogramCell>);

impl HistogramRef {
    /// One that records nothing: what a macro with errors expands to.
    #[doc(hidden)]
    pub const fn noop() -> Self {
        HistogramRef(None)
    }

    /// Records one observation.
    ///
    /// ```
    /// let (_, recorded) = observe::testing::capture(|| {
    ///     for size in [3.0, 30.0] {
    ///         observe::histogram!("copilot_chunking_batch_size_messages", help = "Messages per batch.")
    ///             .record(size);
    ///     }
    /// });
    /// assert_eq!(recorded.value("copilot_chunking_batch_size_messages_sum", &[]), 33.0);
    /// // The `batch` preset of the `messages` unit: 1, 5, 10, 25, 50, …
    /// let buckets = recorded.buckets("copilot_chunking_batch_size_messages", &[]);
    /// assert_eq!(buckets[1], (5.0, 1.0));
    /// ```
    #[inline]
    pub fn record(self, value: f64) {
        if let Some(histogram) = self.0 {
            histogram.record(value);
        }
    }
}
