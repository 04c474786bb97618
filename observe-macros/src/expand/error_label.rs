//! Code generation for `#[derive(ErrorLabel)]`: a `match` giving each variant its label.
//! On error the driver emits the errors and `fallback`'s impl, whose body never runs (the
//! crate does not compile) but whose existence spares callers of `error_label()` a
//! cascade of "no method named `error_label`" errors (thiserror's `fallback.rs`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, Fields};

use crate::check::error_label::{CheckedErrorLabel, Label};

/// The impl. `tracked` is the convention file's `include_bytes!`.
pub(crate) fn gen_impl(
    input: &DeriveInput,
    krate: &syn::Path,
    checked: &CheckedErrorLabel,
    tracked: TokenStream,
) -> TokenStream {
    let arms = checked.arms.iter().map(|arm| {
        let pattern = binding_pattern(&arm.fields);
        let path = match &arm.variant {
            Some(variant) => quote!(Self::#variant),
            None => quote!(Self),
        };
        let label = match &arm.label {
            Label::Literal(label) => quote!(#label),
            Label::Transparent => quote! {{
                #[allow(unused_imports)]
                use #krate::__private::{LabelViaTrait as _, LabelViaTypeName as _};
                (&&#krate::__private::LabelOf(__observe_field_0)).__observe_error_label()
            }},
        };
        quote!(#path #pattern => #label,)
    });
    let body = if checked.is_enum && checked.arms.is_empty() {
        quote!(match *self {})
    } else {
        quote!(match self { #(#arms)* })
    };
    let tracked = (!tracked.is_empty()).then(|| quote!(const _: () = { #tracked };));
    let impl_ = impl_block(input, krate, body);
    quote!(#tracked #impl_)
}

/// The errors and an impl whose body is never reached.
pub(crate) fn fallback(input: &DeriveInput, krate: &syn::Path, errors: TokenStream) -> TokenStream {
    let impl_ = impl_block(input, krate, quote!(::core::unreachable!()));
    quote!(#errors #impl_)
}

fn impl_block(input: &DeriveInput, krate: &syn::Path, body: TokenStream) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::ErrorLabel for #ident #ty_generics #where_clause {
            #[allow(unused_variables)]
            fn error_label(&self) -> &'static str {
                #body
            }
        }
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
