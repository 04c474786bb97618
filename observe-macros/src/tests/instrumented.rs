//! `#[instrumented]` on each function shape, and its fallbacks.

use insta::assert_snapshot;
use proc_macro2::TokenStream;
use quote::quote;

use super::{convention, pretty_items};
use crate::driver;

fn expand(args: TokenStream, item: TokenStream) -> String {
    pretty_items(driver::instrumented(args, item, true, &convention()))
}

/// A plain fn: the body runs in a `once(move || …)` closure under the entered span, so
/// `return` and `?` are caught; the rustdoc lists the exact series.
#[test]
fn sync_fn() {
    let out = expand(
        quote!(service = "parsing", labels(queue = "parsing")),
        quote!(
            fn parse_message(body: &str) -> Result<u32, std::num::ParseIntError> {
                let n = body.parse()?;
                Ok(n)
            }
        ),
    );
    assert_snapshot!(out);
}

/// `async fn`: the body is an `async move` block awaited inside the fn, the guard bound
/// to the first poll.
#[test]
fn async_fn() {
    let out = expand(
        quote!(service = "parsing"),
        quote!(
            pub async fn fetch(id: u64) -> Result<String, std::io::Error> {
                Ok(id.to_string())
            }
        ),
    );
    assert_snapshot!(out);
}

/// `impl Trait` return: the fake return edge erases it to `_`.
#[test]
fn impl_trait_return() {
    let out = expand(
        quote!(service = "parsing", skip_all),
        quote!(
            fn numbers(limit: u32) -> impl Iterator<Item = u32> {
                0..limit
            }
        ),
    );
    assert_snapshot!(out);
}

/// A `&mut` return borrowed from an argument goes through `once` (tracing #2857).
#[test]
fn mut_ref_return() {
    let out = expand(
        quote!(service = "parsing", skip(items)),
        quote!(
            fn first(items: &mut Vec<u8>) -> &mut u8 {
                &mut items[0]
            }
        ),
    );
    assert_snapshot!(out);
}

/// `&self`, `&mut self`, `self` and `self: Arc<Self>` are captured by the `move` closure.
#[test]
fn method_receivers() {
    for (name, method) in [
        (
            "ref_self",
            quote!(
                fn count(&self) -> u32 {
                    self.count
                }
            ),
        ),
        (
            "mut_self",
            quote!(
                fn bump(&mut self, by: u32) -> u32 {
                    self.count += by;
                    self.count
                }
            ),
        ),
        (
            "value_self",
            quote!(
                fn into_count(self) -> u32 {
                    self.count
                }
            ),
        ),
        (
            "arc_self",
            quote!(
                fn shared(self: std::sync::Arc<Self>) -> u32 {
                    self.count
                }
            ),
        ),
    ] {
        let out = expand(quote!(service = "shapes"), method);
        assert_snapshot!(format!("method_receivers_{name}"), out);
    }
}

/// async-trait's `Pin<Box<dyn Future>>` with a `Box::pin(async move { … })` body: the
/// returned future is wrapped and re-boxed, so the call is measured until it completes.
#[test]
fn async_trait_boxed_future() {
    let out = expand(
        quote!(service = "parsing"),
        quote!(
            fn handle<'a>(
                &'a self,
                id: u64,
            ) -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = u64> + Send + 'a>>
            {
                Box::pin(async move { id })
            }
        ),
    );
    assert_snapshot!(out);
}

/// A fn returning `impl Future` (not async): the returned future is wrapped unboxed.
#[test]
fn returns_impl_future() {
    let out = expand(
        quote!(service = "parsing"),
        quote!(
            fn later(id: u64) -> impl std::future::Future<Output = u64> {
                async move { id }
            }
        ),
    );
    assert_snapshot!(out);
}

