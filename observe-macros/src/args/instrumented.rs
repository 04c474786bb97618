//! `#[instrumented(service = "parsing", histogram = "latency", …)]`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, LitStr, Token};

use super::{Keys, RawArg, RawValue, Slot, crate_value, malformed, parse_list, string_value};
use crate::ctxt::Ctxt;

/// Every argument `#[instrumented]` accepts.
const KEYS: Keys = Keys {
    names: &[
        "service",
        "histogram",
        "name",
        "operation",
        "level",
        "skip",
        "skip_all",
        "fields",
        "labels",
        "crate",
        "kind",
        "parent",
    ],
    otherwise: None,
};

/// A `key = "value"` pair inside `labels(…)`.
pub(crate) struct LabelArg {
    pub(crate) key: Ident,
    pub(crate) value: LitStr,
}

impl Parse for LabelArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.call(Ident::parse_any)?;
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(LabelArg { key, value })
    }
}

/// The level written as `level = "debug"` or `level = DEBUG`.
pub(crate) enum LevelArg {
    Str(LitStr),
    Path(syn::Path),
}

pub(crate) struct InstrumentedArgs {
    pub(crate) service: Slot<LitStr>,
    pub(crate) histogram: Slot<LitStr>,
    pub(crate) name: Slot<LitStr>,
    pub(crate) operation: Slot<LitStr>,
    pub(crate) level: Slot<LevelArg>,
    pub(crate) skip: Slot<Vec<Ident>>,
    pub(crate) skip_all: Slot<()>,
    pub(crate) fields: Slot<TokenStream>,
    pub(crate) labels: Slot<Vec<LabelArg>>,
    pub(crate) krate: Slot<syn::Path>,
    pub(crate) kind: Slot<LitStr>,
    pub(crate) parent: Slot<Ident>,
    /// Keys the user wrote or evidently meant (a malformed value, a typo), even if no
    /// value was taken: a "missing argument" error for them would only repeat another.
    pub(crate) attempted: Vec<&'static str>,
}

impl InstrumentedArgs {
    /// Parses what it can; every problem goes into `cx`.
    pub(crate) fn from_tokens(cx: &Ctxt, tokens: TokenStream) -> Self {
        let mut args = InstrumentedArgs {
            service: Slot::new("service"),
            histogram: Slot::new("histogram"),
            name: Slot::new("name"),
            operation: Slot::new("operation"),
            level: Slot::new("level"),
            skip: Slot::new("skip"),
            skip_all: Slot::new("skip_all"),
            fields: Slot::new("fields"),
            labels: Slot::new("labels"),
            krate: Slot::new("crate"),
            kind: Slot::new("kind"),
            parent: Slot::new("parent"),
            attempted: Vec::new(),
        };
        for arg in parse_list(cx, tokens) {
            args.take(cx, arg);
        }
        args
    }

    /// One argument into its slot. A plain dispatch on the key, one arm per argument: long
    /// only because there are twelve of them.
    fn take(&mut self, cx: &Ctxt, RawArg { key, value }: RawArg) {
        let name = match KEYS.resolve(cx, &key) {
            Ok(name) => name,
            Err(near) => {
                self.attempted.extend(near);
                return;
            }
        };
        self.attempted.push(name);
        let key = &key;
        match (name, value) {
            ("service", v) => set(
                cx,
                key,
                &mut self.service,
                string_value(cx, key, v, "service = \"parsing\""),
            ),
            ("histogram", v) => set(
                cx,
                key,
                &mut self.histogram,
                string_value(cx, key, v, "histogram = \"latency\""),
            ),
            ("name", v) => set(
                cx,
                key,
                &mut self.name,
                string_value(cx, key, v, "name = \"generation\""),
            ),
            ("operation", v) => set(
                cx,
                key,
                &mut self.operation,
                string_value(cx, key, v, "operation = \"parse\""),
            ),
            ("kind", v) => set(
                cx,
                key,
                &mut self.kind,
                string_value(cx, key, v, "kind = \"server\""),
            ),
            ("level", RawValue::Lit(Lit::Str(s))) => self.level.set(cx, key, LevelArg::Str(s)),
            ("level", RawValue::Path(p)) => self.level.set(cx, key, LevelArg::Path(p)),
            ("level", _) => malformed(cx, key, "level = \"debug\"").unwrap_or(()),
            ("skip", RawValue::List(tokens)) => {
                match Punctuated::<Ident, Token![,]>::parse_terminated.parse2(tokens) {
                    Ok(idents) => self.skip.set(cx, key, idents.into_iter().collect()),
                    Err(error) => cx.syn_error(error),
                }
            }
            ("skip", _) => malformed(cx, key, "skip(arg1, arg2)").unwrap_or(()),
            ("skip_all", RawValue::Flag) => self.skip_all.set(cx, key, ()),
            ("skip_all", _) => malformed(cx, key, "skip_all").unwrap_or(()),
            ("fields", RawValue::List(tokens)) => self.fields.set(cx, key, tokens),
            ("fields", _) => {
                malformed(cx, key, "fields(queue = %queue, size = body.len())").unwrap_or(())
            }
            ("labels", RawValue::List(tokens)) => {
                match Punctuated::<LabelArg, Token![,]>::parse_terminated.parse2(tokens) {
                    Ok(labels) => self.labels.set(cx, key, labels.into_iter().collect()),
                    Err(error) => cx.syn_error(error),
                }
            }
            ("labels", _) => malformed(cx, key, "labels(queue = \"parsing\")").unwrap_or(()),
            ("crate", v) => set(cx, key, &mut self.krate, crate_value(cx, key, v)),
            ("parent", RawValue::Path(path)) if path.get_ident().is_some() => {
                let ident = path.get_ident().cloned();
                set(cx, key, &mut self.parent, ident);
            }
            ("parent", _) => malformed(cx, key, "parent = headers").unwrap_or(()),
            // `resolve` only returns keys of `KEYS`, each matched above.
            _ => {}
        }
    }
}

fn set<T>(cx: &Ctxt, key: &Ident, slot: &mut Slot<T>, value: Option<T>) {
    if let Some(value) = value {
        slot.set(cx, key, value);
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{InstrumentedArgs, KEYS};
    use crate::ctxt::Ctxt;

    /// Every key in `KEYS` has an arm in `take`: written bare, each is taken as a flag or
    /// reported as malformed, never dropped silently.
    #[test]
    fn every_key_is_taken() {
        for key in KEYS.names {
            let cx = Ctxt::new();
            let ident = syn::Ident::new(key, proc_macro2::Span::call_site());
            let args = InstrumentedArgs::from_tokens(&cx, quote!(#ident));
            assert!(args.attempted.contains(key), "{key}");
            let errors = cx.check().err().map(|e| e.into_iter().count()).unwrap_or(0);
            assert_eq!(errors + usize::from(*key == "skip_all"), 1, "{key}");
        }
    }
}
