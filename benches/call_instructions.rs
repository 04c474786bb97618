//! Instructions per call, counted rather than timed: loops of 100,000 calls of the tiny
//! handler, bare and with `#[instrumented]`, sync and async, under `observe::init()`'s
//! defaults (metrics only). Timings of such calls are their two TSC reads (`overhead.rs`);
//! in a service, where the calls' code is not in the instruction cache, each instruction
//! counts. `scripts/call_instructions.sh` runs this under callgrind and divides each
//! loop's instructions by its calls; on its own it only runs the loops.

// Only the bare and observed variants are counted here; `overhead.rs` uses the rest.
#[allow(dead_code)]
#[path = "support/tiny.rs"]
mod tiny;

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

fn main() {
    let _observe = observe::builder()
        .without_metrics_listener()
        .init()
        .expect("observe starts");
    // One call each first: the first call of a site registers it and claims the thread's
    // stripe, which the loops should not count.
    black_box(observed(1).ok());
    black_box(futures::executor::block_on(observed_async(1)).ok());
    black_box(loop_sync_bare());
    black_box(loop_sync_observed());
    black_box(loop_async_bare());
    black_box(loop_async_observed());
}
