//! `slo(…)` on `#[instrumented]`: the attribute's objectives, parsed with every problem
//! reported on its token, all at once.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Token};

use super::{Latency, parse_percent, parse_threshold};
use crate::text::{closest, one_of};

/// `slo(availability = "99.9%", latency(threshold = "5s", target = "95%"))`.
#[derive(Default)]
pub(crate) struct AttrSlo {
    pub(crate) availability: Option<(LitStr, u32)>,
    pub(crate) latency: Option<(LitStr, Latency)>,
}

const ATTR_KEYS: [&str; 2] = ["availability", "latency"];
const LATENCY_KEYS: [&str; 2] = ["threshold", "target"];

/// Parses the contents of `slo(…)`; every problem is an error on its token, all at once.
pub(crate) fn parse_attr(tokens: TokenStream) -> Result<AttrSlo, syn::Error> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let mut slo = AttrSlo::default();
    let parser = |input: ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            let key = input.call(Ident::parse_any)?;
            match key.to_string().as_str() {
                "availability" => {
                    input.parse::<Token![=]>()?;
                    let value: LitStr = input.parse()?;
                    match parse_percent(&value.value()) {
                        Ok(ppm) if slo.availability.is_none() => {
                            slo.availability = Some((value, ppm))
                        }
                        Ok(_) => errors.push(syn::Error::new(
                            key.span(),
                            "duplicate `availability` in `slo(…)`",
                        )),
                        Err(message) => errors.push(spanned(
                            &value,
                            &message,
                            "write a target like `availability = \"99.9%\"`",
                        )),
                    }
                }
                "latency" => {
                    let content;
                    syn::parenthesized!(content in input);
                    if let Some(latency) = parse_latency_attr(&key, &content, &mut errors)? {
                        slo.latency = Some(latency);
                    }
                }
                other => {
                    let hint = closest(other, ATTR_KEYS)
                        .map_or(String::new(), |c| format!("did you mean `{c}`? "));
                    errors.push(syn::Error::new(
                        key.span(),
                        format!("unknown SLO key `{other}`, expected {}\n\n= help: {hint}write `slo(availability = \"99.9%\", latency(threshold = \"5s\", target = \"95%\"))`", one_of(ATTR_KEYS)),
                    ));
                    // Skip its value.
                    if input.peek(Token![=]) {
                        input.parse::<Token![=]>()?;
                        input.parse::<syn::Lit>()?;
                    } else if input.peek(syn::token::Paren) {
                        let _skipped;
                        syn::parenthesized!(_skipped in input);
                        let _: TokenStream = _skipped.parse()?;
                    }
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    parser.parse2(tokens)?;
    match errors.into_iter().reduce(|mut a, b| {
        a.combine(b);
        a
    }) {
        Some(error) => Err(error),
        None => Ok(slo),
    }
}

fn parse_latency_attr(
    key: &Ident,
    content: ParseStream,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<Option<(LitStr, Latency)>> {
    let mut threshold: Option<(LitStr, f64)> = None;
    let mut target: Option<u32> = None;
    while !content.is_empty() {
        let name = content.call(Ident::parse_any)?;
        content.parse::<Token![=]>()?;
        let value: LitStr = content.parse()?;
        match name.to_string().as_str() {
            "threshold" => match parse_threshold(&value.value()) {
                Ok(seconds) => threshold = Some((value, seconds)),
                Err(message) => errors.push(spanned(
                    &value,
                    &message,
                    "write `threshold = \"5s\"`, a bucket bound of the function's preset",
                )),
            },
            "target" => match parse_percent(&value.value()) {
                Ok(ppm) => target = Some(ppm),
                Err(message) => errors.push(spanned(&value, &message, "write `target = \"95%\"`")),
            },
            other => errors.push(syn::Error::new(
                name.span(),
                format!(
                    "unknown latency key `{other}`, expected {}",
                    one_of(LATENCY_KEYS)
                ),
            )),
        }
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    match (threshold, target) {
        (Some((lit, seconds)), Some(target)) => Ok(Some((
            lit.clone(),
            Latency {
                threshold: seconds,
                target,
                threshold_text: lit.value(),
                origin: "`slo(latency(…))`".to_owned(),
            },
        ))),
        (None, _) | (_, None) if errors.is_empty() => {
            errors.push(syn::Error::new(key.span(), "`latency(…)` needs both `threshold` and `target`\n\n= help: write `latency(threshold = \"5s\", target = \"95%\")`"));
            Ok(None)
        }
        _ => Ok(None),
    }
}

fn spanned(lit: &LitStr, message: &str, help: &str) -> syn::Error {
    syn::Error::new(lit.span(), format!("{message}\n\n= help: {help}"))
}
