//! The call's span: a `tracing` callsite and one call of observe-runtime's
//! `CallSpan::start` when the constant fields suffice (the runtime makes it observe's own
//! span when spans are exported), `tracing::span!` when `fields(..)` adds more.

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};

use crate::check::Site;
use crate::vocab::{
    CALL_SPAN_FIELDS, MAX_CALL_SPAN_FIELDS, SPAN_CODE_FUNCTION, SPAN_CODE_NAMESPACE,
    SPAN_ERROR_TYPE, SPAN_KINDS, SPAN_OTEL_KIND, SPAN_OTEL_STATUS_CODE, SPAN_SERVICE_NAME,
};

/// The statements that declare the call's span, `__observe_span`: OpenTelemetry
/// attributes, the recorded arguments, `fields`.
pub(crate) fn gen_span(site: &Site) -> TokenStream {
    let krate = &site.krate;
    let field_count =
        CALL_SPAN_FIELDS.len() + usize::from(site.kind.is_some()) + site.recorded_args.len();
    match &site.fields {
        // `CallSpan::start` takes `code.function` from the span's name: a renamed span
        // (rare) spells it out through `span!`.
        None if field_count <= MAX_CALL_SPAN_FIELDS && site.span_name == site.fn_name => {
            call_span(site)
        }
        _ => {
            let span = span_macro(site);
            match &site.parent {
                None => quote!(let __observe_span = #span;),
                // Before the span is entered, so it starts in the caller's trace.
                Some(headers) => quote! {
                    let __observe_span = #span;
                    {
                        #[allow(unused_imports)]
                        use #krate::__private::TraceHeaders as _;
                        #krate::__private::continue_trace(&__observe_span, || (#headers).extract_context());
                    }
                },
            }
        }
    }
}

/// The span's callsite and a call of the runtime's `CallSpan::start`, which fills in the
/// constant attributes: far less for rustc to expand and type-check per function than
/// `span!` (which needs a literal field list, so `fields(..)` still goes through it). The
/// span is declared unstarted and started in place: returned by value it would be copied.
fn call_span(site: &Site) -> TokenStream {
    let krate = &site.krate;
    let tracing = quote!(#krate::__private::tracing);
    let level = &site.level;
    let span_name = &site.span_name;
    let target = target(site);
    let some = quote!(::core::option::Option::Some);
    let call_span_fields = CALL_SPAN_FIELDS;
    let record_arg_traits = record_arg_traits(site);
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
        .map(|arg| quote!(#some(&(&&&#krate::__private::RecordArg(&#arg)).__observe_arg() as &dyn #tracing::field::Value)));
    // The same arguments' numbers and `bool`s, copied here for observe's own span, in the
    // order of the values above (the kind's place is `None`): an unsampled call keeps them
    // without going through `tracing`'s `Value`.
    let kind_copy = site
        .kind
        .as_ref()
        .map(|_| quote!(::core::option::Option::None,));
    let arg_copies = site
        .recorded_args
        .iter()
        .map(|arg| quote!((&&&#krate::__private::RecordArg(&#arg)).__observe_copy()));
    // 1 + the kind's index in `SPAN_KINDS` (the check accepted only those), 0 without one.
    let kind_number = site
        .kind
        .as_ref()
        .and_then(|kind| SPAN_KINDS.iter().position(|known| known == kind))
        .map_or(0u8, |index| index as u8 + 1);
    let values = quote! {
        #krate::__private::CallValues {
            kind: #kind_number,
            extra: &[#kind_value #(#arg_values),*],
            copied: &[#kind_copy #(#arg_copies),*],
        }
    };
    // The trace the headers carry is known before the span starts: its sampling decision
    // decides whether the arguments are formatted.
    let call = match &site.parent {
        None => quote!(__observe_span.start(&__OBSERVE_SITE, &__OBSERVE_SPAN, #values)),
        Some(headers) => quote! {{
            #[allow(unused_imports)]
            use #krate::__private::TraceHeaders as _;
            __observe_span.start_continuing(&__OBSERVE_SITE, &__OBSERVE_SPAN, #values, || (#headers).__observe_remote_span_context())
        }},
    };
    quote! {
        let mut __observe_span = #krate::__private::CallSpan::unstarted();
        {
            static __OBSERVE_SPAN: #tracing::callsite::DefaultCallsite =
                #tracing::callsite::DefaultCallsite::new(&__OBSERVE_SPAN_META);
            static __OBSERVE_SPAN_META: #tracing::Metadata<'static> = #tracing::Metadata::new(
                #span_name,
                #target,
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
            #record_arg_traits
            #call;
        }
    }
}

/// `tracing::span!` with every attribute, for spans with `fields(..)`: an ordinary
/// `tracing` span, which the user's `fields` can be recorded into. `code.function` comes
/// first: the runtime recognises its own call spans by the call fields' order.
fn span_macro(site: &Site) -> TokenStream {
    let krate = &site.krate;
    let tracing = quote!(#krate::__private::tracing);
    let level = &site.level;
    let fn_name = &site.fn_name;
    let span_name = &site.span_name;
    let target = target(site);
    let service = &site.service;
    let mut fields = vec![
        quote!(#SPAN_CODE_FUNCTION = #fn_name),
        quote!(#SPAN_SERVICE_NAME = #service),
        quote!(#SPAN_CODE_NAMESPACE = ::core::module_path!()),
        quote!(#SPAN_ERROR_TYPE = #tracing::field::Empty),
        quote!(#SPAN_OTEL_STATUS_CODE = #tracing::field::Empty),
    ];
    if let Some(kind) = &site.kind {
        fields.push(quote!(#SPAN_OTEL_KIND = #kind));
    }
    fields.extend(site.recorded_args.iter().map(|arg| {
        let name = format_ident!("{}", syn::ext::IdentExt::unraw(arg));
        quote!(#name = (&&&#krate::__private::RecordArg(&#arg)).__observe_arg())
    }));
    fields.extend(
        site.fields
            .as_ref()
            .map(|f| declare_empty_fields(f, &tracing)),
    );
    let record_arg_traits = record_arg_traits(site);
    quote! {{
        #record_arg_traits
        #krate::__private::CallSpan::traced(
            #tracing::span!(target: #target, #tracing::Level::#level, #span_name, #(#fields),*)
        )
    }}
}

/// The span's target: `target = "…"`, else the module path (tracing's default).
pub(crate) fn target(site: &Site) -> TokenStream {
    match &site.target {
        Some(target) => quote!(#target),
        None => quote!(::core::module_path!()),
    }
}

/// `fields(foo = "bar", empty)`: a bare name declares an empty field, to be recorded
/// later with `Span::current().record(..)`, as in tracing (in `span!` it would capture a
/// local of that name instead).
fn declare_empty_fields(fields: &TokenStream, tracing: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    let mut entry: Vec<TokenTree> = Vec::new();
    let flush = |entry: &mut Vec<TokenTree>, out: &mut TokenStream, comma: Option<TokenTree>| {
        let bare_name = !entry.is_empty()
            && entry.iter().all(|t| match t {
                TokenTree::Ident(_) => true,
                TokenTree::Punct(p) => p.as_char() == '.',
                _ => false,
            });
        out.extend(entry.drain(..));
        if bare_name {
            out.extend(quote!(= #tracing::field::Empty));
        }
        out.extend(comma);
    };
    for token in fields.clone() {
        match token {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                flush(&mut entry, &mut out, Some(TokenTree::Punct(p)))
            }
            other => entry.push(other),
        }
    }
    flush(&mut entry, &mut out, None);
    out
}

/// The traits that record an argument when its type implements `Debug` and leave it off
/// otherwise (autoref specialisation: no error, no bound added), if any is recorded.
fn record_arg_traits(site: &Site) -> Option<TokenStream> {
    let krate = &site.krate;
    (!site.recorded_args.is_empty()).then(|| {
        quote! {
            #[allow(unused_imports)]
            use #krate::__private::{RecordDebugArg as _, RecordNoArg as _, RecordPrimitiveArg as _};
        }
    })
}
