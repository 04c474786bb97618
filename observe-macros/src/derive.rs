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
    if let Err(errors) = cx.check() {
        return errors.into_compile_error();
    }
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::observe::ErrorLabel for #ident #ty_generics #where_clause {
            #[allow(unused_variables)]
            fn error_label(&self) -> &'static str {
                #body
            }
        }
    }
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
) -> TokenStream {
    match attr {
        LabelAttr::Name => {
            check_class_name(cx, default, at);
            quote!(#default)
        }
        LabelAttr::Rename(lit) => {
            check_class_name(cx, &lit.value(), &lit);
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
