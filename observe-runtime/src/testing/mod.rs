//! `observe::testing`: run a closure or a future and get what its `#[instrumented]`
//! functions recorded, without `init`, a port or a scrape. It may use `instrumented`,
//! `serve` (the exposition format), `storage` and leaves.
//!
//! Each capture counts apart: the calls made on the capturing thread (or in the captured
//! future, whichever threads poll it) go to storages of the capture's own, so `#[test]`s
//! running in parallel threads of one binary each see only their own calls. The capture
//! is consulted only on the path a call takes while observe is not initialised, so it
//! costs a warm call nothing; in a process where `init` has run, calls are recorded by
//! the real storage instead and a capture sees none of them.

mod recorded;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub use recorded::{Calls, Recorded, Series};

use crate::instrumented::Capture;

/// Runs `f` and returns its value with what the `#[instrumented]` functions it called on
/// this thread recorded.
///
/// ```
/// let (value, recorded) = observe_runtime::testing::capture(|| 1 + 1);
/// assert_eq!(value, 2);
/// assert!(recorded.exposition().is_empty());
/// ```
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Recorded) {
    let capture = Capture::new();
    let value = {
        let _entered = crate::instrumented::capture_enter(&capture);
        f()
    };
    (value, Recorded::new(capture.snapshots()))
}

/// Awaits `future` and returns its output with what the `#[instrumented]` functions
/// called while polling it recorded, on whichever threads it was polled.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (value, recorded) = observe_runtime::testing::capture_future(async { 2 }).await;
/// assert_eq!(value, 2);
/// assert!(recorded.exposition().is_empty());
/// # });
/// ```
pub async fn capture_future<F: Future>(future: F) -> (F::Output, Recorded) {
    let capture = Capture::new();
    let value = Captured {
        future: Box::pin(future),
        capture: Arc::clone(&capture),
    }
    .await;
    (value, Recorded::new(capture.snapshots()))
}

/// A future polled with its capture current on the polling thread.
struct Captured<F> {
    future: Pin<Box<F>>,
    capture: Arc<Capture>,
}

impl<F: Future> Future for Captured<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _entered = crate::instrumented::capture_enter(&self.capture);
        self.future.as_mut().poll(cx)
    }
}
