//! Code generation for `#[instrumented]`. Never validates (that is `check`'s job); on any
//! error it emits the errors and the function unchanged (thiserror's fallback), so callers
//! see no cascade of follow-on errors.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn};

use crate::args::InstrumentedArgs;
use crate::check::{self, Site};
use crate::config;
use crate::ctxt::Ctxt;
use crate::item::{BodyKind, FnModel, inferable_return_type};

/// The expansion, or with `enabled` false (the `observe/enabled` feature off) the
/// function unchanged once its attribute is checked: the same misuse errors either way.
pub(crate) fn instrumented(args: TokenStream, item: TokenStream, enabled: bool) -> TokenStream {
    let item_fn = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(_) => return not_a_function(item),
    };
    let cx = Ctxt::new();
    let args = InstrumentedArgs::from_tokens(&cx, args);
    let model = FnModel::from_syn(&cx, &item_fn);
    let site = match config::load() {
        Ok(convention) => Some(check::site(
            &cx,
            &args,
            &convention,
            &item_fn,
            &model.arg_idents,
        )),
        Err(messages) => {
            config_errors(&cx, messages);
            None
        }
    };
    match (cx.check(), site) {
        (Ok(()), Some(site)) if !enabled => compiled_out(&site, item_fn, item),
        (Ok(()), Some(site)) => gen_function(&site, &model, item_fn),
        (Err(errors), _) => fallback(errors, item),
        (Ok(()), None) => unreachable!("a failed config load reports an error"),
    }
}

