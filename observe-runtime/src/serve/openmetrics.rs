//! The OpenMetrics text format 1.0.0, served when the scraper's `Accept` prefers it
//! (Prometheus does, when exemplar storage is on as always): the negotiation, the
//! conversion of the Prometheus text exposition into it, and how an exemplar is written.
//!
//! The exposition is rendered once in the Prometheus text format by both pipelines (the
//! recorder's render, then the call sites', whose bucket and processed-counter lines carry
//! exemplars in this format only), and converted line by line: a counter family loses its
//! `_total` in `# HELP`/`# TYPE` (its samples keep it), `untyped` becomes `unknown`, a
//! counter whose name lacks `_total` is exposed as `unknown` under its own name (so its
//! series keep their name), HELP text escapes `"` too, a family whose name ends in one of
//! the convention's units gets `# UNIT`, blank lines go, and `# EOF` ends the text. Sample
//! lines are kept byte for byte, so a series has the same name and labels in both formats
//! (`le="5"` stays `le="5"`, not OpenMetrics' canonical `5.0`: switching a scraper's
//! format must not start new series). Neither renderer writes sample timestamps, whose
//! unit differs between the formats.

use std::fmt::Write as _;

use http::header::{self, HeaderMap};

use crate::names::HISTOGRAM_UNITS;
use crate::storage::Exemplar;

/// The answer's `Content-Type` in OpenMetrics.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether `Accept` prefers OpenMetrics 1.0.0 to the Prometheus text format: some
/// `application/openmetrics-text` range (without a version, or `version=1.0.0`) has a
/// higher quality than every range the text format matches (`text/plain` without a
/// version or `version=0.0.4`, `text/*`, `*/*`). A tie, no `Accept`, or nothing either
/// format matches keeps the text format, the default.
pub(crate) fn prefers_openmetrics(headers: &HeaderMap) -> bool {
    let (mut openmetrics, mut text) = (0.0f32, 0.0f32);
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for range in ranges {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let (mut quality, mut version) = (1.0f32, None);
        for parameter in parts {
            let Some((key, value)) = parameter.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                // An unreadable quality is ignored, as for `Accept-Encoding`.
                "q" => quality = value.parse().unwrap_or(1.0),
                "version" => version = Some(value.to_owned()),
                _ => {}
            }
        }
        let version_is = |wanted: &str| version.as_deref().is_none_or(|v| v == wanted);
        match media.as_str() {
            "application/openmetrics-text" if version_is("1.0.0") => {
                openmetrics = openmetrics.max(quality);
            }
            "text/plain" if version_is("0.0.4") => text = text.max(quality),
            "text/*" | "*/*" => text = text.max(quality),
            _ => {}
        }
    }
    openmetrics > 0.0 && openmetrics > text
}

/// The OpenMetrics form of a Prometheus text exposition (see the module docs).
pub(crate) fn from_prometheus_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16 + 8);
    // A family's HELP waits for its TYPE, which decides the family's name.
    let mut help: Option<(&str, &str)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            write_help(&mut out, help.take());
            help = Some(rest.split_once(' ').unwrap_or((rest, "")));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (family, kind) = family(name, kind.trim());
            match help.take() {
                Some((helped, text)) if helped == name => {
                    write_help(&mut out, Some((family, text)))
                }
                other => write_help(&mut out, other),
            }
            let _ = writeln!(out, "# TYPE {family} {kind}");
            if let Some(unit) = unit(family, kind) {
                let _ = writeln!(out, "# UNIT {family} {unit}");
            }
        } else if line.is_empty() || line.starts_with('#') {
            // OpenMetrics has no blank lines, and no comments but its own.
        } else {
            write_help(&mut out, help.take());
            out.push_str(line);
            out.push('\n');
        }
    }
    write_help(&mut out, help);
    out.push_str("# EOF\n");
    out
}

/// The OpenMetrics family name and type of a Prometheus `# TYPE name kind`.
fn family<'a>(name: &'a str, kind: &str) -> (&'a str, &'static str) {
    match kind {
        "counter" => match name.strip_suffix("_total") {
            Some(family) if !family.is_empty() => (family, "counter"),
            _ => (name, "unknown"),
        },
        "gauge" => (name, "gauge"),
        "histogram" => (name, "histogram"),
        "summary" => (name, "summary"),
        _ => (name, "unknown"),
    }
}

/// The unit a family's name ends in, if it is one of the convention's.
fn unit(family: &str, kind: &str) -> Option<&'static str> {
    if kind == "unknown" {
        return None;
    }
    HISTOGRAM_UNITS.into_iter().find(|unit| {
        family
            .strip_suffix(unit)
            .is_some_and(|stem| stem.len() > 1 && stem.ends_with('_'))
    })
}

