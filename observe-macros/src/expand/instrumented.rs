//! Code generation for `#[instrumented]`: the function with its body wrapped per shape,
//! the call site's static, and the rustdoc listing its series. Never validates (that is
//! `check`'s job); on any error the driver emits the errors and the function unchanged
//! (thiserror's fallback), so callers see no cascade of follow-on errors.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn};

use super::span::gen_span;
use crate::args::ValueFormat;
use crate::check::Site;
use crate::item::{BodyKind, FnModel, inferable_return_type};
use crate::vocab::{
    SPAN_CODE_FUNCTION, SPAN_CODE_NAMESPACE, SPAN_ERROR_TYPE, SPAN_OTEL_STATUS_CODE,
    SPAN_SERVICE_NAME,
};

/// The function as written. An argument named by `parent = …` is only read by the
/// instrumentation, so it is marked used, else the zero-cost build warns about it.
pub(crate) fn compiled_out(site: &Site, mut item_fn: ItemFn, item: TokenStream) -> TokenStream {
    match &site.parent {
        None => item,
        Some(parent) => {
            item_fn
                .block
                .stmts
                .insert(0, syn::parse_quote!(let _ = &#parent;));
            quote!(#item_fn)
        }
    }
}

/// The errors, then the item as written, so it still exists for its callers.
pub(crate) fn fallback(errors: TokenStream, item: TokenStream) -> TokenStream {
    quote!(#errors #item)
}

pub(crate) fn not_a_function(item: TokenStream) -> TokenStream {
    // A trait method without a body parses as neither; say what to do instead.
    let message = match syn::parse2::<syn::TraitItemFn>(item.clone()) {
        Ok(f) if f.default.is_none() => {
            "`#[instrumented]` needs a function body to instrument, and a trait method declaration has none\n\n= help: put `#[instrumented]` on the method in each `impl` of the trait"
        }
        _ => "`#[instrumented]` applies to functions and methods\n\n= help: move it onto a `fn`",
    };
    let error = syn::Error::new(item.span(), message).into_compile_error();
    quote!(#error #item)
}

/// The instrumented function. `tracked` is the convention file's `include_bytes!`.
pub(crate) fn gen_function(
    site: &Site,
    model: &FnModel,
    item: ItemFn,
    tracked: TokenStream,
) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = item;
    // Inner attributes (`#![allow(..)]` at the top of the body) stay at the top of the
    // body, where they apply to the whole function (tracing#2294).
    let (inner_attrs, mut attrs): (Vec<Attribute>, Vec<Attribute>) = attrs
        .into_iter()
        .partition(|attr| matches!(attr.style, syn::AttrStyle::Inner(_)));
    attrs.push(doc_attr(site));
    let krate = &site.krate;
    let returns_future = matches!(model.kind, BodyKind::ReturnsFuture { .. });
    let statics = gen_site_static(site, tracked, &sig, returns_future);
    let span = gen_span(site);
    let ret_ty = inferable_return_type(&sig.output);
    let events = gen_events(site, &quote!(&__observe_ret), &quote!(&__observe_span));
    let classify = quote! {{
        #events
        #[allow(unused_imports)]
        use #krate::__private::{ClassifyAnyValue as _, ClassifyLabelledResult as _, ClassifyOtherResult as _};
        (&&&#krate::__private::Classify(&__observe_ret)).__observe_outcome()
    }};
    // User code keeps its own spans so type and borrow errors land on the user's lines.
    let body = quote_spanned!(block.span()=> #block);
    let instrumented_body = match model.kind {
        BodyKind::Sync => sync_body(site, &span, &ret_ty, &body),
        BodyKind::Async => quote! {
            #span
            let mut __observe_guard = #krate::__private::CallGuard::start_async(&__OBSERVE_SITE, &__observe_span);
            #[allow(clippy::let_unit_value)]
            let __observe_ret: #ret_ty =
                #krate::__private::CallFuture::new(async move #body, &__observe_guard).await;
            __observe_guard.finish(#classify);
            __observe_ret
        },
        BodyKind::ReturnsFuture { boxed } => {
            let wrap = if boxed {
                quote!(::std::boxed::Box::pin)
            } else {
                TokenStream::new()
            };
            quote! {
                #span
                let __observe_future: #ret_ty = {
                    let __observe_entered = __observe_span.enter();
                    #krate::__private::once(move || #body)
                };
                #wrap(async move {
                    let mut __observe_guard = #krate::__private::CallGuard::start_async(&__OBSERVE_SITE, &__observe_span);
                    let __observe_ret =
                        #krate::__private::CallFuture::new(__observe_future, &__observe_guard).await;
                    __observe_guard.finish(#classify);
                    __observe_ret
                })
            }
        }
    };
    let level_path = site
        .level_path
        .as_ref()
        .map(|path| quote!(const _: #krate::__private::tracing::Level = #path;));
    // The user's braces around the new body: lints that point at the function's body
    // (`dead_code` under `#[expect]`) see the user's tokens (tracing#3108).
    let mut body = TokenStream::new();
    block.brace_token.surround(&mut body, |body| {
        body.extend(quote! {
            #(#inner_attrs)*
            #level_path
            #statics
            #instrumented_body
        });
    });
    quote! {
        #(#attrs)*
        #vis #sig #body
    }
}

/// A plain fn's body. What the body returned decides when the call ends, by its type: a
/// future behind an alias or a named type when it completes, any other value now.
fn sync_body(
    site: &Site,
    span: &TokenStream,
    ret_ty: &syn::Type,
    body: &TokenStream,
) -> TokenStream {
    let krate = &site.krate;
    let sync_events = gen_events(site, &quote!(__observe_ret), &quote!(__observe_span));
    quote! {
        #span
        let mut __observe_guard = #krate::__private::CallGuard::start(&__OBSERVE_SITE, &__observe_span);
        #[allow(clippy::let_unit_value, clippy::needless_return)]
        let __observe_ret: #ret_ty = {
            let __observe_entered = __observe_span.enter();
            #krate::__private::once(move || #body)
        };
        let __observe_returned = {
            #[allow(unused_imports)]
            use #krate::__private::{ReturnedLocalFuture as _, ReturnedReady as _, ReturnedSendFuture as _, ReturnedValue as _};
            (&&#krate::__private::Returned(&__observe_ret)).__observe_returned()
        };
        __observe_returned.finish(__observe_ret, &mut __observe_guard, |__observe_ret, __observe_span| {
            #sync_events
            #[allow(unused_imports)]
            use #krate::__private::{ClassifyAnyValue as _, ClassifyLabelledResult as _, ClassifyOtherResult as _};
            (&&&#krate::__private::Classify(__observe_ret)).__observe_outcome()
        })
    }
}

/// `ret` and `err`: tracing's events with the returned value (at the span's level) and
/// the error (at `ERROR`), in the call's span. `value` is a reference to the returned
/// value, `span` a reference to the span. The events are contextual inside the entered
/// call span rather than `parent: span`: when the span is observe's own (spans exported
/// over OTLP) there is no `tracing` span to name, and entering the call is what gives the
/// events its trace and span ids.
fn gen_events(site: &Site, value: &TokenStream, span: &TokenStream) -> TokenStream {
    let krate = &site.krate;
    let tracing = quote!(#krate::__private::tracing);
    let target = super::span::target(site);
    let level = &site.level;
    let format = |format: ValueFormat| match format {
        ValueFormat::Debug => quote!(?),
        ValueFormat::Display => quote!(%),
    };
    let ret = |value: TokenStream| {
        site.ret.map(|f| {
            let sigil = format(f);
            quote!({
                let __observe_entered = (#span).enter();
                #tracing::event!(target: #target, #tracing::Level::#level, return = #sigil #value);
            })
        })
    };
    let Some(err) = site.err else {
        return ret(value.clone()).unwrap_or_default();
    };
    let sigil = format(err);
    // With `err`, `ret` records the `Ok` value only, as in tracing.
    let ok = ret(quote!(__observe_ok));
    let ok_pattern = if ok.is_some() {
        quote!(__observe_ok)
    } else {
        quote!(_)
    };
    quote! {
        match #value {
            ::core::result::Result::Ok(#ok_pattern) => { #ok }
            ::core::result::Result::Err(__observe_err) => {
                let __observe_entered = (#span).enter();
                #tracing::event!(target: #target, #tracing::Level::ERROR, error = #sigil __observe_err);
            }
        }
    }
}

/// The call site's static description, its registration for start-up, and the convention
/// file as a tracked input (editing it recompiles this function).
fn gen_site_static(
    site: &Site,
    tracked: TokenStream,
    sig: &syn::Signature,
    returns_future: bool,
) -> TokenStream {
    let krate = &site.krate;
    let service = &site.service;
    let operation = &site.operation;
    let (label_keys, label_values): (Vec<_>, Vec<_>) = site.labels.iter().cloned().unzip();
    let buckets = site
        .preset
        .buckets
        .iter()
        .map(|b| Literal::f64_suffixed(*b));
    let metric = |name: String, help: String, series: u64| quote!(#krate::__private::FamilyMeta { name: #name, help: #help, series: #series });
    let names = &site.names;
    let [d, p, f, a] = site.series;
    let duration = metric(names.duration.clone(), help_duration(site), d);
    let processed = metric(names.processed.clone(), help_processed(site), p);
    let failures = metric(names.failures.clone(), help_failures(site), f);
    let active = metric(names.active.clone(), help_active(site), a);
    let series_budget = site.series_budget;
    let [success, failure, cancelled] = &site.outcomes;
    let error_classes = crate::classes::error_classes_fn(krate, sig, returns_future);
    let slo = site.slo.to_tokens(&quote!(#krate));
    quote! {
        #tracked
        static __OBSERVE_SITE: #krate::__private::CallSite =
            #krate::__private::CallSite::new(#krate::__private::CallSiteMeta {
                service: #service,
                operation: #operation,
                module_path: ::core::module_path!(),
                file: ::core::file!(),
                line: ::core::line!(),
                labels: &[#((#label_keys, #label_values)),*],
                duration: #duration,
                processed: #processed,
                failures: #failures,
                active: #active,
                buckets: &[#(#buckets),*],
                outcomes: [#success, #failure, #cancelled],
                error_classes: #error_classes,
                slo: #slo,
                series_budget: #series_budget,
            });
        #krate::__private::inventory::submit! {
            #krate::__private::CallSiteRegistration(&__OBSERVE_SITE)
        }
    }
}

/// "the parsing service's generation operations": one metric is shared by every annotated
/// function of a service, so the HELP text names the service, not the function.
fn subject(site: &Site) -> String {
    match &site.name {
        Some(name) => format!(
            "the {} service's {} operations",
            site.service,
            name.replace('_', " ")
        ),
        None => format!("the {} service's operations", site.service),
    }
}

fn help_duration(site: &Site) -> String {
    format!(
        "Duration of {} in seconds, by operation and outcome.",
        subject(site)
    )
}

fn help_processed(site: &Site) -> String {
    format!(
        "Number of {} completed, by operation and outcome.",
        subject(site)
    )
}

fn help_failures(site: &Site) -> String {
    format!(
        "Number of {} that failed, by operation and error class.",
        subject(site)
    )
}

fn help_active(site: &Site) -> String {
    format!("Number of {} in flight, by operation.", subject(site))
}

/// Appends to the function's rustdoc the exact series each call records: one attribute
/// for all the lines, as eleven cost every instrumented function measurably more to compile.
fn doc_attr(site: &Site) -> Attribute {
    let names = &site.names;
    let [success, failure, cancelled] = &site.outcomes;
    let mut constant = format!(
        "service=\"{}\", operation=\"{}\"",
        site.service, site.operation
    );
    for (key, value) in &site.labels {
        constant.push_str(&format!(", {key}=\"{value}\""));
    }
    let buckets: Vec<String> = site.preset.buckets.iter().map(f64::to_string).collect();
    let lines = [
        String::new(),
        "# Metrics".to_owned(),
        String::new(),
        "Recorded by `#[instrumented]` on every call; each series also carries `environment`, set at runtime:".to_owned(),
        String::new(),
        format!(
            "- `{}{{{constant}, outcome}}`: histogram of call durations, buckets `{}` (preset `{}`)",
            names.duration,
            buckets.join(", "),
            site.preset.name
        ),
        format!("- `{}{{{constant}, outcome}}`: counter of completed calls", names.processed),
        format!("- `{}{{{constant}, error_type}}`: counter of failed calls", names.failures),
        format!("- `{}{{{constant}}}`: gauge of calls in flight", names.active),
        format!(
            "- span `{}` at level `{}` with `{SPAN_SERVICE_NAME}`, `{SPAN_CODE_FUNCTION}`, `{SPAN_CODE_NAMESPACE}`, and on failure `{SPAN_ERROR_TYPE}`, `{SPAN_OTEL_STATUS_CODE}`",
            site.fn_name, site.level
        ),
        String::new(),
        format!("`outcome` is `{success}`, `{failure}` (an `Err`, or a panic with `error_type=\"Panic\"`) or `{cancelled}` (a future dropped before it completed)."),
    ];
    let text = lines.join("\n");
    syn::parse_quote!(#[doc = #text])
}
