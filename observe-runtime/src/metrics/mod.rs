//! The function-like macros' pipeline: a metric site per `counter!`, `gauge!` or
//! `histogram!` call, whose handles are `metrics` crate handles cached per label-value
//! combination and recorded by the `metrics-exporter-prometheus` recorder. It may use
//! `global` (whether `init` ran) and `names`.

mod handles;
mod metric_site;

pub use handles::{CounterRef, GaugeRef, HistogramRef};
pub(crate) use metric_site::all_metric_sites;
pub use metric_site::{
    LabelDomain, MetricKind, MetricSite, MetricSiteMeta, MetricSiteRegistration,
};
