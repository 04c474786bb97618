//! W3C trace context (`traceparent`, `tracestate`) across process boundaries: inject the
//! current span's context into outgoing HTTP or message headers, and continue an incoming
//! one (`#[instrumented(parent = headers)]` does it for a function's span).
//!
//! ```
//! use std::collections::HashMap;
//!
//! #[observe::instrumented(service = "parsing", kind = "consumer", parent = headers)]
//! fn on_message(headers: &HashMap<String, String>, body: &str) -> usize {
//!     let mut outgoing: HashMap<String, String> = HashMap::new();
//!     observe::propagation::inject(&mut outgoing); // the next hop joins the same trace
//!     body.len()
//! }
//!
//! let headers = HashMap::from([(
//!     "traceparent".to_owned(),
//!     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
//! )]);
//! assert_eq!(on_message(&headers, "hello"), 5);
//! ```

use std::collections::{BTreeMap, HashMap};

/// The OpenTelemetry context [`TraceHeaders`] and [`extract`] return: re-exported so that
/// code using them needs no `opentelemetry` dependency of its own.
pub use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
#[cfg(feature = "otlp")]
use opentelemetry_sdk::propagation::TraceContextPropagator;
#[cfg(feature = "otlp")]
use tracing_opentelemetry::OpenTelemetrySpanExt;

use opentelemetry::trace::{SpanContext, TraceContextExt};

use super::header_carrier::{HeaderExtractor, HeaderInjector};
// Without the `otlp` feature: the same propagation without the SDK.
#[cfg(not(feature = "otlp"))]
use super::otlp::OpenTelemetrySpanExt;
#[cfg(not(feature = "otlp"))]
use super::trace_context::TraceContextPropagator;

use crate::global::traces_exported;

/// Headers that can carry a trace context: `http::HeaderMap` and string maps (message
/// headers of a queue such as RabbitMQ or Kafka).
///
/// ```
/// use std::collections::{BTreeMap, HashMap};
/// use observe::propagation::TraceHeaders;
///
/// let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// let incoming = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
/// let cx = incoming.extract_context();
/// let mut outgoing = BTreeMap::new();
/// outgoing.inject_context(&cx);
/// assert_eq!(outgoing["traceparent"], traceparent);
/// ```
pub trait TraceHeaders {
    /// The context the headers carry; an empty one if they carry none (or a malformed one).
    ///
    /// ```
    /// use observe::propagation::TraceHeaders;
    /// use opentelemetry::trace::TraceContextExt;
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert(
    ///     "traceparent",
    ///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap(),
    /// );
    /// let cx = headers.extract_context();
    /// assert_eq!(
    ///     cx.span().span_context().trace_id().to_string(),
    ///     "4bf92f3577b34da6a3ce929d0e0e4736"
    /// );
    /// ```
    fn extract_context(&self) -> Context;
    /// Writes `traceparent` (and `tracestate`, if any) for `cx`.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use observe::propagation::TraceHeaders;
    ///
    /// let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    /// let cx = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]).extract_context();
    /// let mut message_headers: HashMap<String, String> = HashMap::new();
    /// message_headers.inject_context(&cx);
    /// assert_eq!(message_headers["traceparent"], traceparent);
    /// ```
    fn inject_context(&mut self, cx: &Context);

    /// The remote span the headers carry, if valid: what `#[instrumented(parent = ..)]`
    /// reads on every call. The provided carriers parse it without allocating; the
    /// default goes through [`extract_context`](Self::extract_context).
    #[doc(hidden)]
    fn __observe_remote_span_context(&self) -> Option<SpanContext> {
        let cx = self.extract_context();
        let span = cx.span();
        let span = span.span_context();
        span.is_valid().then(|| span.clone())
    }
}

impl TraceHeaders for http::HeaderMap {
    fn extract_context(&self) -> Context {
        TraceContextPropagator::new().extract(&HeaderExtractor(self))
    }
    fn __observe_remote_span_context(&self) -> Option<SpanContext> {
        super::trace_context::span_context(&HeaderExtractor(self))
    }
    fn inject_context(&mut self, cx: &Context) {
        TraceContextPropagator::new().inject_context(cx, &mut HeaderInjector(self));
    }
}

impl<S: std::hash::BuildHasher> TraceHeaders for HashMap<String, String, S> {
    fn extract_context(&self) -> Context {
        TraceContextPropagator::new().extract(self)
    }
    fn __observe_remote_span_context(&self) -> Option<SpanContext> {
        // The trace-context names are lower case already: the lookup `HashMap`'s
        // `Extractor` makes, without lower-casing the name into a new `String`.
        super::trace_context::span_context(&LowerCaseNames(self))
    }
    fn inject_context(&mut self, cx: &Context) {
        TraceContextPropagator::new().inject_context(cx, self);
    }
}

impl TraceHeaders for BTreeMap<String, String> {
    fn extract_context(&self) -> Context {
        TraceContextPropagator::new().extract(&BTreeCarrier(self))
    }
    fn __observe_remote_span_context(&self) -> Option<SpanContext> {
        super::trace_context::span_context(&BTreeCarrier(self))
    }
    fn inject_context(&mut self, cx: &Context) {
        TraceContextPropagator::new().inject_context(cx, &mut BTreeInjector(self));
    }
}

struct BTreeCarrier<'a>(&'a BTreeMap<String, String>);

