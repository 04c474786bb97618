//! The naming rules on plain strings: every rule of the convention's Names and Labels
//! sections and every promlint lint decidable from source. Pure and unit-tested; `check`
//! maps each [`Violation`] onto the offending token. Rule ids match `RULES.md`.

use crate::text::{snake_case_violation, to_snake_case};
use crate::vocab::HISTOGRAM_UNITS;

/// A broken rule: its `RULES.md` id, what is wrong, and the fix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Violation {
    pub(crate) rule: &'static str,
    pub(crate) message: String,
    pub(crate) help: String,
}

impl Violation {
    fn new(rule: &'static str, message: String, help: String) -> Self {
        Violation {
            rule,
            message,
            help,
        }
    }
}

/// The Prometheus type of a metric, as far as naming is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Suffixes observe appends itself (`_duration_seconds`, `_total`, …) or that the
/// exposition reserves; a metric `name` part ending in one would read twice.
pub(crate) const NAME_SUFFIXES_RESERVED: &[&str] = &[
    "_seconds",
    "_bytes",
    "_tokens",
    "_total",
    "_duration",
    "_count",
    "_sum",
    "_bucket",
    "_current",
];

/// Endings a gauge name may have: a base unit, `_current`, or a `_ratio`.
pub(crate) const GAUGE_SUFFIXES: &[&str] = &[
    "seconds", "bytes", "tokens", "messages", "current", "ratio", "info",
];

/// Suffixes the exposition format generates for histograms and summaries (promlint).
pub(crate) const EXPOSITION_SUFFIXES: &[&str] = &["bucket", "sum", "count"];

/// Type words promlint rejects in names: the type is in `# TYPE`, not in the name.
pub(crate) const TYPE_WORDS: &[&str] = &["counter", "gauge", "histogram", "summary"];

/// Units that are not base units or are abbreviated, with the base unit to use instead
/// (promlint: "use base unit"; the convention: no `_ms`, `_secs`, `_kb`).
pub(crate) const NON_BASE_UNITS: &[(&str, &str)] = &[
    ("nanoseconds", "seconds"),
    ("microseconds", "seconds"),
    ("milliseconds", "seconds"),
    ("millis", "seconds"),
    ("msec", "seconds"),
    ("ms", "seconds"),
    ("us", "seconds"),
    ("ns", "seconds"),
    ("sec", "seconds"),
    ("secs", "seconds"),
    ("minutes", "seconds"),
    ("mins", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    ("kilobytes", "bytes"),
    ("megabytes", "bytes"),
    ("gigabytes", "bytes"),
    ("terabytes", "bytes"),
    ("kb", "bytes"),
    ("kib", "bytes"),
    ("mb", "bytes"),
    ("mib", "bytes"),
    ("gb", "bytes"),
    ("gib", "bytes"),
    ("bits", "bytes"),
    ("percent", "ratio"),
    ("pct", "ratio"),
];

/// Where a metric sits in the convention: `<namespace>_<service>_…`.
pub(crate) struct NameContext<'a> {
    pub(crate) namespace: &'a str,
    pub(crate) service: &'a str,
}

