//! What a capture recorded: per function, counts by outcome and `error_type` and the
//! duration histogram's count; per metric family (the functions' and those of
//! `counter!`, `gauge!` and `histogram!`), its series as `/metrics` would show them (with
//! `environment="test"`); and an assertion whose failure shows expected and actual series
//! side by side.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::instrumented::CallSiteMeta;
use crate::serve::exposition;
use crate::storage::Snapshot;

use super::ENVIRONMENT;

/// What the `#[instrumented]` functions called within a capture, and the `counter!`,
/// `gauge!` and `histogram!` calls made within it, recorded.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let (_, recorded) = observe::testing::capture(|| {
///     let _ = parse("x");
///     observe::gauge!("copilot_parsing_queue_depth_messages", help = "Messages waiting.").set(4.0);
/// });
/// assert_eq!(recorded.calls("parse").error_types["ParseIntError"], 1);
/// assert_eq!(recorded.value("copilot_parsing_queue_depth_messages", &[]), 4.0);
/// ```
pub struct Recorded {
    /// The metric sites' series, rendered.
    metric_text: String,
    sites: Vec<(&'static CallSiteMeta, Snapshot)>,
}

/// The calls of one operation within a capture (summed over its call sites).
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let (_, recorded) = observe::testing::capture(|| (parse("1"), parse("x"), parse("")));
/// let observe::testing::Calls { success, failure, error_types, .. } = recorded.calls("parse");
/// assert_eq!((success, failure), (1, 2));
/// assert_eq!(error_types["ParseIntError"], 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls {
    /// Calls that returned normally (`Ok` for a `Result`).
    pub success: u64,
    /// Calls that returned `Err` or panicked.
    pub failure: u64,
    /// Async calls whose future was dropped before it completed.
    pub cancelled: u64,
    /// Failures by `error_type`.
    pub error_types: BTreeMap<String, u64>,
    /// Observations of the duration histogram (every finished call).
    pub duration_count: u64,
}

/// One series: its labels (sorted by name) and its value.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let (_, recorded) = observe::testing::capture(|| parse("7"));
/// let series = &recorded.series("copilot_parsing_messages_processed_total")[0];
/// assert_eq!(series.labels["outcome"], "success");
/// assert_eq!(series.value, 1.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Label name and value, by name.
    pub labels: BTreeMap<String, String>,
    /// The sample's value.
    pub value: f64,
}