impl Extractor for BTreeCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        // Header names are case-insensitive; message headers are usually lower case.
        self.0
            .get(key)
            .or_else(|| {
                self.0
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v)
            })
            .map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// A `HashMap` read by names that are lower case already.
struct LowerCaseNames<'a, S>(&'a HashMap<String, String, S>);

impl<S: std::hash::BuildHasher> Extractor for LowerCaseNames<'_, S> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

struct BTreeInjector<'a>(&'a mut BTreeMap<String, String>);

impl Injector for BTreeInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

/// Writes the current span's trace context into `headers` (outgoing request or message),
/// so the callee's spans join this trace: the innermost instrumented call's, or a
/// `tracing` span's inside or around it. Does nothing when spans are not exported.
///
/// ```
/// #[observe::instrumented(service = "parsing", kind = "client")]
/// fn chunk_request(body: String) -> http::Request<String> {
///     let mut request = http::Request::post("http://chunker/chunk").body(body).unwrap();
///     observe::propagation::inject(request.headers_mut()); // `traceparent` once spans are exported
///     request
/// }
///
/// let request = chunk_request("hello".to_owned());
/// assert!(request.headers().get("traceparent").is_none(), "no spans exported before `init`");
/// ```
pub fn inject(headers: &mut (impl TraceHeaders + ?Sized)) {
    // Without the `otlp` feature spans are never exported.
    #[cfg(not(feature = "otlp"))]
    let _ = headers;
    #[cfg(feature = "otlp")]
    if traces_exported() {
        let current = super::call_parent::current_span_context(|| {
            let cx = tracing::Span::current().context();
            let span = cx.span();
            let cx = span.span_context();
            cx.is_valid().then(|| cx.clone())
        });
        if let Some(cx) = current {
            headers.inject_context(&Context::new().with_remote_span_context(cx));
        }
    }
}

/// The trace context `headers` carry, for `OpenTelemetrySpanExt::set_parent` on a span
/// of your own. `#[instrumented(parent = headers)]` does this for you.
///
/// ```
/// use opentelemetry::trace::TraceContextExt;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert(
///     "traceparent",
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-01f067aa0ba902b7-01".parse().unwrap(),
/// );
/// let parent = observe::propagation::extract(&headers);
/// assert!(parent.span().span_context().is_remote());
/// // then `tracing_opentelemetry::OpenTelemetrySpanExt::set_parent(&span, parent)`
/// ```
pub fn extract(headers: &(impl TraceHeaders + ?Sized)) -> Context {
    headers.extract_context()
}

/// Makes `span` a child of the context `extract` reads from the headers, if they carry
/// one. Called by `#[instrumented(parent = ..)]` right after a span with `fields(..)` is
/// created, before it is entered (other call spans continue the trace as they start:
/// `CallSpan::start_continuing`); `extract` runs only when spans are exported.
#[doc(hidden)]
pub fn continue_trace(span: &crate::instrumented::CallSpan, extract: impl FnOnce() -> Context) {
    let span = span.tracing_span();
    if !traces_exported() || span.is_disabled() {
        return;
    }
    let cx = extract();
    if cx.has_active_span() {
        let _ = span.set_parent(cx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    fn remote() -> Context {
        let span = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::from_key_value([("vendor", "x")]).unwrap(),
        );
        Context::new().with_remote_span_context(span)
    }

    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn http_headers_round_trip() {
        let mut headers = http::HeaderMap::new();
        headers.inject_context(&remote());
        assert_eq!(headers["traceparent"], TRACEPARENT);
        assert_eq!(headers["tracestate"], "vendor=x");
        let cx = extract(&headers);
        assert_eq!(cx.span().span_context(), remote().span().span_context());
    }

    #[test]
    fn message_headers_round_trip() {
        let mut hash = HashMap::new();
        hash.inject_context(&remote());
        assert_eq!(hash["traceparent"], TRACEPARENT);
        let mut tree = BTreeMap::new();
        tree.inject_context(&remote());
        assert_eq!(tree["traceparent"], TRACEPARENT);
        for cx in [extract(&hash), extract(&tree)] {
            assert_eq!(cx.span().span_context(), remote().span().span_context());
        }
        let shouting = BTreeMap::from([("TraceParent".to_owned(), TRACEPARENT.to_owned())]);
        assert!(extract(&shouting).span().span_context().is_valid());
    }

    #[test]
    fn malformed_or_missing_context_is_empty() {
        let mut headers = http::HeaderMap::new();
        assert!(!extract(&headers).has_active_span());
        headers.insert("traceparent", "00-zz-00f067aa0ba902b7-01".parse().unwrap());
        assert!(!extract(&headers).has_active_span());
    }
}
