//! The call's `tracing` span: a callsite and one call of observe-runtime's `call_span`
//! when the constant fields suffice, `tracing::span!` when `fields(..)` adds more.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::check::Site;
use crate::vocab::{
    CALL_SPAN_FIELDS, MAX_CALL_SPAN_FIELDS, SPAN_CODE_FUNCTION, SPAN_CODE_NAMESPACE,
    SPAN_ERROR_TYPE, SPAN_OTEL_KIND, SPAN_OTEL_STATUS_CODE, SPAN_SERVICE_NAME,
};

/// The call's `tracing` span: OpenTelemetry attributes, the recorded arguments, `fields`.
pub(crate) fn gen_span(site: &Site) -> TokenStream {
    let krate = &site.krate;
    let field_count =
        CALL_SPAN_FIELDS.len() + usize::from(site.kind.is_some()) + site.recorded_args.len();
    let span = match &site.fields {
        None if field_count <= MAX_CALL_SPAN_FIELDS => call_span(site),
        _ => span_macro(site),
    };
    match &site.parent {
        None => span,
        // Before the span is entered, so it starts in the caller's trace.
        Some(headers) => quote! {{
            let __observe_span = #span;
            {
                #[allow(unused_imports)]
                use #krate::__private::TraceHeaders as _;
                #krate::__private::continue_trace(&__observe_span, || (#headers).extract_context());
            }
            __observe_span
        }},
    }
}

/// The span's callsite and a call of the runtime's `call_span`, which fills in the
/// constant attributes: far less for rustc to expand and type-check per function than
/// `span!` (which needs a literal field list, so `fields(..)` still goes through it).
fn call_span(site: &Site) -> TokenStream {
    let krate = &site.krate;
    let tracing = quote!(#krate::__private::tracing);
    let level = &site.level;
    let fn_name = &site.fn_name;
    let some = quote!(::core::option::Option::Some);
    let call_span_fields = CALL_SPAN_FIELDS;
    let (kind_name, kind_value) = match &site.kind {
        Some(kind) => (
            Some(quote!(#SPAN_OTEL_KIND,)),
            Some(quote!(#some(&#kind as &dyn #tracing::field::Value),)),
        ),
        None => (None, None),
    };
    let arg_names = site
        .recorded_args
        .iter()
        .map(|arg| syn::ext::IdentExt::unraw(arg).to_string());
    let arg_values = site
        .recorded_args
        .iter()
        .map(|arg| quote!(#some(&#tracing::field::debug(&#arg) as &dyn #tracing::field::Value)));
    quote! {{
        static __OBSERVE_SPAN: #tracing::callsite::DefaultCallsite =
            #tracing::callsite::DefaultCallsite::new(&__OBSERVE_SPAN_META);
        static __OBSERVE_SPAN_META: #tracing::Metadata<'static> = #tracing::Metadata::new(
            #fn_name,
            ::core::module_path!(),
            #tracing::Level::#level,
            #some(::core::file!()),
            #some(::core::line!()),
            #some(::core::module_path!()),
            #tracing::field::FieldSet::new(
                &[#(#call_span_fields,)* #kind_name #(#arg_names),*],
                #tracing::callsite::Identifier(&__OBSERVE_SPAN),
            ),
            #tracing::metadata::Kind::SPAN,
        );
        #krate::__private::call_span(&__OBSERVE_SITE, &__OBSERVE_SPAN, &[#kind_value #(#arg_values),*])
    }}
}

/// `tracing::span!` with every attribute, for spans with `fields(..)`.
fn span_macro(site: &Site) -> TokenStream {
    let krate = &site.krate;
    let tracing = quote!(#krate::__private::tracing);
    let level = &site.level;
    let fn_name = &site.fn_name;
    let service = &site.service;
    let mut fields = vec![
        quote!(#SPAN_SERVICE_NAME = #service),
        quote!(#SPAN_CODE_FUNCTION = #fn_name),
        quote!(#SPAN_CODE_NAMESPACE = ::core::module_path!()),
        quote!(#SPAN_ERROR_TYPE = #tracing::field::Empty),
        quote!(#SPAN_OTEL_STATUS_CODE = #tracing::field::Empty),
    ];
    if let Some(kind) = &site.kind {
        fields.push(quote!(#SPAN_OTEL_KIND = #kind));
    }
    fields.extend(site.recorded_args.iter().map(|arg| {
        let name = format_ident!("{}", syn::ext::IdentExt::unraw(arg));
        quote!(#name = #tracing::field::debug(&#arg))
    }));
    fields.extend(site.fields.clone());
    quote! {
        #tracing::span!(target: ::core::module_path!(), #tracing::Level::#level, #fn_name, #(#fields),*)
    }
}
