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

use super::call_trace::{CallIds, Parent, VendorState};

struct Frame {
    ids: CallIds,
    trace_state: VendorState,
    /// Set once the frame's context was put in the OpenTelemetry context.
    attached: Option<ContextGuard>,
}

thread_local! {
    // Grows to the deepest nesting once, then is reused: no allocation per call.
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// Pushes a call's frame; the returned value pops it when dropped.
#[inline]
pub(crate) fn push(ids: &CallIds, trace_state: &VendorState) -> Pushed {
    FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        let len = frames.len();
        if len == frames.capacity() {
            grow(&mut frames);
        }
        // Written in its slot: a frame built on the stack and then moved in (`Vec::push`,
        // around its growth check) was read back in wide loads right after its last
        // narrow stores, a stall `perf annotate` put at 9% of an unsampled call.
        frames.spare_capacity_mut()[0].write(Frame {
            ids: *ids,
            trace_state: trace_state.clone(),
            attached: None,
        });
        // SAFETY: the slot past the length was just initialised, within the capacity.
        unsafe { frames.set_len(len + 1) };
    });
    Pushed(())
}

#[cold]
#[inline(never)]
fn grow(frames: &mut Vec<Frame>) {
    frames.reserve(8);
}

/// Pops the frame [`push`] pushed.
pub(crate) struct Pushed(());

impl Drop for Pushed {
    #[inline]
    fn drop(&mut self) {
        // The context guard is taken out before it drops: dropping it must not run inside
        // the borrow. The frame is dropped where it is, not moved out whole.
        let attached = FRAMES.with(|frames| {
            let mut frames = frames.borrow_mut();
            let attached = frames.last_mut().and_then(|frame| frame.attached.take());
            let innermost = frames.len().saturating_sub(1);
            frames.truncate(innermost);
            attached
        });
        drop(attached);
    }
}

/// What a span or event starting now on this thread belongs to.
pub(crate) enum Innermost {
    /// No observe call is running here.
    None,
    /// An observe call, with no `tracing` span created inside it so far.
    Call(SpanContext),
    /// An observe call whose context is in the OpenTelemetry context: whatever that
    /// context holds now (the call, or a `tracing` span inside it) is innermost.
    OtelContext,
}

/// See [`Innermost`].
pub(crate) fn innermost() -> Innermost {
    FRAMES.with(|frames| match frames.borrow().last() {
        None => Innermost::None,
        Some(frame) if frame.attached.is_some() => Innermost::OtelContext,
        Some(frame) => Innermost::Call(span_context(frame.ids, &frame.trace_state)),
    })
}

/// The parent of a call starting now: the innermost observe call, else the current
/// OpenTelemetry context's span (a `tracing` span's, activated when it was entered).
#[inline]
pub(crate) fn current_parent() -> Option<Parent> {
    let from_frame = FRAMES.with(|frames| {
        let frames = frames.borrow();
        let frame = frames.last()?;
        Some(match frame.attached {
            None => Some(Parent {
                trace_id: frame.ids.trace_id,
                span_id: frame.ids.span_id,
                sampled: frame.ids.sampled,
                remote: false,
                trace_state: frame.trace_state.clone(),
            }),
            // A `tracing` span may be inside the call: the context decides.
            Some(_) => None,
        })
    });
    match from_frame {
        Some(Some(parent)) => Some(parent),
        _ => OtelContext::map_current(|cx| parent_of(cx.span().span_context())),
    }
}

/// A valid span context as a parent.
pub(crate) fn parent_of(cx: &SpanContext) -> Option<Parent> {
    cx.is_valid().then(|| Parent {
        trace_id: u128::from_be_bytes(cx.trace_id().to_bytes()),
        span_id: u64::from_be_bytes(cx.span_id().to_bytes()),
        sampled: cx.is_sampled(),
        remote: cx.is_remote(),
        trace_state: vendor_state(cx.trace_state()),
    })
}

/// A `tracestate` as call spans keep it: shared if present.
fn vendor_state(state: &TraceState) -> VendorState {
    (*state != TraceState::NONE).then(|| Arc::new(state.clone()))
}

/// A call span's OpenTelemetry identity.
pub(crate) fn span_context(ids: CallIds, trace_state: &VendorState) -> SpanContext {
    let flags = if ids.sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(
        TraceId::from(ids.trace_id),
        SpanId::from(ids.span_id),
        flags,
        false,
        trace_state.as_deref().cloned().unwrap_or(TraceState::NONE),
    )
}

/// Puts the innermost observe call's context in the OpenTelemetry context, unless it is
/// there already: a `tracing` span created now becomes its child.
pub(crate) fn attach_innermost() {
    FRAMES.with(|frames| {
        let mut frames = frames.borrow_mut();
        if let Some(frame) = frames.last_mut()
            && frame.attached.is_none()
        {
            let cx = span_context(frame.ids, &frame.trace_state);
            frame.attached = Some(OtelContext::current().with_remote_span_context(cx).attach());
        }
    });
}
