//! `#[error_label(rename = "ClassName")]`, `#[error_label(transparent)]` on a variant (or
//! a struct), and `#[error_label(crate = path)]` on the type.

use proc_macro2::Span;
use syn::{Attribute, LitStr};

use super::{Keys, RawArg, RawValue, Slot, crate_value, malformed, parse_list, string_value};
use crate::ctxt::Ctxt;

const KEYS: Keys = Keys {
    names: &["rename", "transparent", "crate"],
    otherwise: None,
};

/// How one variant (or the struct) is labelled.
pub(crate) enum LabelChoice {
    /// Its own name.
    Name,
    Rename(LitStr),
    /// Its single field's label; the span is `transparent`'s.
    Transparent(Span),
}

/// Every `#[error_label(…)]` on one item.
pub(crate) struct ErrorLabelArgs {
    rename: Slot<LitStr>,
    transparent: Slot<Span>,
    pub(crate) krate: Slot<syn::Path>,
}

impl ErrorLabelArgs {
    /// Parses every `#[error_label(…)]` among `attrs`; `crate` only where `on_type`.
    pub(crate) fn from_attrs(cx: &Ctxt, attrs: &[Attribute], on_type: bool) -> Self {
        let mut args = ErrorLabelArgs {
            rename: Slot::new("rename"),
            transparent: Slot::new("transparent"),
            krate: Slot::new("crate"),
        };
        for attr in attrs.iter().filter(|a| a.path().is_ident("error_label")) {
            let list = match attr.meta.require_list() {
                Ok(list) => list,
                Err(error) => {
                    cx.syn_error(error);
                    continue;
                }
            };
            for arg in parse_list(cx, list.tokens.clone()) {
                args.take(cx, arg, on_type);
            }
        }
        if let (Some(rename), Some(transparent)) = (args.rename.key(), args.transparent.key()) {
            cx.error_spanned_by(
                transparent,
                "`transparent` and `rename` both say how to label this; use one",
                Some(format!(
                    "remove `transparent` to label it `{}`, or remove `{rename}`",
                    args.rename.get().map(LitStr::value).unwrap_or_default()
                )),
            );
        }
        args
    }

    fn take(&mut self, cx: &Ctxt, RawArg { key, value }: RawArg, on_type: bool) {
        let Ok(name) = KEYS.resolve(cx, &key) else {
            return;
        };
        match (name, value) {
            ("rename", value) => {
                if let Some(lit) = string_value(cx, &key, value, "rename = \"ClassName\"") {
                    self.rename.set(cx, &key, lit);
                }
            }
            ("transparent", RawValue::Flag) => self.transparent.set(cx, &key, key.span()),
            ("transparent", _) => malformed(cx, &key, "transparent").unwrap_or(()),
            ("crate", _) if !on_type => cx.error_spanned_by(
                &key,
                "`crate` applies to the whole type",
                Some("move `#[error_label(crate = …)]` onto the enum".to_owned()),
            ),
            (_, value) => {
                if let Some(path) = crate_value(cx, &key, value) {
                    self.krate.set(cx, &key, path);
                }
            }
        }
    }

    pub(crate) fn choice(&self) -> LabelChoice {
        match (self.rename.get(), self.transparent.get()) {
            (Some(lit), _) => LabelChoice::Rename(lit.clone()),
            (None, Some(span)) => LabelChoice::Transparent(*span),
            (None, None) => LabelChoice::Name,
        }
    }
}
