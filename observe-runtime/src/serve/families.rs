//! One name, one metric family: checked at `init` across every call site linked into the
//! program, since the sites of one family may sit in different crates, out of any one
//! macro's sight. The exposition renders `#[instrumented]`'s families and the
//! function-like macros' apart (`exposition.rs`, `metric_exposition.rs`), each family
//! with its `# TYPE` line: a name in both, or a name given two types, would be exposed
//! twice, which Prometheus rejects. (Series of one family may carry different label
//! names, as `labels(…)` on one function of a service gives.) A histogram family's sites
//! must also agree on its buckets, or its series could not be read together.

use std::collections::BTreeSet;

use crate::error::Error;
use crate::instrumented::CallSiteMeta;
use crate::metrics::{MetricKind, MetricSiteMeta};
use crate::names::{LABEL_ERROR_TYPE, LABEL_OPERATION, LABEL_OUTCOME, LABEL_SERVICE};

/// What one call site makes of a metric name.
#[derive(Debug)]
struct Family {
    kind: &'static str,
    /// Rendered with the call sites' series (`#[instrumented]`) or the metric sites'.
    call_site: bool,
    labels: BTreeSet<&'static str>,
}

impl Family {
    /// Whether two sites' series can be exposed as one family.
    fn joins(&self, other: &Family) -> bool {
        self.kind == other.kind && self.call_site == other.call_site
    }
}

/// A use of a name, and where it comes from (for the error).
struct Use {
    name: &'static str,
    family: Family,
    origin: String,
}

impl Use {
    fn describe(&self) -> String {
        let labels: Vec<_> = self.family.labels.iter().copied().collect();
        format!(
            "a {} with labels ({}) {}",
            self.family.kind,
            labels.join(", "),
            self.origin
        )
    }
}

/// Every `#[instrumented]` site's four metrics and every function-like macro's metric: one
/// type and one renderer per name.
pub(crate) fn check(
    instrumented: &[&CallSiteMeta],
    macros: &[&MetricSiteMeta],
) -> Result<(), Error> {
    let uses = instrumented
        .iter()
        .flat_map(|site| instrumented_uses(site))
        .chain(macros.iter().map(|site| macro_use(site)));
    let mut seen: Vec<Use> = Vec::new();
    for next in uses {
        match seen.iter().find(|first| first.name == next.name) {
            Some(first) if !first.family.joins(&next.family) => {
                return Err(Error::ConflictingMetric {
                    metric: next.name,
                    first: first.describe(),
                    second: next.describe(),
                });
            }
            Some(_) => {}
            None => seen.push(next),
        }
    }
    Ok(())
}

