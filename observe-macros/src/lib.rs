//! Procedural macros of `observe`. Use them through the `observe` crate, which re-exports
//! them next to the runtime they expand into.
//!
//! One pipeline for all three macro kinds (thiserror's split, serde's error model), each
//! stage importing only the stages before it:
//!
//! - `text`, `vocab`, `rules`: pure helpers on strings, the convention's words, and the
//!   naming rules (`RULES.md`'s ids).
//! - `args`: the shared argument syntax: set-once slots, unknown-key help, `crate`.
//! - `item` and `convention`: the models: the annotated function's shape, and the
//!   convention in force (`observe.toml` found, validated and cached per process).
//! - `check`: one `check_*` per rule, each error spanned on the offending token and
//!   accumulated in a `Ctxt`; its output is what `expand` trusts.
//! - `expand`: code generation only.
//! - `driver` on top: runs parse → check → expand for `#[instrumented]`, the
//!   function-like metric macros and `#[derive(ErrorLabel)]` alike, emits the tracked
//!   `include_bytes!` of `observe.toml`, and on any error emits every error plus a
//!   fallback (the function unchanged, a no-op handle, a stand-in impl), so no follow-on
//!   errors cascade. Macros never panic.
//!
//! `ARCHITECTURE.md` at the repository root says where each rule lives.

mod args;
mod check;
mod classes;
mod convention;
mod ctxt;
mod driver;
mod expand;
#[cfg(test)]
mod fuzz_tests;
mod item;
mod rules;
#[cfg(test)]
mod rules_properties;
mod slo;
#[cfg(test)]
mod tests;
mod text;
mod vocab;

use proc_macro::TokenStream;

/// Instruments a function: a `tracing` span, a duration histogram, processed and failure
/// counters and an in-flight gauge, with names and labels checked against the convention
/// at compile time. See the `observe` crate for the arguments and what each call records.
///
/// Without the `enabled` feature (on by default), the function is emitted unchanged once
/// the attribute is checked.
///
/// ```
/// use observe::{ErrorLabel, instrumented};
///
/// #[derive(Debug, ErrorLabel)]
/// enum ParseError {
///     Empty,
/// }
///
/// #[instrumented(service = "parsing", histogram = "latency", skip(raw))]
/// fn parse_message(raw: &str) -> Result<usize, ParseError> {
///     if raw.is_empty() { Err(ParseError::Empty) } else { Ok(raw.len()) }
/// }
///
/// let (parsed, recorded) = observe::testing::capture(|| (parse_message("{}"), parse_message("")));
/// assert_eq!(parsed.0.unwrap(), 2);
/// let calls = recorded.calls("parse_message");
/// assert_eq!((calls.success, calls.failure, calls.error_types["Empty"]), (1, 1, 1));
/// ```
#[proc_macro_attribute]
pub fn instrumented(args: TokenStream, item: TokenStream) -> TokenStream {
    let convention = convention::load(source_file());
    driver::instrumented(args.into(), item.into(), enabled(), &convention).into()
}

/// Derives `ErrorLabel`: each enum variant is labelled with its name, or with
/// `#[error_label(rename = "ClassName")]`, or delegates to its single field with
/// `#[error_label(transparent)]`. A struct is labelled with its own name. The impl goes
/// through `::observe` unless the type says `#[error_label(crate = path)]`.
///
/// ```
/// use observe::ErrorLabel;
///
/// #[derive(Debug, ErrorLabel)]
/// enum StoreError {
///     NotFound,
///     #[error_label(rename = "TooLargeError")]
///     TooLarge { size: usize },
///     #[error_label(transparent)]
///     Io(std::io::Error),
/// }
///
/// assert_eq!(StoreError::NotFound.error_label(), "NotFound");
/// assert_eq!(StoreError::TooLarge { size: 1 << 30 }.error_label(), "TooLargeError");
/// assert_eq!(StoreError::Io(std::io::ErrorKind::TimedOut.into()).error_label(), "TimedOut");
/// ```
#[proc_macro_derive(ErrorLabel, attributes(error_label))]
pub fn derive_error_label(input: TokenStream) -> TokenStream {
    driver::error_label(input.into(), &convention::load(source_file())).into()
}

/// A counter checked against the convention at compile time, its handle cached per call
/// site: `counter!("copilot_parsing_retry_attempts_total", help = "…", labels(queue = q)).increment(1)`.
///
/// ```
/// fn retried(queue: &str) {
///     observe::counter!(
///         "copilot_parsing_retry_attempts_total",
///         help = "Parse attempts retried after a failure, by queue.",
///         labels(queue = queue),
///     )
///     .increment(1);
/// }
///
/// let ((), recorded) = observe::testing::capture(|| retried("parsing"));
/// assert_eq!(recorded.value("copilot_parsing_retry_attempts_total", &[("queue", "parsing")]), 1.0);
/// ```
#[proc_macro]
pub fn counter(input: TokenStream) -> TokenStream {
    metric(rules::Kind::Counter, input)
}

/// A gauge checked against the convention at compile time, its handle cached per call
/// site: `gauge!("copilot_parsing_queue_depth_messages", help = "…", labels(queue = q)).set(n)`.
///
/// ```
/// fn polled(queue: &str, waiting: usize) {
///     observe::gauge!(
///         "copilot_parsing_queue_depth_messages",
///         help = "Messages waiting in a queue.",
///         labels(queue = queue),
///     )
///     .set(waiting as f64);
/// }
///
/// let ((), recorded) = observe::testing::capture(|| polled("chunking", 4));
/// assert_eq!(recorded.value("copilot_parsing_queue_depth_messages", &[("queue", "chunking")]), 4.0);
/// ```
#[proc_macro]
pub fn gauge(input: TokenStream) -> TokenStream {
    metric(rules::Kind::Gauge, input)
}

/// A histogram checked against the convention at compile time, its handle cached per call
/// site: `histogram!("copilot_parsing_batch_size_messages", help = "…").record(n)`. Its
/// buckets are the preset of its unit, or `preset = "…"`.
///
/// ```
/// fn chunked(batch: &[String]) {
///     observe::histogram!(
///         "copilot_chunking_batch_size_messages",
///         help = "Messages per chunking batch.",
///     )
///     .record(batch.len() as f64);
/// }
///
/// let ((), recorded) = observe::testing::capture(|| chunked(&["a".into(), "b".into()]));
/// assert_eq!(recorded.value("copilot_chunking_batch_size_messages_sum", &[]), 2.0);
/// ```
#[proc_macro]
pub fn histogram(input: TokenStream) -> TokenStream {
    metric(rules::Kind::Histogram, input)
}

fn metric(kind: rules::Kind, input: TokenStream) -> TokenStream {
    driver::metric(
        kind,
        input.into(),
        enabled(),
        &convention::load(source_file()),
    )
    .into()
}

/// The file the macro is expanded in, where the convention search starts: `None` when
/// the compiler has no real file for it (a doctest, some rust-analyzer set-ups).
fn source_file() -> Option<std::path::PathBuf> {
    proc_macro::Span::call_site().local_file()
}

/// The `enabled` feature: read here, in the entry points only, so the pipeline below
/// stays a pure function of its inputs.
fn enabled() -> bool {
    cfg!(feature = "enabled")
}
