//! The one driver of every macro: given the convention (loaded by `lib.rs`, or handed in
//! by a test), it runs the macro's parse, check and expansion with one `Ctxt`, so every
//! error is reported at once, and applies the one fallback rule: on any error, the
//! errors plus whatever keeps the caller's code compiling without a cascade (the function
//! unchanged, a no-op handle, an impl whose body never runs). It also emits the convention
//! file as a tracked input (`include_bytes!`) on every successful expansion, cached
//! convention or not, so editing `observe.toml` recompiles what it checked.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, ItemFn};

use crate::args::{ErrorLabelArgs, InstrumentedArgs, MetricArgs};
use crate::check::{self, CheckedErrorLabel, MetricSite, Site};
use crate::convention::{CONFIG_VAR, Convention, FILE_NAME, Loaded};
use crate::ctxt::Ctxt;
use crate::expand;
use crate::item::FnModel;
use crate::rules::Kind;

/// The steps of one macro kind between the driver's.
trait Macro {
    /// What the rules produce, trusted by `expand`.
    type Checked;
    /// Applies every rule, reporting into `cx`.
    fn check(&self, cx: &Ctxt, convention: &Convention) -> Option<Self::Checked>;
    /// The expansion of valid input; `tracked` is the convention file's `include_bytes!`.
    fn expand(self, checked: Self::Checked, tracked: TokenStream) -> TokenStream;
    /// On any error: the errors, and what spares the caller follow-on errors.
    fn fallback(self, errors: TokenStream) -> TokenStream;
}

fn drive<M: Macro>(cx: Ctxt, mac: M, convention: &Loaded) -> TokenStream {
    let checked = match convention {
        Ok(convention) => mac.check(&cx, convention),
        Err(messages) => {
            report_convention_errors(&cx, messages);
            None
        }
    };
    match (cx.check(), checked) {
        (Ok(()), Some(checked)) => mac.expand(checked, tracked_input(convention)),
        (Err(errors), _) => mac.fallback(errors.into_compile_error()),
        // Every `check` that yields nothing has reported why; should one not, the
        // fallback still emits the caller's item rather than panicking.
        (Ok(()), None) => mac.fallback(TokenStream::new()),
    }
}

/// A malformed `observe.toml`: each problem at the macro's call site.
fn report_convention_errors(cx: &Ctxt, messages: &[String]) {
    for message in messages {
        cx.error_at(
            proc_macro2::Span::call_site(),
            message,
            Some(format!(
                "fix `{FILE_NAME}`; `RULES.md` lists what it may set"
            )),
        );
    }
}

/// `const _: &[u8] = include_bytes!("…/observe.toml");`: rustc then tracks the file;
/// and `option_env!("OBSERVE_CONFIG")`, so that setting, changing or unsetting the
/// variable rebuilds (rustc records the variables the expanded code reads).
fn tracked_input(convention: &Loaded) -> TokenStream {
    let source = convention.as_ref().ok().and_then(|c| c.source.as_ref());
    let file = source.map(|path| {
        let path = path.display().to_string();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    quote!(
        #file
        const _: ::core::option::Option<&str> = ::core::option_env!(#CONFIG_VAR);
    )
}

/// `#[instrumented(args)] item`. With `enabled` false (the `observe/enabled` feature
/// off), the function as written once the attribute is checked: the same misuse errors.
pub(crate) fn instrumented(
    args: TokenStream,
    item: TokenStream,
    enabled: bool,
    convention: &Loaded,
) -> TokenStream {
    let Ok(item_fn) = syn::parse2::<ItemFn>(item.clone()) else {
        return expand::instrumented::not_a_function(item);
    };
    let cx = Ctxt::new();
    let args = InstrumentedArgs::from_tokens(&cx, args);
    let model = FnModel::from_syn(&cx, &item_fn);
    let mac = Instrumented {
        args,
        model,
        item_fn,
        item,
        enabled,
    };
    drive(cx, mac, convention)
}

struct Instrumented {
    args: InstrumentedArgs,
    model: FnModel,
    item_fn: ItemFn,
    /// The item as written, emitted unchanged on error.
    item: TokenStream,
    enabled: bool,
}

impl Macro for Instrumented {
    type Checked = Site;

    fn check(&self, cx: &Ctxt, convention: &Convention) -> Option<Site> {
        let arg_idents = &self.model.arg_idents;
        Some(check::instrumented::site(
            cx,
            &self.args,
            convention,
            &self.item_fn,
            arg_idents,
        ))
    }

    fn expand(self, site: Site, tracked: TokenStream) -> TokenStream {
        if self.enabled {
            expand::instrumented::gen_function(&site, &self.model, self.item_fn, tracked)
        } else {
            expand::instrumented::compiled_out(&site, self.item_fn, self.item)
        }
    }

    fn fallback(self, errors: TokenStream) -> TokenStream {
        expand::instrumented::fallback(errors, self.item)
    }
}

/// `counter!`, `gauge!` or `histogram!`. With `enabled` false, a handle that records
/// nothing once the call has passed every check.
pub(crate) fn metric(
    kind: Kind,
    input: TokenStream,
    enabled: bool,
    convention: &Loaded,
) -> TokenStream {
    let cx = Ctxt::new();
    match MetricArgs::from_tokens(&cx, input) {
        Some(args) => drive(
            cx,
            Metric {
                kind,
                args,
                enabled,
            },
            convention,
        ),
        // Without the name there is nothing to check, nor a handle type to stand in.
        None => cx
            .check()
            .err()
            .map(syn::Error::into_compile_error)
            .unwrap_or_default(),
    }
}

struct Metric {
    kind: Kind,
    args: MetricArgs,
    enabled: bool,
}

impl Macro for Metric {
    type Checked = MetricSite;

    fn check(&self, cx: &Ctxt, convention: &Convention) -> Option<MetricSite> {
        Some(check::metric::site(cx, self.kind, &self.args, convention))
    }

    fn expand(self, site: MetricSite, tracked: TokenStream) -> TokenStream {
        if self.enabled {
            expand::metric::generate(self.kind, &self.args, &site, tracked)
        } else {
            expand::metric::noop(self.kind, TokenStream::new(), &self.args)
        }
    }

    fn fallback(self, errors: TokenStream) -> TokenStream {
        expand::metric::noop(self.kind, errors, &self.args)
    }
}

/// `#[derive(ErrorLabel)]`.
pub(crate) fn error_label(input: TokenStream, convention: &Loaded) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.into_compile_error(),
    };
    let cx = Ctxt::new();
    let type_args = ErrorLabelArgs::from_attrs(&cx, &input.attrs, true);
    drive(cx, ErrorLabel { input, type_args }, convention)
}

struct ErrorLabel {
    input: DeriveInput,
    type_args: ErrorLabelArgs,
}

impl Macro for ErrorLabel {
    type Checked = CheckedErrorLabel;

    fn check(&self, cx: &Ctxt, convention: &Convention) -> Option<CheckedErrorLabel> {
        check::error_label::checked(cx, &self.input, &self.type_args, convention)
    }

    fn expand(self, checked: CheckedErrorLabel, tracked: TokenStream) -> TokenStream {
        let krate = self.type_args.krate.krate();
        expand::error_label::gen_impl(&self.input, &krate, &checked, tracked)
    }

    fn fallback(self, errors: TokenStream) -> TokenStream {
        let krate = self.type_args.krate.krate();
        expand::error_label::fallback(&self.input, &krate, errors)
    }
}