/// Every family's sites agree on its buckets: the duration histograms of `#[instrumented]`
/// sites (by `buckets = …` or preset) and the `histogram!` sites (by preset).
pub(crate) fn check_buckets(
    instrumented: &[&'static CallSiteMeta],
    macros: &[&'static MetricSiteMeta],
) -> Result<(), Error> {
    let durations = instrumented
        .iter()
        .map(|m| (m.duration.name, m.buckets, m.operation));
    first_conflict(durations)?;
    let histograms = macros
        .iter()
        .filter(|m| m.kind == MetricKind::Histogram)
        .map(|m| (m.name, m.buckets, m.module_path));
    first_conflict(histograms)
}

/// The first site, in link order, whose buckets differ from its family's first site's.
fn first_conflict(
    sites: impl Iterator<Item = (&'static str, &'static [f64], &'static str)>,
) -> Result<(), Error> {
    let mut claimed: Vec<(&str, &[f64], &'static str)> = Vec::new();
    for (metric, buckets, origin) in sites {
        match claimed.iter().find(|(name, _, _)| *name == metric) {
            Some((_, first_buckets, first)) if *first_buckets != buckets => {
                return Err(Error::ConflictingBuckets {
                    metric,
                    first,
                    second: origin,
                });
            }
            Some(_) => {}
            None => claimed.push((metric, buckets, origin)),
        }
    }
    Ok(())
}

fn instrumented_uses(site: &CallSiteMeta) -> [Use; 4] {
    let with = |extra: &[&'static str]| -> BTreeSet<&'static str> {
        [LABEL_SERVICE, LABEL_OPERATION]
            .into_iter()
            .chain(site.labels.iter().map(|(key, _)| *key))
            .chain(extra.iter().copied())
            .collect()
    };
    let origin = |role: &str| {
        format!(
            "as the {role} of `#[instrumented]` operation `{}` in `{}`",
            site.operation, site.module_path
        )
    };
    [
        Use {
            name: site.duration.name,
            family: Family {
                kind: "histogram",
                call_site: true,
                labels: with(&[LABEL_OUTCOME]),
            },
            origin: origin("duration histogram"),
        },
        Use {
            name: site.processed.name,
            family: Family {
                kind: "counter",
                call_site: true,
                labels: with(&[LABEL_OUTCOME]),
            },
            origin: origin("processed counter"),
        },
        Use {
            name: site.failures.name,
            family: Family {
                kind: "counter",
                call_site: true,
                labels: with(&[LABEL_ERROR_TYPE]),
            },
            origin: origin("failure counter"),
        },
        Use {
            name: site.active.name,
            family: Family {
                kind: "gauge",
                call_site: true,
                labels: with(&[]),
            },
            origin: origin("in-flight gauge"),
        },
    ]
}

fn macro_use(site: &MetricSiteMeta) -> Use {
    let (kind, macro_name) = match site.kind {
        MetricKind::Counter => ("counter", "counter!"),
        MetricKind::Gauge => ("gauge", "gauge!"),
        MetricKind::Histogram => ("histogram", "histogram!"),
    };
    Use {
        name: site.name,
        family: Family {
            kind,
            call_site: false,
            labels: [LABEL_SERVICE]
                .into_iter()
                .chain(site.labels.iter().map(|(key, _)| *key))
                .collect(),
        },
        origin: format!("from `observe::{macro_name}` in `{}`", site.module_path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrumented::FamilyMeta;
    use crate::metrics::LabelDomain;

    fn instrumented(
        operation: &'static str,
        labels: &'static [(&'static str, &'static str)],
    ) -> CallSiteMeta {
        let metric = |name| FamilyMeta {
            name,
            help: "",
            series: 1,
        };
        CallSiteMeta {
            service: "parsing",
            operation,
            module_path: "app::parsing",
            file: "src/parsing.rs",
            line: 1,
            labels,
            duration: metric("copilot_parsing_duration_seconds"),
            processed: metric("copilot_parsing_messages_processed_total"),
            failures: metric("copilot_parsing_failures_total"),
            active: metric("copilot_parsing_active_workers_current"),
            buckets: &[0.1],
            outcomes: crate::names::DEFAULT_OUTCOMES,
            error_classes: || None,
            slo: crate::instrumented::SloMeta::NONE,
            series_budget: 10_000,
        }
    }

    fn macro_site(
        kind: MetricKind,
        name: &'static str,
        labels: &'static [(&'static str, LabelDomain)],
    ) -> MetricSiteMeta {
        MetricSiteMeta {
            kind,
            name,
            help: "",
            service: "parsing",
            module_path: "app::queues",
            labels,
            buckets: &[],
            file: "src/queues.rs",
            line: 1,
            series: 1,
            series_budget: 10_000,
        }
    }

    #[test]
    fn sites_that_agree_share_a_family() {
        let parse = instrumented("parse", &[]);
        let decode = instrumented("decode", &[]);
        let received = macro_site(
            MetricKind::Counter,
            "copilot_parsing_received_total",
            &[("queue", LabelDomain::Bounded(30))],
        );
        let again = macro_site(
            MetricKind::Counter,
            "copilot_parsing_received_total",
            &[("queue", LabelDomain::Const("parsing"))],
        );
        assert!(check(&[&parse, &decode], &[&received, &again]).is_ok());
    }

    #[test]
    fn a_macro_metric_named_like_an_instrumented_family_is_rejected() {
        let parse = instrumented("parse", &[]);
        let counter = macro_site(
            MetricKind::Gauge,
            "copilot_parsing_messages_processed_total",
            &[],
        );
        let error = check(&[&parse], &[&counter]).unwrap_err().to_string();
        assert_eq!(
            error,
            "metric `copilot_parsing_messages_processed_total` is a counter with labels \
             (operation, outcome, service) as the processed counter of `#[instrumented]` \
             operation `parse` in `app::parsing`, and a gauge with labels (service) from \
             `observe::gauge!` in `app::queues`; a name is one metric family, of one type, \
             recorded either by `#[instrumented]` or by the function-like macros: rename one \
             of them"
        );
    }

    #[test]
    fn two_kinds_under_one_name_are_rejected() {
        let counter = macro_site(MetricKind::Counter, "copilot_parsing_bytes_total", &[]);
        let gauge = macro_site(MetricKind::Gauge, "copilot_parsing_bytes_total", &[]);
        assert!(matches!(
            check(&[], &[&counter, &gauge]),
            Err(Error::ConflictingMetric {
                metric: "copilot_parsing_bytes_total",
                ..
            })
        ));
    }

    /// One family may hold series with different label names: `labels(…)` on one function
    /// of a service, a label on one `counter!` call and not another. The exposition
    /// renders each family once.
    #[test]
    fn label_names_may_differ_within_a_family() {
        let plain = instrumented("parse", &[]);
        let queued = instrumented("decode", &[("queue", "parsing")]);
        let counter = macro_site(MetricKind::Counter, "copilot_parsing_bytes_total", &[]);
        let by_queue = macro_site(
            MetricKind::Counter,
            "copilot_parsing_bytes_total",
            &[("queue", LabelDomain::Bounded(30))],
        );
        assert!(check(&[&plain, &queued], &[&counter, &by_queue]).is_ok());
    }
}
