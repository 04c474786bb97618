//! With every call sampled and its span exported, a call whose arguments are numbers and
//! `bool`s allocates nothing on the calling thread once warm: they are copied into the
//! span, as for an unsampled call, and the span is queued whole; the export task, on its
//! own thread, encodes them. Strings and `Debug` forms are formatted, an allocation per
//! call. (Own binary: a counting global allocator, and the process's runtime started with
//! OTLP export at 100%.)

mod support;

use observe::instrumented;
use support::allocations::{Counting, allocations_on_this_thread};
use support::otlp::Fixture;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[instrumented(service = "allocations")]
fn score(id: u64, weight: f64, exact: bool) -> u64 {
    id.wrapping_mul(3) + u64::from(exact) + weight as u64
}

/// A server span (`kind`, which is not an attribute) calling another: both sampled.
#[instrumented(service = "allocations", kind = "server")]
fn serve(id: u64, offset: i64) -> u64 {
    score(id, 0.5, id.is_multiple_of(2)).wrapping_add_signed(offset)
}

#[instrumented(service = "allocations")]
fn named(id: u64, label: &str) -> u64 {
    id + label.len() as u64
}

#[test]
fn sampled_calls_copy_numbers_and_bools_without_allocating() {
    let fx = Fixture::start(|b| b.trace_sample_ratio(1.0));
    let _ = serve(1, -1);
    let _ = named(1, "warm");
    let exported = fx.flushed_spans();
    assert_eq!(exported.len(), 3, "{exported:#?}");

    // 1 000 spans: half the export queue, so none is dropped.
    let before = allocations_on_this_thread();
    let checksum = (0..500).fold(0u64, |sum, id| sum.wrapping_add(serve(id, 7)));
    let allocations = allocations_on_this_thread() - before;
    assert!(checksum > 0);
    assert_eq!(allocations, 0, "allocations in 1 000 sampled calls");

    let before = allocations_on_this_thread();
    let checksum = (0..100).fold(0u64, |sum, id| sum.wrapping_add(named(id, "tenant")));
    assert!(checksum > 0);
    assert!(
        allocations_on_this_thread() - before >= 100,
        "a string argument is formatted for each sampled call"
    );

    let spans = fx.flushed_spans();
    let find = |name: &str, id: &str| {
        spans
            .iter()
            .find(|s| s.name == name && s.attr("id") == Some(id))
            .unwrap_or_else(|| panic!("no `{name}` span with id {id}: {spans:#?}"))
    };
    let inner = find("score", "499");
    assert_eq!(inner.attr("weight"), Some("0.5"));
    assert_eq!(inner.attr("exact"), Some("false"));
    let outer = find("serve", "499");
    assert_eq!(outer.attr("offset"), Some("7"));
    assert_eq!(outer.kind, support::otlp::KIND_SERVER);
    assert_eq!(
        outer.attr("otel.kind"),
        None,
        "the kind is not an attribute"
    );
    assert_eq!(inner.parent_span_id, outer.span_id);
    // Its `Debug` form, as `#[tracing::instrument]` records an argument.
    assert_eq!(find("named", "42").attr("label"), Some("\"tenant\""));
    assert_eq!(spans.len(), 3 + 1_000 + 100);
}
