//! The Prometheus project's programs the tests drive (`promtool`, `prometheus`,
//! `prometheus-pushgateway`): found on `PATH`, or skipped loudly, or a failure when
//! `OBSERVE_REQUIRE_PROMETHEUS=1` (CI jobs that must not skip silently).
//!
//! Standard library only: the macro crate's property test includes this file too
//! (`observe-macros/src/rules_properties.rs`, through `#[path]`).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// `program` on `PATH`, if it is there.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// `program` on `PATH`; if it is missing, `None` after a loud SKIPPED line, or a failure
/// when `OBSERVE_REQUIRE_PROMETHEUS=1`.
pub fn tool_or_skip(program: &str) -> Option<PathBuf> {
    if let Some(path) = find_on_path(program) {
        return Some(path);
    }
    let required = std::env::var("OBSERVE_REQUIRE_PROMETHEUS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{program} is not on PATH, and OBSERVE_REQUIRE_PROMETHEUS=1 requires it"
    );
    // Written to the process's stderr, not through `eprintln!`, which the test harness
    // captures and hides for passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!! SKIPPED: {program} not installed (set OBSERVE_REQUIRE_PROMETHEUS=1 to make this a failure) !!!!!\n"
    );
    None
}

/// `promtool check metrics` must accept the exposition without a single lint.
pub fn promtool_check(exposition: &str) {
    let Some(promtool) = tool_or_skip("promtool") else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(exposition.as_bytes())
        .expect("write to promtool");
    let output = child.wait_with_output().expect("run promtool");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.trim().is_empty(),
        "promtool check metrics: {}\n{report}\n--- exposition ---\n{exposition}",
        output.status
    );
}
