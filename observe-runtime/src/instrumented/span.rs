//! The call's span, created by one function of the runtime rather than by a
//! `tracing::span!` expansion in every instrumented function: the macro emits only the
//! span's callsite (its static metadata) and the recorded arguments, which keeps the
//! expansion small enough that 200 instrumented functions compile about as fast as with
//! `#[tracing::instrument]`.
//!
//! A [`CallSpan`] is up to two spans of the same call: the `tracing` span, when the
//! subscriber records spans (what it sees is what `span!` would give it), and observe's
//! own span, when spans are exported over OTLP (`super::call_trace`). observe's own
//! subscriber leaves call spans to observe, so under it only the second exists.

use std::mem::ManuallyDrop;

#[cfg(feature = "otlp")]
use opentelemetry::trace::TraceContextExt;
use tracing::Span;
use tracing::callsite::{Callsite, DefaultCallsite};
use tracing::field::Value;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

use super::call_args::{Args, CopiedArg};
use super::call_frames::{self, Pushed};
use super::call_site::CallSite;
use super::call_trace::{CallTrace, call_tracing};
use crate::names::{CALL_SPAN_FIELDS, MAX_CALL_SPAN_FIELDS};

/// The span of one call of an instrumented function; see the module docs.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct CallSpan {
    // Dropped by hand (`Drop` below), so that a span holding nothing to release costs a
    // few compares inline instead of a call of its drop glue.
    span: ManuallyDrop<Span>,
    own: ManuallyDrop<Option<CallTrace>>,
    /// The arguments of `own`, recorded in place (see `CallTrace`).
    args: ManuallyDrop<Args>,
}

impl Drop for CallSpan {
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn drop(&mut self) {
        // The span of every call that records no span (metrics only: `Span::none()`, no
        // own span, no formatted argument), and of an unsampled call of observe's own
        // spans (its own span holds no `tracestate`). Dropping those would do nothing.
        let holds_nothing = self.span.is_none()
            && (self.own.is_none() || self.own.as_ref().is_some_and(CallTrace::owns_nothing))
            && !self.args.holds_formatted();
        if !holds_nothing {
            self.release();
        }
    }
}

impl CallSpan {
    #[inline(never)]
    fn release(&mut self) {
        // SAFETY: only `drop` calls this, once; the fields are never used again.
        unsafe {
            ManuallyDrop::drop(&mut self.span);
            ManuallyDrop::drop(&mut self.own);
            ManuallyDrop::drop(&mut self.args);
        }
    }
}

impl CallSpan {
    /// A call span that is a `tracing` span only: a span with `fields(..)`, built by
    /// `tracing::span!`, which an OpenTelemetry layer exports like any other.
    #[inline]
    pub fn traced(span: Span) -> Self {
        CallSpan {
            span: ManuallyDrop::new(span),
            own: ManuallyDrop::new(None),
            args: ManuallyDrop::new(Args::EMPTY),
        }
    }

    /// Enters the call: its `tracing` span, and its frame (see `call_frames`). Each only
    /// if there is one, tested inline: with metrics only (no own span, and a
    /// `Span::none()`, which entering and leaving would do nothing with) this is two
    /// compares, where `Span::enter` and its guard's drop were calls.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn enter(&self) -> Entered<'_> {
        Entered {
            _frame: self
                .own
                .as_ref()
                .map(|own| call_frames::push(&own.ids, &own.trace_state)),
            // `Span::is_none`: no subscriber's span, and no metadata (`log` has nothing to
            // write either).
            _span: if self.span.is_none() {
                None
            } else {
                Some(self.enter_span())
            },
        }
    }

    #[inline(never)]
    fn enter_span(&self) -> tracing::span::Entered<'_> {
        self.span.enter()
    }

    /// The `tracing` span (disabled when the subscriber does not record it).
    #[inline]
    pub fn tracing_span(&self) -> &Span {
        &self.span
    }

    /// observe's own span, when spans are exported.
    #[inline]
    pub(crate) fn own(&self) -> Option<&CallTrace> {
        self.own.as_ref()
    }

    /// The arguments of observe's own span.
    #[inline]
    pub(crate) fn args(&self) -> &Args {
        &self.args
    }
}

/// What a call site hands [`CallSpan::start`] besides its statics: the span's extra
/// values (its kind, then its recorded arguments, as `tracing` values), the same
/// arguments' numbers and `bool`s copied (`None` for the others and for the kind), and
/// the kind's number (1 + its index in `SPAN_KINDS`; 0 when not set).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct CallValues<'a> {
    pub kind: u8,
    pub extra: &'a [Option<&'a dyn Value>],
    pub copied: &'a [Option<CopiedArg>],
}

