//! Expansion snapshots: what each macro expands to, parsed and pretty-printed
//! (`prettyplease`), kept as reviewed `.snap` files under `snapshots/` (`insta`). Every
//! expansion here is hermetic: the convention is handed in, not read from the disk.
//! Review a change with `cargo insta review`, or by reading the `.snap.new` file it
//! leaves next to the old one.

mod error_label;
mod instrumented;
mod metric;

use std::path::PathBuf;
use std::sync::Arc;

use proc_macro2::TokenStream;
use quote::quote;

use crate::convention::{Convention, LabelRule, Loaded};

/// `CONVENTION.md`'s defaults under the RFC's `copilot` namespace with the `queue`
/// values declared, like this repository's `observe.toml`, as if read from
/// `/workspace/observe.toml` (so the tracked `include_bytes!` shows in the snapshots).
fn convention() -> Loaded {
    convention_with(|_| {})
}

/// `convention()` with edits, e.g. a closed `error_type` set.
fn convention_with(edit: impl FnOnce(&mut Convention)) -> Loaded {
    let mut convention = Convention::builtin("copilot".to_owned());
    convention.source = Some(PathBuf::from("/workspace/observe.toml"));
    let queues = ["parsing", "chunking"].map(str::to_owned).to_vec();
    convention.labels.insert(
        "queue".to_owned(),
        LabelRule {
            max: queues.len() as u64,
            values: Some(queues),
        },
    );
    convention.labels.insert(
        "collection".to_owned(),
        LabelRule {
            max: 2,
            values: Some(["documents", "chunks"].map(str::to_owned).to_vec()),
        },
    );
    convention.labels.insert(
        "dependency".to_owned(),
        LabelRule {
            max: 4,
            values: None,
        },
    );
    edit(&mut convention);
    Ok(Arc::new(convention))
}

/// Items (a function, an impl) as rustfmt-like source.
fn pretty_items(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(error) => panic!("the expansion does not parse as items: {error}\n{tokens}"),
    }
}

/// An expression (a metric macro's block), shown as the body of a function.
fn pretty_expr(tokens: TokenStream) -> String {
    pretty_items(quote!(fn call_site() { let _ = #tokens; }))
}
