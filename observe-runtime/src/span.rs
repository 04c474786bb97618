//! The call's `tracing` span, created by one function of the runtime rather than by a
//! `tracing::span!` expansion in every instrumented function: the macro emits only the
//! span's callsite (its static metadata) and the recorded arguments, which keeps the
//! expansion small enough that 200 instrumented functions compile about as fast as with
//! `#[tracing::instrument]`. What a subscriber sees is what `span!` would give it.

use tracing::Span;
use tracing::callsite::{Callsite, DefaultCallsite};
use tracing::field::{Empty, Value, ValueSet};
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

use crate::site::CallSite;

/// The fields every call's span starts with, in this order, before the `extra` ones
/// (`otel.kind`, then the recorded arguments). The macro declares them in the callsite's
/// field set; [`call_span`] supplies their values.
pub(crate) const CALL_SPAN_FIELDS: [&str; 5] = [
    "service.name",
    "code.function",
    "code.namespace",
    "error.type",
    "otel.status_code",
];

/// The most fields [`call_span`] takes: its values live on the stack. The macro falls back
/// to `tracing::span!` for a span with more.
pub(crate) const MAX_CALL_SPAN_FIELDS: usize = 32;

/// A new span at `callsite`, whose fields are [`CALL_SPAN_FIELDS`] followed by the
/// values of `extra`: `service.name` is the site's service, `code.function` the span's
/// name, `code.namespace` its module path, and `error.type` and `otel.status_code` are
/// empty until a failure records them. The same checks, in the same order, as
/// `tracing::span!`.
#[cfg_attr(debug_assertions, inline)]
#[cfg_attr(not(debug_assertions), inline(always))]
pub fn call_span(
    site: &'static CallSite,
    callsite: &'static DefaultCallsite,
    extra: &[Option<&dyn Value>],
) -> Span {
    let meta = callsite.metadata();
    let level = *meta.level();
    let enabled = level <= STATIC_MAX_LEVEL && level <= LevelFilter::current() && {
        let interest = callsite.interest();
        !interest.is_never()
            && (interest.is_always() || tracing::dispatcher::get_default(|d| d.enabled(meta)))
    };
    if enabled {
        with_values(site, meta, extra, |values| Span::new(meta, values))
    } else {
        let span = tracing::__macro_support::__disabled_span(meta);
        // As `span!` does: with `tracing`'s `log` feature and no subscriber, the values
        // still reach the `log` records.
        tracing::if_log_enabled! { level, {
            with_values(site, meta, extra, |values| {
                span.record_all(values);
            });
        }};
        span
    }
}

/// The span's values on the stack: [`CALL_SPAN_FIELDS`]' then `extra`. Exact-size arrays
/// for the usual few extra values: zeroing a full-size buffer on every call made a span
/// under a `fmt` subscriber measurably slower than `span!`'s.
#[inline(never)]
fn with_values<R>(
    site: &'static CallSite,
    meta: &'static tracing::Metadata<'static>,
    extra: &[Option<&dyn Value>],
    f: impl FnOnce(&ValueSet<'_>) -> R,
) -> R {
    let (service, function, namespace) = (site.meta().service, meta.name(), meta.module_path());
    let fields = meta.fields();
    let head: [Option<&dyn Value>; CALL_SPAN_FIELDS.len()] = [
        Some(&service),
        Some(&function),
        Some(&namespace),
        Some(&Empty),
        Some(&Empty),
    ];
    let [s, c, n, e, o] = head;
    macro_rules! values {
        ($($extra:ident),*) => {
            f(&fields.value_set_all(&[s, c, n, e, o, $($extra),*]))
        };
    }
    match *extra {
        [] => values!(),
        [a] => values!(a),
        [a, b] => values!(a, b),
        [a, b, d] => values!(a, b, d),
        [a, b, d, g] => values!(a, b, d, g),
        _ => {
            let mut values = [None; MAX_CALL_SPAN_FIELDS];
            values[..head.len()].copy_from_slice(&head);
            let len = head.len() + extra.len();
            values[head.len()..len].copy_from_slice(extra);
            f(&fields.value_set_all(&values[..len]))
        }
    }
}