/// A call entered; see [`CallSpan::enter`]. Leaves it when dropped.
#[doc(hidden)]
pub struct Entered<'a> {
    // Dropped in order: the frame, then the `tracing` span.
    _frame: Option<Pushed>,
    _span: Option<tracing::span::Entered<'a>>,
}

impl CallSpan {
    /// A call span not started yet. The expansion declares the call's span with this and
    /// then starts it in place ([`CallSpan::start`]): a span built elsewhere and returned
    /// is copied into the caller's frame (then about 200 bytes, which it reads back right after
    /// their last stores, a store-to-load forwarding stall), and `perf annotate` put a
    /// third of an unsampled call on those copies.
    #[inline]
    pub const fn unstarted() -> Self {
        CallSpan {
            span: ManuallyDrop::new(Span::none()),
            own: ManuallyDrop::new(None),
            args: ManuallyDrop::new(Args::EMPTY),
        }
    }

    /// Starts the span of a call starting now, in the current trace. Once, on an
    /// [unstarted](CallSpan::unstarted) span.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub fn start(
        &mut self,
        site: &'static CallSite,
        callsite: &'static DefaultCallsite,
        values: CallValues<'_>,
    ) {
        self.start_tracing_span(callsite, values.extra);
        if let Some(tracing) = call_tracing() {
            CallTrace::start_in(&mut self.own, tracing, site, callsite.metadata(), None)
                .record_args(&mut self.args, values.kind, values.extra, values.copied);
        }
    }

    /// The `tracing` span, when the subscriber records it; otherwise the span stays the
    /// unstarted one (`Span::none()`) rather than a disabled span with its metadata:
    /// writing one over it copied the new span in from a temporary right after its
    /// stores, a stall `perf annotate` put at 8% of an unsampled call. (A disabled span's
    /// metadata serves only `tracing`'s `log` feature, which then logs its enter and exit;
    /// its fields this path never sent to `log`.)
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn start_tracing_span(
        &mut self,
        callsite: &'static DefaultCallsite,
        extra: &[Option<&dyn Value>],
    ) {
        if let Some(span) = tracing_span(callsite, extra) {
            // Over `Span::none()`, which has nothing to drop.
            self.span = ManuallyDrop::new(span);
        }
    }

    /// Starts the span of a call continuing the trace `parent` reads from the call's
    /// headers (`parent = headers`), if they carry one; `parent` runs only when spans are
    /// exported.
    #[inline]
    pub fn start_continuing(
        &mut self,
        site: &'static CallSite,
        callsite: &'static DefaultCallsite,
        values: CallValues<'_>,
        parent: impl FnOnce() -> Option<opentelemetry::trace::SpanContext>,
    ) {
        self.start_tracing_span(callsite, values.extra);
        let Some(tracing) = call_tracing() else {
            return;
        };
        let remote = parent();
        CallTrace::start_in(
            &mut self.own,
            tracing,
            site,
            callsite.metadata(),
            remote.as_ref(),
        )
        .record_args(&mut self.args, values.kind, values.extra, values.copied);
        // A subscriber of the program's own exports the `tracing` span.
        #[cfg(feature = "otlp")]
        if !self.span.is_disabled()
            && let Some(remote) = remote
        {
            let parent = opentelemetry::Context::current().with_remote_span_context(remote);
            let _ = tracing_opentelemetry::OpenTelemetrySpanExt::set_parent(&*self.span, parent);
        }
    }
}

/// A new `tracing` span at `callsite`, if the subscriber records it, whose fields are
/// `names::CALL_SPAN_FIELDS` followed by the values of `extra`: `service.name`,
/// `code.function` and `code.namespace` are declared but left empty (see `new_span`),
/// `error.type` and `otel.status_code` are empty until a failure records them. The same
/// checks, in the same order, as `tracing::span!`, through `tracing`'s public API only.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
fn tracing_span(callsite: &'static DefaultCallsite, extra: &[Option<&dyn Value>]) -> Option<Span> {
    let meta = callsite.metadata();
    let level = *meta.level();
    let enabled = level <= STATIC_MAX_LEVEL && level <= LevelFilter::current() && {
        let interest = callsite.interest();
        !interest.is_never()
            && (interest.is_always() || tracing::dispatcher::get_default(|d| d.enabled(meta)))
    };
    // Unlike `span!` under `tracing`'s `log` feature, a disabled span's fields are not
    // sent to `log`: that path is `tracing`'s private API.
    if enabled {
        Some(new_span(meta, extra))
    } else {
        None
    }
}

