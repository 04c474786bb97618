//! The convention's vocabulary, written once: every word that `observe-macros` writes into
//! generated code and `observe-runtime` reads back (label names, outcome values and their
//! order, the self-metrics, histogram units and built-in presets, the call span's fields).
//!
//! A proc-macro crate can export nothing but macros, so the words both crates need live
//! here, in a crate with no dependencies. `observe::names` re-exports the public ones.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

/// Label carrying the service (the metric's subsystem).
pub const LABEL_SERVICE: &str = "service";
/// Label carrying the deployment environment, set once by `observe::init`.
pub const LABEL_ENVIRONMENT: &str = "environment";
/// Label carrying the instrumented operation (by default the function's name).
pub const LABEL_OPERATION: &str = "operation";
/// Label carrying how the call ended: one of the outcome values.
pub const LABEL_OUTCOME: &str = "outcome";
/// Label carrying the error class of a failed call.
pub const LABEL_ERROR_TYPE: &str = "error_type";

/// Default `outcome` of a call that returned normally (`observe.toml`'s `[outcomes]` can
/// rename it).
pub const OUTCOME_SUCCESS: &str = "success";
/// Default `outcome` of a call that returned an error or panicked.
pub const OUTCOME_FAILURE: &str = "failure";
/// Default `outcome` of an async call dropped before it completed.
pub const OUTCOME_CANCELLED: &str = "cancelled";
/// How many outcomes a call can end with.
pub const OUTCOME_COUNT: usize = 3;
/// The default outcome values in the order every per-outcome array uses (a call site's
/// `outcomes`, the storage's per-outcome histograms): indexed by the `OUTCOME_INDEX_*`.
pub const DEFAULT_OUTCOMES: [&str; OUTCOME_COUNT] =
    [OUTCOME_SUCCESS, OUTCOME_FAILURE, OUTCOME_CANCELLED];
/// Index of the success outcome in per-outcome arrays.
pub const OUTCOME_INDEX_SUCCESS: usize = 0;
/// Index of the failure outcome in per-outcome arrays.
pub const OUTCOME_INDEX_FAILURE: usize = 1;
/// Index of the cancelled outcome in per-outcome arrays.
pub const OUTCOME_INDEX_CANCELLED: usize = 2;

/// `error_type` of a call that panicked.
pub const PANIC_ERROR_TYPE: &str = "Panic";

/// Value recorded for a runtime label value outside its declared set or past its bound.
pub const OTHER_LABEL_VALUE: &str = "_OTHER";
/// Self-metric counting label values recorded as [`OTHER_LABEL_VALUE`], by `metric` and
/// `label`.
pub const LABEL_OVERFLOW_METRIC: &str = "observe_runtime_label_overflow_total";
/// Self-metric counting spans that ended but never reached the collector, by `reason`
/// (`queue_full`, `export_failed`, `shutdown`).
pub const SPANS_DROPPED: &str = "observe_otlp_spans_dropped_total";

/// Base units a histogram measures in, as they end its name (the convention's, plus
/// `messages` for the RFC's recommended `_batch_size_messages`).
pub const HISTOGRAM_UNITS: [&str; 4] = ["seconds", "bytes", "tokens", "messages"];

/// The convention's standard histogram presets: name, unit (one of [`HISTOGRAM_UNITS`]),
/// bucket bounds. The first, `latency`, is `#[instrumented]`'s default.
pub const BUILTIN_PRESETS: &[(&str, &str, &[f64])] = &[
    ("latency", "seconds", LATENCY_BUCKETS),
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

/// Buckets of the `latency` preset, in seconds. The runtime gives them to histograms that
/// no call site claims, so no histogram is ever exported as a summary.
pub const LATENCY_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Span field: the service.
pub const SPAN_SERVICE_NAME: &str = "service.name";
/// Span field: the function's name.
pub const SPAN_CODE_FUNCTION: &str = "code.function";
/// Span field: the function's module path.
pub const SPAN_CODE_NAMESPACE: &str = "code.namespace";
/// Span field: the error class of a failed call.
pub const SPAN_ERROR_TYPE: &str = "error.type";
/// Span field: `ERROR` on failure, as `tracing-opentelemetry` reads it.
pub const SPAN_OTEL_STATUS_CODE: &str = "otel.status_code";
/// Span field: the OpenTelemetry span kind, as `tracing-opentelemetry` reads it.
pub const SPAN_OTEL_KIND: &str = "otel.kind";
/// The fields every call's span starts with, in this order, before the extra ones
/// (`otel.kind`, then the recorded arguments). The macro declares them in the callsite's
/// field set; the runtime's `call_span` supplies their values.
pub const CALL_SPAN_FIELDS: [&str; 5] = [
    SPAN_SERVICE_NAME,
    SPAN_CODE_FUNCTION,
    SPAN_CODE_NAMESPACE,
    SPAN_ERROR_TYPE,
    SPAN_OTEL_STATUS_CODE,
];
/// How many extra values (after [`CALL_SPAN_FIELDS`]) `call_span` takes; a span with more
/// goes through `tracing::span!`.
pub const MAX_EXTRA_SPAN_VALUES: usize = 4;
/// How many fields the runtime's `call_span` takes in all.
pub const MAX_CALL_SPAN_FIELDS: usize = CALL_SPAN_FIELDS.len() + MAX_EXTRA_SPAN_VALUES;
/// OpenTelemetry's span kinds, the values of [`SPAN_OTEL_KIND`].
pub const SPAN_KINDS: &[&str] = &["server", "client", "producer", "consumer", "internal"];

/// The text forms of an SLO's values, read by the macros (from `observe.toml` and the
/// attribute) and by the runtime's operations-as-code API, so both accept the same.
pub mod slo_text {
    use alloc::format;
    use alloc::string::String;

    /// `"99.9%"` → parts per million, strictly between 0 and 100%, at most four decimals.
    pub fn parse_percent(text: &str) -> Result<u32, String> {
        let number = text
            .trim()
            .strip_suffix('%')
            .ok_or_else(|| format!("target `{text}` must be a percentage like `99.9%`"))?;
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        if !digits(whole) || !(fraction.is_empty() || digits(fraction)) || fraction.len() > 4 {
            return Err(format!(
                "target `{text}` must be a percentage like `99.9%`, with at most four decimals"
            ));
        }
        let whole: u64 = whole
            .parse()
            .map_err(|_| format!("target `{text}` is too large"))?;
        let per_million =
            whole.saturating_mul(10_000) + format!("{fraction:0<4}").parse::<u64>().unwrap_or(0);
        if per_million == 0 || per_million >= 1_000_000 {
            return Err(format!(
                "target `{text}` must be strictly between 0% and 100%"
            ));
        }
        Ok(per_million as u32)
    }

    /// `"30d"` → seconds: a positive whole number and one of `s`, `m`, `h`, `d`, `w`.
    pub fn parse_window(text: &str) -> Result<u64, String> {
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let unit = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => {
                return Err(format!(
                    "window `{text}` is not a duration like `30d` (a whole number and `s`, `m`, `h`, `d` or `w`)"
                ));
            }
        };
        match number.parse::<u64>() {
            Ok(n) if n > 0 => Ok(n * unit),
            _ => Err(format!(
                "window `{text}` must be a positive duration like `30d`"
            )),
        }
    }
}
