//! `observe::testing`: run a closure or a future and get what its `#[instrumented]`
//! functions and its `counter!`, `gauge!` and `histogram!` calls recorded, without
//! `init`, a port or a scrape. It may use `instrumented`, `metrics`, `serve` (the
//! exposition format), `storage` and leaves.
//!
//! Each capture counts apart: the calls made on the capturing thread (or in the captured
//! future, whichever threads poll it) go to storages and series of the capture's own,
//! so `#[test]`s running in parallel threads of one binary each see only their own calls.
//! The capture is consulted only on the path a call takes while observe is not
//! initialised, so it costs a warm call nothing; in a process where `init` has run, calls
//! are recorded by the real storage and recorder instead and a capture sees none of them.
//!
//! # Example
//! ```
//! use observe::testing;
//!
//! #[observe::instrumented(service = "parsing")]
//! fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
//!     raw.parse()
//! }
//!
//! let (sum, recorded) = testing::capture(|| {
//!     observe::counter!("copilot_parsing_bytes_total", help = "Bytes read.").increment(3);
//!     parse("1").unwrap_or(0) + parse("x").unwrap_or(0)
//! });
//! assert_eq!(sum, 1);
//! assert_eq!(recorded.calls("parse").failure, 1);
//! assert_eq!(recorded.value("copilot_parsing_bytes_total", &[]), 3.0);
//! ```

mod recorded;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub use recorded::{Calls, Recorded, Series};

use crate::instrumented::Capture;
use crate::metrics::MetricCapture;
use crate::serve::metric_exposition;

/// The `environment` label of a capture's series.
const ENVIRONMENT: &str = "test";

/// Runs `f` and returns its value with what the `#[instrumented]` functions it called,
/// and the `counter!`, `gauge!` and `histogram!` calls it made, on this thread recorded.
///
/// ```
/// let (value, recorded) = observe_runtime::testing::capture(|| 1 + 1);
/// assert_eq!(value, 2);
/// assert!(recorded.exposition().is_empty());
/// ```
pub fn capture<R>(f: impl FnOnce() -> R) -> (R, Recorded) {
    let scope = Scope::new();
    let value = {
        let _entered = scope.enter();
        f()
    };
    (value, scope.recorded())
}

/// Awaits `future` and returns its output with what the `#[instrumented]` functions and
/// metric macros called while polling it recorded, on whichever threads it was polled.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (value, recorded) = observe_runtime::testing::capture_future(async { 2 }).await;
/// assert_eq!(value, 2);
/// assert!(recorded.exposition().is_empty());
/// # });
/// ```
pub async fn capture_future<F: Future>(future: F) -> (F::Output, Recorded) {
    let scope = Scope::new();
    let value = Captured {
        future: Box::pin(future),
        scope: scope.clone(),
    }
    .await;
    (value, scope.recorded())
}

/// One capture's two halves: the call sites' storages, and the metric sites' series.
#[derive(Clone)]
struct Scope {
    calls: Arc<Capture>,
    metrics: Arc<MetricCapture>,
}

impl Scope {
    fn new() -> Scope {
        Scope {
            calls: Capture::new(),
            metrics: MetricCapture::new(),
        }
    }

    /// Makes the capture this thread's until the returned value drops.
    fn enter(&self) -> impl Sized + use<> {
        (
            crate::instrumented::capture_enter(&self.calls),
            crate::metrics::capture_enter(&self.metrics),
        )
    }

    fn recorded(&self) -> Recorded {
        // Rendered as `/metrics` renders them, so a test reads what a scrape would.
        let mut metric_text = String::new();
        metric_exposition::append(&mut metric_text, ENVIRONMENT, &self.metrics.read());
        Recorded::new(metric_text, self.calls.snapshots())
    }
}

/// A future polled with its capture current on the polling thread.
struct Captured<F> {
    future: Pin<Box<F>>,
    scope: Scope,
}

impl<F: Future> Future for Captured<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _entered = self.scope.enter();
        self.future.as_mut().poll(cx)
    }
}
