//! The function-like macros' pipeline: a metric site per `counter!`, `gauge!` or
//! `histogram!` call, whose series live in observe's own storage (`series.rs`: a few
//! atomics per series, registered once per name and label set, cached per label-value
//! combination in the site) and are rendered by `serve`. It may use `global` (whether
//! `init` ran) and `names`. Before `init`, `observe::testing` captures what they record
//! through `capture.rs`.

mod capture;
mod handles;
mod metric_site;
mod series;

pub(crate) use capture::{MetricCapture, enter as capture_enter};
pub use handles::{CounterRef, GaugeRef, HistogramRef};
pub use metric_site::{
    LabelDomain, MetricKind, MetricSite, MetricSiteMeta, MetricSiteRegistration,
};
pub(crate) use metric_site::{OVERFLOW_HELP, all_metric_sites};
pub(crate) use series::{SeriesRead, Value, global as global_series};
