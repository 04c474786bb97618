//! The one exposition: the `metrics` recorder's text (metrics recorded through the
//! `metrics` crate directly), then the `counter!`/`gauge!`/`histogram!` series and the
//! call sites' series from observe's own storage, in the Prometheus text format or, for a
//! scraper that asks for it, in OpenMetrics with exemplars.

use metrics_exporter_prometheus::PrometheusHandle;

use super::{exposition, metric_exposition, openmetrics};
use crate::global::{CALL_SITE_CONFIG, RECORDER};
use crate::instrumented::all_call_sites;
use crate::metrics::global_series;

/// The text formats `/metrics` answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// The Prometheus text format 0.0.4, the default (and what pushes send).
    Prometheus,
    /// OpenMetrics 1.0.0, with the call sites' exemplars.
    OpenMetrics,
}

/// The Prometheus text exposition, or `None` before [`init`](crate::init): the
/// `metrics-exporter-prometheus` recorder's render of the metrics recorded through the
/// `metrics` crate directly, then every `counter!`, `gauge!` and `histogram!` series and
/// every call site's series, from observe's own storage.
///
/// ```no_run
/// # fn main() -> Result<(), observe::Error> {
/// assert_eq!(observe::render(), None, "nothing to render before `init`");
/// let _guard = observe::builder().without_metrics_listener().init()?;
/// let text = observe::render().expect("initialised");
/// assert!(text.contains("# TYPE"));
/// # Ok(()) }
/// ```
pub fn render() -> Option<String> {
    RECORDER.get().map(render_with)
}

/// The exposition in `format`, empty before `init`: what `/metrics` serves.
pub(crate) fn render_in(format: Format) -> String {
    match (RECORDER.get(), format) {
        (None, _) => String::new(),
        (Some(recorder), Format::Prometheus) => render_with(recorder),
        (Some(recorder), Format::OpenMetrics) => render_openmetrics_with(recorder),
    }
}

pub(crate) fn render_with(recorder: &PrometheusHandle) -> String {
    joined(recorder, false)
}

/// The same series as [`render_with`], in OpenMetrics, each bucket and processed counter
/// with its latest sampled call's trace id as exemplar.
pub(crate) fn render_openmetrics_with(recorder: &PrometheusHandle) -> String {
    openmetrics::from_prometheus_text(&joined(recorder, true))
}

fn joined(recorder: &PrometheusHandle, exemplars: bool) -> String {
    let mut text = recorder.render();
    if let Some(config) = CALL_SITE_CONFIG.get() {
        let environment = &config.environment;
        metric_exposition::append(&mut text, environment, &global_series().read());
        exposition::append(&mut text, environment, all_call_sites(), exemplars);
    }
    text
}
