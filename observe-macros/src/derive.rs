//! `#[derive(ErrorLabel)]`: a bounded class name per variant, checked at compile time.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr};

use crate::convention::{class_name_violation, to_upper_camel_case};
use crate::ctxt::Ctxt;

pub(crate) fn error_label(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let cx = Ctxt::new();
    let mut labels = Vec::new();
    // A transparent variant reports its wrapped error's classes, unknown here.
    let transparent = match &input.data {
        Data::Enum(data) => data.variants.iter().any(|v| is_transparent(&v.attrs)),
        Data::Struct(_) => is_transparent(&input.attrs),
        Data::Union(_) => true,
    };
    let body = match &input.data {
        Data::Enum(data) => {
            let arms: Vec<TokenStream> = data
                .variants
                .iter()
                .map(|variant| {
                    let ident = &variant.ident;
                    let label = LabelAttr::from_attrs(&cx, &variant.attrs);
                    let arm = label_expr(
                        &cx,
                        label,
                        &variant.ident.to_string(),
                        &variant.fields,
                        ident,
                        &mut labels,
                    );
                    let pattern = binding_pattern(&variant.fields);
                    quote!(Self::#ident #pattern => #arm,)
                })
                .collect();
            if arms.is_empty() {
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms)* })
            }
        }
        Data::Struct(data) => {
            let label = LabelAttr::from_attrs(&cx, &input.attrs);
            let arm = label_expr(
                &cx,
                label,
                &input.ident.to_string(),
                &data.fields,
                &input.ident,
                &mut labels,
            );
            let pattern = binding_pattern(&data.fields);
            quote!(match self { Self #pattern => #arm })
        }
        Data::Union(data) => {
            cx.error_spanned_by(
                data.union_token,
                "`ErrorLabel` cannot be derived for a union",
                Some("implement `observe::ErrorLabel` by hand".to_owned()),
            );
            TokenStream::new()
        }
    };
    match crate::config::load() {
        Ok(convention) => check_against_convention(&cx, &convention, &input.ident, &labels),
        Err(messages) => crate::expand::config_errors(&cx, messages),
    }
    if let Err(errors) = cx.check() {
        return errors.into_compile_error();
    }
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut classes: Vec<&str> = labels.iter().map(|(label, _)| label.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    let classes = if transparent {
        quote!(::core::option::Option::None)
    } else {
        quote!(::core::option::Option::Some(&[#(#classes),*]))
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::observe::ErrorLabel for #ident #ty_generics #where_clause {
            #[allow(unused_variables)]
            fn error_label(&self) -> &'static str {
                #body
            }
        }
        #[automatically_derived]
        impl #impl_generics ::observe::__private::ErrorClasses for #ident #ty_generics #where_clause {
            const CLASSES: ::core::option::Option<&'static [&'static str]> = #classes;
        }
    }
}

/// Whether `#[error_label(transparent)]` is among `attrs` (their errors are reported by
/// [`LabelAttr::from_attrs`]).
fn is_transparent(attrs: &[Attribute]) -> bool {
    let mut found = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("error_label")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("transparent") {
                found = true;
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Lit = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    found
}

enum LabelAttr {
    Name,
    Rename(LitStr),
    Transparent(Span),
}

impl LabelAttr {
    fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut found = LabelAttr::Name;
        for attr in attrs.iter().filter(|a| a.path().is_ident("error_label")) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("transparent") {
                    found = LabelAttr::Transparent(meta.path.require_ident()?.span());
                    Ok(())
                } else if meta.path.is_ident("rename") {
                    found = LabelAttr::Rename(meta.value()?.parse()?);
                    Ok(())
                } else {
                    Err(meta.error(
                        "unknown `error_label` option\n\n= help: expected `rename = \"ClassName\"` or `transparent`",
                    ))
                }
            });
            if let Err(error) = parsed {
                cx.syn_error(error);
            }
        }
        found
    }
}

