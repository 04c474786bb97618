//! The per-call guard: started on entry, it records duration, outcome and failures exactly
//! once, on every exit path: normal return, `?`, panic (while unwinding) and an async
//! future dropped before completion.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tracing::Span;

use crate::names::PANIC_ERROR_TYPE;
use crate::outcome::Outcome;
use crate::site::CallSite;
use crate::storage::Storage;

/// Guards one call of an instrumented function.
#[doc(hidden)]
pub struct CallGuard {
    /// `None` when the call started before `init`: then nothing is recorded for it.
    storage: Option<&'static Storage>,
    /// The raw clock reading at entry (one TSC read; scaled only at exit).
    start: u64,
    span: Span,
    outcome: Option<Outcome>,
    /// Set when a poll of the call's future unwound: the executor may drop the future
    /// only after catching the panic, when `std::thread::panicking()` is false again.
    poll_panicked: AtomicBool,
}

impl CallGuard {
    // Inlined into every instrumented function in optimised builds only: in debug builds
    // that would only slow their compilation.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn start(site: &'static CallSite, span: Span) -> Self {
        let storage = site.storage();
        let start = match storage {
            Some(storage) => {
                storage.start();
                storage.now()
            }
            None => 0,
        };
        CallGuard {
            storage,
            start,
            span,
            outcome: None,
            poll_panicked: AtomicBool::new(false),
        }
    }

    /// The call's span, to enter around the body.
    #[inline]
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Records the outcome of a call that returned; the guard records nothing more on drop.
    #[inline]
    pub fn finish(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }
}

impl Drop for CallGuard {
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn drop(&mut self) {
        match (self.outcome, self.storage) {
            (Some(Outcome::Success), Some(storage)) => storage.finish(self.start, Outcome::Success),
            _ => self.record_other(),
        }
    }
}

impl CallGuard {
    /// Every exit but a success after `init`: failures, panics, cancellations, and calls
    /// that started before `init` (recorded nowhere).
    #[inline(never)]
    fn record_other(&mut self) {
        let outcome = match self.outcome {
            Some(outcome) => outcome,
            None if std::thread::panicking() || self.poll_panicked.load(Ordering::Relaxed) => {
                Outcome::Failure {
                    error_type: PANIC_ERROR_TYPE,
                }
            }
            None => Outcome::Cancelled,
        };
        if let Outcome::Failure { error_type } = outcome {
            mark_span_failed(&self.span, error_type);
        }
        if let Some(storage) = self.storage {
            storage.finish(self.start, outcome);
        }
    }
}

/// Same `error.type` on the span as on the metrics, and the OpenTelemetry error status.
#[cold]
fn mark_span_failed(span: &Span, error_type: &'static str) {
    span.record("error.type", error_type);
    span.record("otel.status_code", "ERROR");
}

/// Polls an instrumented async body inside the call's span and notes a panic that unwinds
/// out of a poll.
#[doc(hidden)]
pub struct CallFuture<'g, F> {
    inner: F,
    guard: &'g CallGuard,
}

impl<'g, F: Future> CallFuture<'g, F> {
    #[inline]
    pub fn new(inner: F, guard: &'g CallGuard) -> Self {
        CallFuture { inner, guard }
    }
}

impl<F: Future> Future for CallFuture<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is structurally pinned: it is never moved out of `self`, and
        // `CallFuture` has no `Drop` impl nor `Unpin` impl of its own.
        let this = unsafe { self.get_unchecked_mut() };
        let inner = unsafe { Pin::new_unchecked(&mut this.inner) };
        let _entered = this.guard.span.enter();
        let unwinding = PanicFlag(&this.guard.poll_panicked);
        let poll = inner.poll(cx);
        core::mem::forget(unwinding);
        poll
    }
}

/// Sets its flag when dropped, which happens only if the poll unwinds.
struct PanicFlag<'a>(&'a AtomicBool);

impl Drop for PanicFlag<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
