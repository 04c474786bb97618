//! The convention's vocabulary that both the generated code and the runtime agree on:
//! label names and values, self-metric names, span field names and default buckets. Every
//! such word the runtime uses is here and nowhere else (a leaf: it depends on nothing).

/// Label carrying the service (the metric's subsystem).
pub const LABEL_SERVICE: &str = "service";
/// Label carrying the deployment environment, set once by [`crate::init`].
pub const LABEL_ENVIRONMENT: &str = "environment";
/// Label carrying the instrumented operation (by default the function's name).
pub const LABEL_OPERATION: &str = "operation";
/// Label carrying how the call ended: one of the `OUTCOME_*` values.
pub const LABEL_OUTCOME: &str = "outcome";
/// Label carrying the error class of a failed call.
pub const LABEL_ERROR_TYPE: &str = "error_type";

/// `outcome` of a call that returned normally.
pub const OUTCOME_SUCCESS: &str = "success";
/// `outcome` of a call that returned an error or panicked.
pub const OUTCOME_FAILURE: &str = "failure";
/// `outcome` of an async call dropped before it completed.
pub const OUTCOME_CANCELLED: &str = "cancelled";

/// `error_type` of a call that panicked.
pub const PANIC_ERROR_TYPE: &str = "Panic";

/// Environment used when `OBSERVE_ENVIRONMENT` is unset.
pub const DEFAULT_ENVIRONMENT: &str = "dev";
/// Address of the `/metrics` listener when `OBSERVE_METRICS_ADDR` is unset.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";

/// Buckets of the convention's `latency` preset, in seconds. Histograms that no call site
/// claims get these, so no histogram is ever exported as a summary.
pub const LATENCY_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Value recorded for a runtime label value outside its declared set or past its bound.
pub const OTHER_LABEL_VALUE: &str = "_OTHER";
/// Self-metric counting label values recorded as [`OTHER_LABEL_VALUE`], by `metric` and `label`.
pub const LABEL_OVERFLOW_METRIC: &str = "observe_runtime_label_overflow_total";
/// Self-metric counting spans that ended but never reached the collector, by `reason`
/// (`queue_full`, `export_failed`, `shutdown`).
pub const SPANS_DROPPED: &str = "observe_otlp_spans_dropped_total";

/// The fields every call's span starts with, in this order, before the `extra` ones
/// (`otel.kind`, then the recorded arguments). The macro declares them in the callsite's
/// field set; `call_span` supplies their values.
pub(crate) const CALL_SPAN_FIELDS: [&str; 5] = [
    "service.name",
    "code.function",
    "code.namespace",
    "error.type",
    "otel.status_code",
];
