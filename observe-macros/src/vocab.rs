//! The convention's words that observe-runtime must agree on, each written once in this
//! crate: outcome values, observe's own labels, the histogram units and built-in bucket
//! presets, and the call span's field names. A shared vocabulary crate can replace this
//! module wholesale: nothing else in observe-macros spells these words.

/// The `outcome` label's default values (`observe.toml`'s `[outcomes]` can rename them).
pub(crate) const OUTCOME_SUCCESS: &str = "success";
pub(crate) const OUTCOME_FAILURE: &str = "failure";
pub(crate) const OUTCOME_CANCELLED: &str = "cancelled";

/// Labels observe sets itself on the series it records.
pub(crate) const LABEL_SERVICE: &str = "service";
pub(crate) const LABEL_ENVIRONMENT: &str = "environment";
pub(crate) const LABEL_OPERATION: &str = "operation";
pub(crate) const LABEL_OUTCOME: &str = "outcome";
pub(crate) const LABEL_ERROR_TYPE: &str = "error_type";

/// Base units a histogram measures in, as they end its name (the convention's, plus
/// `messages` for the RFC's recommended `_batch_size_messages`). The order is
/// `convention::Unit`'s.
pub(crate) const HISTOGRAM_UNITS: [&str; 4] = ["seconds", "bytes", "tokens", "messages"];

/// The convention's standard histogram presets: name, unit (one of `HISTOGRAM_UNITS`),
/// bucket bounds. The first in seconds is `#[instrumented]`'s default.
pub(crate) const BUILTIN_PRESETS: &[(&str, &str, &[f64])] = &[
    (
        "latency",
        "seconds",
        &[0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
    ),
    (
        "size",
        "bytes",
        &[1024.0, 10240.0, 102400.0, 1048576.0, 10485760.0],
    ),
    (
        "tokens",
        "tokens",
        &[100.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0],
    ),
    // Not in the RFC's table; its recommended `_batch_size_messages` needs one.
    (
        "batch",
        "messages",
        &[1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0],
    ),
];

/// The fields observe-runtime's `call_span` gives a value, first in every call span (its
/// `CALL_SPAN_FIELDS`).
pub(crate) const CALL_SPAN_FIELDS: [&str; 5] = [
    SPAN_SERVICE_NAME,
    SPAN_CODE_FUNCTION,
    SPAN_CODE_NAMESPACE,
    SPAN_ERROR_TYPE,
    SPAN_OTEL_STATUS_CODE,
];
pub(crate) const SPAN_SERVICE_NAME: &str = "service.name";
pub(crate) const SPAN_CODE_FUNCTION: &str = "code.function";
pub(crate) const SPAN_CODE_NAMESPACE: &str = "code.namespace";
pub(crate) const SPAN_ERROR_TYPE: &str = "error.type";
pub(crate) const SPAN_OTEL_STATUS_CODE: &str = "otel.status_code";
/// The span kind field, as `tracing-opentelemetry` reads it.
pub(crate) const SPAN_OTEL_KIND: &str = "otel.kind";

/// How many fields observe-runtime's `call_span` takes (its `MAX_CALL_SPAN_FIELDS`).
pub(crate) const MAX_CALL_SPAN_FIELDS: usize = 9;

/// OpenTelemetry's span kinds, the values of `SPAN_OTEL_KIND`.
pub(crate) const SPAN_KINDS: &[&str] = &["server", "client", "producer", "consumer", "internal"];
