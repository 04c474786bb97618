//! The generators on the fixture catalogue, checked by the real `promtool` when it is on
//! PATH (Debian's `prometheus` package; CI installs it and sets OBSERVE_REQUIRE_PROMETHEUS).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Options, fixture, generate, write_catalog};

fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("promtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("OBSERVE_REQUIRE_PROMETHEUS").is_err(),
            "promtool is required (OBSERVE_REQUIRE_PROMETHEUS is set) but not on PATH"
        );
        eprintln!("SKIPPED: promtool not on PATH (apt-get install prometheus)");
    }
    found
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("observe-ops-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(promtool: &Path, dir: &Path, args: &[&str]) -> String {
    let output = Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn promtool_accepts_the_rules_without_warnings_and_passes_the_generated_tests() {
    let Some(promtool) = promtool() else { return };
    let dir = temp_dir("promtool");
    write_catalog(&dir, &fixture::catalog(), &Options::default()).unwrap();
    let rules = dir.join("rules");
    let check = run(
        &promtool,
        &rules,
        &["check", "rules", "recording.yml", "alerts.yml"],
    );
    assert!(!check.to_lowercase().contains("warn"), "{check}");
    assert!(check.contains("SUCCESS"), "{check}");
    let tests = run(&promtool, &rules, &["test", "rules", "tests.yml"]);
    assert!(tests.contains("SUCCESS"), "{tests}");
    if std::env::var_os("OBSERVE_OPS_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn generation_is_reproducible() {
    let catalog = fixture::catalog();
    assert_eq!(
        generate(&catalog, &Options::default()),
        generate(&catalog, &Options::default())
    );
}

#[test]
fn dashboards_type_check_against_grafanas_published_schema() {
    let Some(schema) = super::schema_check::schema_dir() else {
        assert!(
            std::env::var("OBSERVE_REQUIRE_GRAFANA_SCHEMA").is_err(),
            "@grafana/schema is required but not installed: npm ci --prefix .ci/grafana-schema"
        );
        eprintln!("SKIPPED: @grafana/schema not installed (npm ci --prefix .ci/grafana-schema)");
        return;
    };
    let files = generate(&fixture::catalog(), &Options::default());
    let dashboards: Vec<(String, serde_json::Value)> = files
        .iter()
        .filter(|(path, _)| path.starts_with("dashboards/"))
        .map(|(path, text)| (path.clone(), serde_json::from_str(text).unwrap()))
        .collect();
    assert_eq!(dashboards.len(), 2, "{:?}", files.keys());
    if let Err(diagnostics) = super::schema_check::check(&schema, &dashboards) {
        panic!("the dashboards do not type-check as Grafana dashboards:\n{diagnostics}");
    }
    // The check has teeth: an unknown key is rejected.
    let mut broken = dashboards[0].clone();
    broken.1["panels"][1]["fieldConfig"]["defaults"]["colour"] = serde_json::json!("red");
    assert!(super::schema_check::check(&schema, &[broken]).is_err());
}
