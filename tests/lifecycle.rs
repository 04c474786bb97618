//! Every exit path is recorded exactly once: panics (then resumed unchanged), futures
//! dropped before completion, panics inside a polled future; the in-flight gauge goes
//! back down each time; futures stay `Send`.

mod support;

use std::future::Future;
use std::panic::catch_unwind;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use observe::instrumented;
use support::exposition::{observe, scrape};

const PROCESSED: &str = "copilot_lifecycle_messages_processed_total";
const FAILURES: &str = "copilot_lifecycle_failures_total";
const ACTIVE: &str = "copilot_lifecycle_active_workers_current";

#[derive(Debug, PartialEq)]
struct Payload(u32);

#[instrumented(service = "lifecycle")]
fn panics_with(code: u32) -> Result<(), std::io::Error> {
    if code > 0 {
        std::panic::panic_any(Payload(code));
    }
    Ok(())
}

#[test]
fn a_panic_is_recorded_then_resumes_unchanged() {
    observe();
    let caught = catch_unwind(|| panics_with(7)).expect_err("the panic propagates");
    assert_eq!(
        caught.downcast_ref::<Payload>(),
        Some(&Payload(7)),
        "same payload"
    );
    panics_with(0).unwrap();

    let m = scrape();
    let op = |k, v| [("operation", "panics_with"), (k, v)];
    assert_eq!(m.count(PROCESSED, &op("outcome", "failure")), 1.0);
    assert_eq!(m.count(PROCESSED, &op("outcome", "success")), 1.0);
    assert_eq!(m.count(FAILURES, &op("error_type", "Panic")), 1.0);
    assert_eq!(m.value(ACTIVE, &[("operation", "panics_with")]), Some(0.0));
}

#[instrumented(service = "lifecycle")]
async fn waits_forever() -> u32 {
    std::future::pending::<()>().await;
    1
}

#[test]
fn a_future_dropped_before_completion_is_cancelled() {
    observe();
    {
        let mut future = Box::pin(waits_forever());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        let m = scrape();
        assert_eq!(
            m.value(ACTIVE, &[("operation", "waits_forever")]),
            Some(1.0),
            "in flight while pending"
        );
    }
    let m = scrape();
    let op = |k, v| [("operation", "waits_forever"), (k, v)];
    assert_eq!(m.count(PROCESSED, &op("outcome", "cancelled")), 1.0);
    assert_eq!(
        m.count(
            "copilot_lifecycle_duration_seconds_count",
            &op("outcome", "cancelled")
        ),
        1.0
    );
    assert_eq!(m.count(PROCESSED, &op("outcome", "success")), 0.0);
    assert_eq!(
        m.value(ACTIVE, &[("operation", "waits_forever")]),
        Some(0.0)
    );
}

#[instrumented(service = "lifecycle")]
async fn panics_in_poll(panic: bool) -> Result<u8, std::fmt::Error> {
    tokio::task::yield_now().await;
    if panic {
        panic!("boom");
    }
    Ok(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_inside_a_spawned_future_is_a_failure_not_a_cancellation() {
    observe();
    // The executor catches the panic and drops the future afterwards, when
    // `std::thread::panicking()` is false again.
    let joined = tokio::spawn(panics_in_poll(true)).await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(
        tokio::spawn(panics_in_poll(false)).await.unwrap(),
        Ok(1),
        "spawnable: the future is Send"
    );

    let m = scrape();
    let op = |k, v| [("operation", "panics_in_poll"), (k, v)];
    assert_eq!(m.count(FAILURES, &op("error_type", "Panic")), 1.0);
    assert_eq!(m.count(PROCESSED, &op("outcome", "failure")), 1.0);
    assert_eq!(m.count(PROCESSED, &op("outcome", "success")), 1.0);
    assert_eq!(m.count(PROCESSED, &op("outcome", "cancelled")), 0.0);
}

#[instrumented(service = "lifecycle")]
async fn handle(job: u32) -> Result<u32, std::io::Error> {
    tokio::task::yield_now().await;
    if job.is_multiple_of(10) {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    Ok(job)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_tasks_are_counted_exactly() {
    observe();
    let tasks: Vec<_> = (1..=500).map(|job| tokio::spawn(handle(job))).collect();
    let mut ok = 0;
    for task in tasks {
        ok += u32::from(task.await.unwrap().is_ok());
    }
    assert_eq!(ok, 450);
    let m = scrape();
    let op = |k, v| [("operation", "handle"), (k, v)];
    assert_eq!(m.count(PROCESSED, &op("outcome", "success")), 450.0);
    assert_eq!(m.count(PROCESSED, &op("outcome", "failure")), 50.0);
    assert_eq!(m.count(FAILURES, &op("error_type", "InvalidData")), 50.0);
    assert_eq!(m.value(ACTIVE, &[("operation", "handle")]), Some(0.0));
}

#[test]
fn a_future_never_polled_records_nothing() {
    observe();
    // Created and dropped, never polled.
    drop(waits_forever_too());
    let m = scrape();
    let op = |outcome| [("operation", "waits_forever_too"), ("outcome", outcome)];
    // Its series exist from `init` on, at zero: the future never ran.
    assert_eq!(m.value(PROCESSED, &op("success")), Some(0.0));
    assert_eq!(m.value(PROCESSED, &op("failure")), Some(0.0));
    assert_eq!(m.value(PROCESSED, &op("cancelled")), None);
}

#[instrumented(service = "lifecycle")]
async fn waits_forever_too() {
    std::future::pending::<()>().await;
}

#[instrumented(service = "lifecycle")]
async fn yields_once(value: u32) -> Result<u32, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(value)
}

#[test]
fn poll_results_are_unchanged() {
    let mut future = pin!(yields_once(3));
    let mut cx = Context::from_waker(Waker::noop());
    observe();
    let first = future.as_mut().poll(&mut cx);
    assert!(first.is_pending(), "yield_now returns Pending once");
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(3)) => {}
        other => panic!("unexpected {other:?}"),
    }
}
