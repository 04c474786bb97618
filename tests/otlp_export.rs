//! Spans exported over OTLP/gRPC to a real in-process receiver: names, OpenTelemetry
//! attributes, error status, the resource, and parent/child links between annotated
//! functions. (Own binary: it initialises the process's runtime.)

mod support;

use std::sync::OnceLock;

use observe::{ErrorLabel, instrumented};
use support::otlp::{self, Fixture, ReceivedSpan, STATUS_ERROR};

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture::start(|b| b.service_name("exporting").service_version("1.2.3")))
}

#[derive(Debug, ErrorLabel)]
enum StoreError {
    ConnectionError,
}

#[instrumented(service = "exporting")]
fn store(key: u32, fail: bool) -> Result<u32, StoreError> {
    if fail {
        Err(StoreError::ConnectionError)
    } else {
        Ok(key)
    }
}

#[instrumented(service = "exporting", skip_all)]
fn handle(request: u32) -> Result<u32, StoreError> {
    store(request, false)
}

#[instrumented(service = "exporting", kind = "consumer")]
fn consume(message: u32) -> u32 {
    message
}

/// Continues the caller's trace and returns the headers it would send downstream.
#[instrumented(service = "exporting", kind = "server", parent = headers, skip(headers))]
fn serve(request: u32, headers: &http::HeaderMap) -> http::HeaderMap {
    let mut outgoing = http::HeaderMap::new();
    observe::propagation::inject(&mut outgoing);
    outgoing
}

/// The spans with this name whose `key`/`request` argument is `id`.
fn find(spans: &[ReceivedSpan], name: &str, arg: &str, id: u32) -> Vec<ReceivedSpan> {
    spans
        .iter()
        .filter(|s| s.name == name && s.attr(arg) == Some(&id.to_string()))
        .cloned()
        .collect()
}

#[test]
fn a_failing_call_is_exported_with_error_status_and_attributes() {
    let fx = fixture();
    assert!(store(101, true).is_err());
    let spans = fx.flushed_spans();
    let found = find(&spans, "store", "key", 101);
    assert_eq!(found.len(), 1, "{spans:#?}");
    let span = &found[0];
    assert_eq!(span.status, STATUS_ERROR, "{span:#?}");
    assert_eq!(span.kind, otlp::KIND_INTERNAL, "{span:#?}");
    assert_eq!(span.attr("error.type"), Some("ConnectionError"));
    assert_eq!(span.attr("code.function"), Some("store"));
    assert_eq!(span.attr("code.namespace"), Some("otlp_export"));
    assert_eq!(span.attr("service.name"), Some("exporting"));
    assert_eq!(span.attr("fail"), Some("true"));
    assert_eq!(span.parent_span_id, "", "a root span");
}

#[test]
fn the_resource_names_service_environment_and_version() {
    let fx = fixture();
    store(102, false).unwrap();
    let spans = fx.flushed_spans();
    let span = &find(&spans, "store", "key", 102)[0];
    assert_ne!(span.status, STATUS_ERROR);
    assert_eq!(span.attr("error.type"), None);
    for (key, value) in [
        ("service.name", "exporting"),
        ("deployment.environment.name", "test"),
        ("service.version", "1.2.3"),
    ] {
        assert_eq!(
            span.resource.get(key).map(String::as_str),
            Some(value),
            "{span:#?}"
        );
    }
}

#[test]
fn nested_annotated_calls_are_parent_and_child() {
    let fx = fixture();
    handle(103).unwrap();
    let spans = fx.flushed_spans();
    let child = &find(&spans, "store", "key", 103)[0];
    let parents: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "handle" && s.span_id == child.parent_span_id)
        .collect();
    assert_eq!(parents.len(), 1, "store's parent is handle: {spans:#?}");
    assert_eq!(parents[0].trace_id, child.trace_id);
    assert_eq!(parents[0].parent_span_id, "");
}

#[test]
fn kind_sets_the_span_kind() {
    let fx = fixture();
    consume(104);
    let spans = fx.flushed_spans();
    let span = &find(&spans, "consume", "message", 104)[0];
    assert_eq!(span.kind, otlp::KIND_CONSUMER, "{span:#?}");
}

