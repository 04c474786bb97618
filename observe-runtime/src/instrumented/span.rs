//! The call's `tracing` span, created by one function of the runtime rather than by a
//! `tracing::span!` expansion in every instrumented function: the macro emits only the
//! span's callsite (its static metadata) and the recorded arguments, which keeps the
//! expansion small enough that 200 instrumented functions compile about as fast as with
//! `#[tracing::instrument]`. What a subscriber sees is what `span!` would give it.

use tracing::Span;
use tracing::callsite::{Callsite, DefaultCallsite};
use tracing::field::{Empty, Value};
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};

use super::call_site::CallSite;
use crate::names::{CALL_SPAN_FIELDS, MAX_CALL_SPAN_FIELDS};

/// A new span at `callsite`, whose fields are `names::CALL_SPAN_FIELDS` followed by the
/// values of `extra`: `service.name` is the site's service, `code.function` the span's
/// name, `code.namespace` its module path, and `error.type` and `otel.status_code` are
/// empty until a failure records them. The same checks, in the same order, as
/// `tracing::span!`, through `tracing`'s public API only.
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
        new_span(site, meta, extra)
    } else {
        // Unlike `span!` under `tracing`'s `log` feature, a disabled span's fields are not
        // sent to `log`: that path is `tracing`'s private API.
        Span::new_disabled(meta)
    }
}

/// The enabled span, its values on the stack: [`CALL_SPAN_FIELDS`]' then `extra`, each
/// paired with its field, as `FieldSet::value_set` takes them.
#[inline(never)]
fn new_span(
    site: &'static CallSite,
    meta: &'static tracing::Metadata<'static>,
    extra: &[Option<&dyn Value>],
) -> Span {
    let (service, function, namespace) = (site.meta().service, meta.name(), meta.module_path());
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
    let mut iter = fields.iter();
    let mut next = || {
        iter.next()
            .expect("the macro declares one field per value, in order")
    };
    let (f0, f1, f2, f3, f4) = (next(), next(), next(), next(), next());
    macro_rules! span {
        ($($value:ident),*) => {{
            $(let $value = (next(), $value);)*
            Span::new(
                meta,
                &fields.value_set(&[
                    (&f0, Some(&service as &dyn Value)),
                    (&f1, Some(&function as &dyn Value)),
                    (&f2, Some(&namespace as &dyn Value)),
                    (&f3, Some(&Empty as &dyn Value)),
                    (&f4, Some(&Empty as &dyn Value)),
                    $((&$value.0, $value.1)),*
                ]),
            )
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
