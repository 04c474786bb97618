//! OpenTelemetry span export over OTLP: configuration (builder and `OTEL_*`), the
//! pipeline, the bounded export queue that drops and counts rather than waits, sampling
//! that still exports failed spans, observe's own call spans as OTLP spans
//! (`call_export`) and where they meet `tracing`'s (`call_parent`), the export requests'
//! encoding (`otlp_encode` on `proto_writer`) and transport (`otlp_client`), and W3C
//! trace-context propagation. It may use `instrumented` (the call sites, the call spans), `global`,
//! `clock`, `error` and `names`. Without the `otlp` feature only propagation and the
//! service name remain (`without_otlp.rs` stands in for `otlp.rs`).

#[cfg(feature = "otlp")]
pub(crate) mod call_export;
#[cfg(feature = "otlp")]
pub(crate) mod call_parent;
#[cfg(feature = "otlp")]
mod export_queue;
mod header_carrier;
#[cfg(feature = "otlp")]
pub(crate) mod otlp;
#[cfg(not(feature = "otlp"))]
#[path = "without_otlp.rs"]
pub(crate) mod otlp;
#[cfg(feature = "otlp")]
mod otlp_client;
#[cfg(feature = "otlp")]
mod otlp_encode;
pub mod propagation;
#[cfg(feature = "otlp")]
mod proto_writer;
#[cfg(feature = "otlp")]
mod sampling;
mod trace_context;
