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
        "slo",
        "span_name",
        "target",
        "ret",
        "err",
        "follows_from",
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

/// The level written as `level = "debug"`, `level = DEBUG`, `level = Level::DEBUG` or,
/// as tracing accepts, `level = 1` (trace) … `level = 5` (error).
pub(crate) enum LevelArg {
    Str(LitStr),
    Path(syn::Path),
    Int(syn::LitInt),
}

/// How `ret` / `err` format the value in their event: `ret` defaults to `Debug`, `err`
/// to `Display`, as in tracing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ValueFormat {
    Debug,
    Display,
}

/// `ret`, `ret(Debug)`, `ret(Display)` (and the same for `err`).
pub(crate) struct EventArg {
    /// `None` for the bare flag: the argument's default format.
    pub(crate) format: Option<ValueFormat>,
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
    /// `slo(availability = "99.9%", latency(threshold = "5s", target = "95%"))`.
    pub(crate) slo: Slot<crate::slo::AttrSlo>,
    pub(crate) span_name: Slot<LitStr>,
    pub(crate) target: Slot<LitStr>,
    pub(crate) ret: Slot<EventArg>,
    pub(crate) err: Slot<EventArg>,
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
            span_name: Slot::new("span_name"),
            target: Slot::new("target"),
            ret: Slot::new("ret"),
            err: Slot::new("err"),
            attempted: Vec::new(),
        };
        for arg in parse_list(cx, tokens) {
            args.take(cx, arg);
        }
        args
    }

    /// One argument into its slot. A plain dispatch on the key, one arm per argument: long
    /// only because there are eighteen of them.
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
            ("level", RawValue::Lit(Lit::Int(n))) => self.level.set(cx, key, LevelArg::Int(n)),
            ("level", _) => malformed(cx, key, "level = \"debug\"").unwrap_or(()),
            ("skip", RawValue::List(tokens)) => {
                // `Ident::parse_any`: `skip(self)` is accepted, as tracing does.
                let parse = |input: ParseStream| {
                    Punctuated::<Ident, Token![,]>::parse_terminated_with(input, Ident::parse_any)
                };
                match parse.parse2(tokens) {
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
            ("slo", RawValue::List(tokens)) => match crate::slo::parse_attr(tokens) {
                Ok(slo) => self.slo.set(cx, key, slo),
                Err(error) => cx.syn_error(error),
            },
            ("slo", _) => malformed(
                cx,
                key,
                "slo(availability = \"99.9%\", latency(threshold = \"5s\", target = \"95%\"))",
            )
            .unwrap_or(()),
            ("span_name", v) => set(
                cx,
                key,
                &mut self.span_name,
                string_value(cx, key, v, "span_name = \"fetch\""),
            ),
            ("target", v) => set(
                cx,
                key,
                &mut self.target,
                string_value(cx, key, v, "target = \"my_crate::io\""),
            ),
            ("ret", v) => set(cx, key, &mut self.ret, event_arg(cx, key, v)),
            ("err", v) => set(cx, key, &mut self.err, event_arg(cx, key, v)),
            ("follows_from", _) => cx.error_spanned_by(
                key,
                "`follows_from` is not supported by `#[instrumented]`",
                Some("observe links a call to its caller's trace with `parent = headers` (W3C `traceparent`); to add a follows-from link, call `tracing::Span::current().follows_from(id)` in the body".to_owned()),
            ),
            // `resolve` only returns keys of `KEYS`, each matched above.
            _ => {}
        }
    }
}

/// `ret` / `err` bare, or with `(Debug)` / `(Display)`.
fn event_arg(cx: &Ctxt, key: &Ident, value: RawValue) -> Option<EventArg> {
    // `malformed` puts the example in backticks: these close and reopen them.
    let example = format!("{0}`, `{0}(Debug)` or `{0}(Display)", key.unraw());
    match value {
        RawValue::Flag => Some(EventArg { format: None }),
        RawValue::List(tokens) => match syn::parse2::<Ident>(tokens) {
            Ok(mode) if mode == "Debug" => Some(EventArg {
                format: Some(ValueFormat::Debug),
            }),
            Ok(mode) if mode == "Display" => Some(EventArg {
                format: Some(ValueFormat::Display),
            }),
            _ => malformed(cx, key, &example),
        },
        _ => malformed(cx, key, &example),
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
            // Flags that are complete as written; `follows_from` is always refused.
            let flags = ["skip_all", "ret", "err"];
            assert_eq!(errors + usize::from(flags.contains(key)), 1, "{key}");
        }
    }
}
