//! The convention's vocabulary that both the generated code and the runtime agree on:
//! label names and values, self-metric names, span field names and default buckets. The
//! words the macros also write come from the shared `observe-vocab` crate; the runtime's
//! own defaults are below. A leaf: it depends on nothing of this crate.
//!
//! ```
//! use observe::names::{LABEL_ERROR_TYPE, LABEL_OUTCOME, OUTCOME_FAILURE, PANIC_ERROR_TYPE};
//!
//! #[observe::instrumented(service = "parsing")]
//! fn explode() {
//!     panic!("boom");
//! }
//!
//! let (_, recorded) = observe::testing::capture(|| std::panic::catch_unwind(explode));
//! let processed = "copilot_parsing_messages_processed_total";
//! assert_eq!(recorded.value(processed, &[(LABEL_OUTCOME, OUTCOME_FAILURE)]), 1.0);
//! assert_eq!(recorded.value("copilot_parsing_failures_total", &[(LABEL_ERROR_TYPE, PANIC_ERROR_TYPE)]), 1.0);
//! ```

#[cfg(test)]
pub(crate) use observe_vocab::DEFAULT_OUTCOMES;
pub(crate) use observe_vocab::{
    CALL_SPAN_FIELDS, HISTOGRAM_UNITS, MAX_CALL_SPAN_FIELDS, OUTCOME_COUNT,
    OUTCOME_INDEX_CANCELLED, OUTCOME_INDEX_FAILURE, OUTCOME_INDEX_SUCCESS, SPAN_KINDS,
    SPAN_OTEL_KIND,
};
pub use observe_vocab::{
    LABEL_ENVIRONMENT, LABEL_ERROR_TYPE, LABEL_OPERATION, LABEL_OUTCOME, LABEL_OVERFLOW_METRIC,
    LABEL_SERVICE, LATENCY_BUCKETS, OTHER_LABEL_VALUE, OUTCOME_CANCELLED, OUTCOME_FAILURE,
    OUTCOME_SUCCESS, PANIC_ERROR_TYPE, SPANS_DROPPED,
};
/// The exported call spans' attributes (`traces::call_export`).
#[cfg(feature = "otlp")]
pub(crate) use observe_vocab::{
    SPAN_CODE_FUNCTION, SPAN_CODE_NAMESPACE, SPAN_ERROR_TYPE, SPAN_SERVICE_NAME,
};

/// Environment used when `OBSERVE_ENVIRONMENT` is unset.
///
/// ```
/// let environment = std::env::var("OBSERVE_ENVIRONMENT")
///     .unwrap_or_else(|_| observe::names::DEFAULT_ENVIRONMENT.to_owned());
/// # let _ = environment;
/// ```
pub const DEFAULT_ENVIRONMENT: &str = "dev";
/// Address of the `/metrics` listener when `OBSERVE_METRICS_ADDR` is unset.
///
/// ```
/// let addr: std::net::SocketAddr = observe::names::DEFAULT_METRICS_ADDR.parse().unwrap();
/// assert_eq!(addr.port(), 9464);
/// ```
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";