/// Every rule a full metric name must pass, in one list. When the name's shape is broken
/// (characters, case) the shape violation alone is returned: the other rules would only
/// restate it.
pub(crate) fn metric_name(name: &str, kind: Kind, cx: &NameContext<'_>) -> Vec<Violation> {
    if let Some(mut shape) = name_shape(name) {
        let snake = to_snake_case(&name.replace(':', "_"));
        if name_shape(&snake).is_none() && !name.is_empty() {
            shape.help = format!("rename it to `{}`", fixed_name(&snake, kind, cx));
        }
        return vec![shape];
    }
    let mut out = Vec::new();
    let segments: Vec<&str> = name.split('_').collect();
    let prefix = format!("{}_{}_", cx.namespace, cx.service);
    // Every help names the name with all fixes applied, so following any one help
    // fixes them all.
    let fixed = fixed_name(name, kind, cx);
    if !name.starts_with(&format!("{}_", cx.namespace)) {
        out.push(Violation::new(
            "N002",
            format!(
                "metric `{name}` must start with the namespace `{}_`",
                cx.namespace
            ),
            format!("rename it to `{fixed}`"),
        ));
    } else if !name.starts_with(&prefix) {
        out.push(Violation::new(
            "N003",
            format!(
                "metric `{name}` must start with its service's prefix `{prefix}` (`<namespace>_<service>_`)"
            ),
            format!("rename it to `{fixed}`"),
        ));
    } else if is_bare_suffix(&name[prefix.len()..]) {
        out.push(Violation::new(
            "N003",
            format!("metric `{name}` names nothing between its prefix `{prefix}` and its suffix"),
            format!("name what it measures, e.g. `{prefix}retry_attempts_total`"),
        ));
    }
    let last = *segments.last().unwrap_or(&"");
    let before = out.len();
    if EXPOSITION_SUFFIXES.contains(&last) {
        out.push(Violation::new(
            "N010",
            format!(
                "metric `{name}` must not end in `_{last}`: the exposition format appends it to histograms"
            ),
            format!("rename it to `{fixed}`"),
        ));
    }
    for word in segments.iter().filter(|s| TYPE_WORDS.contains(s)) {
        out.push(Violation::new(
            "N011",
            format!(
                "metric `{name}` must not contain the type word `{word}`: the type is in `# TYPE`"
            ),
            format!("rename it to `{fixed}`"),
        ));
    }
    for (unit, base) in segments
        .iter()
        .filter_map(|s| NON_BASE_UNITS.iter().find(|(u, _)| u == s))
    {
        out.push(Violation::new(
            "N009",
            format!(
                "metric `{name}` uses the unit `{unit}`: use base units, spelled out (`{base}`)"
            ),
            format!("record {base} and rename it to `{fixed}`"),
        ));
    }
    // The type's ending is a rule of its own only when no fix above already gives it.
    if out.len() == before {
        out.extend(kind_suffix(name, last, kind, &fixed));
    }
    out
}

/// `name` with every rule's fix applied: exposition suffix and type words dropped, units
/// made base units, the type's ending added, and the namespace and service prefixed.
fn fixed_name(name: &str, kind: Kind, cx: &NameContext<'_>) -> String {
    let mut segments: Vec<&str> = name.split('_').collect();
    if segments
        .last()
        .is_some_and(|s| EXPOSITION_SUFFIXES.contains(s))
    {
        segments.pop();
    }
    if kind != Kind::Counter && segments.last() == Some(&"total") {
        segments.pop();
    }
    segments.retain(|s| !TYPE_WORDS.contains(s));
    for segment in &mut segments {
        if let Some((_, base)) = NON_BASE_UNITS.iter().find(|(u, _)| u == segment) {
            *segment = base;
        }
    }
    let body = match segments.join("_") {
        body if body.is_empty() => "value".to_owned(),
        body => body,
    };
    let prefix = format!("{}_{}_", cx.namespace, cx.service);
    let prefixed = if body.starts_with(&prefix) {
        body
    } else if let Some(rest) = body.strip_prefix(&format!("{}_", cx.namespace)) {
        format!("{prefix}{rest}")
    } else if body.starts_with(&format!("{}_", cx.service)) {
        format!("{}_{body}", cx.namespace)
    } else {
        format!("{prefix}{body}")
    };
    let mut fixed = with_kind_suffix(&prefixed, kind);
    if is_bare_suffix(&fixed[prefix.len().min(fixed.len())..]) {
        // Nothing left between prefix and suffix: keep a word of the original.
        fixed = with_kind_suffix(&format!("{prefix}value"), kind);
    }
    fixed
}

fn is_bare_suffix(rest: &str) -> bool {
    rest == "total" || GAUGE_SUFFIXES.contains(&rest) || HISTOGRAM_UNITS.contains(&rest)
}

/// N001/N012: lowercase snake_case ASCII, no colons, no `__`, no leading digit or `_`.
pub(crate) fn name_shape(name: &str) -> Option<Violation> {
    if name.is_empty() {
        return Some(Violation::new(
            "N001",
            "metric name must not be empty".to_owned(),
            "name the metric, e.g. `copilot_parsing_retry_attempts_total`".to_owned(),
        ));
    }
    if name.contains(':') {
        return Some(Violation::new(
            "N012",
            format!(
                "metric `{name}` must not contain `:`: colons are reserved for recording rules"
            ),
            format!("rename it to `{}`", to_snake_case(&name.replace(':', "_"))),
        ));
    }
    if name.starts_with("__") {
        return Some(Violation::new(
            "N001",
            format!("metric `{name}` must not start with `__`: Prometheus reserves it"),
            format!("rename it to `{}`", to_snake_case(name)),
        ));
    }
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(Violation::new(
            "N001",
            format!("metric `{name}` must be lowercase snake_case, not camelCase"),
            format!("rename it to `{}`", to_snake_case(name)),
        ));
    }
    snake_case_violation(name).map(|reason| {
        Violation::new(
            "N001",
            format!("metric `{name}` {reason}"),
            format!("rename it to `{}`", to_snake_case(name)),
        )
    })
}