#[test]
fn parent_continues_the_incoming_traceparent_and_inject_propagates_it() {
    let fx = fixture();
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let mut incoming = http::HeaderMap::new();
    incoming.insert(
        "traceparent",
        format!("00-{trace_id}-{caller_span}-01").parse().unwrap(),
    );
    incoming.insert("tracestate", "vendor=x".parse().unwrap());
    let outgoing = serve(105, &incoming);
    let spans = fx.flushed_spans();
    let span = &find(&spans, "serve", "request", 105)[0];
    assert_eq!(span.trace_id, trace_id, "{span:#?}");
    assert_eq!(span.parent_span_id, caller_span);
    assert_eq!(span.kind, otlp::KIND_SERVER);
    assert_eq!(
        outgoing["traceparent"],
        format!("00-{trace_id}-{}-01", span.span_id),
        "downstream continues from serve's span"
    );
    assert_eq!(outgoing["tracestate"], "vendor=x");
}

#[test]
fn without_incoming_context_parent_starts_a_new_trace() {
    let fx = fixture();
    serve(106, &http::HeaderMap::new());
    let spans = fx.flushed_spans();
    let span = &find(&spans, "serve", "request", 106)[0];
    assert_eq!(span.parent_span_id, "");
    assert_ne!(span.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
}

/// A library's own `tracing` span (an HTTP client's, a driver's) inside an instrumented
/// call, and an instrumented call inside a `tracing` span.
#[instrumented(service = "exporting")]
fn query(id: u32) -> u32 {
    let driver = tracing::info_span!("db.query", id);
    let _entered = driver.enter();
    // Inside the library's span: an instrumented call is the library span's child.
    consume(id)
}

#[test]
fn tracing_spans_and_instrumented_calls_nest_both_ways() {
    let fx = fixture();
    let request = tracing::info_span!("http.request", id = 107u32);
    request.in_scope(|| query(107));
    // A `tracing` span ends (and is exported) when its last handle drops.
    drop(request);
    let spans = fx.flushed_spans();
    let named = |name: &str| {
        spans
            .iter()
            .filter(|s| s.name == name && s.attr("id") == Some("107"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let (outer, call, driver) = (
        &named("http.request")[0],
        &named("query")[0],
        &named("db.query")[0],
    );
    let inner = &find(&spans, "consume", "message", 107)[0];
    assert_eq!(
        call.parent_span_id, outer.span_id,
        "the call is the tracing span's child"
    );
    assert_eq!(
        driver.parent_span_id, call.span_id,
        "the library span is the call's child"
    );
    assert_eq!(
        inner.parent_span_id, driver.span_id,
        "a call inside the library span is its child"
    );
    for span in [call, driver, inner] {
        assert_eq!(span.trace_id, outer.trace_id, "{span:#?}");
    }
}

/// A caller that decided not to sample (`traceparent` flags 00): successes are not
/// exported; a failure is, alone, in the caller's trace, with the error attributes (its
/// parent is named but was not exported: a partial trace).
#[instrumented(service = "exporting", parent = headers, skip(headers))]
fn accept(request: u32, fail: bool, headers: &http::HeaderMap) -> Result<u32, StoreError> {
    store(request, fail)
}

#[test]
fn a_failure_in_a_trace_the_caller_did_not_sample_is_still_exported() {
    let fx = fixture();
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let caller_span = "b7ad6b7169203331";
    let mut incoming = http::HeaderMap::new();
    incoming.insert(
        "traceparent",
        format!("00-{trace_id}-{caller_span}-00").parse().unwrap(),
    );
    assert!(accept(108, false, &incoming).is_ok());
    assert!(accept(109, true, &incoming).is_err());
    let spans = fx.flushed_spans();
    assert!(
        find(&spans, "accept", "request", 108).is_empty(),
        "an unsampled success"
    );
    assert!(
        find(&spans, "store", "key", 108).is_empty(),
        "nor its child"
    );
    let failed = &find(&spans, "accept", "request", 109)[0];
    let failed_child = &find(&spans, "store", "key", 109)[0];
    assert_eq!(failed.trace_id, trace_id);
    assert_eq!(failed.parent_span_id, caller_span);
    assert_eq!(failed_child.parent_span_id, failed.span_id);
    for span in [failed, failed_child] {
        assert_eq!(span.status, STATUS_ERROR, "{span:#?}");
        assert_eq!(span.attr("error.type"), Some("ConnectionError"));
        assert_eq!(
            span.attr("fail"),
            Some("true"),
            "numbers and bools are kept"
        );
    }
}
