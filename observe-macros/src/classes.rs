//! The `error_classes` of a function's `SiteMeta`: the `error_type` values it can report,
//! chosen at runtime by autoref specialization on its return type (`ClassesOf<R>`), so the
//! catalogue lists a derived `ErrorLabel`'s variants. The type is named inside the
//! function's `static`, which cannot use generic parameters: a return type that may mention
//! one (the function's own, `Self`, a one-letter name as an `impl<T>` block's usually are,
//! `impl Trait`, `_`) gets `None`, "not known", instead. Lifetimes become `'static`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{GenericParam, ReturnType, Signature, Type};

pub(crate) fn error_classes_fn(
    krate: &syn::Path,
    sig: &Signature,
    returns_future: bool,
) -> TokenStream {
    let unknown = quote!(|| ::core::option::Option::None);
    let mut ty: Type = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    if returns_future || !nameable_in_a_static(sig, &ty) {
        return unknown;
    }
    StaticLifetimes.visit_type_mut(&mut ty);
    quote! {
        || {
            #[allow(unused_imports)]
            use #krate::__private::{ClassesViaAny as _, ClassesViaDerive as _, ClassesViaResult as _};
            (&&&#krate::__private::ClassesOf::<#ty>::new()).__observe_error_classes()
        }
    }
}

fn nameable_in_a_static(sig: &Signature, ty: &Type) -> bool {
    let generic = sig
        .generics
        .params
        .iter()
        .any(|p| !matches!(p, GenericParam::Lifetime(_)));
    // `syn`'s read-only visitor is not enabled; the mutable one walks a copy.
    let mut finder = Unnameable { found: false };
    finder.visit_type_mut(&mut ty.clone());
    !generic && !finder.found
}

struct Unnameable {
    found: bool,
}

impl VisitMut for Unnameable {
    fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {
        self.found = true;
    }

    fn visit_type_infer_mut(&mut self, _: &mut syn::TypeInfer) {
        self.found = true;
    }

    fn visit_path_segment_mut(&mut self, segment: &mut syn::PathSegment) {
        let name = segment.ident.to_string();
        let one_letter = name.len() <= 2 && name.starts_with(|c: char| c.is_ascii_uppercase());
        if name == "Self" || one_letter {
            self.found = true;
        }
        syn::visit_mut::visit_path_segment_mut(self, segment);
    }

    fn visit_type_macro_mut(&mut self, _: &mut syn::TypeMacro) {
        self.found = true;
    }
}

struct StaticLifetimes;

impl VisitMut for StaticLifetimes {
    fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
        *lifetime = syn::Lifetime::new("'static", lifetime.span());
    }

    fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
        if reference.lifetime.is_none() {
            reference.lifetime = Some(syn::Lifetime::new(
                "'static",
                proc_macro2::Span::call_site(),
            ));
        }
        syn::visit_mut::visit_type_reference_mut(self, reference);
    }
}
