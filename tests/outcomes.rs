//! Exact counts per outcome and error type, histogram placement and label sets, read back
//! with `observe::testing` captures (this binary never calls `init`; HELP, TYPE and counts
//! from threads recording at once are read from the real exporter in
//! `outcomes_exposition.rs`).

use std::collections::BTreeSet;
use std::time::Duration;

use observe::testing::{Recorded, capture};
use observe::{ErrorLabel, instrumented};

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

/// The value of the series of `metric` with `labels` among its labels, if it exists.
fn existing(m: &Recorded, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let has = |s: &observe::testing::Series| {
        labels
            .iter()
            .all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
    };
    m.series(metric).into_iter().find(has).map(|s| s.value)
}

/// The label names of every series of `metric` with `operation`.
fn label_names(m: &Recorded, metric: &str, operation: &str) -> BTreeSet<String> {
    m.series(metric)
        .into_iter()
        .filter(|s| s.labels["operation"] == operation)
        .flat_map(|s| s.labels.into_keys())
        .collect()
}

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
    let inputs = ["a", "bb", "json", "ccc", "large", "json", "io", "dddd"];
    let (returned, m) = capture(|| {
        inputs
            .iter()
            .map(|i| parse(i).map_err(|e| e.error_label()))
            .collect::<Vec<_>>()
    });
    assert_eq!(returned[1], Ok(2), "the function's value is unchanged");
    assert_eq!(returned[2], Err("InvalidJson"));

    let op = [("operation", "parse")];
    let with = |k, v| [("operation", "parse"), (k, v)];
    assert_eq!(m.value(PROCESSED, &with("outcome", "success")), 4.0);
    assert_eq!(m.value(PROCESSED, &with("outcome", "failure")), 4.0);
    assert_eq!(m.value(FAILURES, &with("error_type", "InvalidJson")), 2.0);
    assert_eq!(m.value(FAILURES, &with("error_type", "TooLargeError")), 1.0);
    assert_eq!(
        m.value(FAILURES, &with("error_type", "ConnectionReset")),
        1.0
    );
    assert_eq!(
        m.series(FAILURES)
            .iter()
            .filter(|s| s.labels["operation"] == "parse")
            .count(),
        3,
        "one series per error class"
    );
    assert_eq!(
        m.value(&format!("{DURATION}_count"), &with("outcome", "success")),
        4.0
    );
    assert_eq!(
        m.value(&format!("{DURATION}_count"), &with("outcome", "failure")),
        4.0
    );
    assert_eq!(existing(&m, ACTIVE, &op), Some(0.0));

    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        label_names(&m, PROCESSED, "parse"),
        names(&["environment", "operation", "outcome", "service"])
    );
    assert_eq!(
        label_names(&m, FAILURES, "parse"),
        names(&["environment", "error_type", "operation", "service"])
    );
    assert_eq!(
        label_names(&m, &format!("{DURATION}_count"), "parse"),
        names(&["environment", "operation", "outcome", "service"])
    );
    assert_eq!(
        label_names(&m, ACTIVE, "parse"),
        names(&["environment", "operation", "service"])
    );
    for sample in m.series(PROCESSED) {
        assert_eq!(sample.labels["operation"], "parse");
        assert_eq!(sample.labels["service"], "outcomes");
        assert_eq!(sample.labels["environment"], "test");
    }
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
    let ((), m) = capture(|| {
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
    });

    let failures = |op, class| m.value(FAILURES, &[("operation", op), ("error_type", class)]);
    assert_eq!(failures("fails_plainly", "PlainError"), 1.0);
    assert_eq!(failures("fails_with_std_error", "ParseIntError"), 1.0);
    assert_eq!(failures("boxed_error", "DynError"), 1.0);
    assert_eq!(
        m.value(
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
    let ((), m) = capture(|| {
        assert_eq!(not_a_result(0), None);
        assert_eq!(not_a_result(3), Some(2));
    });
    assert_eq!(
        m.value(
            PROCESSED,
            &[("operation", "not_a_result"), ("outcome", "success")]
        ),
        2.0
    );
    assert_eq!(
        m.value(
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
    // 15 ms sits well inside (0.01, 0.05]: a loaded machine oversleeps, never undersleeps.
    let ((), m) = capture(|| {
        sleep_for(Duration::from_millis(15));
        sleep_for(Duration::from_millis(15));
        sleep_for(Duration::from_millis(0));
    });
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
    let sum = m.value(
        &format!("{DURATION}_sum"),
        &[("operation", "sleepy"), ("outcome", "success")],
    );
    assert!((0.03..0.1).contains(&sum), "sum of durations {sum}");
}

#[instrumented(service = "outcomes", labels(queue = "parsing", vhost = "copilot"))]
fn with_constant_labels() {}

#[test]
fn constant_labels_are_on_every_series() {
    let ((), m) = capture(with_constant_labels);
    let labels = [
        ("operation", "with_constant_labels"),
        ("queue", "parsing"),
        ("vhost", "copilot"),
    ];
    let success = [labels[0], labels[1], labels[2], ("outcome", "success")];
    assert_eq!(m.value(PROCESSED, &success), 1.0);
    assert_eq!(m.value(&format!("{DURATION}_count"), &success), 1.0);
    assert_eq!(existing(&m, ACTIVE, &labels), Some(0.0));
}
