//! OpenTelemetry span export over OTLP: configuration (builder and `OTEL_*`), the
//! pipeline, the bounded export queue that drops and counts rather than waits, sampling
//! that still exports failed spans, and W3C trace-context propagation. It may use
//! `instrumented` (the linked call sites' service), `global`, `error` and `names`.

pub(crate) mod call_export;
pub(crate) mod call_parent;
mod export_queue;
pub(crate) mod otlp;
pub mod propagation;
mod sampling;
