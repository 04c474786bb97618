//! The function-like macros' pipeline: a metric site per `counter!`, `gauge!` or
//! `histogram!` call, whose handles are `metrics` crate handles cached per label-value
//! combination and recorded by the `metrics-exporter-prometheus` recorder. It may use
//! `global` (whether `init` ran) and `names`. Before `init`, `observe::testing` captures
//! what they record through `capture.rs`.

mod capture;
mod handles;
mod metric_site;

pub(crate) use capture::{MetricCapture, enter as capture_enter};
pub use handles::{CounterRef, GaugeRef, HistogramRef};
pub use metric_site::{
    LabelDomain, MetricKind, MetricSite, MetricSiteMeta, MetricSiteRegistration,
};
pub(crate) use metric_site::{OVERFLOW_HELP, all_metric_sites};
