//! `counter!("copilot_parsing_retry_attempts_total", help = "…", labels(queue = q))`: the
//! full name first, then the shared argument syntax.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

use super::{Keys, RawArg, RawValue, Slot, crate_value, malformed, string_value};
use crate::ctxt::Ctxt;

/// Every option the function-like macros accept after the name.
const KEYS: Keys = Keys {
    names: &["help", "service", "preset", "labels", "crate"],
    otherwise: Some("labels go inside `labels(…)`"),
};

pub(crate) struct MetricArgs {
    /// The full metric name.
    pub(crate) name: LitStr,
    pub(crate) help: Slot<LitStr>,
    pub(crate) service: Slot<LitStr>,
    pub(crate) preset: Slot<LitStr>,
    /// `labels(queue = "parsing", vhost = vhost)`: literal or runtime values.
    pub(crate) labels: Slot<Vec<(Ident, Expr)>>,
    pub(crate) krate: Slot<syn::Path>,
}

impl MetricArgs {
    /// Parses what it can; every problem goes into `cx`. `None` when the call does not
    /// start with the name, the one thing nothing else can be checked without.
    pub(crate) fn from_tokens(cx: &Ctxt, input: TokenStream) -> Option<Self> {
        let (name, options) = match parse_call.parse2(input) {
            Ok(parsed) => parsed,
            Err(error) => {
                cx.syn_error(error);
                return None;
            }
        };
        let mut args = MetricArgs {
            name,
            help: Slot::new("help"),
            service: Slot::new("service"),
            preset: Slot::new("preset"),
            labels: Slot::new("labels"),
            krate: Slot::new("crate"),
        };
        for arg in options {
            args.take(cx, arg);
        }
        Some(args)
    }

    fn take(&mut self, cx: &Ctxt, RawArg { key, value }: RawArg) {
        let Ok(name) = KEYS.resolve(cx, &key) else {
            return;
        };
        let key = &key;
        let string = |slot: &mut Slot<LitStr>, value, example| {
            if let Some(lit) = string_value(cx, key, value, example) {
                slot.set(cx, key, lit);
            }
        };
        match name {
            "help" => string(
                &mut self.help,
                value,
                "help = \"Number of retried parse attempts.\"",
            ),
            "service" => string(&mut self.service, value, "service = \"parsing\""),
            "preset" => string(&mut self.preset, value, "preset = \"latency\""),
            "crate" => {
                if let Some(path) = crate_value(cx, key, value) {
                    self.krate.set(cx, key, path);
                }
            }
            _ => self.take_labels(cx, key, value),
        }
    }

    fn take_labels(&mut self, cx: &Ctxt, key: &Ident, value: RawValue) {
        let RawValue::List(tokens) = value else {
            return malformed(cx, key, "labels(queue = queue_name)").unwrap_or(());
        };
        match Punctuated::<LabelExpr, Token![,]>::parse_terminated.parse2(tokens) {
            Ok(labels) => {
                let labels = labels.into_iter().map(|l| (l.key, l.value)).collect();
                self.labels.set(cx, key, labels);
            }
            Err(error) => cx.syn_error(error),
        }
    }

    /// The labels as written, none if the call has no `labels(…)`.
    pub(crate) fn label_list(&self) -> &[(Ident, Expr)] {
        self.labels.get().map_or(&[][..], Vec::as_slice)
    }
}

/// `"name"` then `, key = value` options, a trailing comma allowed.
fn parse_call(stream: ParseStream) -> syn::Result<(LitStr, Vec<RawArg>)> {
    let name: LitStr = stream.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected the metric's full name as a string literal\n\n= help: write e.g. `counter!(\"copilot_parsing_retry_attempts_total\", help = \"…\")`",
        )
    })?;
    let mut options = Vec::new();
    while !stream.is_empty() {
        stream.parse::<Token![,]>()?;
        if stream.is_empty() {
            break;
        }
        options.push(stream.parse()?);
    }
    Ok((name, options))
}

/// `queue = "parsing"` or `queue = expr` inside `labels(…)`.
struct LabelExpr {
    key: Ident,
    value: Expr,
}

impl Parse for LabelExpr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.call(Ident::parse_any)?;
        input.parse::<Token![=]>()?;
        Ok(LabelExpr {
            key,
            value: input.parse()?,
        })
    }
}