/// The label expression for one variant (or the struct).
fn label_expr(
    cx: &Ctxt,
    attr: LabelAttr,
    default: &str,
    fields: &Fields,
    at: &syn::Ident,
    labels: &mut Vec<(String, Span)>,
) -> TokenStream {
    match attr {
        LabelAttr::Name => {
            check_class_name(cx, default, at);
            labels.push((default.to_owned(), at.span()));
            quote!(#default)
        }
        LabelAttr::Rename(lit) => {
            check_class_name(cx, &lit.value(), &lit);
            labels.push((lit.value(), lit.span()));
            quote!(#lit)
        }
        LabelAttr::Transparent(span) => {
            if fields.len() != 1 {
                cx.error_at(
                    span,
                    "`#[error_label(transparent)]` needs exactly one field, the wrapped error",
                    Some("wrap a single error, or use `rename = \"ClassName\"`".to_owned()),
                );
            }
            quote! {{
                #[allow(unused_imports)]
                use ::observe::__private::{LabelViaTrait as _, LabelViaTypeName as _};
                (&&::observe::__private::LabelOf(__observe_field_0)).__observe_error_label()
            }}
        }
    }
}

/// D003/D004: the labels fit the convention's `error_type` label: at most its bound of
/// distinct values per type, each in its declared set if it has one. (A `transparent`
/// variant's labels are its inner type's, checked where that type is derived.)
fn check_against_convention(
    cx: &Ctxt,
    convention: &crate::config::Convention,
    ident: &syn::Ident,
    labels: &[(String, Span)],
) {
    let Some(rule) = convention.label("error_type") else {
        return;
    };
    if let Some(values) = &rule.values {
        for (label, span) in labels {
            if !values.contains(label) {
                let listed = crate::convention::one_of(values.iter().map(String::as_str));
                let help = match crate::convention::closest(
                    label,
                    values.iter().map(String::as_str),
                ) {
                    Some(near) => format!(
                        "use `#[error_label(rename = \"{near}\")]`; the declared values are {listed}"
                    ),
                    None => format!(
                        "the declared values are {listed}; rename it to one of them or add it to `[labels.error_type] values` in `observe.toml`"
                    ),
                };
                cx.error_at(
                    *span,
                    format!("`{label}` is not a declared `error_type` value"),
                    Some(help),
                );
            }
        }
    }
    let distinct: std::collections::BTreeSet<&str> =
        labels.iter().map(|(l, _)| l.as_str()).collect();
    if distinct.len() as u64 > rule.max {
        cx.error_spanned_by(
            ident,
            format!(
                "`{ident}` has {} distinct error labels, over the `error_type` bound of {}",
                distinct.len(),
                rule.max
            ),
            Some("give related variants one class with `#[error_label(rename = \"…\")]`, or raise `[labels.error_type] max` in `observe.toml`".to_owned()),
        );
    }
}

/// Error class names are UpperCamelCase, like `ConnectionError`.
fn check_class_name<T: quote::ToTokens>(cx: &Ctxt, label: &str, at: T) {
    if let Some(reason) = class_name_violation(label) {
        cx.error_spanned_by(
            at,
            format!("error label `{label}` {reason}: `error_type` values are error class names"),
            Some(format!(
                "use `#[error_label(rename = \"{}\")]`",
                to_upper_camel_case(label)
            )),
        );
    }
}

/// Binds the first field as `__observe_field_0`, ignoring the rest.
fn binding_pattern(fields: &Fields) -> TokenStream {
    match fields {
        Fields::Unit => TokenStream::new(),
        Fields::Unnamed(unnamed) if unnamed.unnamed.is_empty() => quote!((..)),
        Fields::Unnamed(_) => quote!((__observe_field_0, ..)),
        Fields::Named(named) => {
            let first = named.named.first().and_then(|f| f.ident.as_ref());
            match first {
                Some(first) => quote!({ #first: __observe_field_0, .. }),
                None => quote!({ .. }),
            }
        }
    }
}
