//! What goes out as Prometheus text: the `metrics-exporter-prometheus` recorder, the
//! exposition of the call sites' own storage, the render that joins the two, the family
//! checks that keep them from clashing, the `/metrics` responder and Pushgateway pushes.
//! It may use `instrumented`, `metrics`, `storage`, `global`, `error` and `names`.

pub(crate) mod endpoint;
mod exposition;
pub(crate) mod families;
pub(crate) mod push;
pub(crate) mod recorder;
pub(crate) mod render;
pub(crate) mod shared_series;
