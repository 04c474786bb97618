//! What goes out as Prometheus text (or OpenMetrics, with exemplars, when asked): the `metrics-exporter-prometheus` recorder, the
//! exposition of the call sites' own storage, the render that joins the two, the family
//! checks that keep them from clashing, the `/metrics` listener (hyper, with its limits,
//! shared renders and optional credentials) and Pushgateway pushes (the `pushgateway`
//! feature; without it `without_pushgateway.rs` stands in for `push.rs`).
//! It may use `instrumented`, `metrics`, `storage`, `global`, `error`, `names` and
//! `warn_limit`.

pub(crate) mod auth;
pub(crate) mod budget;
pub(crate) mod exposition;
pub(crate) mod families;
pub(crate) mod listener;
pub(crate) mod metric_exposition;
mod openmetrics;
#[cfg(feature = "pushgateway")]
pub(crate) mod push;
#[cfg(not(feature = "pushgateway"))]
#[path = "without_pushgateway.rs"]
pub(crate) mod push;
#[cfg(feature = "pushgateway")]
mod push_client;
pub(crate) mod recorder;
pub(crate) mod render;
mod render_cache;
pub(crate) mod response;
pub(crate) mod shared_series;