/// Generics, lifetimes and a where clause are re-emitted verbatim.
#[test]
fn generics() {
    let out = expand(
        quote!(service = "parsing", skip(items)),
        quote!(
            fn largest<'a, T>(items: &'a [T]) -> Option<&'a T>
            where
                T: PartialOrd,
            {
                items.iter().fold(None, |best, x| match best {
                    Some(b) if b >= x => Some(b),
                    _ => Some(x),
                })
            }
        ),
    );
    assert_snapshot!(out);
}

/// `parent = headers`: the span continues the caller's trace before it is entered.
#[test]
fn parent_headers() {
    let out = expand(
        quote!(service = "parsing", parent = headers, kind = "server"),
        quote!(
            async fn handle(headers: http::HeaderMap, body: String) -> usize {
                body.len()
            }
        ),
    );
    assert_snapshot!(out);
}

/// `fields(..)` goes through `tracing::span!`, which takes the extra fields.
#[test]
fn fields() {
    let out = expand(
        quote!(service = "parsing", fields(size = body.len(), queue = %queue)),
        quote!(
            fn parse(body: &str, queue: &str) -> usize {
                body.len()
            }
        ),
    );
    assert_snapshot!(out);
}

/// Every argument at once: `name`, `operation`, `level`, `histogram`, `kind`, `crate`.
#[test]
fn all_arguments() {
    let out = expand(
        quote!(
            service = "parsing",
            name = "generation",
            operation = "generate",
            level = "debug",
            histogram = "latency",
            kind = "consumer",
            labels(queue = "parsing"),
            crate = ::my_observe,
        ),
        quote!(
            fn generate(prompt: &str) -> String {
                prompt.to_owned()
            }
        ),
    );
    assert_snapshot!(out);
}

/// With the `enabled` feature off, the function is emitted exactly as written: no
/// static, no guard, no span.
#[test]
fn disabled_emits_the_function_unchanged() {
    let item = quote!(
        fn parse_message(x: u8) -> Result<u8, std::fmt::Error> {
            Ok(x)
        }
    );
    let out = driver::instrumented(
        quote!(service = "parsing"),
        item.clone(),
        false,
        &convention(),
    );
    assert_eq!(out.to_string(), item.to_string());
    let enabled = driver::instrumented(quote!(service = "parsing"), item, true, &convention());
    assert_snapshot!(pretty_items(enabled));
}

/// With the feature off, an argument only `parent` reads is marked used.
#[test]
fn disabled_marks_parent_used() {
    let out = driver::instrumented(
        quote!(service = "parsing", parent = headers),
        quote!(
            fn handle(headers: &http::HeaderMap) {}
        ),
        false,
        &convention(),
    );
    assert_snapshot!(pretty_items(out));
}

/// On an invalid attribute the function is emitted unchanged next to every error.
#[test]
fn invalid_input_still_emits_the_function() {
    let item = quote!(
        fn parse_message(x: u8) -> u8 {
            x
        }
    );
    let out = driver::instrumented(
        quote!(service = "Bad", servce = "x"),
        item.clone(),
        true,
        &convention(),
    );
    assert!(out.to_string().ends_with(&item.to_string()), "{out}");
    assert_snapshot!(pretty_items(out));
}

/// Misuse is still an error with the feature off: turning it off never hides a bug.
#[test]
fn disabled_still_reports_misuse() {
    let item = quote!(
        fn parse_message() {}
    );
    let out = driver::instrumented(quote!(service = "Bad"), item.clone(), false, &convention());
    assert!(out.to_string().ends_with(&item.to_string()), "{out}");
    assert_snapshot!(pretty_items(out));
}

/// A malformed `observe.toml`: each problem reported at the attribute, the function kept.
#[test]
fn convention_errors_keep_the_function() {
    let broken = Err(std::sync::Arc::new(vec![
        "invalid `observe.toml` at observe.toml:2:1: unknown field `bogus`".to_owned(),
    ]));
    let out = driver::instrumented(
        quote!(service = "parsing"),
        quote!(
            fn parse_message() {}
        ),
        true,
        &broken,
    );
    assert_snapshot!(pretty_items(out));
}
