//! Code generation for `counter!`, `gauge!` and `histogram!`: a `static` metric site with
//! its handles cached, registered for start-up, and the call of its handle; or, on error
//! or with `enabled` off, a handle that records nothing.

use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use syn::Ident;

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
    let runtime_values = args
        .label_list()
        .iter()
        .filter(|(_, value)| literal(value).is_none())
        .map(|(_, value)| quote!(::core::convert::AsRef::<str>::as_ref(&#value)));
    let buckets = site
        .preset
        .iter()
        .flat_map(|p| p.buckets.iter().map(|b| Literal::f64_suffixed(*b)));
    let method = Ident::new(kind.noun(), Span::call_site());
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
        __OBSERVE_METRIC.#method(&[#(#runtime_values),*])
    }}
}
