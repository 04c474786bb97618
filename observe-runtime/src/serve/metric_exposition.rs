//! The Prometheus text exposition of the `counter!`, `gauge!` and `histogram!` series in
//! observe's own storage, in the format of the call sites' (`exposition.rs`): labels
//! `environment`, `service`, then as written; one `# HELP` and `# TYPE` per family, a
//! blank line after each; counters, then gauges, then histograms, each family by name and
//! its series by label values, so the text is the same from one render to the next.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::exposition::{escape_help, escape_label};
use crate::metrics::{SeriesRead, Value};
use crate::names::LABEL_ENVIRONMENT;

/// Appends `series` (as `Registry::read` returns them, by name then labels) to `out`.
pub(crate) fn append(out: &mut String, environment: &str, series: &[SeriesRead]) {
    for kind in ["counter", "gauge", "histogram"] {
        let mut families: BTreeMap<&str, Vec<&SeriesRead>> = BTreeMap::new();
        for read in series.iter().filter(|read| kind_of(&read.value) == kind) {
            families.entry(read.name).or_default().push(read);
        }
        for (name, reads) in families {
            let _ = writeln!(out, "# HELP {name} {}", escape_help(reads[0].help));
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for read in reads {
                write_series(out, environment, read);
            }
            out.push('\n');
        }
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Counter(_) => "counter",
        Value::Gauge(_) => "gauge",
        Value::Histogram(..) => "histogram",
    }
}

fn write_series(out: &mut String, environment: &str, read: &SeriesRead) {
    let mut labels = format!("{LABEL_ENVIRONMENT}=\"{}\"", escape_label(environment));
    for (name, value) in &read.labels {
        let _ = write!(labels, ",{name}=\"{}\"", escape_label(value));
    }
    let name = read.name;
    match &read.value {
        Value::Counter(count) => {
            let _ = writeln!(out, "{name}{{{labels}}} {count}");
        }
        Value::Gauge(value) => {
            let _ = writeln!(out, "{name}{{{labels}}} {}", Float(*value));
        }
        Value::Histogram(buckets, sum) => {
            let mut cumulative = 0;
            for (bound, in_bucket) in buckets {
                cumulative += in_bucket;
                let le = Float(*bound);
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", Float(*sum));
            let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
        }
    }
}

/// A sample value or bound as the text format spells it: `+Inf`, `-Inf`, `NaN`, or the
/// shortest decimal that reads back as the same number.
struct Float(f64);

impl std::fmt::Display for Float {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            v if v.is_nan() => f.write_str("NaN"),
            f64::INFINITY => f.write_str("+Inf"),
            f64::NEG_INFINITY => f.write_str("-Inf"),
            v => write!(f, "{v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &'static str, labels: &[(&'static str, &str)], value: Value) -> SeriesRead {
        SeriesRead {
            name,
            help: "Help \\ text.",
            labels: labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            value,
        }
    }

    #[test]
    fn families_by_kind_then_name_with_cumulative_buckets() {
        let series = [
            read(
                "app_parsing_size_bytes",
                &[("service", "parsing"), ("queue", "a\"b")],
                Value::Histogram(vec![(1.0, 2), (2.5, 0), (f64::INFINITY, 1)], 7.5),
            ),
            read(
                "app_parsing_depth_messages",
                &[("service", "parsing")],
                Value::Gauge(-1.5),
            ),
            read(
                "app_parsing_read_total",
                &[("service", "parsing"), ("queue", "a")],
                Value::Counter(3),
            ),
            read(
                "app_parsing_read_total",
                &[("service", "parsing"), ("queue", "b")],
                Value::Counter(0),
            ),
        ];
        let mut out = String::new();
        append(&mut out, "ci", &series);
        let expected = "\
# HELP app_parsing_read_total Help \\\\ text.
# TYPE app_parsing_read_total counter
app_parsing_read_total{environment=\"ci\",service=\"parsing\",queue=\"a\"} 3
app_parsing_read_total{environment=\"ci\",service=\"parsing\",queue=\"b\"} 0

# HELP app_parsing_depth_messages Help \\\\ text.
# TYPE app_parsing_depth_messages gauge
app_parsing_depth_messages{environment=\"ci\",service=\"parsing\"} -1.5

# HELP app_parsing_size_bytes Help \\\\ text.
# TYPE app_parsing_size_bytes histogram
app_parsing_size_bytes_bucket{environment=\"ci\",service=\"parsing\",queue=\"a\\\"b\",le=\"1\"} 2
app_parsing_size_bytes_bucket{environment=\"ci\",service=\"parsing\",queue=\"a\\\"b\",le=\"2.5\"} 2
app_parsing_size_bytes_bucket{environment=\"ci\",service=\"parsing\",queue=\"a\\\"b\",le=\"+Inf\"} 3
app_parsing_size_bytes_sum{environment=\"ci\",service=\"parsing\",queue=\"a\\\"b\"} 7.5
app_parsing_size_bytes_count{environment=\"ci\",service=\"parsing\",queue=\"a\\\"b\"} 3

";
        assert_eq!(out, expected);
    }

    #[test]
    fn special_values_are_spelled_as_the_format_does() {
        let spelled: Vec<String> = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.1, 1e21]
            .map(|v| Float(v).to_string())
            .into();
        assert_eq!(
            spelled,
            ["NaN", "+Inf", "-Inf", "0.1", "1000000000000000000000"]
        );
    }
}
