//! Exact counts per outcome and error type, histogram placement, label sets and HELP text,
//! read back from the real exporter's exposition.

mod support;

use std::time::Duration;

use observe::{ErrorLabel, instrumented};
use support::exposition::{observe, scrape};

const PROCESSED: &str = "copilot_outcomes_messages_processed_total";
const FAILURES: &str = "copilot_outcomes_failures_total";
const DURATION: &str = "copilot_outcomes_duration_seconds";
const ACTIVE: &str = "copilot_outcomes_active_workers_current";

#[derive(Debug, ErrorLabel)]
enum ParseError {
    InvalidJson,
    #[error_label(rename = "TooLargeError")]
    TooLarge {
        size: usize,
    },
    #[error_label(transparent)]
    Io(std::io::Error),
}

/// Not `ErrorLabel`: labelled with its type name.
#[derive(Debug)]
struct PlainError;

#[instrumented(service = "outcomes")]
fn parse(input: &str) -> Result<usize, ParseError> {
    match input {
        "json" => Err(ParseError::InvalidJson),
        "large" => Err(ParseError::TooLarge { size: 1 << 20 }),
        "io" => Err(ParseError::Io(std::io::ErrorKind::ConnectionReset.into())),
        ok => Ok(ok.len()),
    }
}

#[test]
fn results_are_counted_by_outcome_and_error_class() {
    observe();
    let inputs = ["a", "bb", "json", "ccc", "large", "json", "io", "dddd"];
    let returned: Vec<_> = inputs
        .iter()
        .map(|i| parse(i).map_err(|e| e.error_label()))
        .collect();
    assert_eq!(returned[1], Ok(2), "the function's value is unchanged");
    assert_eq!(returned[2], Err("InvalidJson"));

    let m = scrape();
    let op = [("operation", "parse")];
    let with = |k, v| [("operation", "parse"), (k, v)];
    assert_eq!(m.count(PROCESSED, &with("outcome", "success")), 4.0);
    assert_eq!(m.count(PROCESSED, &with("outcome", "failure")), 4.0);
    assert_eq!(m.count(FAILURES, &with("error_type", "InvalidJson")), 2.0);
    assert_eq!(m.count(FAILURES, &with("error_type", "TooLargeError")), 1.0);
    assert_eq!(
        m.count(FAILURES, &with("error_type", "ConnectionReset")),
        1.0
    );
    assert_eq!(
        m.samples(FAILURES, &op).count(),
        3,
        "one series per error class"
    );
    assert_eq!(
        m.count(&format!("{DURATION}_count"), &with("outcome", "success")),
        4.0
    );
    assert_eq!(
        m.count(&format!("{DURATION}_count"), &with("outcome", "failure")),
        4.0
    );
    assert_eq!(m.value(ACTIVE, &op), Some(0.0));

    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        m.label_names(PROCESSED, "parse"),
        names(&["environment", "operation", "outcome", "service"])
    );
    assert_eq!(
        m.label_names(FAILURES, "parse"),
        names(&["environment", "error_type", "operation", "service"])
    );
    assert_eq!(
        m.label_names(DURATION, "parse"),
        names(&["environment", "operation", "outcome", "service"])
    );
    assert_eq!(
        m.label_names(ACTIVE, "parse"),
        names(&["environment", "operation", "service"])
    );
    for sample in m.samples(PROCESSED, &op) {
        assert_eq!(sample.labels.get("service"), Some("outcomes"));
        assert_eq!(sample.labels.get("environment"), Some("test"));
    }
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

#[instrumented(service = "outcomes")]
fn fails_plainly(fail: bool) -> Result<(), PlainError> {
    if fail { Err(PlainError) } else { Ok(()) }
}

#[instrumented(service = "outcomes")]
fn fails_with_std_error(input: &str) -> Result<i64, std::num::ParseIntError> {
    let n: i64 = input.parse()?;
    Ok(n * 2)
}

