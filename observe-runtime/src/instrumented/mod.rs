//! The per-call hot path of `#[instrumented]`: the call site the attribute generates for
//! each function, the per-call guard that records exactly one outcome on every exit path,
//! how a return value is classified and labelled, and the call's span. It may use
//! `storage`, `global`, `outcome` and `names`; no allocation, lock or hash lookup once warm.
//! When spans are exported, the call's span is observe's own (`call_trace`, its arguments
//! `call_args`, `call_frames`).

// Without the `otlp` feature no span is ever observe's own: the call span machinery is
// there (the hot path names it) but never started.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
mod call_args;
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
mod call_frames;
mod call_guard;
mod call_site;
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
mod call_trace;
mod capture;
mod classify;
mod error_classes;
mod error_label;
mod record_arg;
mod returned;
mod slo_meta;
mod span;

pub use call_guard::{CallFuture, CallGuard};
#[cfg(test)]
pub(crate) use call_site::TEST_META;
pub(crate) use call_site::all_call_sites;
pub use call_site::{CallSite, CallSiteMeta, CallSiteRegistration, FamilyMeta};
pub(crate) use capture::{Capture, enter as capture_enter};
pub use classify::{Classify, ClassifyAnyValue, ClassifyLabelledResult, ClassifyOtherResult};
pub use error_classes::{
    ClassesOf, ClassesViaAny, ClassesViaDerive, ClassesViaResult, ErrorClasses,
};
pub use error_label::{ErrorLabel, LabelOf, LabelViaTrait, LabelViaTypeName};
pub use record_arg::{PrimitiveArg, RecordArg, RecordDebugArg, RecordNoArg, RecordPrimitiveArg};
pub use slo_meta::SloMeta;
// The tags the traits return are named by no caller: they are only called through.
#[cfg(test)]
pub(crate) use call_args::Args;
#[cfg(feature = "otlp")]
pub(crate) use call_args::Copied;
pub use call_args::CopiedArg;
#[cfg(all(test, feature = "otlp"))]
pub(crate) use call_frames::span_context;
#[cfg(feature = "otlp")]
pub(crate) use call_frames::{Innermost, attach_innermost, innermost, innermost_ids};
#[cfg(test)]
pub(crate) use call_trace::CallTrace;
#[cfg(feature = "otlp")]
pub(crate) use call_trace::{
    CallSampler, CallTracing, FinishedCall, RootSampling, start_call_tracing,
};
pub use returned::{
    Returned, ReturnedLocalFuture, ReturnedReady, ReturnedSendFuture, ReturnedValue,
};
pub use span::{CallSpan, CallValues, Entered};
