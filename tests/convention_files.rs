//! Crates with their own `observe.toml` (`tests/fixtures/`), built by a real `cargo`:
//! another namespace, presets, label sets, name templates and outcomes take effect; a
//! malformed file is a compile error naming the file, line and key; editing the file
//! recompiles the annotated code.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// All fixtures build into one target dir, so the dependencies compile once.
fn fixture_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fixtures/target")
}

/// Copies `tests/fixtures/<name>` to `target/fixtures/<copy>` as a crate of its own.
fn fixture(name: &str, copy: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = root.join("tests/fixtures").join(name);
    let dir = root.join("target/fixtures").join(copy);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::copy(source.join("main.rs"), dir.join("src/main.rs")).unwrap();
    std::fs::copy(source.join("observe.toml"), dir.join("observe.toml")).unwrap();
    // The repository's lock file: the same dependency versions, nothing to resolve.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let manifest = format!(
        "[package]\nname = \"{copy}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nobserve = {{ path = {:?} }}\n\n[workspace]\n",
        root.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    dir
}

fn cargo(dir: &Path, command: &str) -> Output {
    cargo_with_config(dir, command, None)
}

/// `cargo <command>` in a fixture, with `OBSERVE_CONFIG` set to `config` or unset.
fn cargo_with_config(dir: &Path, command: &str, config: Option<&str>) -> Output {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([command, "--quiet", "--color", "never"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", fixture_target())
        .env_remove("RUSTFLAGS")
        .env_remove("OBSERVE_CONFIG");
    if let Some(config) = config {
        cargo.env("OBSERVE_CONFIG", config);
    }
    cargo.output().expect("run cargo")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Builds a fixture that must fail, and returns what rustc said.
fn compile_errors(name: &str) -> String {
    let dir = fixture(name, name);
    let output = cargo(&dir, "build");
    assert!(!output.status.success(), "{name} compiled");
    stderr(&output).replace(&dir.display().to_string(), "$DIR")
}

#[test]
fn a_crate_with_its_own_convention() {
    let dir = fixture("custom-convention", "custom-convention");
    let output = cargo(&dir, "run");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let has = |line: &str| lines.contains(&line);
    // Its namespace, its `fast` preset (its first bound, 1 ms: how many calls fall under it
    // is timing, and a site's first call, which registers it, can take longer on a loaded
    // machine), its processed-metric template and outcome value.
    let success_bucket = |le: &str| {
        format!(
            r#"acme_billing_duration_seconds_bucket{{environment="test",service="billing",operation="charge",outcome="success",team="payments",le="{le}"}}"#
        )
    };
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with(&format!("{} ", success_bucket("0.001")))),
        "{text}"
    );
    assert!(has(&format!("{} 2", success_bucket("+Inf"))), "{text}");
    assert!(
        has(
            r#"acme_billing_calls_total{environment="test",service="billing",operation="charge",outcome="error",team="payments"} 1"#
        ),
        "{text}"
    );
    assert!(
        has(
            r#"acme_billing_failures_total{environment="test",service="billing",operation="charge",error_type="Declined",team="payments"} 1"#
        ),
        "{text}"
    );
    // `region` is bounded at 2: the third value is recorded as `_OTHER`.
    for region in ["eu", "us", "_OTHER"] {
        let line = format!(
            r#"acme_ledger_entries_total{{environment="test",service="ledger",team="risk",region="{region}"}} 1"#
        );
        assert!(has(&line), "missing {line} in {text}");
    }
    assert!(!text.contains("copilot"), "{text}");
    support::prometheus_tools::promtool_check(&text);
}

#[test]
fn malformed_files_name_file_line_and_key() {
    let cases = [
        (
            "bad-toml",
            "invalid `observe.toml` at $DIR/observe.toml:2:22: unclosed array, expected `]`",
        ),
        (
            "unknown-key",
            "invalid `observe.toml` at $DIR/observe.toml:5:1: unknown field `maximum`, expected `values` or `max`",
        ),
        (
            "non-increasing-buckets",
            "invalid `observe.toml` at $DIR/observe.toml:5:11: key `presets.slow.buckets`: buckets must increase strictly, but `2.5` follows `5`",
        ),
        (
            "non-increasing-buckets",
            "invalid `observe.toml` at $DIR/observe.toml:9:11: key `presets.empty.buckets`: buckets must not be empty",
        ),
        (
            "unknown-unit",
            "invalid `observe.toml` at $DIR/observe.toml:4:8: key `presets.slow.unit`: unknown unit `milliseconds`; expected one of `seconds`, `bytes`, `tokens` or `messages`",
        ),
    ];
    for (name, expected) in cases {
        let errors = compile_errors(name);
        assert!(
            errors.contains(expected),
            "{name}: expected\n{expected}\nin\n{errors}"
        );
        assert!(errors.contains("= help: fix `observe.toml`"), "{errors}");
    }
}

#[test]
fn required_labels_and_error_type_values_are_enforced() {
    let errors = compile_errors("required-label-missing");
    assert!(
        errors.contains("error: missing required label `team`"),
        "{errors}"
    );
    let errors = compile_errors("error-type-values");
    assert!(
        errors.contains("error: `Declined` is not a declared `error_type` value"),
        "{errors}"
    );
    assert!(
        errors.contains("the declared values are `TimeoutError` or `DeclinedError`"),
        "{errors}"
    );
}

/// `observe.toml` is a tracked input: editing it alone recompiles the annotated code.
#[test]
fn editing_the_convention_recompiles() {
    let dir = fixture("custom-convention", "tracked-input");
    let first = cargo(&dir, "run");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(String::from_utf8_lossy(&first.stdout).contains("acme_billing_calls_total"));
    let file = dir.join("observe.toml");
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replace(r#"namespace = "acme""#, r#"namespace = "globex""#)
        .replace("acme_ledger", "globex_ledger");
    std::fs::write(&file, edited).unwrap();
    // The source names `acme_ledger_entries_total`, now outside the namespace: the edit
    // alone must turn a passing build into this error.
    let second = cargo(&dir, "build");
    assert!(!second.status.success());
    assert!(
        stderr(&second)
            .contains("metric `acme_ledger_entries_total` must start with the namespace `globex_`"),
        "{}",
        stderr(&second)
    );
}

/// `OBSERVE_CONFIG` names the file wherever it is (relative to the crate's manifest
/// directory), and is a tracked input: changing it alone recompiles the annotated code.
#[test]
fn observe_config_names_the_file_and_is_tracked() {
    let dir = fixture("custom-convention", "observe-config");
    std::fs::create_dir_all(dir.join("conventions")).unwrap();
    std::fs::rename(dir.join("observe.toml"), dir.join("conventions/acme.toml")).unwrap();
    let found = cargo_with_config(&dir, "run", Some("conventions/acme.toml"));
    assert!(found.status.success(), "{}", stderr(&found));
    assert!(String::from_utf8_lossy(&found.stdout).contains("acme_billing_calls_total"));

    let globex = std::fs::read_to_string(dir.join("conventions/acme.toml"))
        .unwrap()
        .replace(r#"namespace = "acme""#, r#"namespace = "globex""#);
    std::fs::write(dir.join("conventions/globex.toml"), globex).unwrap();
    // Only the variable changes: the build must re-check against the other file.
    let switched = cargo_with_config(&dir, "build", Some("conventions/globex.toml"));
    assert!(!switched.status.success());
    assert!(
        stderr(&switched).contains("must start with the namespace `globex_`"),
        "{}",
        stderr(&switched)
    );

    let missing = cargo_with_config(&dir, "build", Some("conventions/missing.toml"));
    assert!(!missing.status.success());
    let errors = stderr(&missing).replace(&dir.display().to_string(), "$DIR");
    assert!(
        errors.contains(
            "cannot read `$DIR/conventions/missing.toml` (named by `OBSERVE_CONFIG`): No such file or directory"
        ),
        "{errors}"
    );
}
