//! A small model of the annotated function: which body shape it has, what it returns, and
//! which argument bindings can become span fields. Shapes that cannot be instrumented are
//! rejected here, spanned on the token that makes them so.

use syn::visit_mut::VisitMut;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type, TypeParamBound};

use crate::ctxt::Ctxt;

/// How the body runs, which decides where the guard lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// A plain fn: the body runs in a closure so `return` and `?` are caught.
    Sync,
    /// `async fn`: the body runs in an inner `async move` block awaited in the span.
    Async,
    /// A fn returning `impl Future` (or `Pin<Box<dyn Future>>`, as async-trait writes):
    /// the returned future is wrapped, so the call is measured until it completes.
    ReturnsFuture { boxed: bool },
}

pub(crate) struct FnModel {
    pub(crate) kind: BodyKind,
    /// The bindings of the arguments, in order (receivers excluded).
    pub(crate) arg_idents: Vec<Ident>,
}

impl FnModel {
    pub(crate) fn from_syn(cx: &Ctxt, item: &ItemFn) -> Self {
        let sig = &item.sig;
        if let Some(constness) = &sig.constness {
            cx.error_spanned_by(
                constness,
                "`#[instrumented]` cannot instrument a `const fn`: spans and metrics are runtime effects a const context cannot run",
                Some("remove `const`, or instrument a non-const function that calls this one".to_owned()),
            );
        }
        if let Some(variadic) = &sig.variadic {
            cx.error_spanned_by(
                variadic,
                "`#[instrumented]` cannot instrument a variadic function: its body cannot be moved into a closure",
                Some("instrument a Rust function that calls this one".to_owned()),
            );
        }
        let kind = if sig.asyncness.is_some() {
            BodyKind::Async
        } else {
            match returned_future(&sig.output) {
                Some(boxed) => BodyKind::ReturnsFuture { boxed },
                None => BodyKind::Sync,
            }
        };
        let mut arg_idents = Vec::new();
        for input in &sig.inputs {
            if let FnArg::Typed(arg) = input {
                collect_bindings(&arg.pat, &mut arg_idents);
            }
        }
        FnModel { kind, arg_idents }
    }
}

/// `Some(false)` for `impl Future<…>`, `Some(true)` for `Pin<Box<dyn Future<…>>>`.
fn returned_future(output: &ReturnType) -> Option<bool> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    match &**ty {
        Type::ImplTrait(imp) => has_future_bound(imp.bounds.iter()).then_some(false),
        Type::Path(path) => {
            let boxed = sole_type_arg(path.path.segments.last()?, "Pin")?;
            let Type::Path(boxed) = boxed else {
                return None;
            };
            let inner = sole_type_arg(boxed.path.segments.last()?, "Box")?;
            let Type::TraitObject(object) = inner else {
                return None;
            };
            has_future_bound(object.bounds.iter()).then_some(true)
        }
        _ => None,
    }
}

fn has_future_bound<'a>(mut bounds: impl Iterator<Item = &'a TypeParamBound>) -> bool {
    bounds.any(|b| matches!(b, TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| s.ident == "Future")))
}

/// The single type argument of `Name<T>`.
fn sole_type_arg<'a>(segment: &'a syn::PathSegment, name: &str) -> Option<&'a Type> {
    if segment.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Every identifier a pattern binds (`(a, b)`, `Point { x, y }`, `mut a`, …).
fn collect_bindings(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(p) => {
            out.push(p.ident.clone());
            if let Some((_, sub)) = &p.subpat {
                collect_bindings(sub, out);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| collect_bindings(&f.pat, out)),
        Pat::Slice(s) => s.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::Reference(r) => collect_bindings(&r.pat, out),
        Pat::Type(t) => collect_bindings(&t.pat, out),
        Pat::Paren(p) => collect_bindings(&p.pat, out),
        _ => {}
    }
}

/// The return type with every `impl Trait` replaced by `_`, so it can annotate a `let`
/// and drive inference of the body's `?` conversions (tracing's fake return edge).
pub(crate) fn inferable_return_type(output: &ReturnType) -> Type {
    match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            ImplTraitEraser.visit_type_mut(&mut ty);
            ty
        }
    }
}

struct ImplTraitEraser;

impl VisitMut for ImplTraitEraser {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(imp) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](syn::spanned::Spanned::span(imp)),
            });
        } else {
            syn::visit_mut::visit_type_mut(self, ty);
        }
    }
}
