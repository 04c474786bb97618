//! A `counter!` that takes the name of an `#[instrumented]` function's processed counter
//! would expose that name twice, with two `# TYPE` lines and two label sets. The macro
//! rejects the service's own family names at compile time (N013, tests/ui); a family with
//! `name = "…"` is out of its sight, so `init` refuses to start, naming both call sites.
//! (Its own test binary: the conflict is in every site linked into it.)

use observe::instrumented;

#[instrumented(service = "conflicts", name = "batch")]
fn handle(n: u64) -> u64 {
    n + 1
}

fn count_by_hand() {
    observe::counter!(
        "copilot_conflicts_batch_messages_processed_total",
        help = "Messages processed, counted by hand.",
    )
    .increment(1);
}

#[test]
fn init_rejects_a_name_used_by_two_metric_families() {
    let error = observe::builder()
        .without_metrics_listener()
        .logging(false)
        .init()
        .expect_err("init refuses the conflicting names");
    assert_eq!(
        error.to_string(),
        "metric `copilot_conflicts_batch_messages_processed_total` is a counter with labels \
         (operation, outcome, service) as the processed counter of `#[instrumented]` \
         operation `handle` in `metric_conflicts`, and a counter with labels (service) from \
         `observe::counter!` in `metric_conflicts`; a name is one metric family, of one type, \
         recorded either by `#[instrumented]` or by the function-like macros: rename one of \
         them"
    );
    assert!(matches!(
        error,
        observe::Error::ConflictingMetric {
            metric: "copilot_conflicts_batch_messages_processed_total",
            ..
        }
    ));
    // The functions still run, uninstrumented, as before any `init`.
    assert_eq!(handle(1), 2);
    count_by_hand();
}
