//! The W3C `traceparent`/`tracestate` propagator: a port of the OpenTelemetry SDK's
//! (opentelemetry_sdk 0.33, Apache-2.0) onto the API crate's types, for builds without the
//! `otlp` feature, and its parser, [`span_context`], which every build uses to continue a
//! trace on each call of an `#[instrumented(parent = ..)]` function: it allocates nothing
//! (the SDK's splits the header into a `Vec` and wraps the result in a new `Context`).
//! The tests check both agree with the SDK, on its cases and on arbitrary headers.

use std::str::FromStr;

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

const MAX_VERSION: u8 = 254;
const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

#[cfg(any(not(feature = "otlp"), test))]
pub(crate) use propagator::TraceContextPropagator;

/// The propagator itself: the full build uses the SDK's.
#[cfg(any(not(feature = "otlp"), test))]
mod propagator {
    use std::sync::OnceLock;

    use opentelemetry::Context;
    use opentelemetry::propagation::text_map_propagator::FieldIter;
    use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
    use opentelemetry::trace::{TraceContextExt, TraceFlags};

    use super::{TRACEPARENT, TRACESTATE, span_context};

    const SUPPORTED_VERSION: u8 = 0;

    /// W3C trace context in `traceparent` and `tracestate`.
    #[derive(Debug, Default)]
    pub(crate) struct TraceContextPropagator;

    impl TraceContextPropagator {
        pub(crate) fn new() -> Self {
            TraceContextPropagator
        }
    }

    impl TextMapPropagator for TraceContextPropagator {
        /// Writes `cx`'s span context, if it has a valid one.
        fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
            let span = cx.span();
            let span = span.span_context();
            if span.is_valid() {
                let header = format!(
                    "{:02x}-{}-{}-{:02x}",
                    SUPPORTED_VERSION,
                    span.trace_id(),
                    span.span_id(),
                    span.trace_flags() & TraceFlags::SAMPLED
                );
                injector.set(TRACEPARENT, header);
                injector.set(TRACESTATE, span.trace_state().header());
            }
        }

        /// `cx` with the remote span the carrier describes; `cx` itself if the header is
        /// missing or malformed.
        fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
            span_context(extractor)
                .map(|span| cx.with_remote_span_context(span))
                .unwrap_or_else(|| cx.clone())
        }

        fn fields(&self) -> FieldIter<'_> {
            static FIELDS: OnceLock<[String; 2]> = OnceLock::new();
            FieldIter::new(FIELDS.get_or_init(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]))
        }
    }
}

/// The remote span `traceparent` (and `tracestate`) describe, if valid.
pub(crate) fn span_context(extractor: &dyn Extractor) -> Option<SpanContext> {
    let header = extractor.get(TRACEPARENT)?.trim();
    // The first four fields, and how many there are, without collecting them.
    let mut parts = [""; 4];
    let mut count = 0;
    for part in header.split_terminator('-') {
        if let Some(slot) = parts.get_mut(count) {
            *slot = part;
        }
        count += 1;
    }
    if count < 4 {
        return None;
    }
    // Later versions may append fields; version 0 has exactly four.
    let version = u8::from_str_radix(parts[0], 16).ok()?;
    if version > MAX_VERSION || version == 0 && count != 4 {
        return None;
    }
    let lower_hex = |part: &str| !part.chars().any(|c| c.is_ascii_uppercase());
    if !parts[1..4].iter().all(|part| lower_hex(part)) {
        return None;
    }
    let trace_id = TraceId::from_hex(parts[1]).ok()?;
    let span_id = SpanId::from_hex(parts[2]).ok()?;
    // Unknown flags are accepted and zeroed (trace-context, "other flags").
    let flags = TraceFlags::new(u8::from_str_radix(parts[3], 16).ok()?) & TraceFlags::SAMPLED;
    let state = extractor
        .get(TRACESTATE)
        .and_then(|state| TraceState::from_str(state).ok())
        .unwrap_or_default();
    let span = SpanContext::new(trace_id, span_id, flags, true, state);
    span.is_valid().then_some(span)
}

/// Same answers as the SDK's propagator, on the SDK's own cases and on odd input.
#[cfg(all(test, feature = "otlp"))]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;
    use opentelemetry_sdk::propagation::TraceContextPropagator as SdkPropagator;
    use proptest::prelude::*;

    use super::*;
    use crate::traces::propagation::TraceHeaders;

    fn both(traceparent: &str, tracestate: Option<&str>) {
        let mut headers = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
        if let Some(state) = tracestate {
            headers.insert(TRACESTATE.to_owned(), state.to_owned());
        }
        let sdk = SdkPropagator::new().extract(&headers);
        let ours = TraceContextPropagator::new().extract(&headers);
        assert_eq!(
            ours.span().span_context(),
            sdk.span().span_context(),
            "{traceparent:?} {tracestate:?}"
        );
        // What `#[instrumented(parent = ..)]` reads, from each kind of carrier.
        let sdk_span = sdk.span();
        let sdk_span = Some(sdk_span.span_context().clone()).filter(SpanContext::is_valid);
        assert_eq!(headers.__observe_remote_span_context(), sdk_span);
        let btree: std::collections::BTreeMap<_, _> = headers.clone().into_iter().collect();
        assert_eq!(btree.__observe_remote_span_context(), sdk_span);
        let header_map: http::HeaderMap = headers
            .iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v.parse().ok()?)))
            .collect();
        if header_map.len() == headers.len() {
            assert_eq!(header_map.__observe_remote_span_context(), sdk_span);
        }
        let (mut sdk_out, mut our_out) = (HashMap::new(), HashMap::new());
        SdkPropagator::new().inject_context(&sdk, &mut sdk_out);
        TraceContextPropagator::new().inject_context(&ours, &mut our_out);
        assert_eq!(our_out, sdk_out, "{traceparent:?}");
    }

    #[test]
    fn agrees_with_the_sdk_on_its_cases() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7";
        for flags in ["00", "01", "03", "09", "08"] {
            both(&format!("00-{id}-{flags}"), Some("foo=bar"));
            both(&format!("02-{id}-{flags}"), Some("foo=bar,k=v"));
        }
        for odd in [
            "02-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-XYZxsf09",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-",
            "0000-00000000000000000000000000000000-0000000000000000-01",
            "00-ab00000000000000000000000000000000-cd00000000000000-01",
            "00-ab000000000000000000000000000000-cd0000000000000000-01",
            "00-ab000000000000000000000000000000-cd00000000000000-0100",
            "qw-00000000000000000000000000000000-0000000000000000-01",
            "00-ab000000000000000000000000000000-qw00000000000000-01",
            "A0-00000000000000000000000000000000-0000000000000000-01",
            "00-AB000000000000000000000000000000-cd00000000000000-01",
            "00-ab000000000000000000000000000000-CD00000000000000-01",
            "00-ab000000000000000000000000000000-cd00000000000000-A1",
            "00-00000000000000000000000000000000-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
            "",
        ] {
            both(odd, None);
            both(odd, Some("bad state"));
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_sdk_on_any_header(
            version in "[0-9a-fA-F]{1,3}",
            trace in "[0-9a-fA-F]{0,33}",
            span in "[0-9a-fA-F]{0,17}",
            flags in "[0-9a-fA-F]{0,3}",
            rest in "(-[a-z0-9]{0,3}){0,2}",
            state in proptest::option::of("[a-z0-9=,@ ]{0,20}"),
        ) {
            both(&format!("{version}-{trace}-{span}-{flags}{rest}"), state.as_deref());
        }
    }
}