/// `# HELP`, its text escaped as OpenMetrics wants: the Prometheus text already escapes
/// `\` and newlines, OpenMetrics escapes `"` too.
fn write_help(out: &mut String, help: Option<(&str, &str)>) {
    if let Some((name, text)) = help {
        let _ = writeln!(out, "# HELP {name} {}", text.replace('"', "\\\""));
    }
}

/// ` # {trace_id="…"} value timestamp`: the exemplar ending a bucket or counter line,
/// its trace id in the 32 lowercase hex digits of W3C trace context, its timestamp in
/// seconds with milliseconds.
pub(crate) fn write_exemplar(out: &mut String, exemplar: &Exemplar, value: f64) {
    let millis = exemplar.unix_nanos / 1_000_000;
    let (seconds, millis) = (millis / 1000, millis % 1000);
    let _ = write!(
        out,
        " # {{trace_id=\"{:032x}\"}} {value} {seconds}.{millis:03}",
        exemplar.trace_id
    );
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn accept(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn openmetrics_is_negotiated_with_quality_values() {
        // What Prometheus 2.x sends.
        assert!(prefers_openmetrics(&accept(&[
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ])));
        assert!(prefers_openmetrics(&accept(&[
            "application/openmetrics-text"
        ])));
        assert!(prefers_openmetrics(&accept(&[
            "text/plain;q=0.4",
            "Application/OpenMetrics-Text; version=\"1.0.0\"; q=0.5"
        ])));
        // The text format preferred, tied, or the only one asked for.
        assert!(!prefers_openmetrics(&accept(&[
            "application/openmetrics-text;q=0.5,text/plain;version=0.0.4"
        ])));
        assert!(!prefers_openmetrics(&accept(&[
            "application/openmetrics-text;q=0.5, */*;q=0.5"
        ])));
        assert!(!prefers_openmetrics(&accept(&["text/plain"])));
        assert!(!prefers_openmetrics(&accept(&["*/*"])));
        assert!(!prefers_openmetrics(&accept(&[])));
        // Refused, or a version not served.
        assert!(!prefers_openmetrics(&accept(&[
            "application/openmetrics-text;q=0"
        ])));
        assert!(!prefers_openmetrics(&accept(&[
            "application/openmetrics-text;version=0.0.1"
        ])));
    }

    #[test]
    fn families_are_renamed_and_sample_lines_kept() {
        let text = "\
# HELP app_jobs_total Jobs \"done\", by \\\\ queue.
# TYPE app_jobs_total counter
app_jobs_total{queue=\"a b\"} 3

# TYPE app_size_bytes histogram
app_size_bytes_bucket{le=\"5\"} 1
app_size_bytes_bucket{le=\"+Inf\"} 1
app_size_bytes_sum 4
app_size_bytes_count 1

# HELP app_odd odd counter
# TYPE app_odd counter
app_odd 1
# HELP app_depth_messages Depth.
# TYPE app_depth_messages gauge
app_depth_messages 2
# TYPE app_raw untyped
app_raw 1
app_bare 7
";
        assert_eq!(
            from_prometheus_text(text),
            "\
# HELP app_jobs Jobs \\\"done\\\", by \\\\ queue.
# TYPE app_jobs counter
app_jobs_total{queue=\"a b\"} 3
# TYPE app_size_bytes histogram
# UNIT app_size_bytes bytes
app_size_bytes_bucket{le=\"5\"} 1
app_size_bytes_bucket{le=\"+Inf\"} 1
app_size_bytes_sum 4
app_size_bytes_count 1
# HELP app_odd odd counter
# TYPE app_odd unknown
app_odd 1
# HELP app_depth_messages Depth.
# TYPE app_depth_messages gauge
# UNIT app_depth_messages messages
app_depth_messages 2
# TYPE app_raw unknown
app_raw 1
app_bare 7
# EOF
"
        );
        assert_eq!(from_prometheus_text(""), "# EOF\n");
    }

    #[test]
    fn an_exemplar_is_written_as_openmetrics_says() {
        let mut line = "x_bucket{le=\"0.1\"} 3".to_owned();
        let exemplar = Exemplar {
            trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
            seconds: 0.0425,
            unix_nanos: 1_764_500_000_007_999_999,
        };
        write_exemplar(&mut line, &exemplar, exemplar.seconds);
        assert_eq!(
            line,
            "x_bucket{le=\"0.1\"} 3 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 0.0425 1764500000.007"
        );
        let mut short = String::new();
        write_exemplar(
            &mut short,
            &Exemplar {
                trace_id: 1,
                ..exemplar
            },
            1.0,
        );
        assert_eq!(
            short,
            " # {trace_id=\"00000000000000000000000000000001\"} 1 1764500000.007"
        );
    }
}