/// N005–N008: the ending each type must (and must not) have.
fn kind_suffix(name: &str, last: &str, kind: Kind, fixed: &str) -> Option<Violation> {
    match kind {
        Kind::Counter if last != "total" => Some(Violation::new(
            "N005",
            format!("counter `{name}` must end in `_total`"),
            format!("rename it to `{fixed}`"),
        )),
        Kind::Counter => None,
        Kind::Gauge | Kind::Histogram if last == "total" => Some(Violation::new(
            "N006",
            format!(
                "{} `{name}` must not end in `_total`: only counters do",
                kind.noun()
            ),
            format!("rename it to `{fixed}`, or make it a counter"),
        )),
        Kind::Histogram if !HISTOGRAM_UNITS.contains(&last) => Some(Violation::new(
            "N007",
            format!(
                "histogram `{name}` must end in its base unit: one of {}",
                suffix_list(&HISTOGRAM_UNITS)
            ),
            format!("rename it to `{fixed}` (or the unit it measures)"),
        )),
        Kind::Gauge if !GAUGE_SUFFIXES.contains(&last) => Some(Violation::new(
            "N008",
            format!(
                "gauge `{name}` must end in a unit or `_current`: one of {}",
                suffix_list(GAUGE_SUFFIXES)
            ),
            format!("rename it to `{fixed}` (or the unit it measures)"),
        )),
        _ => None,
    }
}

/// `name` with the ending its kind needs, for a `help:` that is itself valid.
fn with_kind_suffix(name: &str, kind: Kind) -> String {
    let last = name.rsplit('_').next().unwrap_or("");
    match kind {
        Kind::Counter if last != "total" => format!("{name}_total"),
        Kind::Histogram if !HISTOGRAM_UNITS.contains(&last) => format!("{name}_seconds"),
        Kind::Gauge if !GAUGE_SUFFIXES.contains(&last) => format!("{name}_current"),
        _ => name.to_owned(),
    }
}

fn suffix_list(items: &[&str]) -> String {
    let suffixed: Vec<String> = items.iter().map(|s| format!("_{s}")).collect();
    crate::text::one_of(suffixed.iter().map(String::as_str))
}

/// Label names the exposition format reserves.
pub(crate) const RESERVED_LABELS: &[&str] = &["le", "quantile"];

/// L001/L002: a label name is lowercase snake_case and not reserved by the exposition.
pub(crate) fn label_name_shape(name: &str) -> Option<Violation> {
    if RESERVED_LABELS.contains(&name) || name.starts_with("__") {
        return Some(Violation::new(
            "L002",
            format!("label name `{name}` is reserved by the Prometheus exposition format"),
            "choose another label name".to_owned(),
        ));
    }
    snake_case_violation(name).map(|reason| {
        Violation::new(
            "L001",
            format!("label name `{name}` {reason}"),
            format!("rename it to `{}`", to_snake_case(name)),
        )
    })
}

