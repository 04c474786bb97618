//! Compile-time behaviour: every function shape compiles and keeps its value (`pass/`),
//! every misuse is a spanned error with a fix (`fail/<family>/`).

#[test]
fn pass() {
    trybuild::TestCases::new().pass("tests/ui/pass/*.rs");
}

// Compiler output drifts between releases; the snapshots are rustc 1.95's.
#[rustversion::attr(not(stable(1.95)), ignore = "the .stderr snapshots are rustc 1.95's")]
#[test]
fn fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/fail/*/*.rs");
}
