//! The one Prometheus text exposition: the two metric pipelines' texts, concatenated.

use metrics_exporter_prometheus::PrometheusHandle;

use super::exposition;
use crate::global::{CALL_SITE_CONFIG, RECORDER};
use crate::instrumented::all_call_sites;

/// The Prometheus text exposition, or `None` before [`init`](crate::init): the
/// `metrics-exporter-prometheus` recorder's render of every metric that is not a call
/// site's, then every call site's series from observe's own storage.
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

pub(crate) fn render_with(recorder: &PrometheusHandle) -> String {
    let mut text = recorder.render();
    if let Some(config) = CALL_SITE_CONFIG.get() {
        exposition::append(&mut text, &config.environment, all_call_sites());
    }
    text
}
