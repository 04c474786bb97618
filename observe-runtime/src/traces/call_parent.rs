//! Where observe's own call spans meet `tracing`'s: the subscriber layer that gives a
//! `tracing` span created inside an instrumented call its OpenTelemetry parent, the filter
//! that keeps call spans out of `tracing` under observe's subscriber, and the span context
//! log events and injected headers belong to.

use opentelemetry::Context as OtelContext;
use opentelemetry::trace::{SpanContext, TraceContextExt};
use tracing::span::{Attributes, Id};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::instrumented::{Innermost, attach_innermost, innermost, innermost_ids};
use crate::names::CALL_SPAN_FIELDS;

/// Puts the innermost instrumented call in the OpenTelemetry context before a `tracing`
/// span starts inside it, so that the OpenTelemetry layer (which runs after this one)
/// makes it the span's parent.
pub(crate) struct CallParentLayer;

impl<S: Subscriber> Layer<S> for CallParentLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        if attrs.is_contextual() {
            attach_innermost();
        }
    }
}

/// An instrumented function's span from `CallSpan::start`: its fields start with the call
/// fields, in their order (spans with `fields(..)` come from `tracing::span!`, declare
/// them in another order, and are exported as ordinary `tracing` spans).
pub(crate) fn is_call_span(meta: &Metadata<'_>) -> bool {
    let fields = meta.fields();
    meta.is_span()
        && fields.len() >= CALL_SPAN_FIELDS.len()
        && fields
            .iter()
            .zip(CALL_SPAN_FIELDS)
            .all(|(field, name)| field.name() == name)
}

/// The span an event or an outgoing request on this thread belongs to now: the innermost
/// instrumented call, or a `tracing` span inside it, else `outside` (the current `tracing`
/// span's context).
pub(crate) fn current_span_context(
    outside: impl FnOnce() -> Option<SpanContext>,
) -> Option<SpanContext> {
    match innermost() {
        Innermost::Call(cx) => Some(cx),
        Innermost::OtelContext => otel_current(),
        Innermost::None => outside(),
    }
}

/// The trace and span ids of [`current_span_context`]'s span, read straight from an
/// instrumented call's frame when that is innermost (the common case of a log line).
pub(crate) fn current_ids(outside: impl FnOnce() -> Option<SpanContext>) -> Option<(u128, u64)> {
    let cx = match innermost_ids() {
        Innermost::Call(ids) => return Some(ids),
        Innermost::OtelContext => otel_current(),
        Innermost::None => outside(),
    }?;
    Some((
        u128::from_be_bytes(cx.trace_id().to_bytes()),
        u64::from_be_bytes(cx.span_id().to_bytes()),
    ))
}

/// The current OpenTelemetry context's span, if valid.
fn otel_current() -> Option<SpanContext> {
    OtelContext::map_current(|cx| {
        let span = cx.span();
        let cx = span.span_context();
        cx.is_valid().then(|| cx.clone())
    })
}
