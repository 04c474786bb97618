//! Instructions per call, counted rather than timed: loops of 100,000 calls of the tiny
//! handler, bare and with `#[instrumented]`, sync, async, and nested (an async call making
//! a sync and an async call, as a request handler does). Timings of such calls are their
//! two TSC reads (`overhead.rs`); in a service, where the calls' code is not in the
//! instruction cache, each instruction counts. `scripts/call_instructions.sh` runs this
//! under callgrind twice, once per configuration, and divides each loop's instructions
//! (the calling thread's) by its calls; on its own it only runs the loops.
//!
//! The configuration is `CALL_INSTRUCTIONS_CONFIG`: `metrics` (the default) is
//! `observe::init()`'s defaults; `spans` adds OTLP export at 10% head sampling, to an
//! OTLP receiver in this process: production's span path (the export itself runs on
//! observe's exporter thread, which the loops do not count).

// Only the bare and observed variants are counted here; `overhead.rs` uses the rest.
#[allow(dead_code)]
#[path = "support/tiny.rs"]
mod tiny;

// The trace tests' receiver; this bench uses its counting mode only.
#[allow(dead_code)]
#[path = "../tests/support/otlp.rs"]
mod otlp;

use std::hint::black_box;

use observe::instrumented;
use tiny::{Odd, bare, observed, work};

/// Calls per loop; `scripts/call_instructions.sh` divides by it.
const CALLS: u64 = 100_000;

#[instrumented(service = "bench")]
async fn observed_async(n: u64) -> Result<u64, Odd> {
    work(n)
}

async fn bare_async(n: u64) -> Result<u64, Odd> {
    work(n)
}

/// A handler's shape: an async call whose body makes a sync and an async call, all three
/// instrumented (the children take their parent from it). Its children are functions of
/// their own, so that the sync and async loops' calls keep one caller each and are
/// inlined as before.
#[instrumented(service = "bench")]
async fn observed_nested(n: u64) -> Result<u64, Odd> {
    let n = observed_child(n)?;
    observed_async_child(n).await
}

#[instrumented(service = "bench")]
fn observed_child(n: u64) -> Result<u64, Odd> {
    work(n)
}

#[instrumented(service = "bench")]
async fn observed_async_child(n: u64) -> Result<u64, Odd> {
    work(n)
}

async fn bare_nested(n: u64) -> Result<u64, Odd> {
    let n = bare_child(n)?;
    bare_async_child(n).await
}

fn bare_child(n: u64) -> Result<u64, Odd> {
    work(n)
}

async fn bare_async_child(n: u64) -> Result<u64, Odd> {
    work(n)
}

#[inline(never)]
fn loop_sync_bare() -> u64 {
    (0..CALLS).map(|i| bare(black_box(i)).unwrap_or(0)).sum()
}

#[inline(never)]
fn loop_sync_observed() -> u64 {
    (0..CALLS)
        .map(|i| observed(black_box(i)).unwrap_or(0))
        .sum()
}

#[inline(never)]
fn loop_async_bare() -> u64 {
    (0..CALLS)
        .map(|i| futures::executor::block_on(bare_async(black_box(i))).unwrap_or(0))
        .sum()
}

#[inline(never)]
fn loop_async_observed() -> u64 {
    (0..CALLS)
        .map(|i| futures::executor::block_on(observed_async(black_box(i))).unwrap_or(0))
        .sum()
}

/// Each iteration makes three calls; `scripts/call_instructions.sh` divides by them.
#[inline(never)]
fn loop_nested_bare() -> u64 {
    (0..CALLS / 3)
        .map(|i| futures::executor::block_on(bare_nested(black_box(i))).unwrap_or(0))
        .sum()
}

#[inline(never)]
fn loop_nested_observed() -> u64 {
    (0..CALLS / 3)
        .map(|i| futures::executor::block_on(observed_nested(black_box(i))).unwrap_or(0))
        .sum()
}

fn main() {
    let spans = match std::env::var("CALL_INSTRUCTIONS_CONFIG").as_deref() {
        Err(_) | Ok("metrics") => false,
        Ok("spans") => true,
        Ok(other) => panic!("CALL_INSTRUCTIONS_CONFIG is metrics or spans, not {other:?}"),
    };
    // Only with spans: a runtime's threads are not what the metrics-only loops measure.
    let receiver_runtime = spans.then(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime for the receiver")
    });
    let mut builder = observe::builder().without_metrics_listener();
    let receiver = receiver_runtime
        .as_ref()
        .map(|runtime| runtime.block_on(otlp::Receiver::start_counting()));
    if let Some(receiver) = &receiver {
        builder = builder
            .otlp_endpoint(receiver.endpoint())
            .trace_sample_ratio(0.1);
    }
    let observe = builder.init().expect("observe starts");
    // One call each first: the first call of a site registers it and claims the thread's
    // stripe, which the loops should not count.
    black_box(observed(1).ok());
    black_box(futures::executor::block_on(observed_async(1)).ok());
    black_box(futures::executor::block_on(observed_nested(1)).ok());
    black_box(loop_sync_bare());
    black_box(loop_sync_observed());
    black_box(loop_async_bare());
    black_box(loop_async_observed());
    black_box(loop_nested_bare());
    black_box(loop_nested_observed());
    if let Some(receiver) = receiver {
        observe.flush_spans();
        // The export path ran: spans reached the receiver (the sampled tenth).
        assert!(receiver.span_count() > 0, "no span was exported");
    }
}
