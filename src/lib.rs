//! # observe
//!
//! One attribute instead of the timer, histogram, outcome counters, `error_type` label and
//! span every handler repeats by hand — with metric names and labels checked against the
//! naming convention before the code compiles.
//!
//! ```no_run
//! use observe::{ErrorLabel, instrumented};
//!
//! #[derive(Debug, ErrorLabel)]
//! enum ParseError {
//!     InvalidJson,
//!     MissingField,
//! }
//!
//! #[instrumented(service = "parsing", histogram = "latency")]
//! fn parse_message(raw: &str) -> Result<usize, ParseError> {
//!     if raw.is_empty() { Err(ParseError::MissingField) } else { Ok(raw.len()) }
//! }
//!
//! fn main() -> Result<(), observe::Error> {
//!     let _guard = observe::init()?; // /metrics on 127.0.0.1:9464, environment `dev`
//!     let _ = parse_message("{}");
//!     Ok(())
//! }
//! ```
//!
//! Each call records, for service `parsing` in namespace `copilot`:
//! - `copilot_parsing_duration_seconds{service, environment, operation, outcome}`, a
//!   histogram with the preset's buckets;
//! - `copilot_parsing_messages_processed_total{service, environment, operation, outcome}`;
//! - `copilot_parsing_failures_total{service, environment, operation, error_type}` on failure;
//! - `copilot_parsing_active_workers_current{service, environment, operation}`, calls in flight;
//! - a span named after the function: exported over OTLP (when configured) with
//!   `service.name`, `code.function`, `code.namespace`, the arguments, and on failure
//!   `error.type` and the error status; to a subscriber that records spans (`fmt`), a
//!   `tracing` span with the arguments, as `#[tracing::instrument]` gives it.
//!
//! `outcome` is `success` (`Ok`, or any non-`Result` value), `failure` (`Err`, or a panic
//! with `error_type = "Panic"`, after which the panic resumes) or `cancelled` (an async
//! call whose future was dropped before it completed).
//!
//! # Arguments of `#[instrumented]`
//! - `service = "parsing"`: the metric subsystem and `service` label (required unless
//!   `observe.toml` sets `service`).
//! - `histogram = "latency"`: the bucket preset of the duration histogram (default `latency`).
//! - `name = "generation"`: an extra metric stem, `copilot_parsing_generation_duration_seconds`.
//! - `operation = "parse"`: the `operation` label (default: the function's name).
//! - `level = "debug"`: the span's level (default `info`).
//! - `skip(arg, ..)` / `skip_all`: arguments not recorded on the span (the others are, with
//!   their `Debug` form, as `tracing::instrument` does; `self` is never recorded).
//! - `fields(key = value, ..)`: extra span fields, in `tracing`'s field syntax.
//! - `labels(queue = "parsing", ..)`: extra constant labels on every series.
//! - `kind = "server"`: the OpenTelemetry span kind (`server`, `client`, `producer`,
//!   `consumer` or `internal`, the default), recorded as `otel.kind`.
//! - `parent = headers`: the span continues the trace whose W3C `traceparent` the
//!   argument `headers` carries (an `http::HeaderMap` or a string map of message headers);
//!   see [`propagation`] for injecting it into outgoing requests.
//! - `crate = path`: where `observe` is, if it is renamed.
//!
//! # Metrics that are not function-shaped
//! `counter!`, `gauge!` and `histogram!` take a full metric name, checked like the
//! attribute's, HELP text, and labels whose literal values are checked at compile time and
//! whose runtime values are checked against the label's declared set (others are recorded
//! as `_OTHER` and counted in `observe_runtime_label_overflow_total`):
//!
//! ```no_run
//! # fn f(queue: &str, depth: usize) {
//! observe::gauge!(
//!     "copilot_parsing_queue_depth_messages",
//!     help = "Messages waiting in the queue.",
//!     labels(queue = queue),
//! )
//! .set(depth as f64);
//! # }
//! ```
//!
//! # Testing what a function recorded
//! [`testing::capture`] and [`testing::capture_future`] return what the instrumented
//! functions called within recorded, without `init` or a port; parallel tests of one
//! binary each see only their own calls:
//!
//! ```
//! #[observe::instrumented(service = "parsing")]
//! fn parse(raw: &str) -> Result<usize, std::num::ParseIntError> {
//!     raw.parse()
//! }
//!
//! let (_, recorded) = observe::testing::capture(|| (parse("1"), parse("x")));
//! let calls = recorded.calls("parse");
//! assert_eq!((calls.success, calls.failure), (1, 1));
//! assert_eq!(calls.error_types["ParseIntError"], 1);
//! recorded.assert_series(
//!     "copilot_parsing_messages_processed_total",
//!     &[(&[("outcome", "success")], 1.0), (&[("outcome", "failure")], 1.0)],
//! );
//! ```
//!
//! # The convention
//! `observe.toml` (the file `OBSERVE_CONFIG` names, else the nearest one from the annotated
//! source file's directory, then from the crate's, up to the workspace root) sets the
//! `namespace` (default: the package name in snake_case), the services, required and
//! forbidden labels, label value sets and bounds, histogram presets, metric name templates,
//! outcome values and the series budget, checked per call site at compile time and per
//! metric family at `init` ([`check_series_budgets`]). `RULES.md` lists every rule.

pub use observe_macros::{ErrorLabel, counter, gauge, histogram, instrumented};
pub use observe_runtime::{
    Builder, CounterRef, Error, ErrorLabel, GaugeRef, Guard, HistogramRef, LogFormat, OtlpProtocol,
    SPANS_DROPPED, builder, check_series_budgets, init, names, propagation, render, testing,
};

/// Operations as code: [`ops::write`] writes the program's `METRICS.md`, recording and
/// alerting rules with their promtool tests, runbooks, Grafana dashboards and
/// `metrics.lock`; [`ops::check`] fails a test when they are stale or a change breaks the
/// lock. [`catalog`] is the catalogue they are generated from.
pub use observe_runtime::ops;
pub use observe_runtime::ops::catalog;

#[doc(hidden)]
pub use observe_runtime::__private;
