//! The argument syntax shared by `#[instrumented(…)]`, `counter!/gauge!/histogram!(…)` and
//! `#[error_label(…)]`: `key = "literal"`, `key = some::path`, `key(…)` and bare `flag`
//! arguments. Values keep their tokens for spans. Each macro declares its keys once
//! (`Keys`); an unknown key is an error naming the nearest known one and every key
//! accepted, a repeated key an error at the repeat (`Slot`), and `crate = path` defaults
//! to `::observe` here alone. What the values mean is `check`'s business.

mod error_label;
mod instrumented;
mod metric;

pub(crate) use error_label::{ErrorLabelArgs, LabelChoice};
pub(crate) use instrumented::{InstrumentedArgs, LabelArg, LevelArg, ValueFormat};
pub(crate) use metric::MetricArgs;

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::text::{closest, one_of};

/// The facade generated code goes through unless `crate = path` says otherwise.
pub(crate) fn default_crate() -> syn::Path {
    syn::parse_quote!(::observe)
}

/// One argument as written.
pub(crate) struct RawArg {
    pub(crate) key: Ident,
    pub(crate) value: RawValue,
}

pub(crate) enum RawValue {
    /// `key = <literal>`
    Lit(Lit),
    /// `key = some::path`
    Path(syn::Path),
    /// `key = <any other expression>`, as tracing's `parent = span.id()` or
    /// `follows_from = [id]`: never valid here, kept so its key gets its own error.
    Expr,
    /// `key(…)`
    List(TokenStream),
    /// `key`
    Flag,
}

impl Parse for RawArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.call(Ident::parse_any)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            let fork = input.fork();
            let path_alone = fork.call(syn::Path::parse_mod_style).is_ok()
                && (fork.is_empty() || fork.peek(Token![,]));
            if input.peek(Lit) && (input.peek2(Token![,]) || input.peek2(syn::parse::End)) {
                RawValue::Lit(input.parse()?)
            } else if path_alone {
                RawValue::Path(input.call(syn::Path::parse_mod_style)?)
            } else {
                input.parse::<syn::Expr>()?;
                RawValue::Expr
            }
        } else if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            RawValue::List(content.parse()?)
        } else {
            RawValue::Flag
        };
        Ok(RawArg { key, value })
    }
}

/// `a = "x", b(…), c` as written; a syntax error goes into `cx` and ends the list.
pub(crate) fn parse_list(cx: &Ctxt, tokens: TokenStream) -> Vec<RawArg> {
    match Punctuated::<RawArg, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(raw) => raw.into_iter().collect(),
        Err(error) => {
            cx.syn_error(error);
            Vec::new()
        }
    }
}

/// The keys one macro accepts, for "expected one of" and typo suggestions.
pub(crate) struct Keys {
    pub(crate) names: &'static [&'static str],
    /// Said after the list when no key is near, e.g. where labels go instead.
    pub(crate) otherwise: Option<&'static str>,
}

impl Keys {
    /// The key as one of `names`. An unknown key is reported here; its nearest known key,
    /// if any, is returned as `Err`: the user evidently meant it, so a "missing argument"
    /// error for it would only repeat this one.
    pub(crate) fn resolve(
        &self,
        cx: &Ctxt,
        key: &Ident,
    ) -> Result<&'static str, Option<&'static str>> {
        let name = key.unraw().to_string();
        if let Some(known) = self.names.iter().find(|k| **k == name) {
            return Ok(known);
        }
        let near = closest(&name, self.names.iter().copied())
            .and_then(|near| self.names.iter().copied().find(|k| *k == near));
        let listed = one_of(self.names.iter().copied());
        let help = match (near, self.otherwise) {
            (Some(near), _) => format!("did you mean `{near}`? expected one of {listed}"),
            (None, Some(otherwise)) => format!("expected one of {listed}; {otherwise}"),
            (None, None) => format!("expected one of {listed}"),
        };
        cx.error_spanned_by(key, format!("unknown argument `{name}`"), Some(help));
        Err(near)
    }
}

/// A set-once slot: the first value wins, a second one is reported at its key.
pub(crate) struct Slot<T> {
    name: &'static str,
    value: Option<(Ident, T)>,
}

impl<T> Slot<T> {
    pub(crate) fn new(name: &'static str) -> Self {
        Slot { name, value: None }
    }

    pub(crate) fn set(&mut self, cx: &Ctxt, key: &Ident, value: T) {
        if self.value.is_some() {
            cx.error_spanned_by(
                key,
                format!("duplicate argument `{}`", self.name),
                Some(format!("remove one of the `{}` arguments", self.name)),
            );
        } else {
            self.value = Some((key.clone(), value));
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(_, v)| v)
    }

    /// The key as written, to point at.
    pub(crate) fn key(&self) -> Option<&Ident> {
        self.value.as_ref().map(|(k, _)| k)
    }
}

impl Slot<syn::Path> {
    /// `crate = path` as given, else `::observe`.
    pub(crate) fn krate(&self) -> syn::Path {
        self.get().cloned().unwrap_or_else(default_crate)
    }
}

/// `value` as a string literal, or a "malformed argument" error showing `example`.
pub(crate) fn string_value(
    cx: &Ctxt,
    key: &Ident,
    value: RawValue,
    example: &str,
) -> Option<LitStr> {
    match value {
        RawValue::Lit(Lit::Str(s)) => Some(s),
        _ => malformed(cx, key, example),
    }
}

/// `crate = ::path` or `crate = "::path"` (serde's spelling).
pub(crate) fn crate_value(cx: &Ctxt, key: &Ident, value: RawValue) -> Option<syn::Path> {
    match value {
        RawValue::Path(path) => Some(path),
        RawValue::Lit(Lit::Str(s)) => match s.parse_with(syn::Path::parse_mod_style) {
            Ok(path) => Some(path),
            Err(error) => {
                cx.syn_error(error);
                None
            }
        },
        _ => malformed(cx, key, "crate = ::observe"),
    }
}

/// "malformed argument `key`", with how to write it.
pub(crate) fn malformed<T>(cx: &Ctxt, key: &Ident, example: &str) -> Option<T> {
    cx.error_spanned_by(
        key,
        format!("malformed argument `{}`", key.unraw()),
        Some(format!("write it as `{example}`")),
    );
    None
}
