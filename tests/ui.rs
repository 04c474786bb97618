//! Compile-time behaviour: every function shape compiles and keeps its value (`pass/`),
//! every misuse is a spanned error with a fix (`fail/<family>/`). Each pass case also runs
//! with observe initialised, and its exposition must pass `promtool check metrics`.

mod support;

#[test]
fn pass() {
    let dir = support::process::TempDir::new("observe-ui-expositions");
    // Read by `tests/ui/pass/support/exposition.rs` in each case's process.
    // SAFETY: set before trybuild spawns anything; no other thread of this test binary
    // reads the environment through libc.
    unsafe { std::env::set_var("OBSERVE_EXPOSITION_DIR", dir.path()) };
    {
        let cases = trybuild::TestCases::new();
        cases.pass("tests/ui/pass/*.rs");
        // Cases checked against their own directory's `observe.toml`.
        cases.pass("tests/ui/pass/rfc-convention/*.rs");
        // The cases build and run when `cases` drops.
    }
    let rust_files = |dir: &str| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "rs")
            })
            .count()
    };
    let pass_cases = rust_files("tests/ui/pass") + rust_files("tests/ui/pass/rfc-convention");
    let expositions: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        expositions.len(),
        pass_cases,
        "one exposition per pass case"
    );
    for exposition in expositions {
        support::prometheus_tools::promtool_check(&std::fs::read_to_string(&exposition).unwrap());
    }
}

// Compiler output drifts between releases; the snapshots are rustc 1.95's.
#[rustversion::attr(not(stable(1.95)), ignore = "the .stderr snapshots are rustc 1.95's")]
#[test]
fn fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/fail/*/*.rs");
}
