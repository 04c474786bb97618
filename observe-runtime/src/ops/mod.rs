//! Operations as code: from the [`Catalog`] of a program's metrics and operations, the
//! artefacts operators otherwise write by hand — `METRICS.md`, recording and alerting
//! rules with their `promtool` unit tests, runbooks, Grafana dashboards and the
//! `metrics.lock` baseline — each a pure function of the catalogue, reproducible byte for
//! byte. [`write_catalog`] writes them; [`check_catalog`] fails with a readable diff when
//! a committed copy is stale, or on a breaking change against `metrics.lock`.
//!
//! ```
//! #[observe::instrumented(service = "parsing")]
//! fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
//!     raw.parse()
//! }
//!
//! // Everything this program records, and the artefacts derived from it.
//! let catalog = observe::ops::catalog();
//! let files = observe::ops::generate(&catalog, &observe::ops::Options::default());
//! assert!(files["rules/alerts.yml"].contains("ParsingErrorBudgetBurn"));
//! ```

mod alerts;
mod build;
mod catalog;
mod dashboards;
mod grafana;
mod linked;
mod lock;
mod metrics_md;
mod promql;
mod rulefile;
mod rules;
mod rules_tests;
mod runbooks;
mod slo;
mod write;

use std::collections::BTreeMap;

pub use alerts::AlertKind;
pub use build::{InstrumentedSite, MacroSite, SiteSlo, build, unknown_operations};
pub use catalog::{
    Catalog, Family, Label, LabelValues, LatencyObjective, MetricType, Operation, Service,
    SourceSite,
};
pub use linked::{catalog, check, write, write_with};
pub use lock::{BreakingChange, Change, Lock, LockedFamily};
pub use slo::{Objective, Slo, SloSource, Window};
pub use write::{CheckError, UPDATE_ENV, check_catalog, write_catalog};

/// How the artefacts are generated.
///
/// ```
/// use observe::ops::Options;
///
/// let options = Options {
///     runbook_url: "https://wiki.example.com/runbooks/".into(),
///     ..Options::default()
/// };
/// let files = observe::ops::generate(&observe::ops::catalog(), &options);
/// assert!(files.contains_key("METRICS.md"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Every rule window and `for:` is divided by this (1 in production). A test profile
    /// compresses time with it: at 60, the 1-hour window is 1 minute and the 14.4× alert
    /// fires within a minute of the burn starting. Rule names keep the nominal window.
    pub window_scale: u64,
    /// Prefix of the alerts' `runbook` links; `runbooks/` (relative to the ops directory).
    pub runbook_url: String,
    /// Prefix of the alerts' `dashboard` links: a Grafana base URL; empty gives `/d/…`.
    pub grafana_url: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            window_scale: 1,
            runbook_url: "runbooks/".to_owned(),
            grafana_url: String::new(),
        }
    }
}

impl Options {
    /// The test profile: windows and `for:` divided by `scale`.
    ///
    /// ```
    /// let test_profile = observe::ops::Options::scaled(60); // the 1 h window lasts 1 min
    /// assert_eq!(test_profile.window_scale, 60);
    /// ```
    pub fn scaled(scale: u64) -> Options {
        Options {
            window_scale: scale.max(1),
            ..Options::default()
        }
    }

    pub(crate) fn runbook_link(&self, alert: &str) -> String {
        format!("{}{alert}.md", self.runbook_url)
    }

    pub(crate) fn dashboard_link(&self, service: &str) -> String {
        format!(
            "{}/d/{}/{}",
            self.grafana_url.trim_end_matches('/'),
            dashboards::service_uid(service),
            dashboards::service_file_stem(service)
        )
    }
}

/// Every artefact, by its path relative to the ops directory.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let files = observe::ops::generate(&observe::ops::catalog(), &observe::ops::Options::default());
/// assert!(files["METRICS.md"].contains("copilot_parsing_duration_seconds"));
/// assert!(files.contains_key("metrics.lock"));
/// ```
pub fn generate(catalog: &Catalog, options: &Options) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    files.insert("METRICS.md".to_owned(), metrics_md::render(catalog));
    let mut recording = Vec::new();
    let mut alerting = Vec::new();
    for service in &catalog.services {
        recording.extend(rules::service_groups(service, options));
        let (group, kinds) = alerts::service_alerts(service, options);
        alerting.push(group);
        for kind in kinds {
            let name = kind.alert_name(&service.name);
            files.insert(
                format!("runbooks/{name}.md"),
                runbooks::render(service, kind, options),
            );
        }
    }
    files.insert(
        "rules/recording.yml".to_owned(),
        rulefile::render(RULES_HEADER, &recording),
    );
    files.insert(
        "rules/alerts.yml".to_owned(),
        rulefile::render(ALERTS_HEADER, &alerting),
    );
    files.insert(
        "rules/tests.yml".to_owned(),
        rules_tests::render(catalog, options),
    );
    for (path, text) in dashboards::render(catalog, options) {
        files.insert(path, text);
    }
    files.insert("metrics.lock".to_owned(), Lock::of(catalog).render());
    files
}

const RULES_HEADER: &str = "Generated by observe from the instrumented code (observe::ops::write): do not edit.\n\
Recording rules: request rate and error ratio per SLI and window, objectives, budget left,\n\
rates by outcome and error class, p50/p95/p99.";
const ALERTS_HEADER: &str = "Generated by observe from the instrumented code (observe::ops::write): do not edit.\n\
Multi-window multi-burn-rate alerts (SRE workbook): page at 14.4x over 1h and 5m or 6x over\n\
6h and 30m; ticket at 3x over 1d and 2h or 1x over 3d and 6h (for a 30-day SLO).";

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;