impl Recorded {
    pub(super) fn new(metric_text: String, sites: Vec<(&'static CallSiteMeta, Snapshot)>) -> Self {
        Recorded { metric_text, sites }
    }

    /// The calls of `operation` (the function's name unless `operation = "…"` says
    /// otherwise); all zero if it was not called.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// let (_, recorded) = observe::testing::capture(|| [parse("1"), parse("2"), parse("x")]);
    /// let calls = recorded.calls("parse");
    /// assert_eq!((calls.success, calls.failure, calls.duration_count), (2, 1, 3));
    /// assert_eq!(recorded.calls("never_called"), observe::testing::Calls::default());
    /// ```
    pub fn calls(&self, operation: &str) -> Calls {
        let mut calls = Calls::default();
        for (_, snapshot) in self.sites.iter().filter(|(m, _)| m.operation == operation) {
            let [success, failure, cancelled] = [0, 1, 2].map(|i| snapshot.count(i));
            calls.success += success;
            calls.failure += failure;
            calls.cancelled += cancelled;
            calls.duration_count += success + failure + cancelled;
            for &(error_type, count) in &snapshot.failures {
                *calls.error_types.entry(error_type.to_owned()).or_default() += count;
            }
        }
        calls
    }

    /// The Prometheus text of what was recorded, as `/metrics` would show it (with
    /// `environment="test"`): the metric macros' series, then the functions'; empty if
    /// nothing was.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// let (_, recorded) = observe::testing::capture(|| parse("1"));
    /// let text = recorded.exposition();
    /// assert!(text.contains("# TYPE copilot_parsing_messages_processed_total counter"));
    /// assert!(text.contains(r#"copilot_parsing_messages_processed_total{environment="test",service="parsing",operation="parse",outcome="success"} 1"#));
    /// ```
    pub fn exposition(&self) -> String {
        let mut out = self.metric_text.clone();
        exposition::append_snapshots(
            &mut out,
            ENVIRONMENT,
            self.sites
                .iter()
                .map(|(meta, snapshot)| (*meta, snapshot.clone())),
        );
        out
    }

    /// The series of one sample name (`copilot_parsing_messages_processed_total`, a
    /// `counter!`'s or `gauge!`'s name, or a histogram's `…_bucket`, `…_sum`, `…_count`),
    /// in exposition order.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// let (_, recorded) = observe::testing::capture(|| parse("x"));
    /// let failures = recorded.series("copilot_parsing_failures_total");
    /// assert_eq!(failures.len(), 1);
    /// assert_eq!(failures[0].labels["error_type"], "ParseIntError");
    /// ```
    pub fn series(&self, sample: &str) -> Vec<Series> {
        self.exposition()
            .lines()
            .filter_map(parse_sample)
            .filter(|(name, _)| name == sample)
            .map(|(_, series)| series)
            .collect()
    }

    /// The value of the series of `sample` with exactly `labels` besides `environment`,
    /// `service` and `operation` when those are not given; 0 if there is none.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// let (_, recorded) = observe::testing::capture(|| (parse("1"), parse("2")));
    /// let success = [("operation", "parse"), ("outcome", "success")];
    /// assert_eq!(recorded.value("copilot_parsing_duration_seconds_count", &success), 2.0);
    /// assert_eq!(recorded.value("copilot_parsing_failures_total", &[("error_type", "ParseIntError")]), 0.0);
    /// ```
    pub fn value(&self, sample: &str, labels: &[(&str, &str)]) -> f64 {
        self.series(sample)
            .into_iter()
            .find(|s| matches(s, labels))
            .map_or(0.0, |s| s.value)
    }

    /// The cumulative buckets `(le, count)` of the series of `histogram` (its name, without
    /// `_bucket`) with exactly `labels` besides the implied ones and `le`, in bound order,
    /// `+Inf` last as `f64::INFINITY`; empty if there is none.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> usize {
    ///     raw.len()
    /// }
    ///
    /// let (_, recorded) = observe::testing::capture(|| parse("{}"));
    /// let buckets = recorded.buckets(
    ///     "copilot_parsing_duration_seconds",
    ///     &[("operation", "parse"), ("outcome", "success")],
    /// );
    /// assert_eq!(buckets.last(), Some(&(f64::INFINITY, 1.0)));
    /// ```
    pub fn buckets(&self, histogram: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
        let with_le = |s: &Series| {
            let mut without = s.clone();
            let le = without.labels.remove("le")?;
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            matches(&without, labels).then_some((bound, s.value))
        };
        let mut buckets: Vec<(f64, f64)> = self
            .series(&format!("{histogram}_bucket"))
            .iter()
            .filter_map(with_le)
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        buckets
    }

    /// Asserts that the series of `sample` are exactly `expected` (labels given may omit
    /// `environment`, `service` and `operation`; series at zero, such as the `success`
    /// series `/metrics` shows before a first success, count only if expected); on
    /// failure, panics with expected and actual side by side.
    ///
    /// ```
    /// #[observe::instrumented(service = "parsing")]
    /// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
    ///     raw.parse()
    /// }
    ///
    /// let (_, recorded) = observe::testing::capture(|| (parse("1"), parse("x"), parse("y")));
    /// recorded.assert_series(
    ///     "copilot_parsing_messages_processed_total",
    ///     &[(&[("outcome", "success")], 1.0), (&[("outcome", "failure")], 2.0)],
    /// );
    /// ```
    #[track_caller]
    pub fn assert_series(&self, sample: &str, expected: &[(&[(&str, &str)], f64)]) {
        let actual: Vec<Series> = self
            .series(sample)
            .into_iter()
            .filter(|s| s.value != 0.0 || expected.iter().any(|(labels, _)| matches(s, labels)))
            .collect();
        let unmatched_expected: Vec<_> = expected
            .iter()
            .filter(|(labels, value)| {
                !actual
                    .iter()
                    .any(|s| matches(s, labels) && s.value == *value)
            })
            .collect();
        let unmatched_actual: Vec<_> = actual
            .iter()
            .filter(|s| {
                !expected
                    .iter()
                    .any(|(labels, value)| matches(s, labels) && s.value == *value)
            })
            .collect();
        if unmatched_expected.is_empty() && unmatched_actual.is_empty() {
            return;
        }
        panic!("{}", side_by_side(sample, expected, &actual));
    }
}

/// Whether `series` has `labels`, ignoring the labels every series of a site carries
/// unless they are given.
fn matches(series: &Series, labels: &[(&str, &str)]) -> bool {
    const IMPLIED: [&str; 3] = ["environment", "service", "operation"];
    let given = |name: &str| labels.iter().any(|(l, _)| *l == name);
    labels
        .iter()
        .all(|(l, v)| series.labels.get(*l).is_some_and(|value| value == v))
        && series
            .labels
            .keys()
            .all(|name| given(name) || IMPLIED.contains(&name.as_str()))
}

fn describe(labels: impl Iterator<Item = (String, String)>, value: f64) -> String {
    let labels: Vec<String> = labels.map(|(l, v)| format!("{l}=\"{v}\"")).collect();
    format!("{{{}}} {value}", labels.join(", "))
}

/// The failure message of `assert_series`: one column each, each expected series next to
/// the actual series with its labels (`≠` where the values differ or one is missing),
/// then the actual series nobody expected.
fn side_by_side(sample: &str, expected: &[(&[(&str, &str)], f64)], actual: &[Series]) -> String {
    const IMPLIED: [&str; 3] = ["environment", "service", "operation"];
    // An implied label shows in the actual column when an expected row gives it.
    let shown = |label: &str| {
        !IMPLIED.contains(&label)
            || expected
                .iter()
                .any(|(ls, _)| ls.iter().any(|(l, _)| *l == label))
    };
    let show_actual = |s: &Series| {
        let labels = s.labels.iter().filter(|(l, _)| shown(l));
        describe(labels.map(|(l, v)| (l.clone(), v.clone())), s.value)
    };
    let mut unpaired: Vec<&Series> = actual.iter().collect();
    let mut rows: Vec<(String, String, bool)> = Vec::new();
    for (labels, value) in expected {
        let left = describe(
            labels
                .iter()
                .map(|(l, v)| ((*l).to_owned(), (*v).to_owned())),
            *value,
        );
        let paired = unpaired.iter().position(|s| matches(s, labels));
        let (right, same) = match paired.map(|at| unpaired.remove(at)) {
            Some(series) => (show_actual(series), series.value == *value),
            None => (String::new(), false),
        };
        rows.push((left, right, same));
    }
    rows.extend(
        unpaired
            .into_iter()
            .map(|s| (String::new(), show_actual(s), false)),
    );
    let width = rows
        .iter()
        .map(|(left, _, _)| left.len())
        .max()
        .unwrap_or(0)
        .max(8);
    let mut out = format!(
        "series of `{sample}` differ\n  {:<width$} | actual\n",
        "expected"
    );
    for (left, right, same) in rows {
        let mark = if same { ' ' } else { '≠' };
        let _ = writeln!(out, "{mark} {left:<width$} | {right}");
    }
    out
}

/// `name{l="v",…} value` from one exposition line; `None` for comments and blank lines.
fn parse_sample(line: &str) -> Option<(String, Series)> {
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (head, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let (name, labels) = match head.split_once('{') {
        Some((name, rest)) => (name, parse_labels(rest.strip_suffix('}')?)?),
        None => (head, BTreeMap::new()),
    };
    Some((name.to_owned(), Series { labels, value }))
}

/// `l="v",…` with the exposition's escapes (`\\`, `\"`, `\n`).
fn parse_labels(mut text: &str) -> Option<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    while !text.is_empty() {
        let (name, rest) = text.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.insert(name.to_owned(), value);
        text = rest[end + 1..].trim_start_matches(',');
    }
    Some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_escaped_labels() {
        let (name, series) = parse_sample(r#"x_total{a="1",b="q\"u\\o\nte"} 3"#).expect("a sample");
        assert_eq!(name, "x_total");
        assert_eq!(series.value, 3.0);
        assert_eq!(series.labels["a"], "1");
        assert_eq!(series.labels["b"], "q\"u\\o\nte");
    }

    #[test]
    fn side_by_side_pairs_series_by_labels() {
        let series = |queue: &str, value| Series {
            labels: [("queue".to_owned(), queue.to_owned())].into(),
            value,
        };
        let actual = [series("_OTHER", 1.0), series("parsing", 2.0)];
        let expected: &[(&[(&str, &str)], f64)] = &[
            (&[("queue", "parsing")], 2.0),
            (&[("queue", "_OTHER")], 2.0),
        ];
        assert_eq!(
            side_by_side("x_total", expected, &actual),
            "series of `x_total` differ\n  expected            | actual\n  {queue=\"parsing\"} 2 | {queue=\"parsing\"} 2\n≠ {queue=\"_OTHER\"} 2  | {queue=\"_OTHER\"} 1\n"
        );
    }

    #[test]
    fn side_by_side_shows_both_columns() {
        let actual = [Series {
            labels: [("outcome".to_owned(), "failure".to_owned())].into(),
            value: 2.0,
        }];
        let message = side_by_side("x_total", &[(&[("outcome", "success")], 1.0)], &actual);
        assert_eq!(
            message,
            "series of `x_total` differ\n  expected              | actual\n≠ {outcome=\"success\"} 1 | \n≠                       | {outcome=\"failure\"} 2\n"
        );
    }
}
