//! Counts stay exact when threads record at once: two threads on one function (each on its
//! own stripe), and more threads than there are stripes to own (the rest share one), while
//! another thread scrapes.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};

use observe::{ErrorLabel, instrumented};
use support::exposition::{observe, scrape};

const PROCESSED: &str = "copilot_threads_messages_processed_total";
const FAILURES: &str = "copilot_threads_failures_total";
const DURATION_COUNT: &str = "copilot_threads_duration_seconds_count";
const ACTIVE: &str = "copilot_threads_active_workers_current";

#[derive(Debug, ErrorLabel)]
enum JobError {
    Rejected,
}

#[instrumented(service = "threads")]
fn two_threads(n: u64) -> Result<u64, JobError> {
    if n.is_multiple_of(4) {
        Err(JobError::Rejected)
    } else {
        Ok(n)
    }
}

#[instrumented(service = "threads")]
fn many_threads(n: u64) -> Result<u64, JobError> {
    if n.is_multiple_of(4) {
        Err(JobError::Rejected)
    } else {
        Ok(n)
    }
}

/// Runs `calls` calls of `f` on each of `threads` threads, all started together, while
/// the main thread scrapes; checks every scrape's gauge is within bounds.
fn hammer(threads: u64, calls: u64, f: fn(u64) -> Result<u64, JobError>, operation: &str) {
    let done = AtomicBool::new(false);
    let start = std::sync::Barrier::new(threads as usize);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    (0..calls).filter(|&n| f(n).is_ok()).count()
                })
            })
            .collect();
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let in_flight = scrape().value(ACTIVE, &[("operation", operation)]);
                let in_flight = in_flight.expect("the gauge exists from init");
                assert!((0.0..=threads as f64).contains(&in_flight), "{in_flight}");
            }
        });
        for worker in workers {
            assert_eq!(worker.join().unwrap() as u64, calls - calls / 4);
        }
        done.store(true, Ordering::Relaxed);
    });
    let m = scrape();
    let op = |k, v| [("operation", operation), (k, v)];
    let total = (threads * calls) as f64;
    assert_eq!(m.count(PROCESSED, &op("outcome", "success")), total * 0.75);
    assert_eq!(m.count(PROCESSED, &op("outcome", "failure")), total * 0.25);
    assert_eq!(
        m.count(DURATION_COUNT, &op("outcome", "success")),
        total * 0.75
    );
    assert_eq!(
        m.count(FAILURES, &op("error_type", "Rejected")),
        total * 0.25
    );
    assert_eq!(m.value(ACTIVE, &[("operation", operation)]), Some(0.0));
}

#[test]
fn two_threads_on_one_function_are_counted_exactly() {
    observe();
    hammer(2, 200_000, two_threads, "two_threads");
}

#[test]
fn threads_beyond_the_owned_stripes_are_counted_exactly() {
    observe();
    // At most 128 stripes are owned (2 per core, up to 64); these share the rest.
    let threads = 2 * std::thread::available_parallelism().map_or(4, |n| n.get() as u64) + 8;
    hammer(threads.min(160), 5_000, many_threads, "many_threads");
}