#[instrumented(service = "outcomes")]
fn boxed_error(input: &str) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    Ok(input.parse::<u8>()?)
}

#[test]
fn errors_without_error_label_get_bounded_names() {
    observe();
    fails_plainly(true).unwrap_err();
    fails_plainly(false).unwrap();
    assert_eq!(fails_with_std_error("21"), Ok(42));
    assert!(
        fails_with_std_error("x").is_err(),
        "`?` still returns early with the error"
    );
    assert_eq!(
        boxed_error("300").unwrap_err().to_string(),
        "number too large to fit in target type"
    );

    let m = scrape();
    let failures = |op, class| m.count(FAILURES, &[("operation", op), ("error_type", class)]);
    assert_eq!(failures("fails_plainly", "PlainError"), 1.0);
    assert_eq!(failures("fails_with_std_error", "ParseIntError"), 1.0);
    assert_eq!(failures("boxed_error", "DynError"), 1.0);
    assert_eq!(
        m.count(
            PROCESSED,
            &[("operation", "fails_plainly"), ("outcome", "success")]
        ),
        1.0
    );
}

#[instrumented(service = "outcomes")]
fn not_a_result(n: u32) -> Option<u32> {
    n.checked_sub(1)
}

#[test]
fn any_other_return_type_is_a_success() {
    observe();
    assert_eq!(not_a_result(0), None);
    assert_eq!(not_a_result(3), Some(2));
    let m = scrape();
    assert_eq!(
        m.count(
            PROCESSED,
            &[("operation", "not_a_result"), ("outcome", "success")]
        ),
        2.0
    );
    assert_eq!(
        m.count(
            PROCESSED,
            &[("operation", "not_a_result"), ("outcome", "failure")]
        ),
        0.0
    );
}

#[instrumented(service = "outcomes", operation = "sleepy")]
fn sleep_for(duration: Duration) {
    std::thread::sleep(duration);
}

#[test]
fn durations_land_in_the_preset_buckets() {
    observe();
    // 15 ms sits well inside (0.01, 0.05]: a loaded machine oversleeps, never undersleeps.
    sleep_for(Duration::from_millis(15));
    sleep_for(Duration::from_millis(15));
    sleep_for(Duration::from_millis(0));
    let m = scrape();
    let buckets = m.buckets(DURATION, &[("operation", "sleepy"), ("outcome", "success")]);
    let bounds: Vec<f64> = buckets.iter().map(|b| b.0).collect();
    assert_eq!(
        bounds,
        [
            0.01,
            0.05,
            0.1,
            0.5,
            1.0,
            2.5,
            5.0,
            10.0,
            30.0,
            60.0,
            f64::INFINITY
        ]
    );
    assert_eq!(buckets[0], (0.01, 1.0), "the 0 ms call only");
    assert_eq!(buckets[1], (0.05, 3.0), "and the two 15 ms calls");
    assert_eq!(buckets[10], (f64::INFINITY, 3.0));
    let sum = m.count(
        &format!("{DURATION}_sum"),
        &[("operation", "sleepy"), ("outcome", "success")],
    );
    assert!((0.03..0.1).contains(&sum), "sum of durations {sum}");
}

#[instrumented(service = "outcomes", labels(queue = "parsing", vhost = "copilot"))]
fn with_constant_labels() {}

#[test]
fn constant_labels_are_on_every_series() {
    observe();
    with_constant_labels();
    let m = scrape();
    let labels = [
        ("operation", "with_constant_labels"),
        ("queue", "parsing"),
        ("vhost", "copilot"),
    ];
    let success = [labels[0], labels[1], labels[2], ("outcome", "success")];
    assert_eq!(m.count(PROCESSED, &success), 1.0);
    assert_eq!(m.count(&format!("{DURATION}_count"), &success), 1.0);
    assert_eq!(m.value(ACTIVE, &labels), Some(0.0));
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
