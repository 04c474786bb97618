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

mod lock_and_check {
    use super::super::catalog::{Catalog, LabelValues};
    use super::super::write::check_or_update;
    use super::super::{Options, fixture, write_catalog};
    use super::temp_dir;

    const RECEIVED: &str = "copilot_parsing_messages_received_total";

    /// Writes the fixture as the committed baseline, changes the catalogue, checks.
    fn check_after(name: &str, change: impl FnOnce(&mut Catalog)) -> String {
        let dir = temp_dir(name);
        write_catalog(&dir, &fixture::catalog(), &Options::default()).unwrap();
        let mut catalog = fixture::catalog();
        change(&mut catalog);
        catalog.normalise();
        let result = check_or_update(&dir, &catalog, &Options::default(), false);
        let _ = std::fs::remove_dir_all(&dir);
        result.map_or_else(|e| e.to_string(), |()| "ok".to_owned())
    }

    fn family<'a>(catalog: &'a mut Catalog, name: &str) -> &'a mut super::super::Family {
        catalog
            .families
            .iter_mut()
            .find(|f| f.name == name)
            .unwrap()
    }

    #[test]
    fn an_unchanged_catalogue_passes() {
        assert_eq!(check_after("unchanged", |_| {}), "ok");
    }

    #[test]
    fn a_renamed_metric_is_breaking() {
        let message = check_after("renamed", |c| {
            family(c, RECEIVED).name = "copilot_parsing_messages_accepted_total".into()
        });
        assert!(
            message.contains("metric `copilot_parsing_messages_received_total` was removed or renamed (to `copilot_parsing_messages_accepted_total`?)"),
            "{message}"
        );
        assert!(
            message
                .contains("help: if the change is intended, regenerate with OBSERVE_OPS_UPDATE=1"),
            "{message}"
        );
    }

    #[test]
    fn a_removed_label_is_breaking() {
        let message = check_after("label", |c| {
            family(c, RECEIVED).labels.retain(|l| l.name != "queue")
        });
        assert!(
            message.contains("metric `copilot_parsing_messages_received_total` lost label `queue`"),
            "{message}"
        );
        assert!(!message.contains("gained"), "{message}");
    }

    #[test]
    fn changed_buckets_are_breaking() {
        let message = check_after("buckets", |c| {
            family(c, "copilot_parsing_duration_seconds").buckets = vec![0.1, 1.0, 10.0]
        });
        assert!(
            message.contains("metric `copilot_parsing_duration_seconds` changed buckets from [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60] to [0.1, 1, 10]"),
            "{message}"
        );
    }

    #[test]
    fn an_added_family_is_not_breaking_but_the_artefacts_are_stale() {
        let message = check_after("added", |c| {
            let mut new = c.families[0].clone();
            new.name = "copilot_parsing_retries_total".into();
            new.labels.push(super::super::Label {
                name: "queue".into(),
                values: LabelValues::Bounded(3),
            });
            c.families.push(new);
        });
        assert!(!message.contains("breaking"), "{message}");
        assert!(message.contains("stale: METRICS.md"), "{message}");
        assert!(message.contains("stale: metrics.lock"), "{message}");
        assert!(
            message.contains("+ [copilot_parsing_retries_total]"),
            "{message}"
        );
    }

    #[test]
    fn the_update_step_rewrites_and_removes_what_is_no_longer_generated() {
        let dir = temp_dir("update");
        write_catalog(&dir, &fixture::catalog(), &Options::default()).unwrap();
        std::fs::write(dir.join("runbooks/GoneAlert.md"), "old").unwrap();
        std::fs::write(dir.join("METRICS.md"), "edited by hand").unwrap();
        let stale = check_or_update(&dir, &fixture::catalog(), &Options::default(), false)
            .unwrap_err()
            .to_string();
        assert!(
            stale.contains("stale: runbooks/GoneAlert.md\n  (no longer generated)"),
            "{stale}"
        );
        assert!(
            stale.contains("stale: METRICS.md\n      1 - edited by hand"),
            "{stale}"
        );
        check_or_update(&dir, &fixture::catalog(), &Options::default(), true).unwrap();
        check_or_update(&dir, &fixture::catalog(), &Options::default(), false).unwrap();
        assert!(!dir.join("runbooks/GoneAlert.md").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn an_slo_for_an_operation_that_does_not_exist_is_reported() {
    let mut site = fixture::instrumented("parsing", None, "decode", 1, None);
    site.slo.declared_operations = vec!["decode".to_owned(), "parse_mesage".to_owned()];
    let problems = super::unknown_operations(&[
        site.clone(),
        fixture::instrumented("parsing", None, "validate", 2, None),
    ]);
    assert_eq!(
        problems,
        [
            "`observe.toml` declares an SLO for operation `parse_mesage` of service `parsing`, but no linked `#[instrumented]` function of that service has it; its operations: decode, validate"
        ]
    );
}
