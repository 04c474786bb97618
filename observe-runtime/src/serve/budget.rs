//! The series budget of each metric family, over all of its sites. A macro sees one site
//! and checks what that site can produce; the sites of one family (every function of a
//! service shares its four families) may sit in many functions and crates, so their sum
//! is known only once the program is linked: it is checked here, at `init`, and by
//! `check_series_budgets` in a test.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::instrumented::{CallSite, CallSiteMeta, all_call_sites};
use crate::metrics::{MetricKind, MetricSite, MetricSiteMeta, all_metric_sites};

/// One family's sites, what each can produce, and the budget (the smallest any of its
/// sites was compiled with: crates of one program may have different conventions).
#[derive(Default)]
struct Total {
    series: u64,
    budget: u64,
    sites: Vec<(String, u64)>,
}

impl Total {
    fn add(&mut self, site: String, series: u64, budget: u64) {
        self.budget = if self.sites.is_empty() {
            budget
        } else {
            self.budget.min(budget)
        };
        self.series = self.series.saturating_add(series);
        self.sites.push((site, series));
    }
}

/// Every family's series, summed over its sites, within its budget; else the first
/// family over it, naming its sites with what each contributes.
pub(crate) fn check(
    instrumented: &[&CallSiteMeta],
    macros: &[&MetricSiteMeta],
) -> Result<(), Error> {
    let mut totals: BTreeMap<&'static str, Total> = BTreeMap::new();
    for site in instrumented {
        let origin = format!(
            "`#[instrumented]` operation `{}` in `{}`",
            site.operation, site.module_path
        );
        for family in [
            &site.duration,
            &site.processed,
            &site.failures,
            &site.active,
        ] {
            totals.entry(family.name).or_default().add(
                origin.clone(),
                family.series,
                site.series_budget,
            );
        }
    }
    for site in macros {
        let macro_name = match site.kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        };
        let origin = format!("`{macro_name}!` in `{}`", site.module_path);
        totals
            .entry(site.name)
            .or_default()
            .add(origin, site.series, site.series_budget);
    }
    match totals.into_iter().find(|(_, t)| t.series > t.budget) {
        None => Ok(()),
        Some((family, mut total)) => Err(Error::SeriesBudget {
            family,
            series: total.series,
            budget: total.budget,
            // Sorted, so that the message is the same whatever the link order.
            sites: {
                total.sites.sort();
                total
                    .sites
                    .iter()
                    .map(|(site, series)| format!("{site} ({series})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }),
    }
}

/// Checks every family linked into this program against its series budget, as `init`
/// does; for a test, so that a family over budget fails `cargo test` rather than `init`
/// in production.
///
/// ```
/// // In a `#[test]` of the application: every family linked in fits its budget.
/// observe_runtime::check_series_budgets().unwrap();
/// ```
pub fn check_series_budgets() -> Result<(), Error> {
    check(
        &all_call_sites().map(CallSite::meta).collect::<Vec<_>>(),
        &all_metric_sites().map(MetricSite::meta).collect::<Vec<_>>(),
    )
}
