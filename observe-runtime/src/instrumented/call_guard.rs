//! The per-call guard: started on entry, it records duration, outcome and failures exactly
//! once, on every exit path: normal return, `?`, panic (while unwinding) and an async
//! future dropped before completion.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use super::call_site::CallSite;
use super::call_trace::{FinishedCall, call_tracing};
use super::span::CallSpan;
use crate::names::PANIC_ERROR_TYPE;
use crate::outcome::Outcome;
use crate::storage::{Storage, Stripe};

/// Guards one call of an instrumented function. It borrows the call's span, which the
/// expansion keeps in a local of its own: moving a span into every guard costs a copy.
#[doc(hidden)]
pub struct CallGuard<'s> {
    /// `None` when the call started before `init`: then no metric is recorded for it.
    call: Option<Call>,
    /// Set once the call's outcome is recorded; on drop, an unfinished call is a panic or
    /// a cancellation.
    finished: bool,
    span: &'s CallSpan,
    /// Set when a poll of the call's future unwound: the executor may drop the future
    /// only after catching the panic, when `std::thread::panicking()` is false again.
    poll_panicked: AtomicBool,
}

/// The metric side of one call.
#[derive(Clone, Copy)]
struct Call {
    storage: &'static Storage,
    /// The raw clock reading at entry (one TSC read; scaled only at render).
    start: u64,
    /// The stripe the call started on, reused at its end by a synchronous call, which
    /// ends on the thread it started on; an async call may end on another thread.
    stripe: Option<Stripe<'static>>,
}

impl Call {
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn record(&self, outcome: Outcome) -> u64 {
        self.storage.finish(self.stripe(), self.start, outcome)
    }

    /// The stripe the call ends on: its start's (a synchronous call), else this thread's.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn stripe(&self) -> Stripe<'static> {
        match self.stripe {
            Some(stripe) => stripe,
            None => self.storage.stripe(),
        }
    }
}

impl<'s> CallGuard<'s> {
    /// Starts a synchronous call: it ends on the thread it starts on.
    // Inlined into every instrumented function in optimised builds only: in debug builds
    // that would only slow their compilation.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn start(site: &'static CallSite, span: &'s CallSpan) -> Self {
        Self::begin(site, span, true)
    }

    /// Starts an async call, whose future may finish on another thread.
    #[inline]
    pub fn start_async(site: &'static CallSite, span: &'s CallSpan) -> Self {
        Self::begin(site, span, false)
    }

    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn begin(site: &'static CallSite, span: &'s CallSpan, same_thread: bool) -> Self {
        // A `match`, not `Option::map`: a closure is not `inline(always)`, and where the
        // compiler declined to inline it the call's state came back through memory, which
        // cost 17 ns per call (a bench with the instrumented function in another module).
        let call = match site.storage() {
            Some(storage) => {
                // The clock first: counting the start overlaps the clock read's latency.
                let start = storage.now();
                let stripe = storage.start();
                Some(Call {
                    storage,
                    start,
                    stripe: same_thread.then_some(stripe),
                })
            }
            None => None,
        };
        CallGuard {
            call,
            finished: false,
            span,
            poll_panicked: AtomicBool::new(false),
        }
    }

    /// Records the outcome of a call that returned; the guard records nothing more on drop.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn finish(&mut self, outcome: Outcome) {
        self.finished = true;
        // Fields read in place: copying the call out of the guard would reload it whole
        // right after its fields were stored, which stalls store-to-load forwarding.
        match (&outcome, &self.call) {
            (Outcome::Success, Some(call)) => match self.span.own() {
                Some(own) if own.ids.sampled => record_sampled(call, self.span, outcome, None),
                _ => {
                    call.record(Outcome::Success);
                }
            },
            _ => self.record_unsuccessful(outcome),
        }
    }

    /// A failure, or any outcome of a call that started before `init` (recorded nowhere).
    #[inline(never)]
    fn record_unsuccessful(&self, outcome: Outcome) {
        let error_type = match outcome {
            Outcome::Failure { error_type } => {
                mark_span_failed(self.span.tracing_span(), error_type);
                Some(error_type)
            }
            _ => None,
        };
        if let Some(call) = &self.call {
            match self.span.own() {
                Some(own) if own.ids.sampled => {
                    record_sampled(call, self.span, outcome, error_type)
                }
                // Every failure is exported, whatever the head sampler said.
                Some(_) if error_type.is_some() => {
                    let end = call.record(outcome);
                    export(self.span, call.start, end, error_type);
                }
                _ => {
                    call.record(outcome);
                }
            }
        }
    }
}