/// The enabled span, its values on the stack: `extra`, each paired with its field (the
/// fields after [`CALL_SPAN_FIELDS`]), as `FieldSet::value_set` takes them.
#[inline(never)]
fn new_span(meta: &'static tracing::Metadata<'static>, extra: &[Option<&dyn Value>]) -> Span {
    // The constant OpenTelemetry attributes are declared but not recorded: observe exports
    // its own spans with them (`call_trace`), and a subscriber that formats span fields
    // (`fmt`) would format them on every call, for what the span's name and target
    // already say; with them it cost 2.5 times `#[tracing::instrument]` under `fmt`. Nor
    // are they in the value set as `Empty`: a subscriber visits every value of the set,
    // and five that record nothing cost `fmt` 3% of a call (`paired_under_fmt`).
    let fields = meta.fields();
    debug_assert!(
        fields
            .iter()
            .zip(CALL_SPAN_FIELDS)
            .all(|(f, name)| f.name() == name)
            && fields.len() == CALL_SPAN_FIELDS.len() + extra.len()
            && fields.len() <= MAX_CALL_SPAN_FIELDS,
        "the macro declares the call fields, then one per extra value"
    );
    let mut iter = fields.iter().skip(CALL_SPAN_FIELDS.len());
    let mut next = || {
        iter.next()
            .expect("the macro declares one field per value, in order")
    };
    macro_rules! span {
        ($($value:ident),*) => {{
            $(let $value = (next(), $value);)*
            Span::new(meta, &fields.value_set(&[$((&$value.0, $value.1)),*]))
        }};
    }
    match *extra {
        [] => span!(),
        [a] => span!(a),
        [a, b] => span!(a, b),
        [a, b, c] => span!(a, b, c),
        [a, b, c, d] => span!(a, b, c, d),
        _ => unreachable!("the macro uses `span!` for more than four extra values"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call span is moved by value on every call: kept within a few cache lines (it
    /// was half as large again when its copied arguments were `Field`s, and the copies showed in
    /// profiles).
    #[test]
    fn a_call_span_stays_small() {
        let size = std::mem::size_of::<CallSpan>();
        assert!(size <= 208, "CallSpan is {size} bytes");
    }

    /// `Drop` skips the fields only when there is nothing in them: a sampled span's shared
    /// arguments are still released.
    #[test]
    fn dropping_a_call_span_releases_its_formatted_arguments() {
        let formatted = std::sync::Arc::new(vec![opentelemetry::KeyValue::new("id", "7")]);
        let mut span = CallSpan::unstarted();
        *span.args = Args::with_formatted(formatted.clone());
        assert_eq!(std::sync::Arc::strong_count(&formatted), 2);
        drop(span);
        assert_eq!(std::sync::Arc::strong_count(&formatted), 1);
    }

    /// ... and so is the `tracestate` an unsampled call of observe's own spans shares
    /// with its caller (only a span without one is dropped by the inline test alone).
    #[test]
    fn dropping_a_call_span_releases_its_trace_state() {
        use super::super::call_site::TEST_META;
        use super::super::call_trace::CallIds;
        static SITE: CallSite = CallSite::new(TEST_META);
        static CALLSITE: DefaultCallsite = DefaultCallsite::new(&META);
        static META: tracing::Metadata<'static> = tracing::Metadata::new(
            "call",
            "tests",
            tracing::Level::INFO,
            None,
            None,
            None,
            tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            tracing::metadata::Kind::SPAN,
        );
        let state = std::sync::Arc::new(
            opentelemetry::trace::TraceState::from_key_value([("vendor", "x")]).unwrap(),
        );
        let mut span = CallSpan::unstarted();
        *span.own = Some(CallTrace {
            ids: CallIds::UNSTARTED,
            trace_state: Some(state.clone()),
            site: &SITE,
            meta: &META,
        });
        assert_eq!(std::sync::Arc::strong_count(&state), 2);
        drop(span);
        assert_eq!(std::sync::Arc::strong_count(&state), 1);
    }

    /// ... and a recorded `tracing` span is still closed.
    #[test]
    fn dropping_a_call_span_closes_its_tracing_span() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tracing_subscriber::layer::SubscriberExt;

        static CLOSED: AtomicUsize = AtomicUsize::new(0);
        struct CountCloses;
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountCloses {
            fn on_close(&self, _: tracing::Id, _: tracing_subscriber::layer::Context<'_, S>) {
                CLOSED.fetch_add(1, Ordering::Relaxed);
            }
        }
        let subscriber = tracing_subscriber::registry().with(CountCloses);
        tracing::subscriber::with_default(subscriber, || {
            let span = CallSpan::traced(tracing::info_span!("call"));
            assert!(!span.tracing_span().is_disabled());
            drop(span);
        });
        assert_eq!(CLOSED.load(Ordering::Relaxed), 1);
    }
}
