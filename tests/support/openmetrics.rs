//! The strictest OpenMetrics parser available here: the Python `prometheus_client`'s
//! (`prometheus_client.openmetrics.parser`, Debian's `python3-prometheus-client`). Debian's
//! `promtool check metrics` (Prometheus 2.42) reads only the Prometheus text format: it
//! stops at the first exemplar ("expected integer as timestamp, got \"#\""). The Python
//! parser checks what OpenMetrics 1.0 requires: `# EOF` last, no blank line, counter
//! families named without `_total` and their samples with it, `# UNIT` a suffix of the
//! name, histogram buckets in order with `+Inf` equal to `_count`, exemplars only on
//! buckets and counters, each family's samples together. Found, or skipped loudly, or a
//! failure when `OBSERVE_REQUIRE_PROMETHEUS=1` (`.ci/run` installs it).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::prometheus_tools::find_on_path;

/// Parses stdin, prints the families as JSON (non-finite numbers as strings).
const PARSE: &str = r#"
import json, math, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families

def number(v):
    return v if math.isfinite(v) else str(v)

families = []
for f in text_string_to_metric_families(sys.stdin.read()):
    samples = []
    for s in f.samples:
        e = s.exemplar
        samples.append({
            "name": s.name, "labels": s.labels, "value": number(s.value),
            "exemplar": None if e is None else {
                "labels": e.labels, "value": number(e.value),
                "timestamp": None if e.timestamp is None else float(e.timestamp)},
        })
    families.append({"name": f.name, "type": f.type, "unit": f.unit,
                     "help": f.documentation, "samples": samples})
json.dump(families, sys.stdout)
"#;

/// A Python 3 with `prometheus_client`: Debian's first (a `python3` earlier on `PATH`,
/// such as pyenv's, may not have the package).
fn python() -> Option<&'static PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            [
                Some(PathBuf::from("/usr/bin/python3")),
                find_on_path("python3"),
            ]
            .into_iter()
            .flatten()
            .find(|python| {
                Command::new(python)
                    .args(["-c", "import prometheus_client.openmetrics.parser"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
        })
        .as_ref()
}

/// The parser, or `None` after a loud SKIPPED line (a failure when
/// `OBSERVE_REQUIRE_PROMETHEUS=1`).
pub fn parser_or_skip() -> Option<&'static PathBuf> {
    let found = python();
    if found.is_none() {
        let required = std::env::var("OBSERVE_REQUIRE_PROMETHEUS").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "python3 with prometheus_client (Debian's python3-prometheus-client) is missing, \
             and OBSERVE_REQUIRE_PROMETHEUS=1 requires it"
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!! SKIPPED: the OpenMetrics parser (python3-prometheus-client) is not installed !!!!!\n"
        );
    }
    found
}

/// `text` parsed by `python`'s OpenMetrics parser: its families as JSON, or a failure
/// with the parser's error and the text.
pub fn parse(python: &PathBuf, text: &str) -> Vec<serde_json::Value> {
    let mut child = Command::new(python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(text.as_bytes())
        .expect("write to python3");
    let output = child.wait_with_output().expect("run python3");
    assert!(
        output.status.success(),
        "the OpenMetrics parser rejects the exposition: {}\n--- exposition ---\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the parser's JSON")
}