/// The function as written. An argument named by `parent = …` is only read by the
/// instrumentation, so it is marked used, else the zero-cost build warns about it.
fn compiled_out(site: &Site, mut item_fn: ItemFn, item: TokenStream) -> TokenStream {
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

/// A malformed `observe.toml`: each problem at the macro's call site.
pub(crate) fn config_errors(cx: &Ctxt, messages: Vec<String>) {
    for message in messages {
        cx.error_at(
            proc_macro2::Span::call_site(),
            message,
            Some(format!(
                "fix `{}`; `RULES.md` lists what it may set",
                config::FILE_NAME
            )),
        );
    }
}

/// The errors, then the item as written, so it still exists for its callers.
fn fallback(errors: syn::Error, item: TokenStream) -> TokenStream {
    let errors = errors.into_compile_error();
    quote!(#errors #item)
}

fn not_a_function(item: TokenStream) -> TokenStream {
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

fn gen_function(site: &Site, model: &FnModel, item: ItemFn) -> TokenStream {
    let ItemFn {
        mut attrs,
        vis,
        sig,
        block,
    } = item;
    attrs.push(doc_attr(site));
    let krate = &site.krate;
    let returns_future = matches!(model.kind, BodyKind::ReturnsFuture { .. });
    let statics = gen_site_static(site, &sig, returns_future);
    let span = gen_span(site);
    let ret_ty = inferable_return_type(&sig.output);
    let classify = quote! {{
        #[allow(unused_imports)]
        use #krate::__private::{ClassifyAnyValue as _, ClassifyLabelledResult as _, ClassifyOtherResult as _};
        (&&&#krate::__private::Classify(&__observe_ret)).__observe_outcome()
    }};
    // User code keeps its own spans so type and borrow errors land on the user's lines.
    let body = quote_spanned!(block.span()=> #block);
    let instrumented_body = match model.kind {
        BodyKind::Sync => quote! {
            let __observe_span = #span;
            let mut __observe_guard = #krate::__private::CallGuard::start(&__OBSERVE_SITE, &__observe_span);
            #[allow(clippy::let_unit_value, clippy::needless_return)]
            let __observe_ret: #ret_ty = {
                let __observe_entered = __observe_span.enter();
                #krate::__private::once(move || #body)
            };
            __observe_guard.finish(#classify);
            __observe_ret
        },
        BodyKind::Async => quote! {
            let __observe_span = #span;
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
                let __observe_span = #span;
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
    quote! {
        #(#attrs)*
        #vis #sig {
            #statics
            #instrumented_body
        }
    }
}

/// The call site's static description, its registration for start-up, and the convention
/// file as a tracked input (editing it recompiles this function).
fn gen_site_static(site: &Site, sig: &syn::Signature, returns_future: bool) -> TokenStream {
    let krate = &site.krate;
    let service = &site.service;
    let operation = &site.operation;
    let (label_keys, label_values): (Vec<_>, Vec<_>) = site.labels.iter().cloned().unzip();
    let buckets = site
        .preset
        .buckets
        .iter()
        .map(|b| Literal::f64_suffixed(*b));
    let metric = |name: String, help: String| quote!(#krate::__private::MetricMeta { name: #name, help: #help });
    let names = &site.names;
    let duration = metric(names.duration.clone(), help_duration(site));
    let processed = metric(names.processed.clone(), help_processed(site));
    let failures = metric(names.failures.clone(), help_failures(site));
    let active = metric(names.active.clone(), help_active(site));
    let [success, failure, cancelled] = &site.outcomes;
    let error_classes = crate::classes::error_classes_fn(krate, sig, returns_future);
    let slo = site.slo.to_tokens(&quote!(#krate));
    let tracked = site.convention_source.as_ref().map(|path| {
        let path = path.display().to_string();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    quote! {
        #tracked
        static __OBSERVE_SITE: #krate::__private::CallSite =
            #krate::__private::CallSite::new(#krate::__private::SiteMeta {
                service: #service,
                operation: #operation,
                module_path: ::core::module_path!(),
                labels: &[#((#label_keys, #label_values)),*],
                duration: #duration,
                processed: #processed,
                failures: #failures,
                active: #active,
                buckets: &[#(#buckets),*],
                outcomes: [#success, #failure, #cancelled],
                file: ::core::file!(),
                line: ::core::line!(),
                error_classes: #error_classes,
                slo: #slo,
            });
        #krate::__private::inventory::submit! {
            #krate::__private::SiteRegistration(&__OBSERVE_SITE)
        }
    }
}

/// The call's `tracing` span: OpenTelemetry attributes, the recorded arguments, `fields`.
fn gen_span(site: &Site) -> TokenStream {
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

/// How many fields observe-runtime's `call_span` takes (its `MAX_CALL_SPAN_FIELDS`).
const MAX_CALL_SPAN_FIELDS: usize = 9;

/// The fields `call_span` gives a value, first in every span (its `CALL_SPAN_FIELDS`).
const CALL_SPAN_FIELDS: [&str; 5] = [
    "service.name",
    "code.function",
    "code.namespace",
    "error.type",
    "otel.status_code",
];

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
            Some(quote!("otel.kind",)),
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
        quote!("service.name" = #service),
        quote!("code.function" = #fn_name),
        quote!("code.namespace" = ::core::module_path!()),
        quote!("error.type" = #tracing::field::Empty),
        quote!("otel.status_code" = #tracing::field::Empty),
    ];
    if let Some(kind) = &site.kind {
        fields.push(quote!("otel.kind" = #kind));
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
            "- span `{}` at level `{}` with `service.name`, `code.function`, `code.namespace`, and on failure `error.type`, `otel.status_code`",
            site.fn_name, site.level
        ),
        String::new(),
        format!("`outcome` is `{success}`, `{failure}` (an `Err`, or a panic with `error_type=\"Panic\"`) or `{cancelled}` (a future dropped before it completed)."),
    ];
    let text = lines.join("\n");
    syn::parse_quote!(#[doc = #text])
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// The rustdoc appended to the function names the exact series it emits.
    #[test]
    fn rustdoc_lists_the_series() {
        let out = super::instrumented(
            quote!(service = "parsing", labels(queue = "parsing")),
            quote!(
                fn parse_message() {}
            ),
            true,
        )
        .to_string();
        for line in [
            "copilot_parsing_duration_seconds{service=\\\"parsing\\\", operation=\\\"parse_message\\\", queue=\\\"parsing\\\", outcome}`: histogram of call durations, buckets `0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60` (preset `latency`)",
            "copilot_parsing_messages_processed_total{service=\\\"parsing\\\", operation=\\\"parse_message\\\", queue=\\\"parsing\\\", outcome}`: counter of completed calls",
            "copilot_parsing_failures_total{service=\\\"parsing\\\", operation=\\\"parse_message\\\", queue=\\\"parsing\\\", error_type}`: counter of failed calls",
            "copilot_parsing_active_workers_current{service=\\\"parsing\\\", operation=\\\"parse_message\\\", queue=\\\"parsing\\\"}`: gauge of calls in flight",
        ] {
            assert!(out.contains(line), "missing {line}\nin {out}");
        }
    }

    /// On an invalid attribute the function is emitted unchanged next to the errors.
    #[test]
    fn invalid_input_still_emits_the_function() {
        let item = quote!(
            fn parse_message(x: u8) -> u8 {
                x
            }
        );
        let out = super::instrumented(quote!(service = "Bad", servce = "x"), item.clone(), true)
            .to_string();
        assert!(out.ends_with(&item.to_string()), "{out}");
        assert_eq!(
            out.matches("compile_error").count(),
            2,
            "both errors: {out}"
        );
    }

    /// With the `enabled` feature off, the function is emitted exactly as written: no
    /// static, no guard, no span.
    #[test]
    fn disabled_emits_the_function_unchanged() {
        let item = quote!(
            fn parse_message(x: u8) -> Result<u8, std::fmt::Error> {
                Ok(x)
            }
        );
        let out = super::instrumented(quote!(service = "parsing"), item.clone(), false);
        assert_eq!(out.to_string(), item.to_string());
        let enabled = super::instrumented(quote!(service = "parsing"), item.clone(), true);
        assert!(enabled.to_string().contains("CallGuard"), "{enabled}");
    }

    /// Misuse is still an error with the feature off: turning it off never hides a bug.
    #[test]
    fn disabled_still_reports_misuse() {
        let item = quote!(
            fn parse_message() {}
        );
        let out = super::instrumented(quote!(service = "Bad"), item.clone(), false).to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.ends_with(&item.to_string()), "{out}");
    }
}
