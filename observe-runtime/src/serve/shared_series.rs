//! Call sites that share a series: two functions of one service with the same operation
//! (a `new` on two types, one trait method implemented for several types, a `handle` in
//! two modules) and the same constant labels produce series with identical labels.
//! Prometheus keeps one sample per series, so the exposition merges them into one line
//! per label set (their counts summed), and `init` names them in a warning so an operator
//! can tell them apart with `operation = "…"` if they should be.

use std::cmp::Ordering;

use crate::instrumented::CallSiteMeta;

/// What makes two sites' series the same: the four family names and every label but the
/// environment (one per process) and `outcome`/`error_type` (per series).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SeriesKey<'a> {
    processed: &'a str,
    duration: &'a str,
    failures: &'a str,
    active: &'a str,
    service: &'a str,
    operation: &'a str,
    /// Sorted by name: the order of `labels(..)` does not make another series.
    labels: Vec<(&'a str, &'a str)>,
}

impl<'a> SeriesKey<'a> {
    pub(crate) fn of(meta: &'a CallSiteMeta) -> Self {
        // Allocates only for a site with constant labels (`Vec::new` does not).
        let mut labels: Vec<(&str, &str)> = meta.labels.iter().map(|&(k, v)| (k, v)).collect();
        labels.sort_unstable();
        SeriesKey {
            processed: meta.processed.name,
            duration: meta.duration.name,
            failures: meta.failures.name,
            active: meta.active.name,
            service: meta.service,
            operation: meta.operation,
            labels,
        }
    }
}

/// Every group of two or more sites that share their series, each in link order.
pub(crate) fn shared<'a>(sites: &[&'a CallSiteMeta]) -> Vec<Vec<&'a CallSiteMeta>> {
    let mut keyed: Vec<(SeriesKey<'a>, &'a CallSiteMeta)> = sites
        .iter()
        .map(|&site| (SeriesKey::of(site), site))
        .collect();
    // Stable: sites of a group stay in link order.
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut groups: Vec<Vec<&CallSiteMeta>> = Vec::new();
    let mut previous: Option<&SeriesKey<'_>> = None;
    for (key, site) in &keyed {
        match previous.map(|p| p.cmp(key)) {
            Some(Ordering::Equal) => groups.last_mut().expect("a group per key").push(site),
            _ => groups.push(vec![site]),
        }
        previous = Some(key);
    }
    groups.retain(|group| group.len() > 1);
    groups
}

/// The warning `init` logs once when sites share a series, or `None` when none do.
pub(crate) fn warning(sites: &[&CallSiteMeta]) -> Option<String> {
    let groups = shared(sites);
    if groups.is_empty() {
        return None;
    }
    let mut text = String::from(
        "several #[instrumented] functions share one series each (same service, operation \
         and labels); their counts are summed into one line per label set. To tell them \
         apart, give each `operation = \"...\"`:",
    );
    for group in groups {
        let first = group[0];
        text.push_str(&format!(
            "\n  service `{}`, operation `{}`:",
            first.service, first.operation
        ));
        for site in group {
            text.push_str(&format!(
                " `{}` ({}:{});",
                site.module_path, site.file, site.line
            ));
        }
        text.pop();
    }
    Some(text)
}

/// Logs [`warning`] as a `tracing` warning, once per `init`.
pub(crate) fn warn(sites: &[&CallSiteMeta]) {
    if let Some(text) = warning(sites) {
        tracing::warn!(target: "observe", "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrumented::FamilyMeta;

    fn site(
        operation: &'static str,
        module_path: &'static str,
        line: u32,
        labels: &'static [(&'static str, &'static str)],
    ) -> CallSiteMeta {
        let metric = |name| FamilyMeta {
            name,
            help: "",
            series: 1,
        };
        CallSiteMeta {
            service: "peer",
            operation,
            module_path,
            file: "src/peer.rs",
            line,
            labels,
            duration: metric("app_peer_duration_seconds"),
            processed: metric("app_peer_messages_processed_total"),
            failures: metric("app_peer_failures_total"),
            active: metric("app_peer_active_workers_current"),
            buckets: &[0.1],
            outcomes: crate::names::DEFAULT_OUTCOMES,
            error_classes: || None,
            slo: crate::instrumented::SloMeta::NONE,
            series_budget: 10_000,
        }
    }

    #[test]
    fn same_operation_and_labels_share_whatever_the_label_order() {
        let a = site("call", "app::a", 10, &[("queue", "q"), ("tier", "1")]);
        let b = site("call", "app::b", 20, &[("tier", "1"), ("queue", "q")]);
        let other = site("call", "app::c", 30, &[("queue", "other"), ("tier", "1")]);
        let lone = site("handle", "app::a", 40, &[]);
        let groups = shared(&[&a, &other, &lone, &b]);
        assert_eq!(groups.len(), 1);
        let modules: Vec<_> = groups[0].iter().map(|s| s.module_path).collect();
        assert_eq!(modules, ["app::a", "app::b"]);
    }

    #[test]
    fn the_warning_names_every_site_with_its_place() {
        let a = site("new", "app::client", 12, &[]);
        let b = site("new", "app::server", 34, &[]);
        let text = warning(&[&a, &b]).expect("a warning");
        assert!(
            text.ends_with(
                "service `peer`, operation `new`: `app::client` (src/peer.rs:12); \
                 `app::server` (src/peer.rs:34)"
            ),
            "{text}"
        );
        assert_eq!(warning(&[&a]), None);
    }
}
