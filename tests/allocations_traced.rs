//! With spans exported over OTLP, a call in a trace the head sampler dropped allocates
//! nothing once warm: observe's own call span draws its ids (or continues a `traceparent`),
//! decides, copies its numeric arguments and ends without touching the heap or `tracing`'s
//! registry. (Own binary: a
//! counting global allocator, and the process's runtime started with OTLP export.)

mod support;

use observe::{ErrorLabel, instrumented};
use support::allocations::{Counting, allocations_on_this_thread, poll_once};
use support::otlp::Fixture;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(Debug, ErrorLabel)]
enum LookupError {
    NotFound,
}

#[instrumented(service = "allocations")]
fn lookup(id: u64, label: &str, exact: bool) -> Result<u64, LookupError> {
    if id == u64::MAX {
        Err(LookupError::NotFound)
    } else {
        Ok(id + label.len() as u64 + u64::from(exact))
    }
}

/// An instrumented call inside another: the inner one's parent is the outer frame.
#[instrumented(service = "allocations", kind = "server")]
fn route(id: u64) -> u64 {
    lookup(id, "route", false).unwrap_or(0)
}

#[instrumented(service = "allocations")]
async fn lookup_async(id: u64) -> u64 {
    id.wrapping_mul(3)
}

/// A request handler continuing its caller's trace (`traceparent` with sampled=0).
#[instrumented(service = "allocations", kind = "server", parent = headers)]
fn handle(headers: &http::HeaderMap, id: u64) -> u64 {
    id ^ 1
}

/// A handler whose caller's trace carries a `tracestate`, making `nested` calls inside it,
/// sync and async.
#[instrumented(service = "allocations", kind = "server", parent = headers)]
fn fan_out(headers: &http::HeaderMap, nested: u64) -> u64 {
    (0..nested)
        .map(|id| route(id).wrapping_add(poll_once(lookup_async(id))))
        .fold(0, u64::wrapping_add)
}

#[test]
fn unsampled_calls_allocate_nothing_once_warm_and_failures_are_still_exported() {
    // Nothing sampled: every success is an unsampled one, every failure is exported.
    let fx = Fixture::start(|b| b.trace_sample_ratio(0.0));
    for id in 0..4 {
        let _ = route(id);
        let _ = poll_once(lookup_async(id));
    }
    assert!(lookup(u64::MAX, "warm", true).is_err());
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "traceparent",
        http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
    );
    let _ = handle(&headers, 0);

    let before = allocations_on_this_thread();
    let mut checksum = 0u64;
    for id in 0..30_000 {
        checksum = checksum.wrapping_add(lookup(id, "tenant-a", id % 2 == 0).unwrap_or(1));
        checksum = checksum.wrapping_add(route(id));
        checksum = checksum.wrapping_add(poll_once(lookup_async(id)));
        checksum = checksum.wrapping_add(handle(&headers, id));
    }
    let allocations = allocations_on_this_thread() - before;
    assert!(checksum > 0);
    assert_eq!(allocations, 0, "allocations in 150 000 unsampled calls");

    // With a `tracestate`, reading the headers allocates once per request (the vendor
    // state's strings); the calls made inside share that state, so they add nothing.
    let mut with_state = headers.clone();
    with_state.insert(
        "tracestate",
        http::HeaderValue::from_static("vendor=opaque,other=x"),
    );
    let _ = fan_out(&with_state, 2);
    let allocations_of = |nested: u64| {
        let before = allocations_on_this_thread();
        let checksum = (0..1_000).fold(0u64, |sum, _| {
            sum.wrapping_add(fan_out(&with_state, nested))
        });
        assert!(checksum > 0);
        allocations_on_this_thread() - before
    };
    let (one, twenty) = (allocations_of(1), allocations_of(20));
    assert!(one > 0, "the tracestate is read per request");
    assert_eq!(one, twenty, "nested calls copied the tracestate");

    let spans = fx.flushed_spans();
    assert_eq!(spans.len(), 1, "only the failure is exported: {spans:#?}");
    assert_eq!(spans[0].attr("error.type"), Some("NotFound"));
    assert_eq!(spans[0].attr("exact"), Some("true"));
    assert_eq!(
        spans[0].attr("label"),
        None,
        "a Debug form is formatted only if sampled"
    );
}
