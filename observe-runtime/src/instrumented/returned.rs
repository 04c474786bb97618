//! What a synchronous instrumented function returned, recognised by its type rather than
//! its spelling: a future behind an alias or a named type (`BoxFuture`, `LocalBoxFuture`,
//! a team's own alias of `Pin<Box<dyn Future>>`, `std::future::Ready<T>`) is measured until
//! it completes and classified by its output; any other value when the function returns.
//!
//! Autoref specialisation at the call site picks a zero-sized *tag* from the value's type
//! (`(&&Returned(&value)).__observe_returned()`), and the tag's `finish` takes the value by
//! value and returns it with the same type. It borrows the call's guard where it lies: a
//! guard moved in was read back right after its last narrow stores (its flags), a
//! store-forwarding stall `perf annotate` put at a quarter of a metrics-only call's own
//! samples. The classifier is a closure written by the macro, where the output's type is
//! concrete, so `Classify` can specialise on it too; it gets the call's span for `ret` /
//! `err` events.

use std::future::{Future, Ready};
use std::pin::Pin;

use super::span::CallSpan;

use super::call_guard::{CallFuture, CallGuard};
use crate::outcome::Outcome;

/// Wraps a reference to a return value to pick its tag; see the module docs.
#[doc(hidden)]
pub struct Returned<'a, T>(pub &'a T);

/// A `Send` boxed future (`futures::future::BoxFuture` and any alias of
/// `Pin<Box<dyn Future<Output = T> + Send + 'a>>`).
#[doc(hidden)]
pub trait ReturnedSendFuture {
    #[inline(always)]
    fn __observe_returned(&self) -> SendFutureTag {
        SendFutureTag
    }
}

impl<'f, O> ReturnedSendFuture for &&Returned<'_, Pin<Box<dyn Future<Output = O> + Send + 'f>>> {}

/// A boxed future that is not `Send` (`futures::future::LocalBoxFuture`).
#[doc(hidden)]
pub trait ReturnedLocalFuture {
    #[inline(always)]
    fn __observe_returned(&self) -> LocalFutureTag {
        LocalFutureTag
    }
}

impl<'f, O> ReturnedLocalFuture for &&Returned<'_, Pin<Box<dyn Future<Output = O> + 'f>>> {}

/// `std::future::Ready<T>`: its output exists already.
#[doc(hidden)]
pub trait ReturnedReady {
    #[inline(always)]
    fn __observe_returned(&self) -> ReadyTag {
        ReadyTag
    }
}

impl<O> ReturnedReady for &&Returned<'_, Ready<O>> {}

/// Every other value: the call ends when the function returns. (A named future type
/// other than the above cannot be wrapped without changing the function's return type;
/// it is measured as it is created.)
#[doc(hidden)]
pub trait ReturnedValue {
    #[inline(always)]
    fn __observe_returned(&self) -> ValueTag {
        ValueTag
    }
}

impl<T> ReturnedValue for Returned<'_, T> {}

#[doc(hidden)]
pub struct ValueTag;

impl ValueTag {
    /// Records the call's outcome now and returns the value unchanged.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn finish<T>(
        self,
        value: T,
        guard: &mut CallGuard<'_>,
        classify: impl FnOnce(&T, &CallSpan) -> Outcome,
    ) -> T {
        let outcome = classify(&value, guard.span());
        guard.finish(outcome);
        value
    }
}

#[doc(hidden)]
pub struct SendFutureTag;

impl SendFutureTag {
    /// The same boxed future, wrapped so the call ends when it completes.
    #[inline]
    pub fn finish<'f, O: 'f>(
        self,
        future: Pin<Box<dyn Future<Output = O> + Send + 'f>>,
        guard: &mut CallGuard<'_>,
        classify: impl FnOnce(&O, &CallSpan) -> Outcome + Send + 'f,
    ) -> Pin<Box<dyn Future<Output = O> + Send + 'f>> {
        let span = guard.span().clone();
        let call = guard.hand_over();
        Box::pin(async move {
            let mut guard = CallGuard::resume(call, &span);
            let output = CallFuture::new(future, &guard).await;
            guard.finish(classify(&output, &span));
            output
        })
    }
}

#[doc(hidden)]
pub struct LocalFutureTag;

impl LocalFutureTag {
    /// The same boxed future, wrapped so the call ends when it completes.
    #[inline]
    pub fn finish<'f, O: 'f>(
        self,
        future: Pin<Box<dyn Future<Output = O> + 'f>>,
        guard: &mut CallGuard<'_>,
        classify: impl FnOnce(&O, &CallSpan) -> Outcome + 'f,
    ) -> Pin<Box<dyn Future<Output = O> + 'f>> {
        let span = guard.span().clone();
        let call = guard.hand_over();
        Box::pin(async move {
            let mut guard = CallGuard::resume(call, &span);
            let output = CallFuture::new(future, &guard).await;
            guard.finish(classify(&output, &span));
            output
        })
    }
}

#[doc(hidden)]
pub struct ReadyTag;

impl ReadyTag {
    /// A ready future's output is known now: classified by it, returned in a new `Ready`.
    #[inline]
    pub fn finish<O>(
        self,
        future: Ready<O>,
        guard: &mut CallGuard<'_>,
        classify: impl FnOnce(&O, &CallSpan) -> Outcome,
    ) -> Ready<O> {
        let output = future.into_inner();
        let outcome = classify(&output, guard.span());
        guard.finish(outcome);
        std::future::ready(output)
    }
}
