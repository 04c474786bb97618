//! The observe call spans a thread is inside, innermost last: pushed when a call's body
//! runs (a synchronous call, or one poll of an async one), popped when it stops.
//!
//! They stand in for the `tracing` span a call no longer creates when spans are observe's
//! own (`super::call_trace`): a nested instrumented call takes its parent from here, log
//! events their `trace_id` and `span_id`, `propagation::inject` the context it writes.
//! A `tracing` span created inside a call (an HTTP client's, a database driver's) needs
//! its OpenTelemetry parent in the OpenTelemetry context, which costs an allocation to set;
//! so the innermost call is put there only when such a span is created
//! ([`attach_innermost`], called by the subscriber's parent layer), and taken off when the
//! call's frame is popped.

use std::cell::RefCell;
use std::sync::Arc;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context as OtelContext, ContextGuard};

use super::call_trace::{CallIds, VendorState};

/// What a call's children and events need of it: its trace, its span, whether sampled.
struct Frame {
    trace_id: u128,
    span_id: u64,
    sampled: bool,
    trace_state: VendorState,
    /// Set once the frame's context was put in the OpenTelemetry context.
    attached: Option<ContextGuard>,
}

thread_local! {
    // Grows to the deepest nesting once, then is reused: no allocation per call.
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's frames; `None` once the thread has torn them down (a call
/// from another thread-local's destructor then has no frame, rather than a panic).
#[inline]
fn with_frames<R>(f: impl FnOnce(&RefCell<Vec<Frame>>) -> R) -> Option<R> {
    FRAMES.try_with(f).ok()
}

/// Pushes a call's frame; the returned value pops it when dropped.
#[inline]
pub(crate) fn push(ids: &CallIds, trace_state: &VendorState) -> Pushed {
    let pushed = with_frames(|frames| {
        let mut frames = frames.borrow_mut();
        let len = frames.len();
        if len == frames.capacity() {
            grow(&mut frames);
        }
        // Written in its slot, field by field: a frame built on the stack and then moved
        // in (`Vec::push`, around its growth check), or a whole `CallIds` copied in, was
        // read back in wide loads right after its last narrow stores (the `sampled` flag
        // is written last when a call starts), a stall `perf annotate` put at 9% of an
        // unsampled call.
        frames.spare_capacity_mut()[0].write(Frame {
            trace_id: ids.trace_id(),
            span_id: ids.span_id,
            sampled: ids.sampled,
            trace_state: trace_state.clone(),
            attached: None,
        });
        // SAFETY: the slot past the length was just initialised, within the capacity.
        unsafe { frames.set_len(len + 1) };
    });
    Pushed(pushed.is_some())
}

#[cold]
#[inline(never)]
fn grow(frames: &mut Vec<Frame>) {
    frames.reserve(8);
}

/// Pops the frame [`push`] pushed (if it could: not once the thread tore its frames
/// down).
pub(crate) struct Pushed(bool);

impl Drop for Pushed {
    // Only the test inline: an enclosing `Option<Pushed>` that is `None` (every call when
    // spans are not exported) then costs a compare, not a call of its drop glue.
    #[inline(always)]
    fn drop(&mut self) {
        if self.0 {
            pop();
        }
    }
}

/// Pops the innermost frame.
#[inline(never)]
fn pop() {
    // The frame's two fields that own something are taken out, and the rest (plain
    // values) left behind by shortening the `Vec`: no frame is moved out whole, and no
    // drop loop runs (`truncate`'s, which was most of this function). The context guard
    // drops after the borrow ends: dropping it must not run inside it.
    let taken = with_frames(|frames| {
        let mut frames = frames.borrow_mut();
        let innermost = frames.len().checked_sub(1)?;
        // Every field named: one added to `Frame` must be considered here.
        let Frame {
            trace_id: _,
            span_id: _,
            sampled: _,
            trace_state,
            attached,
        } = &mut frames[innermost];
        let taken = (attached.take(), trace_state.take());
        // SAFETY: the length only shrinks, and what the frame left behind owns nothing
        // (its two owning fields were just taken), so nothing is leaked.
        unsafe { frames.set_len(innermost) };
        Some(taken)
    });
    drop(taken);
}

/// What a span or event starting now on this thread belongs to.
pub(crate) enum Innermost<T = SpanContext> {
    /// No observe call is running here.
    None,
    /// An observe call, with no `tracing` span created inside it so far: its span
    /// context ([`innermost`]), or its trace and span ids ([`innermost_ids`]).
    Call(T),
    /// An observe call whose context is in the OpenTelemetry context: whatever that
    /// context holds now (the call, or a `tracing` span inside it) is innermost.
    OtelContext,
}

/// See [`Innermost`].
pub(crate) fn innermost() -> Innermost {
    innermost_as(Frame::span_context)
}

/// [`innermost`] with only the call's trace and span ids: what a log line writes, without
/// building a `SpanContext` (its `TraceState` cloned) to read them back from.
pub(crate) fn innermost_ids() -> Innermost<(u128, u64)> {
    innermost_as(|frame| (frame.trace_id, frame.span_id))
}

#[inline]
fn innermost_as<T>(call: impl FnOnce(&Frame) -> T) -> Innermost<T> {
    with_frames(|frames| match frames.borrow().last() {
        None => Innermost::None,
        Some(frame) if frame.attached.is_some() => Innermost::OtelContext,
        Some(frame) => Innermost::Call(call(frame)),
    })
    .unwrap_or(Innermost::None)
}

/// Continues the parent of a call starting now into its `ids` (trace id, parent span id,
/// whether remote) and `trace_state`: the innermost observe call, else the current
/// OpenTelemetry context's span (a `tracing` span's, activated when it was entered).
/// Whether the parent was sampled; `None`, with nothing written, if there is none.
///
/// Written into the call's own span where it lives: a parent returned by value was
/// copied twice more, in wide loads over its flags' narrow stores, the hottest loads in
/// `perf annotate` of a call continuing an OpenTelemetry context. (The call took as long
/// without them on the AMD host measured: its two TSC reads then took those samples.)
#[inline]
pub(crate) fn continue_current(ids: &mut CallIds, trace_state: &mut VendorState) -> Option<bool> {
    let from_frame = with_frames(|frames| {
        let frames = frames.borrow();
        let frame = frames.last()?;
        if frame.attached.is_some() {
            // A `tracing` span may be inside the call: the context decides.
            return Some(None);
        }
        ids.set_trace_id(frame.trace_id);
        ids.parent_span_id = frame.span_id;
        ids.parent_remote = false;
        trace_state.clone_from(&frame.trace_state);
        Some(Some(frame.sampled))
    });
    match from_frame {
        Some(Some(Some(sampled))) => Some(sampled),
        Some(_) => OtelContext::map_current(|cx| {
            continue_context(cx.span().span_context(), ids, trace_state)
        }),
        // The thread is tearing its thread-locals down: OpenTelemetry's context may be
        // gone too (reading it then panics), so the call starts a trace of its own.
        None => None,
    }
}

/// Continues the span `cx` (an OpenTelemetry context's, or a remote caller's) into a
/// starting call's `ids` and `trace_state`, as [`continue_current`] does; `None`, with
/// nothing written, if `cx` is not valid.
pub(crate) fn continue_context(
    cx: &SpanContext,
    ids: &mut CallIds,
    trace_state: &mut VendorState,
) -> Option<bool> {
    cx.is_valid().then(|| {
        ids.set_trace_id(u128::from_be_bytes(cx.trace_id().to_bytes()));
        ids.parent_span_id = u64::from_be_bytes(cx.span_id().to_bytes());
        ids.parent_remote = cx.is_remote();
        *trace_state = vendor_state(cx.trace_state());
        cx.is_sampled()
    })
}

/// A `tracestate` as call spans keep it: shared if present.
fn vendor_state(state: &TraceState) -> VendorState {
    (*state != TraceState::NONE).then(|| Arc::new(state.clone()))
}

/// A call span's OpenTelemetry identity (what its export carries: `call_export`'s tests).
#[cfg(all(test, feature = "otlp"))]
pub(crate) fn span_context(ids: CallIds, trace_state: &VendorState) -> SpanContext {
    local_span_context(ids.trace_id(), ids.span_id, ids.sampled, trace_state)
}

fn local_span_context(
    trace_id: u128,
    span_id: u64,
    sampled: bool,
    trace_state: &VendorState,
) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(
        TraceId::from(trace_id),
        SpanId::from(span_id),
        flags,
        false,
        trace_state.as_deref().cloned().unwrap_or(TraceState::NONE),
    )
}

