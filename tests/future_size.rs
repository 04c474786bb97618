//! What `#[instrumented]` adds to an async fn's future, which the caller stores (in its own
//! future, or boxed by a framework such as axum) and moves: the call's span and guard,
//! held across every `.await`. Printed beside what `#[tracing::instrument]` adds
//! (`cargo test --test future_size -- --nocapture`); README.md's Overhead section quotes
//! the figures.

use std::mem::size_of_val;

use observe::instrumented;

async fn bare(id: u64) -> Result<u64, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(id)
}

#[instrumented(service = "shapes")]
async fn observed(id: u64) -> Result<u64, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(id)
}

#[tracing::instrument]
async fn traced(id: u64) -> Result<u64, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(id)
}

/// The call's span is 152 bytes (its `tracing` span, observe's own span and the recorded
/// arguments) and its guard 56; a future holds both across its awaits, beside the body's
/// own future. 2 × 8 of slack for the layout the compiler picks.
const ADDED_AT_MOST: usize = 152 + 56 + 2 * 8 + 16;

#[test]
fn an_instrumented_future_holds_its_span_and_guard_and_no_more() {
    let bare = size_of_val(&bare(7));
    let observed = size_of_val(&observed(7));
    let traced = size_of_val(&traced(7));
    println!(
        "future of the same async fn: bare {bare} bytes, #[instrumented] {observed} (+{}), \
         #[tracing::instrument] {traced} (+{})",
        observed - bare,
        traced - bare
    );
    assert!(
        observed - bare <= ADDED_AT_MOST,
        "#[instrumented] adds {} bytes to the future, more than {ADDED_AT_MOST}",
        observed - bare
    );
}
