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
                for (bucket, (bound, in_bucket)) in
                    read.meta.buckets.iter().zip(buckets).enumerate()
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
pub(super) fn escape_label(value: &str) -> std::borrow::Cow<'_, str> {
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
pub(super) fn escape_help(help: &str) -> std::borrow::Cow<'_, str> {
    if help.contains(['\\', '\n']) {
        help.replace('\\', "\\\\").replace('\n', "\\n").into()
    } else {
        help.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static META: CallSiteMeta = crate::instrumented::TEST_META;

    /// Two successes, the sampled one in the second bucket; one failure, not sampled.
    fn snapshot() -> Snapshot {
        let sampled = Exemplar {
            trace_id: 0x0af7651916cd43dd8448eb211c80319c,
            seconds: 0.25,
            unix_nanos: 1_764_500_000_250_000_000,
        };
        Snapshot {
            histograms: [
                (vec![1, 1, 0], 0.3),
                (vec![1, 0, 0], 0.05),
                (vec![0, 0, 0], 0.0),
            ],
            in_flight: 0,
            failures: vec![("Io", 1)],
            exemplars: [
                vec![None, Some(sampled), None],
                vec![None; 3],
                vec![None; 3],
            ],
        }
    }

    fn render(exemplars: bool) -> String {
        let mut out = String::new();
        append_reads(&mut out, "ci", [(&META, snapshot())].into_iter(), exemplars);
        out
    }

    const LABELS: &str = r#"environment="ci",service="parsing",operation="decode""#;

    /// Exemplars in storage change nothing in the Prometheus text format.
    #[test]
    fn the_prometheus_text_has_no_exemplars() {
        let expected = format!(
            "# HELP app_parsing_messages_processed_total Processed.\n\
             # TYPE app_parsing_messages_processed_total counter\n\
             app_parsing_messages_processed_total{{{LABELS},outcome=\"success\"}} 2\n\
             app_parsing_messages_processed_total{{{LABELS},outcome=\"failure\"}} 1\n\n\
             # HELP app_parsing_failures_total Failures.\n\
             # TYPE app_parsing_failures_total counter\n\
             app_parsing_failures_total{{{LABELS},error_type=\"Io\"}} 1\n\n\
             # HELP app_parsing_active_workers_current In flight.\n\
             # TYPE app_parsing_active_workers_current gauge\n\
             app_parsing_active_workers_current{{{LABELS}}} 0\n\n\
             # HELP app_parsing_duration_seconds Duration.\n\
             # TYPE app_parsing_duration_seconds histogram\n\
             app_parsing_duration_seconds_bucket{{{LABELS},outcome=\"success\",le=\"0.1\"}} 1\n\
             app_parsing_duration_seconds_bucket{{{LABELS},outcome=\"success\",le=\"1\"}} 2\n\
             app_parsing_duration_seconds_bucket{{{LABELS},outcome=\"success\",le=\"+Inf\"}} 2\n\
             app_parsing_duration_seconds_sum{{{LABELS},outcome=\"success\"}} 0.3\n\
             app_parsing_duration_seconds_count{{{LABELS},outcome=\"success\"}} 2\n\
             app_parsing_duration_seconds_bucket{{{LABELS},outcome=\"failure\",le=\"0.1\"}} 1\n\
             app_parsing_duration_seconds_bucket{{{LABELS},outcome=\"failure\",le=\"1\"}} 1\n\
             app_parsing_duration_seconds_bucket{{{LABELS},outcome=\"failure\",le=\"+Inf\"}} 1\n\
             app_parsing_duration_seconds_sum{{{LABELS},outcome=\"failure\"}} 0.05\n\
             app_parsing_duration_seconds_count{{{LABELS},outcome=\"failure\"}} 1\n\n"
        );
        assert_eq!(render(false), expected);
        let mut via_testing = String::new();
        append_snapshots(&mut via_testing, "ci", [(&META, snapshot())].into_iter());
        assert_eq!(via_testing, expected);
    }

    /// With exemplars, the same lines; the bucket the sampled call fell in and its
    /// outcome's processed counter end with its trace id.
    #[test]
    fn exemplars_end_their_bucket_and_counter_lines() {
        let exemplar = r#" # {trace_id="0af7651916cd43dd8448eb211c80319c"}"#;
        let with = render(true);
        let without = render(false);
        let changed: Vec<(String, String)> = with
            .lines()
            .zip(without.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        assert_eq!(with.lines().count(), without.lines().count());
        let counter =
            format!("app_parsing_messages_processed_total{{{LABELS},outcome=\"success\"}} 2");
        let bucket = format!(
            "app_parsing_duration_seconds_bucket{{{LABELS},outcome=\"success\",le=\"1\"}} 2"
        );
        assert_eq!(
            changed,
            [
                (format!("{counter}{exemplar} 1 1764500000.250"), counter),
                (format!("{bucket}{exemplar} 0.25 1764500000.250"), bucket),
            ]
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("plain"), "plain");
        assert_eq!(escape_help("line\nbreak"), "line\\nbreak");
    }
}
