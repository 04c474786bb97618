//! Procedural macros of `observe`. Use them through the `observe` crate, which re-exports
//! them next to the runtime they expand into.
//!
//! Pipeline (thiserror's split, serde's error model): `args` parses the attribute's
//! syntax, `item` models the function, `check` applies the convention and reports every
//! violation into a `Ctxt`, and only then `expand` generates code. On any error the
//! function is emitted unchanged next to the errors, so no follow-on errors cascade.

mod args;
mod check;
mod config;
mod convention;
mod ctxt;
mod derive;
mod expand;
#[cfg(test)]
mod fuzz_tests;
mod item;
mod labels;
mod metric;
mod rules;
#[cfg(test)]
mod rules_properties;

use proc_macro::TokenStream;

/// Instruments a function: a `tracing` span, a duration histogram, processed and failure
/// counters and an in-flight gauge, with names and labels checked against the convention
/// at compile time. See the `observe` crate for the arguments and what each call records.
///
/// Without the `enabled` feature (on by default), the function is emitted unchanged once
/// the attribute is checked.
#[proc_macro_attribute]
pub fn instrumented(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::instrumented(args.into(), item.into(), cfg!(feature = "enabled")).into()
}

/// Derives `ErrorLabel`: each enum variant is labelled with its name, or with
/// `#[error_label(rename = "ClassName")]`, or delegates to its single field with
/// `#[error_label(transparent)]`. A struct is labelled with its own name.
#[proc_macro_derive(ErrorLabel, attributes(error_label))]
pub fn derive_error_label(input: TokenStream) -> TokenStream {
    derive::error_label(input.into()).into()
}

/// A counter checked against the convention at compile time, its handle cached per call
/// site: `counter!("copilot_parsing_retry_attempts_total", help = "…", labels(queue = q)).increment(1)`.
#[proc_macro]
pub fn counter(input: TokenStream) -> TokenStream {
    metric::expand(
        rules::Kind::Counter,
        input.into(),
        cfg!(feature = "enabled"),
    )
    .into()
}

/// A gauge checked against the convention at compile time, its handle cached per call
/// site: `gauge!("copilot_parsing_queue_depth_messages", help = "…", labels(queue = q)).set(n)`.
#[proc_macro]
pub fn gauge(input: TokenStream) -> TokenStream {
    metric::expand(rules::Kind::Gauge, input.into(), cfg!(feature = "enabled")).into()
}

/// A histogram checked against the convention at compile time, its handle cached per call
/// site: `histogram!("copilot_parsing_batch_size_messages", help = "…").record(n)`. Its
/// buckets are the preset of its unit, or `preset = "…"`.
#[proc_macro]
pub fn histogram(input: TokenStream) -> TokenStream {
    metric::expand(
        rules::Kind::Histogram,
        input.into(),
        cfg!(feature = "enabled"),
    )
    .into()
}
