//! OpenTelemetry span export over OTLP: configuration (builder and `OTEL_*`), the
//! pipeline, the bounded export queue that drops and counts rather than waits, sampling
//! that still exports failed spans, observe's own call spans as OTLP spans
//! (`call_export`) and where they meet `tracing`'s (`call_parent`), and W3C trace-context
//! propagation. It may use `instrumented` (the call sites, the call spans), `global`,
//! `clock`, `error` and `names`.

pub(crate) mod call_export;
pub(crate) mod call_parent;
mod export_queue;
pub(crate) mod otlp;
pub mod propagation;
mod sampling;