impl Frame {
    fn span_context(&self) -> SpanContext {
        local_span_context(self.trace_id, self.span_id, self.sampled, &self.trace_state)
    }
}

/// Puts the innermost observe call's context in the OpenTelemetry context, unless it is
/// there already: a `tracing` span created now becomes its child.
pub(crate) fn attach_innermost() {
    with_frames(|frames| {
        let mut frames = frames.borrow_mut();
        if let Some(frame) = frames.last_mut()
            && frame.attached.is_none()
        {
            let cx = frame.span_context();
            frame.attached = Some(OtelContext::current().with_remote_span_context(cx).attach());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(span_id: u64) -> CallIds {
        let mut ids = CallIds::UNSTARTED;
        ids.set_trace_id(7);
        ids.span_id = span_id;
        ids
    }

    #[test]
    fn frames_nest_and_pop() {
        std::thread::spawn(|| {
            assert!(matches!(innermost(), Innermost::None));
            let outer = push(&ids(1), &None);
            {
                let _inner = push(&ids(2), &None);
                let Innermost::Call(cx) = innermost() else {
                    panic!("no frame")
                };
                assert_eq!(u64::from_be_bytes(cx.span_id().to_bytes()), 2);
            }
            let Innermost::Call(cx) = innermost() else {
                panic!("no frame")
            };
            assert_eq!(u64::from_be_bytes(cx.span_id().to_bytes()), 1);
            drop(outer);
            assert!(matches!(innermost(), Innermost::None));
        })
        .join()
        .unwrap();
    }

    /// A call from a thread-local's destructor after the thread's frames are gone (a
    /// logger flushing at thread exit, say) runs without a frame instead of panicking.
    #[test]
    fn a_call_after_the_frames_are_torn_down_has_none() {
        struct CallsOnDrop;
        impl Drop for CallsOnDrop {
            fn drop(&mut self) {
                let pushed = push(&ids(3), &None);
                assert!(!pushed.0, "the frames were torn down first");
                assert!(matches!(innermost(), Innermost::None));
                let mut ids = CallIds::UNSTARTED;
                assert_eq!(continue_current(&mut ids, &mut None), None);
            }
        }
        thread_local! {
            static LATE: CallsOnDrop = const { CallsOnDrop };
        }
        std::thread::spawn(|| {
            // Registered before the frames: destructors run in reverse, so this one last.
            LATE.with(|_| {});
            drop(push(&ids(1), &None));
        })
        .join()
        .unwrap();
    }
}
