//! The attribute's syntax: `key = "value"`, `key(…)` and bare `flag` arguments. Values
//! keep their tokens for spans; each key has a set-once slot so a duplicate is reported in
//! one place. Meaning and rules live in `check`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, LitStr, Token};

use crate::convention::{closest, one_of};
use crate::ctxt::Ctxt;

/// Every argument `#[instrumented]` accepts.
pub(crate) const KEYS: &[&str] = &[
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
    "slo",
];

/// One argument as written.
struct RawArg {
    key: Ident,
    value: RawValue,
}

enum RawValue {
    /// `key = <literal>`
    Lit(Lit),
    /// `key = some::path`
    Path(syn::Path),
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
            if input.peek(Lit) {
                RawValue::Lit(input.parse()?)
            } else {
                RawValue::Path(input.call(syn::Path::parse_mod_style)?)
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

/// A set-once slot: the first value wins, a second one is reported at its key.
pub(crate) struct Slot<T> {
    name: &'static str,
    value: Option<(Ident, T)>,
}

impl<T> Slot<T> {
    fn new(name: &'static str) -> Self {
        Slot { name, value: None }
    }

    fn set(&mut self, cx: &Ctxt, key: &Ident, value: T) {
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
}

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
    pub(crate) slo: Slot<crate::slo::AttrSlo>,
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
            slo: Slot::new("slo"),
            attempted: Vec::new(),
        };
        let parsed = Punctuated::<RawArg, Token![,]>::parse_terminated.parse2(tokens);
        match parsed {
            Ok(raw) => raw.into_iter().for_each(|arg| args.take(cx, arg)),
            Err(error) => cx.syn_error(error),
        }
        args
    }

    fn take(&mut self, cx: &Ctxt, RawArg { key, value }: RawArg) {
        let name = key.unraw().to_string();
        let attempted = KEYS.iter().find(|k| **k == name).or_else(|| {
            closest(&name, KEYS.iter().copied()).and_then(|near| KEYS.iter().find(|k| **k == near))
        });
        self.attempted.extend(attempted.copied());
        match (name.as_str(), value) {
            ("service", v) => string_value(cx, &key, v, "service = \"parsing\"")
                .map(|s| self.service.set(cx, &key, s)),
            ("histogram", v) => string_value(cx, &key, v, "histogram = \"latency\"")
                .map(|s| self.histogram.set(cx, &key, s)),
            ("name", v) => string_value(cx, &key, v, "name = \"generation\"")
                .map(|s| self.name.set(cx, &key, s)),
            ("operation", v) => string_value(cx, &key, v, "operation = \"parse\"")
                .map(|s| self.operation.set(cx, &key, s)),
            ("level", RawValue::Lit(Lit::Str(s))) => {
                self.level.set(cx, &key, LevelArg::Str(s));
                Some(())
            }
            ("level", RawValue::Path(p)) => {
                self.level.set(cx, &key, LevelArg::Path(p));
                Some(())
            }
            ("level", _) => expected(cx, &key, "level = \"debug\""),
            ("skip", RawValue::List(tokens)) => {
                match Punctuated::<Ident, Token![,]>::parse_terminated.parse2(tokens) {
                    Ok(idents) => self.skip.set(cx, &key, idents.into_iter().collect()),
                    Err(error) => cx.syn_error(error),
                }
                Some(())
            }
            ("skip", _) => expected(cx, &key, "skip(arg1, arg2)"),
            ("skip_all", RawValue::Flag) => {
                self.skip_all.set(cx, &key, ());
                Some(())
            }
            ("skip_all", _) => expected(cx, &key, "skip_all"),
            ("fields", RawValue::List(tokens)) => {
                self.fields.set(cx, &key, tokens);
                Some(())
            }
            ("fields", _) => expected(cx, &key, "fields(queue = %queue, size = body.len())"),
            ("labels", RawValue::List(tokens)) => {
                match Punctuated::<LabelArg, Token![,]>::parse_terminated.parse2(tokens) {
                    Ok(labels) => self.labels.set(cx, &key, labels.into_iter().collect()),
                    Err(error) => cx.syn_error(error),
                }
                Some(())
            }
            ("labels", _) => expected(cx, &key, "labels(queue = \"parsing\")"),
            ("crate", RawValue::Path(path)) => {
                self.krate.set(cx, &key, path);
                Some(())
            }
            ("crate", RawValue::Lit(Lit::Str(s))) => match s.parse_with(syn::Path::parse_mod_style)
            {
                Ok(path) => {
                    self.krate.set(cx, &key, path);
                    Some(())
                }
                Err(error) => {
                    cx.syn_error(error);
                    Some(())
                }
            },
            ("crate", _) => expected(cx, &key, "crate = ::observe"),
            ("parent", RawValue::Path(path)) => match path.get_ident() {
                Some(ident) => {
                    self.parent.set(cx, &key, ident.clone());
                    Some(())
                }
                None => expected(cx, &key, "parent = headers"),
            },
            ("parent", _) => expected(cx, &key, "parent = headers"),
            ("slo", RawValue::List(tokens)) => {
                match crate::slo::parse_attr(tokens) {
                    Ok(slo) => self.slo.set(cx, &key, slo),
                    Err(error) => cx.syn_error(error),
                }
                Some(())
            }
            ("slo", _) => expected(
                cx,
                &key,
                "slo(availability = \"99.9%\", latency(threshold = \"5s\", target = \"95%\"))",
            ),
            ("kind", v) => {
                string_value(cx, &key, v, "kind = \"server\"").map(|s| self.kind.set(cx, &key, s))
            }
            (unknown, _) => {
                let help = match closest(unknown, KEYS.iter().copied()) {
                    Some(near) => format!(
                        "did you mean `{near}`? expected one of {}",
                        one_of(KEYS.iter().copied())
                    ),
                    None => format!("expected one of {}", one_of(KEYS.iter().copied())),
                };
                cx.error_spanned_by(&key, format!("unknown argument `{unknown}`"), Some(help));
                None
            }
        };
    }
}

fn string_value(cx: &Ctxt, key: &Ident, value: RawValue, example: &str) -> Option<LitStr> {
    match value {
        RawValue::Lit(Lit::Str(s)) => Some(s),
        _ => expected(cx, key, example),
    }
}

fn expected<T>(cx: &Ctxt, key: &Ident, example: &str) -> Option<T> {
    cx.error_spanned_by(
        key,
        format!("malformed argument `{}`", key.unraw()),
        Some(format!("write it as `{example}`")),
    );
    None
}
