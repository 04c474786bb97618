//! `counter!`, `gauge!` and `histogram!`, enabled, disabled and on error.

use insta::assert_snapshot;
use proc_macro2::TokenStream;
use quote::quote;

use super::{convention, pretty_expr};
use crate::driver;
use crate::rules::Kind;

fn expand(kind: Kind, call: TokenStream, enabled: bool) -> String {
    pretty_expr(driver::metric(kind, call, enabled, &convention()))
}

/// A counter with a runtime label value: its domain is the label's bound.
#[test]
fn counter() {
    let out = expand(
        Kind::Counter,
        quote!(
            "copilot_parsing_retry_attempts_total",
            help = "Parse attempts retried after a failure.",
            labels(queue = queue_name)
        ),
        true,
    );
    assert_snapshot!(out);
}

/// Two runtime labels with declared sets, after a literal one: each value is matched to
/// its position, the first label's position the slower-moving (stride 2 + 1), and only the
/// runtime labels are numbered for the overflow count.
#[test]
fn counter_two_declared_labels() {
    let out = expand(
        Kind::Counter,
        quote!(
            "copilot_parsing_documents_moved_total",
            help = "Documents moved.",
            labels(status = "pending", queue = from, collection = into)
        ),
        true,
    );
    assert_snapshot!(out);
}

/// A runtime label with only a bound: its values are interned at runtime, so the site
/// passes the strings.
#[test]
fn counter_bounded_label() {
    let out = expand(
        Kind::Counter,
        quote!(
            "copilot_parsing_dependency_calls_total",
            help = "Calls to dependencies.",
            labels(queue = queue_name, dependency = dependency)
        ),
        true,
    );
    assert_snapshot!(out);
}

/// A gauge with a literal label value: a constant label.
#[test]
fn gauge() {
    let out = expand(
        Kind::Gauge,
        quote!(
            "copilot_parsing_queue_depth_messages",
            help = "Messages waiting.",
            labels(status = "pending")
        ),
        true,
    );
    assert_snapshot!(out);
}

/// A histogram takes the first preset of its name's unit, or `preset = "…"`.
#[test]
fn histogram() {
    assert_snapshot!(
        "histogram_default_preset",
        expand(
            Kind::Histogram,
            quote!("copilot_parsing_batch_size_messages", help = "Batch sizes."),
            true,
        )
    );
    assert_snapshot!(
        "histogram_named_preset",
        expand(
            Kind::Histogram,
            quote!(
                "copilot_parsing_body_bytes",
                help = "Body sizes.",
                preset = "size",
                crate = ::my_observe
            ),
            true,
        )
    );
}

/// With the `enabled` feature off the call is still checked, then records nothing; the
/// label values are still evaluated.
#[test]
fn disabled_is_checked_then_a_noop() {
    let call = quote!(
        "copilot_parsing_retry_attempts_total",
        help = "Retries.",
        labels(queue = q)
    );
    assert_snapshot!("disabled_noop", expand(Kind::Counter, call, false));
    assert_snapshot!(
        "disabled_still_checked",
        expand(
            Kind::Counter,
            quote!("copilot_parsing_retries", help = "R."),
            false
        )
    );
}

/// On error: every error, then a no-op handle so the caller's `.increment(1)` checks.
#[test]
fn errors_then_a_noop_handle() {
    let out = expand(
        Kind::Counter,
        quote!("copilot_parsing_retries", hlep = "R.", labels(user_id = id)),
        true,
    );
    assert_snapshot!(out);
}