/// The unit a histogram name ends in, if it is one.
pub(crate) fn histogram_unit(name: &str) -> Option<&str> {
    let last = name.rsplit('_').next()?;
    HISTOGRAM_UNITS.contains(&last).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CX: NameContext<'static> = NameContext {
        namespace: "copilot",
        service: "parsing",
    };

    fn rules(name: &str, kind: Kind) -> Vec<&'static str> {
        metric_name(name, kind, &CX)
            .iter()
            .map(|v| v.rule)
            .collect()
    }

    #[test]
    fn the_rfc_names_pass() {
        for (name, kind) in [
            ("copilot_parsing_messages_processed_total", Kind::Counter),
            ("copilot_parsing_duration_seconds", Kind::Histogram),
            ("copilot_parsing_failures_total", Kind::Counter),
            ("copilot_parsing_active_workers_current", Kind::Gauge),
            ("copilot_parsing_queue_depth_messages", Kind::Gauge),
            ("copilot_parsing_retry_attempts_total", Kind::Counter),
            ("copilot_parsing_batch_size_messages", Kind::Histogram),
            (
                "copilot_parsing_dependency_call_duration_seconds",
                Kind::Histogram,
            ),
        ] {
            assert_eq!(metric_name(name, kind, &CX), vec![], "{name}");
        }
    }

    #[test]
    fn counters_end_in_total_and_nothing_else_does() {
        let v = metric_name("copilot_parsing_retries", Kind::Counter, &CX);
        assert_eq!(
            v[0].message,
            "counter `copilot_parsing_retries` must end in `_total`"
        );
        assert_eq!(v[0].help, "rename it to `copilot_parsing_retries_total`");
        assert_eq!(rules("copilot_parsing_depth_total", Kind::Gauge), ["N006"]);
        assert_eq!(
            rules("copilot_parsing_size_total", Kind::Histogram),
            ["N006"]
        );
    }

    #[test]
    fn units() {
        assert_eq!(
            rules("copilot_parsing_latency_ms", Kind::Histogram),
            ["N009"]
        );
        assert_eq!(
            rules("copilot_parsing_duration_milliseconds", Kind::Histogram),
            ["N009"]
        );
        assert_eq!(rules("copilot_parsing_body_kb", Kind::Gauge), ["N009"]);
        assert_eq!(
            rules("copilot_parsing_wait_ms_total", Kind::Counter),
            ["N009"]
        );
        assert_eq!(rules("copilot_parsing_depth", Kind::Gauge), ["N008"]);
        let v = metric_name("copilot_parsing_latency_ms", Kind::Histogram, &CX);
        assert_eq!(
            v[0].help,
            "record seconds and rename it to `copilot_parsing_latency_seconds`"
        );
    }

    #[test]
    fn shape_and_reserved() {
        assert_eq!(rules("copilotParsingRetriesTotal", Kind::Counter), ["N001"]);
        assert_eq!(
            rules("copilot:parsing_retries_total", Kind::Counter),
            ["N012"]
        );
        assert_eq!(rules("__copilot_parsing_total", Kind::Counter), ["N001"]);
        assert_eq!(rules("copilot_parsing__x_total", Kind::Counter), ["N001"]);
        assert_eq!(
            rules("copilot_parsing_latency_bucket", Kind::Histogram),
            ["N010"]
        );
        assert_eq!(
            rules("copilot_parsing_messages_count", Kind::Counter),
            ["N010"]
        );
        assert_eq!(
            rules("copilot_parsing_retry_counter_total", Kind::Counter),
            ["N011"]
        );
        assert_eq!(rules("", Kind::Counter), ["N001"]);
    }

    #[test]
    fn label_names() {
        assert_eq!(label_name_shape("queue"), None);
        assert_eq!(label_name_shape("le").unwrap().rule, "L002");
        assert_eq!(label_name_shape("__name").unwrap().rule, "L002");
        assert_eq!(label_name_shape("queueName").unwrap().rule, "L001");
    }

    #[test]
    fn prefixes() {
        assert_eq!(rules("retries_total", Kind::Counter), ["N002"]);
        let v = metric_name("parsing_retries_total", Kind::Counter, &CX);
        assert_eq!(v[0].help, "rename it to `copilot_parsing_retries_total`");
        assert_eq!(
            rules("copilot_chunking_retries_total", Kind::Counter),
            ["N003"]
        );
        assert_eq!(rules("copilot_parsing_total", Kind::Counter), ["N003"]);
        let v = metric_name("copilot_chunking_retries_total", Kind::Counter, &CX);
        assert_eq!(
            v[0].help,
            "rename it to `copilot_parsing_chunking_retries_total`"
        );
    }

    #[test]
    fn every_fix_it_suggests_passes() {
        for (name, kind) in [
            ("copilot_parsing_retries", Kind::Counter),
            ("copilot_parsing_latency_ms", Kind::Histogram),
            ("copilot_parsing_retry_counter_total", Kind::Counter),
            ("copilot_parsing_depth", Kind::Gauge),
            ("copilot_parsing_latency_bucket", Kind::Histogram),
            ("copilot_parsing_messages_count", Kind::Counter),
            ("copilot_parsing_wait_ms_total", Kind::Counter),
            ("copilot_parsing_queue_gauge", Kind::Gauge),
            ("parsing_retries_total", Kind::Counter),
            ("copilotParsingRetriesTotal", Kind::Counter),
        ] {
            for v in metric_name(name, kind, &CX) {
                let fixed = v.help.split('`').nth(1).unwrap();
                assert_eq!(metric_name(fixed, kind, &CX), vec![], "{name} → {fixed}");
            }
        }
    }
}
