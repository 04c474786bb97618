//! Code generation for `counter!`, `gauge!` and `histogram!`: a `static` metric site with
//! its handles cached, registered for start-up, and the call of its handle; or, on error
//! or with `enabled` off, a handle that records nothing.

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use syn::{Expr, Ident};

use crate::args::MetricArgs;
use crate::check::metric::literal;
use crate::check::{Domain, MetricSite};
use crate::rules::Kind;

/// The errors (if any), and a handle of the right type that records nothing, so the
/// caller's code still checks; the label values are still evaluated, as they would be.
pub(crate) fn noop(kind: Kind, errors: TokenStream, args: &MetricArgs) -> TokenStream {
    let krate = args.krate.krate();
    let ty = match kind {
        Kind::Counter => quote!(CounterRef),
        Kind::Gauge => quote!(GaugeRef),
        Kind::Histogram => quote!(HistogramRef),
    };
    let values = args.label_list().iter().map(|(_, value)| value);
    quote! {{
        #errors
        let _ = (#(&#values,)*);
        #krate::#ty::noop()
    }}
}

/// The metric site and the call of its handle. `tracked` is the convention file's
/// `include_bytes!`.
pub(crate) fn generate(
    kind: Kind,
    args: &MetricArgs,
    site: &MetricSite,
    tracked: TokenStream,
) -> TokenStream {
    let krate = args.krate.krate();
    let private = quote!(#krate::__private);
    let name = args.name.value();
    let (help, service) = (&site.help, &site.service);
    let kind_tokens = match kind {
        Kind::Counter => quote!(#private::MetricKind::Counter),
        Kind::Gauge => quote!(#private::MetricKind::Gauge),
        Kind::Histogram => quote!(#private::MetricKind::Histogram),
    };
    let labels = site.labels.iter().map(|label| {
        let label_name = &label.name;
        let domain = match &label.domain {
            Domain::Const { value, .. } => quote!(#private::LabelDomain::Const(#value)),
            Domain::Set(values) => quote!(#private::LabelDomain::Set(&[#(#values),*])),
            Domain::Bounded(max) => {
                let max = Literal::usize_unsuffixed(*max as usize);
                quote!(#private::LabelDomain::Bounded(#max))
            }
        };
        quote!((#label_name, #domain))
    });
    let buckets = site
        .preset
        .iter()
        .flat_map(|p| p.buckets.iter().map(|b| Literal::f64_suffixed(*b)));
    let handle = handle_call(kind, args, site);
    let (series, series_budget) = (site.series, site.series_budget);
    quote! {{
        #tracked
        static __OBSERVE_METRIC: #private::MetricSite = #private::MetricSite::new(#private::MetricSiteMeta {
            kind: #kind_tokens,
            name: #name,
            help: #help,
            service: #service,
            module_path: ::core::module_path!(),
            labels: &[#(#labels),*],
            buckets: &[#(#buckets),*],
            file: ::core::file!(),
            line: ::core::line!(),
            series: #series,
            series_budget: #series_budget,
        });
        #private::inventory::submit! {
            #private::MetricSiteRegistration(&__OBSERVE_METRIC)
        }
        #handle
    }}
}

/// The call of the site's handle. When every runtime label has a declared set, the
/// expansion resolves each value to its position with a `match` on the string (compiled
/// to a length switch and a few integer compares) and passes the slot's index: the warm
/// path compares no string at runtime. A `Bounded` label's values are only known at
/// runtime, so such a site passes the values and the runtime interns them.
fn handle_call(kind: Kind, args: &MetricArgs, site: &MetricSite) -> TokenStream {
    let runtime: Vec<(&Expr, &Domain)> = args
        .label_list()
        .iter()
        .map(|(_, value)| value)
        .filter(|value| literal(value).is_none())
        .zip(
            site.labels
                .iter()
                .map(|label| &label.domain)
                .filter(|domain| !matches!(domain, Domain::Const { .. })),
        )
        .collect();
    let sets: Option<Vec<(&Expr, &[String])>> = runtime
        .iter()
        .map(|(value, domain)| match domain {
            Domain::Set(set) => Some((*value, set.as_slice())),
            _ => None,
        })
        .collect();
    let Some(sets) = sets else {
        let method = Ident::new(kind.noun(), Span::call_site());
        let values = runtime
            .iter()
            .map(|(value, _)| quote!(::core::convert::AsRef::<str>::as_ref(&#value)));
        return quote!(__OBSERVE_METRIC.#method(&[#(#values),*]));
    };
    let method = Ident::new(&format!("{}_at", kind.noun()), Span::call_site());
    // Slots as the runtime numbers them: the first label's position varies slowest, and
    // each label has its set's values then `_OTHER`.
    let mut stride = 1usize;
    let mut terms = Vec::new();
    for (label, (value, set)) in sets.iter().enumerate().rev() {
        let positions = (0..set.len()).map(Literal::usize_suffixed);
        let other = Literal::usize_suffixed(set.len());
        let label = Literal::usize_suffixed(label);
        let position = quote! {
            match ::core::convert::AsRef::<str>::as_ref(&#value) {
                #(#set => #positions,)*
                _ => {
                    __OBSERVE_METRIC.label_overflowed(#label);
                    #other
                }
            }
        };
        terms.push(match stride {
            1 => position,
            _ => {
                let stride = Literal::usize_suffixed(stride);
                quote!((#position) * #stride)
            }
        });
        stride = stride.saturating_mul(set.len() + 1);
    }
    // Built last to first; the values are evaluated in the order written.
    terms.reverse();
    let index = match terms.is_empty() {
        true => quote!(0usize),
        false => quote!(#(#terms)+*),
    };
    quote!(__OBSERVE_METRIC.#method(#index))
}
