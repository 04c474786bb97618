//! The thin runtime behind `observe`: call-site metric storage pre-aggregated per thread, outcome
//! classification, the drop guard that records every exit path, and Prometheus export.
//!
//! Users depend on the `observe` crate, which re-exports this one with the macros.
//!
//! # Layout
//! Rooms by job, each allowed to use only the ones below it (`tests/layering.rs` checks
//! every `crate::` path per room; `ARCHITECTURE.md` tells how a call flows through them):
//!
//! ```text
//! ops/           operations as code: the catalogue of the linked    uses instrumented, metrics,
//!                sites, rules, alerts, dashboards, runbooks, lock        names
//! init/          builder, environment, start-up, the init guard     uses everything below
//! testing/       capture what a closure or future recorded          uses instrumented, metrics,
//!                (`observe::testing`)                                    serve, storage
//! serve/         recorder, expositions, render, OpenMetrics,        uses instrumented, metrics,
//!                families, the /metrics listener, Pushgateway push       storage, global, leaves
//! logs           the log subscriber and its OpenTelemetry layers    uses traces
//! traces/        OTLP config, pipeline, export queue, sampling,     uses instrumented, global,
//!                own call spans as OTLP spans, propagation               leaves
//! instrumented/  call site, per-call guard, classify, error label,  uses storage, global, leaves
//!                span (observe's own when exported): the hot path
//! metrics/       the function-like macros' sites and their series   uses global, leaves
//! storage/       striped per-thread storage, stripe claims,         uses global, leaves
//!                exemplar slots
//! global         all process-wide state                             uses leaves
//! leaves:        names (the vocabulary), clock, outcome, error,     use at most names
//!                warn_limit (rate-limited warnings)
//! ```
#![warn(missing_docs, unreachable_pub)]

mod clock;
mod error;
mod global;
mod hex;
mod init;
mod instrumented;
mod logs;
mod metrics;
pub mod names;
pub mod ops;
mod outcome;
mod serve;
mod storage;
pub mod testing;
mod traces;
mod warn_limit;

pub use error::Error;
pub use init::{Builder, Guard, builder, init};
pub use instrumented::ErrorLabel;
pub use logs::LogFormat;
pub use metrics::{CounterRef, GaugeRef, HistogramRef};
pub use names::SPANS_DROPPED;
pub use serve::budget::check_series_budgets;
pub use serve::render::render;
#[cfg(feature = "otlp")]
pub use traces::otlp::OtlpProtocol;
pub use traces::propagation;

/// What generated code calls. Not a stable API: only `observe`'s macros may use it.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use tracing;

    pub use crate::instrumented::{
        CallFuture, CallGuard, CallSite, CallSiteMeta, CallSiteRegistration, CallSpan, CallValues,
        ClassesOf, ClassesViaAny, ClassesViaDerive, ClassesViaResult, Classify, ClassifyAnyValue,
        ClassifyLabelledResult, ClassifyOtherResult, CopiedArg, Entered, ErrorClasses, FamilyMeta,
        LabelOf, LabelViaTrait, LabelViaTypeName, PrimitiveArg, RecordArg, RecordDebugArg,
        RecordNoArg, RecordPrimitiveArg, Returned, ReturnedLocalFuture, ReturnedReady,
        ReturnedSendFuture, ReturnedValue, SloMeta,
    };
    pub use crate::metrics::{
        LabelDomain, MetricKind, MetricSite, MetricSiteMeta, MetricSiteRegistration,
    };
    pub use crate::outcome::Outcome;
    pub use crate::traces::propagation::{TraceHeaders, continue_trace};

    /// Runs a sync body as a closure so `return` and `?` end the closure, not the function.
    /// Taking `FnOnce` (rather than calling `(move || body)()`) lets bodies that return a
    /// borrow of a captured `&mut` compile (tracing#2857).
    #[inline(always)]
    pub fn once<R>(body: impl FnOnce() -> R) -> R {
        body()
    }
}
