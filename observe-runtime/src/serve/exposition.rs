//! The Prometheus text exposition of observe's own storage, in the exporter's exact format
//! (label order: `environment`, `service`, `operation`, `outcome`/`error_type`, constant
//! labels; one `# HELP` and `# TYPE` per family, a blank line after each), appended to
//! the exporter's render of every other metric. For an OpenMetrics scrape the same lines
//! carry exemplars (`serve/openmetrics.rs` turns the joined text into OpenMetrics).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::instrumented::{CallSite, CallSiteMeta, FamilyMeta};
use crate::names::{
    LABEL_ENVIRONMENT, LABEL_ERROR_TYPE, LABEL_OPERATION, LABEL_OUTCOME, LABEL_SERVICE,
    OUTCOME_INDEX_CANCELLED,
};
use crate::storage::{Exemplar, Snapshot};

use super::openmetrics::write_exemplar;
use super::shared_series::SeriesKey;

/// One series' label set and what it holds now: a registered site, or several sites
/// that share the label set, merged.
struct Read<'a> {
    meta: &'a CallSiteMeta,
    key: SeriesKey<'a>,
    snapshot: Snapshot,
}

/// Appends every registered site's series to `out`; with `exemplars`, each bucket and
/// processed-counter line that has one ends with its exemplar, as OpenMetrics writes it.
pub(crate) fn append<'a>(
    out: &mut String,
    environment: &str,
    sites: impl Iterator<Item = &'a CallSite>,
    exemplars: bool,
) {
    append_reads(
        out,
        environment,
        sites.filter_map(|site| Some((site.meta(), site.registered()?.snapshot()))),
        exemplars,
    );
}

/// Appends the series of `sites` as read, in the same format: what `render` shows of
/// registered sites, and what `testing` shows of a capture's.
pub(crate) fn append_snapshots<'a>(
    out: &mut String,
    environment: &str,
    sites: impl Iterator<Item = (&'a CallSiteMeta, Snapshot)>,
) {
    append_reads(out, environment, sites, false);
}

fn append_reads<'a>(
    out: &mut String,
    environment: &str,
    sites: impl Iterator<Item = (&'a CallSiteMeta, Snapshot)>,
    exemplars: bool,
) {
    // The exemplar of a sample line, if this render shows exemplars.
    let shown = |exemplar: Option<Exemplar>| exemplar.filter(|_| exemplars);
    let mut reads: Vec<Read<'_>> = sites
        .map(|(meta, snapshot)| Read {
            meta,
            key: SeriesKey::of(meta),
            snapshot,
        })
        .collect();
    // One line per label set, always: sites that share one (same-named functions of a
    // service) are summed into the first, or Prometheus would keep one of their samples.
    reads.sort_by(|a, b| a.key.cmp(&b.key));
    reads.dedup_by(|later, first| {
        let same = later.key == first.key;
        if same {
            first.snapshot.absorb(&later.snapshot);
        }
        same
    });
    // The exporter's order: counters, gauges, then histograms; families by name.
    family(
        out,
        &reads,
        |m| &m.processed,
        "counter",
        |out, read| {
            for (index, outcome) in read.meta.outcomes.iter().enumerate() {
                let count = read.snapshot.count(index);
                if outcome_exists(index, count) {
                    let labels = labels(environment, read.meta, Some((LABEL_OUTCOME, outcome)));
                    let _ = write!(out, "{}{{{labels}}} {count}", read.meta.processed.name);
                    // A counter's exemplar is of one increment.
                    let exemplar = shown(read.snapshot.latest_exemplar(index));
                    end_sample(out, exemplar.map(|e| (e, 1.0)));
                }
            }
        },
    );
    family(
        out,
        &reads,
        |m| &m.failures,
        "counter",
        |out, read| {
            for &(error_type, count) in &read.snapshot.failures {
                let labels = labels(environment, read.meta, Some((LABEL_ERROR_TYPE, error_type)));
                let _ = writeln!(out, "{}{{{labels}}} {count}", read.meta.failures.name);
            }
        },
    );
    family(
        out,
        &reads,
        |m| &m.active,
        "gauge",
        |out, read| {
            let labels = labels(environment, read.meta, None);
            let in_flight = read.snapshot.in_flight;
            let _ = writeln!(out, "{}{{{labels}}} {in_flight}", read.meta.active.name);
        },
    );
    family(
        out,
        &reads,
        |m| &m.duration,
        "histogram",
        |out, read| {
            let name = read.meta.duration.name;
            for (index, outcome) in read.meta.outcomes.iter().enumerate() {
                let (buckets, sum) = &read.snapshot.histograms[index];
                let count: u64 = buckets.iter().sum();
                if !outcome_exists(index, count) {
                    continue;
                }
                let labels = labels(environment, read.meta, Some((LABEL_OUTCOME, outcome)));
                let exemplars = &read.snapshot.exemplars[index];
                let exemplar = |bucket: usize| {
                    shown(exemplars.get(bucket).copied().flatten()).map(|e| (e, e.seconds))
                };
                let mut cumulative = 0;
                for (bucket, (bound, in_bucket)) in read.meta.buckets.iter().zip(buckets).enumerate()
                {
                    cumulative += in_bucket;
                    let _ = write!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
                    end_sample(out, exemplar(bucket));
                }
                let _ = write!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
                end_sample(out, exemplar(read.meta.buckets.len()));
                let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
                let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
            }
        },
    );
}

