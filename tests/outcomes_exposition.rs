//! HELP and TYPE of every family, a `name = …` stem's HELP, and exact counts from threads
//! recording at once, read back from the real exporter's exposition after `init` (the
//! counts per outcome and error type are in `outcomes.rs`, captured without `init`).

mod support;

use observe::{ErrorLabel, instrumented};
use support::exposition::{observe, scrape};

const PROCESSED: &str = "copilot_outcomes_messages_processed_total";
const FAILURES: &str = "copilot_outcomes_failures_total";
const DURATION: &str = "copilot_outcomes_duration_seconds";
const ACTIVE: &str = "copilot_outcomes_active_workers_current";

#[derive(Debug, ErrorLabel)]
enum ParseError {
    InvalidJson,
}

#[instrumented(service = "outcomes")]
fn described(fail: bool) -> Result<(), ParseError> {
    if fail {
        Err(ParseError::InvalidJson)
    } else {
        Ok(())
    }
}

#[test]
fn every_metric_has_help_and_its_type() {
    observe();
    described(false).unwrap();
    let m = scrape();
    assert_eq!(
        m.help(DURATION),
        Some("Duration of the outcomes service's operations in seconds, by operation and outcome.")
    );
    assert_eq!(
        m.help(PROCESSED),
        Some("Number of the outcomes service's operations completed, by operation and outcome.")
    );
    assert_eq!(
        m.help(ACTIVE),
        Some("Number of the outcomes service's operations in flight, by operation.")
    );
    assert_eq!(m.type_of(DURATION), Some("histogram"), "never a summary");
    assert_eq!(m.type_of(PROCESSED), Some("counter"));
    assert_eq!(m.type_of(ACTIVE), Some("gauge"));
    described(true).unwrap_err();
    let m = scrape();
    assert_eq!(
        m.help(FAILURES),
        Some(
            "Number of the outcomes service's operations that failed, by operation and error class."
        )
    );
    assert_eq!(m.type_of(FAILURES), Some("counter"));
}

#[instrumented(service = "outcomes", name = "generation")]
fn generate() {}

#[test]
fn name_extends_the_metric_stem() {
    observe();
    generate();
    let m = scrape();
    let labels = [("operation", "generate"), ("outcome", "success")];
    assert_eq!(
        m.count(
            "copilot_outcomes_generation_messages_processed_total",
            &labels
        ),
        1.0
    );
    assert_eq!(
        m.count(
            "copilot_outcomes_generation_duration_seconds_count",
            &labels
        ),
        1.0
    );
    assert_eq!(
        m.help("copilot_outcomes_generation_duration_seconds"),
        Some(
            "Duration of the outcomes service's generation operations in seconds, by operation and outcome."
        )
    );
}

#[instrumented(service = "outcomes")]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[test]
fn concurrent_calls_are_counted_exactly() {
    observe();
    const THREADS: u64 = 4;
    const CALLS: u64 = 25_000;
    let sums: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| s.spawn(move || (0..CALLS).map(|i| add(i, t)).sum::<u64>()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(sums[1], (0..CALLS).sum::<u64>() + CALLS);
    let m = scrape();
    let labels = [("operation", "add"), ("outcome", "success")];
    assert_eq!(m.count(PROCESSED, &labels), (THREADS * CALLS) as f64);
    assert_eq!(
        m.count(&format!("{DURATION}_count"), &labels),
        (THREADS * CALLS) as f64
    );
    assert_eq!(m.value(ACTIVE, &[("operation", "add")]), Some(0.0));
}