/// A call of a sampled trace: recorded with its trace id as its bucket's exemplar, and
/// its span exported. Off the inlined path (one call in ten at the usual ratio).
#[inline(never)]
fn record_sampled(
    call: &Call,
    span: &CallSpan,
    outcome: Outcome,
    error_type: Option<&'static str>,
) {
    let end = match span.own() {
        Some(own) => {
            call.storage
                .finish_sampled(call.stripe(), call.start, outcome, own.ids.trace_id())
        }
        None => call.record(outcome),
    };
    export(span, call.start, end, error_type);
}

impl<'s> CallGuard<'s> {
    /// Hands a started synchronous call over to the future it returned (a future behind
    /// an alias or a named type, recognised by its type): the guard records nothing more,
    /// and [`CallGuard::resume`] continues the same call where the future runs.
    #[inline]
    pub(crate) fn hand_over(&mut self) -> Option<HandedOver> {
        self.finished = true;
        // The future may complete on another thread: its stripe, not the start's.
        self.call.take().map(|call| {
            HandedOver(Some(Call {
                stripe: None,
                ..call
            }))
        })
    }

    /// The guard of a call handed over by [`CallGuard::hand_over`], in the future's span.
    #[inline]
    pub(crate) fn resume(call: Option<HandedOver>, span: &'s CallSpan) -> Self {
        CallGuard {
            call: call.and_then(|mut handed| handed.0.take()),
            finished: false,
            span,
            poll_panicked: AtomicBool::new(false),
        }
    }

    /// The guard's span (the span a handed-over call continues in).
    pub(crate) fn span(&self) -> &'s CallSpan {
        self.span
    }
}

/// A started call on its way from a function into the future it returned. A future
/// dropped before its first poll never resumes it: then the call was cancelled.
pub(crate) struct HandedOver(Option<Call>);

impl Drop for HandedOver {
    fn drop(&mut self) {
        if let Some(call) = self.0.take() {
            call.record(if std::thread::panicking() {
                Outcome::Failure {
                    error_type: PANIC_ERROR_TYPE,
                }
            } else {
                Outcome::Cancelled
            });
        }
    }
}

impl Drop for CallGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if !self.finished {
            self.record_unfinished();
        }
    }
}

impl CallGuard<'_> {
    /// A call that never returned: it panicked, or its future was dropped before it
    /// completed.
    #[cold]
    #[inline(never)]
    fn record_unfinished(&mut self) {
        let outcome = if std::thread::panicking() || self.poll_panicked.load(Ordering::Relaxed) {
            Outcome::Failure {
                error_type: PANIC_ERROR_TYPE,
            }
        } else {
            Outcome::Cancelled
        };
        self.record_unsuccessful(outcome);
    }
}

/// Hands observe's own span of a call that ended to the exporter, off the hot path. Its
/// end is the metrics' (one clock read for both): the span lasts as long as the duration
/// its bucket's exemplar links it to.
#[cold]
#[inline(never)]
fn export(span: &CallSpan, start: u64, end: u64, error_type: Option<&'static str>) {
    if let (Some(own), Some(tracing)) = (span.own(), call_tracing()) {
        (tracing.export)(FinishedCall {
            trace: own.clone(),
            args: span.args().clone(),
            start,
            end,
            error_type,
        });
    }
}

/// Same `error.type` on the span as on the metrics, and the OpenTelemetry error status.
#[cold]
fn mark_span_failed(span: &tracing::Span, error_type: &'static str) {
    span.record("error.type", error_type);
    span.record("otel.status_code", "ERROR");
}

/// Polls an instrumented async body inside the call's span and notes a panic that unwinds
/// out of a poll.
#[doc(hidden)]
pub struct CallFuture<'g, 's, F> {
    inner: F,
    guard: &'g CallGuard<'s>,
}

impl<'g, 's, F: Future> CallFuture<'g, 's, F> {
    #[inline]
    pub fn new(inner: F, guard: &'g CallGuard<'s>) -> Self {
        CallFuture { inner, guard }
    }
}

impl<F: Future> Future for CallFuture<'_, '_, F> {
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
