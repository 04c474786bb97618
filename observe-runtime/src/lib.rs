//! The thin runtime behind `observe`: call-site metric storage pre-aggregated per thread, outcome
//! classification, the drop guard that records every exit path, and Prometheus export.
//!
//! Users depend on the `observe` crate, which re-exports this one with the macros.
#![warn(missing_docs, unreachable_pub)]

mod clock;
mod error;
mod error_label;
mod export;
mod exposition;
mod families;
mod guard;
mod logs;
mod metric_site;
mod metrics_auth;
mod metrics_response;
mod metrics_server;
pub mod names;
mod otel;
mod outcome;
#[cfg(test)]
mod parser_properties;
pub mod propagation;
mod push;
mod render_cache;
mod runtime;
mod sampling;
mod site;
mod span;
mod storage;
mod stripe;
mod warn_limit;

pub use error_label::ErrorLabel;
pub use export::SPANS_DROPPED;
pub use logs::LogFormat;
pub use metric_site::{CounterRef, GaugeRef, HistogramRef};
pub use otel::OtlpProtocol;
pub use outcome::Outcome;
pub use runtime::{Builder, Error, Guard, builder, init, render};

/// What generated code calls. Not a stable API: only `observe`'s macros may use it.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use tracing;

    pub use crate::error_label::{LabelOf, LabelViaTrait, LabelViaTypeName};
    pub use crate::guard::{CallFuture, CallGuard};
    pub use crate::metric_site::{
        LabelDomain, MetricKind, MetricSite, MetricSiteMeta, MetricSiteRegistration,
    };
    pub use crate::outcome::{
        Classify, ClassifyAnyValue, ClassifyLabelledResult, ClassifyOtherResult, Outcome,
    };
    pub use crate::propagation::{TraceHeaders, continue_trace};
    pub use crate::site::{CallSite, MetricMeta, SiteMeta, SiteRegistration};
    pub use crate::span::call_span;

    /// Runs a sync body as a closure so `return` and `?` end the closure, not the function.
    /// Taking `FnOnce` (rather than calling `(move || body)()`) lets bodies that return a
    /// borrow of a captured `&mut` compile (tracing#2857).
    #[inline(always)]
    pub fn once<R>(body: impl FnOnce() -> R) -> R {
        body()
    }
}
