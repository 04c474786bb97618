//! What the integration tests share, one module per concern. Each test crate uses a part;
//! the benches include `otlp.rs`, and the macro crate's property test `prometheus_tools.rs`,
//! by `#[path]`.

// Each test crate uses a different part of these modules.
#![allow(dead_code)]

/// A counting global allocator.
pub mod allocations;
/// `examples/parsing_service.rs` as a process, and the messages sent to it.
pub mod example;
/// Parsing the Prometheus exposition; this process's runtime for in-process tests.
pub mod exposition;
/// Type-checking dashboards against Grafana's published schema (`@grafana/schema`, tsc).
pub mod grafana;
/// The strictest OpenMetrics parser here (Python `prometheus_client`): found or skipped.
pub mod openmetrics;
/// The in-process OTLP trace receiver (gRPC and HTTP).
pub mod otlp;
/// Child processes, free ports, HTTP polling, temporary directories.
pub mod process;
/// A real Prometheus server scraping a target and evaluating rule files, and its HTTP API.
pub mod prometheus;
/// `promtool`, `prometheus` and the Pushgateway: found, or skipped, or required.
pub mod prometheus_tools;
/// A span's or event's fields as text, for capturing subscribers.
pub mod span_fields;
