//! `#[derive(ErrorLabel)]`: each variant shape, `crate = path`, and the fallback impl.

use insta::assert_snapshot;
use proc_macro2::TokenStream;
use quote::quote;

use super::{convention, convention_with, pretty_items};
use crate::convention::LabelRule;
use crate::driver;

fn expand(input: TokenStream) -> String {
    pretty_items(driver::error_label(input, &convention()))
}

/// Unit, tuple and struct variants; `rename`; `transparent` on one field.
#[test]
fn enum_variants() {
    let out = expand(quote!(
        enum StoreError {
            Connection,
            #[error_label(rename = "Timeout")]
            TimedOut(std::time::Duration),
            Conflict {
                key: String,
                version: u64,
            },
            #[error_label(transparent)]
            Io(std::io::Error),
        }
    ));
    assert_snapshot!(out);
}

/// A struct is labelled with its own name; generics carry over.
#[test]
fn generic_struct() {
    let out = expand(quote!(
        struct WrappedError<E: std::fmt::Debug> {
            inner: E,
        }
    ));
    assert_snapshot!(out);
}

/// `#[error_label(crate = path)]` roots the impl in `path`; an empty enum matches nothing.
#[test]
fn crate_path_and_empty_enum() {
    let out = expand(quote!(
        #[error_label(crate = ::my_observe)]
        enum Never {}
    ));
    assert_snapshot!(out);
}

/// On error: every error, and an impl whose body never runs, so callers of
/// `error_label()` get no follow-on errors.
#[test]
fn errors_then_a_stand_in_impl() {
    let closed = convention_with(|c| {
        c.labels.insert(
            "error_type".to_owned(),
            LabelRule {
                values: Some(vec!["Timeout".to_owned(), "Connection".to_owned()]),
                max: 2,
            },
        );
    });
    let out = driver::error_label(
        quote!(
            enum StoreError {
                Timeout,
                #[error_label(rename = "connection error")]
                Connection,
                #[error_label(transparent)]
                Io,
                #[error_label(nmae = "X")]
                Other,
            }
        ),
        &closed,
    );
    assert_snapshot!(pretty_items(out));
}
