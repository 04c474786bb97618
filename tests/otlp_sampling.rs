//! Sampling that keeps every failure, measured against a real OTLP/gRPC receiver, then
//! the collector going down. (Own binary: it initialises the process's runtime in `prod`,
//! whose default head-sampling ratio is 10%.)

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use observe::{ErrorLabel, instrumented};
use support::exposition::Exposition;
use support::otlp::{Fixture, ReceivedSpan, STATUS_ERROR};

#[derive(Debug, ErrorLabel)]
enum WorkError {
    TimeoutError,
}

#[instrumented(service = "sampling")]
fn work(call: u32, fail: bool) -> Result<u32, WorkError> {
    if fail {
        Err(WorkError::TimeoutError)
    } else {
        Ok(call)
    }
}

/// Calls per phase; every 10th fails.
const CALLS: u32 = 4000;
/// Allowed distance of the exported fraction of successes from 10%. Successes are
/// Binomial(3600, 0.1): sd = sqrt(3600 * 0.1 * 0.9) / 3600 = 0.005, so 0.025 is five
/// standard deviations (a false alarm about once in 1.7 million runs).
const TOLERANCE: f64 = 0.025;

fn run(calls: std::ops::Range<u32>) -> (Duration, BTreeSet<u32>) {
    let mut failing = BTreeSet::new();
    let start = Instant::now();
    for call in calls {
        let fail = call % 10 == 0;
        if fail {
            failing.insert(call);
        }
        assert_eq!(work(call, fail).is_err(), fail);
    }
    (start.elapsed(), failing)
}

fn calls_of(spans: &[ReceivedSpan], keep: impl Fn(&ReceivedSpan) -> bool) -> BTreeSet<u32> {
    spans
        .iter()
        .filter(|s| s.name == "work" && keep(s))
        .map(|s| s.attr("call").expect("call is recorded").parse().unwrap())
        .collect()
}

fn dropped(fx: &Fixture) -> f64 {
    let exposition = Exposition::parse(&fx.guard.render());
    exposition
        .samples(observe::SPANS_DROPPED, &[("service", "sampling")])
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{other:?}"),
        })
        .sum()
}

#[test]
fn ten_percent_of_successes_and_every_failure_are_exported_and_a_dead_collector_never_blocks() {
    let mut fx = Fixture::start(|b| b.environment("prod"));

    // Phase 1: the collector is up.
    let (live, failing) = run(0..CALLS);
    let spans = fx.flushed_spans();
    let exported_failures = calls_of(&spans, |s| s.status == STATUS_ERROR);
    assert_eq!(exported_failures, failing, "every failing call is exported");
    let exported_successes = calls_of(&spans, |s| s.status != STATUS_ERROR);
    assert!(exported_successes.is_disjoint(&failing));
    let successes = f64::from(CALLS - failing.len() as u32);
    let fraction = exported_successes.len() as f64 / successes;
    println!(
        "exported {} of {successes} successful calls: fraction {fraction:.4} (expected 0.1 ± {TOLERANCE})",
        exported_successes.len()
    );
    assert!(
        (fraction - 0.1).abs() <= TOLERANCE,
        "exported fraction {fraction} is not 0.1 ± {TOLERANCE}"
    );
    assert_eq!(
        dropped(&fx),
        0.0,
        "nothing dropped while the collector is up"
    );

    // Phase 2: the collector is down. Calls run at the same pace and spans are dropped,
    // counted, never waited for.
    fx.runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), fx.receiver.stop())
            .await
            .expect("the receiver stops")
    });
    let received_before = fx.receiver.spans().len();
    let (down, failing) = run(CALLS..2 * CALLS);
    let _ = fx.guard.flush_spans();
    let lost = dropped(&fx);
    println!("collector up: {live:?} for {CALLS} calls; down: {down:?}; dropped {lost}");
    assert_eq!(fx.receiver.spans().len(), received_before);
    assert!(
        lost >= failing.len() as f64 && lost <= f64::from(CALLS),
        "dropped spans {lost}: at least the {} failures, at most every call",
        failing.len()
    );
    assert!(
        down <= live * 3 + Duration::from_millis(250),
        "calls slowed down with the collector down: {down:?} vs {live:?}"
    );
}