/// Ends a sample line, with its exemplar and the exemplar's value if it has one.
fn end_sample(out: &mut String, exemplar: Option<(Exemplar, f64)>) {
    if let Some((exemplar, value)) = exemplar {
        write_exemplar(out, &exemplar, value);
    }
    out.push('\n');
}

/// `success` and `failure` exist from registration on, so `rate()` starts from zero;
/// `cancelled` from its first call: most functions can never be cancelled.
fn outcome_exists(index: usize, count: u64) -> bool {
    index != OUTCOME_INDEX_CANCELLED || count > 0
}

/// Writes each family of one metric kind: its HELP and TYPE once (the first site's HELP;
/// every site of a family has the same), then every site's series, then a blank line.
fn family(
    out: &mut String,
    reads: &[Read<'_>],
    metric: fn(&CallSiteMeta) -> &FamilyMeta,
    kind: &str,
    mut series: impl FnMut(&mut String, &Read<'_>),
) {
    let mut families: BTreeMap<&str, Vec<&Read<'_>>> = BTreeMap::new();
    for read in reads {
        families
            .entry(metric(read.meta).name)
            .or_default()
            .push(read);
    }
    for (name, reads) in families {
        let before = out.len();
        let help = metric(reads[0].meta).help;
        let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let header = out.len();
        for read in reads {
            series(out, read);
        }
        if out.len() == header {
            // No series yet (a failures family before the first failure): no family.
            out.truncate(before);
        } else {
            out.push('\n');
        }
    }
}

fn labels(environment: &str, meta: &CallSiteMeta, extra: Option<(&str, &str)>) -> String {
    let mut labels = String::with_capacity(128);
    let mut pair = |key: &str, value: &str| {
        if !labels.is_empty() {
            labels.push(',');
        }
        let _ = write!(labels, "{key}=\"{}\"", escape_label(value));
    };
    pair(LABEL_ENVIRONMENT, environment);
    pair(LABEL_SERVICE, meta.service);
    pair(LABEL_OPERATION, meta.operation);
    if let Some((key, value)) = extra {
        pair(key, value);
    }
    for (key, value) in meta.labels {
        pair(key, value);
    }
    labels
}

/// Label values escape `\`, `"` and newlines.
fn escape_label(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\\', '"', '\n']) {
        value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .into()
    } else {
        value.into()
    }
}

/// HELP text escapes `\` and newlines.
fn escape_help(help: &str) -> std::borrow::Cow<'_, str> {
    if help.contains(['\\', '\n']) {
        help.replace('\\', "\\\\").replace('\n', "\\n").into()
    } else {
        help.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("plain"), "plain");
        assert_eq!(escape_help("line\nbreak"), "line\\nbreak");
    }
}
