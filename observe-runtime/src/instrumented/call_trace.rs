//! observe's own call spans, when spans are exported over OTLP.
//!
//! Through `tracing`, every call span, sampled or not, costs a registry slot, the
//! `tracing-opentelemetry` layer's builder and attribute vectors, and the SDK span: about
//! 1.5 µs per call, all of it for the 90% of successes a 10% head sampler then drops
//! (the keep-every-failure rule needs each span recorded until it ends). So while observe
//! exports spans, an instrumented function's span is observe's own, fastrace-style:
//! - at entry (this module) it draws the span id (and, for a root, the trace id) from a
//!   thread-local generator, takes the parent from the calling observe span or from the
//!   OpenTelemetry context (`tracing` spans activate theirs), and decides sampling the way
//!   the configured OpenTelemetry sampler would;
//! - every span keeps its numeric and `bool` arguments by copy, so that a failure is
//!   still exported with them; strings and `Debug` forms are formatted only for a
//!   sampled span (the only allocation a sampled call makes, when it has any);
//! - the start and end are the two clock readings the metrics already take;
//! - at the end, a sampled span or a failure is queued as it is (its formatted arguments
//!   shared, not copied), and the export task turns it into an OTLP span
//!   (`traces::call_export`), off the calling thread; an unsampled success costs nothing
//!   more. No allocation on the unsampled path once warm.
//!
//! `tracing` still sees everything it needs: the call's frame (`super::call_frames`)
//! gives `tracing` spans created inside the call their OpenTelemetry parent, and log
//! events their trace and span ids. When a subscriber records spans itself (a `fmt`
//! layer, a test's), the call also gets its `tracing` span, as before.

use std::sync::{Arc, OnceLock};

use opentelemetry::trace::{SpanContext, TraceState};
use tracing::field::Value;

use super::call_args::{Args, CopiedArg};
use super::call_frames;
use super::call_site::CallSite;

/// How observe decides and exports its call spans; set once by `init` when spans are
/// exported.
pub(crate) struct CallTracing {
    pub(crate) sampler: CallSampler,
    /// Hands a finished span to the export queue (`traces::call_export`).
    pub(crate) export: Box<dyn Fn(FinishedCall) + Send + Sync>,
}

static CALL_TRACING: OnceLock<CallTracing> = OnceLock::new();

/// Starts observe's own call spans; `false` if they were already started.
pub(crate) fn start_call_tracing(tracing: CallTracing) -> bool {
    CALL_TRACING.set(tracing).is_ok()
}

#[inline(always)]
pub(crate) fn call_tracing() -> Option<&'static CallTracing> {
    CALL_TRACING.get()
}

/// Head sampling as the OpenTelemetry samplers decide it (`OTEL_TRACES_SAMPLER`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallSampler {
    /// `parentbased_*`: a span with a parent follows the parent's decision.
    pub(crate) follow_parent: bool,
    /// How a root span (or any span, without `follow_parent`) is decided.
    pub(crate) root: RootSampling,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum RootSampling {
    Always,
    Never,
    /// `TraceIdRatioBased`: sampled when the trace id's low 63 bits fall under this bound,
    /// the SDK's own rule, so every service of a trace decides alike.
    Ratio(u64),
}

impl RootSampling {
    pub(crate) fn ratio(ratio: f64) -> Self {
        if ratio >= 1.0 {
            RootSampling::Always
        } else {
            RootSampling::Ratio((ratio.max(0.0) * (1u64 << 63) as f64) as u64)
        }
    }
}

impl CallSampler {
    #[inline]
    fn sampled(self, parent_sampled: Option<bool>, trace_id: u128) -> bool {
        match (parent_sampled, self.follow_parent) {
            (Some(sampled), true) => sampled,
            _ => match self.root {
                RootSampling::Always => true,
                RootSampling::Never => false,
                RootSampling::Ratio(bound) => ((trace_id as u64) >> 1) < bound,
            },
        }
    }
}

/// A `tracestate` from upstream: rare, so behind a pointer, one word when absent (call
/// spans are moved by value on the hot path); shared, so that each frame push (every
/// poll) and each nested call's parent takes a reference count, not a deep copy of its
/// strings.
pub(crate) type VendorState = Option<Arc<TraceState>>;

/// A call span's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallIds {
    /// The trace id's halves: a `u128` field would align every call span, and so every
    /// instrumented future holding one, to 16 bytes.
    trace_id_high: u64,
    trace_id_low: u64,
    pub(crate) span_id: u64,
    /// 0 for a root span.
    pub(crate) parent_span_id: u64,
    pub(crate) parent_remote: bool,
    pub(crate) sampled: bool,
}

impl CallIds {
    /// What a call's ids are before [`CallTrace::start_in`] writes them.
    pub(crate) const UNSTARTED: CallIds = CallIds {
        trace_id_high: 0,
        trace_id_low: 0,
        span_id: 0,
        parent_span_id: 0,
        parent_remote: false,
        sampled: false,
    };

    #[inline]
    pub(crate) fn trace_id(&self) -> u128 {
        (u128::from(self.trace_id_high) << 64) | u128::from(self.trace_id_low)
    }

    #[inline]
    pub(crate) fn set_trace_id(&mut self, trace_id: u128) {
        self.trace_id_high = (trace_id >> 64) as u64;
        self.trace_id_low = trace_id as u64;
    }
}

/// One call's own span, from entry to end, but for its arguments ([`Args`], kept beside
/// it in the call's `CallSpan`). Kept small: it lives in the caller's frame, and it is
/// built from registers on every call, while the arguments start out empty in place (a
/// span built with its empty arguments was copied in whole from a temporary whose last
/// stores had not landed, a stall `perf annotate` put at 7% of an unsampled call).
#[derive(Clone)]
pub(crate) struct CallTrace {
    pub(crate) ids: CallIds,
    pub(crate) trace_state: VendorState,
    pub(crate) site: &'static CallSite,
    pub(crate) meta: &'static tracing::Metadata<'static>,
}

impl std::fmt::Debug for CallTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallTrace")
            .field("ids", &self.ids)
            .field("span", &self.meta.name())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for CallTracing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallTracing")
            .field("sampler", &self.sampler)
            .finish_non_exhaustive()
    }
}

/// A call span that ended: queued as is, turned into an OTLP span on the exporter thread.
pub(crate) struct FinishedCall {
    pub(crate) trace: CallTrace,
    pub(crate) args: Args,
    /// Clock readings (`global::clock`) at entry and end.
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// `Some` for a failure: its `error_type`.
    pub(crate) error_type: Option<&'static str>,
}

impl CallTrace {
    /// Starts, in `slot`, the span of a call starting now under `parent` (a remote
    /// caller's span; `None`, or not valid: the current one), without its arguments:
    /// [`CallTrace::record_args`] records them where they live. Its ids are written where
    /// they stay, field by field: a span or a parent built elsewhere and moved in was read
    /// back in wide loads over the narrow stores of its flags (see
    /// `call_frames::continue_current`).
    #[inline]
    pub(crate) fn start_in<'a>(
        slot: &'a mut Option<CallTrace>,
        tracing: &'static CallTracing,
        site: &'static CallSite,
        meta: &'static tracing::Metadata<'static>,
        parent: Option<&SpanContext>,
    ) -> &'a mut CallTrace {
        let trace = slot.insert(CallTrace {
            ids: CallIds::UNSTARTED,
            trace_state: None,
            site,
            meta,
        });
        let CallTrace {
            ids, trace_state, ..
        } = trace;
        let parent_sampled = parent
            .and_then(|cx| call_frames::continue_context(cx, ids, trace_state))
            .or_else(|| call_frames::continue_current(ids, trace_state));
        if parent_sampled.is_none() {
            ids.set_trace_id(ids::trace_id());
        }
        ids.span_id = ids::span_id();
        ids.sampled = tracing.sampler.sampled(parent_sampled, ids.trace_id());
        trace
    }

    /// Whether dropping it would do nothing: of what it holds, only its `tracestate`
    /// owns anything (every field is named, so that one added is considered here).
    #[inline(always)]
    pub(crate) fn owns_nothing(&self) -> bool {
        let CallTrace {
            ids: _,
            trace_state,
            site: _,
            meta: _,
        } = self;
        trace_state.is_none()
    }

    /// [`CallTrace::start_in`], returned by value.
    #[cfg(test)]
    pub(crate) fn start(
        tracing: &'static CallTracing,
        site: &'static CallSite,
        meta: &'static tracing::Metadata<'static>,
        parent: Option<&SpanContext>,
    ) -> CallTrace {
        let mut slot = None;
        Self::start_in(&mut slot, tracing, site, meta, parent);
        slot.expect("started in the slot")
    }

    /// Records the call's kind and arguments into `args` ([`Args::record`]), formatted
    /// too if the span is sampled.
    #[inline]
    pub(crate) fn record_args(
        &self,
        args: &mut Args,
        kind: u8,
        extra: &[Option<&dyn Value>],
        copied: &[Option<CopiedArg>],
    ) {
        args.record(self.ids.sampled, self.meta, kind, extra, copied);
    }
}

/// Span and trace ids from a per-thread generator (wyrand): no lock, no system call.
/// Ids only need to be unique, not secret, as the SDK's own generator is.
mod ids {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};

    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }

    #[inline]
    fn next() -> u64 {
        STATE.with(|state| {
            let mut s = state.get();
            if s == 0 {
                s = seed();
            }
            s = s.wrapping_add(0xa076_1d64_78bd_642f);
            state.set(s);
            let t = u128::from(s).wrapping_mul(u128::from(s ^ 0xe703_7ed1_a0b4_28db));
            ((t >> 64) as u64) ^ (t as u64)
        })
    }

    /// Randomly keyed per thread (std's hasher keys come from the system's generator).
    #[cold]
    fn seed() -> u64 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(std::process::id().into());
        hasher.finish() | 1
    }

    /// A valid (non-zero) span id.
    #[inline]
    pub(super) fn span_id() -> u64 {
        loop {
            let id = next();
            if id != 0 {
                return id;
            }
        }
    }

    /// A valid (non-zero) trace id.
    #[inline]
    pub(super) fn trace_id() -> u128 {
        loop {
            let id = (u128::from(next()) << 64) | u128::from(next());
            if id != 0 {
                return id;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "otlp")]
    #[test]
    fn the_ratio_rule_is_the_sdks() {
        use opentelemetry::trace::{SpanKind, TraceId};
        use opentelemetry_sdk::trace::{Sampler, SamplingDecision, ShouldSample};
        let ratio = 0.1;
        let ours = CallSampler {
            follow_parent: false,
            root: RootSampling::ratio(ratio),
        };
        let sdk = Sampler::TraceIdRatioBased(ratio);
        let mut agreed = 0;
        for _ in 0..20_000 {
            let trace_id = ids::trace_id();
            let sdk_sampled = sdk
                .should_sample(
                    None,
                    TraceId::from(trace_id),
                    "x",
                    &SpanKind::Internal,
                    &[],
                    &[],
                )
                .decision
                == SamplingDecision::RecordAndSample;
            assert_eq!(ours.sampled(None, trace_id), sdk_sampled, "{trace_id:032x}");
            agreed += usize::from(sdk_sampled);
        }
        // About a tenth sampled: Binomial(20000, 0.1), sd 42.
        assert!((1_700..2_300).contains(&agreed), "{agreed}");
    }

    #[test]
    fn parent_based_follows_the_parent_others_do_not() {
        let parent_based = CallSampler {
            follow_parent: true,
            root: RootSampling::Never,
        };
        assert!(parent_based.sampled(Some(true), 1));
        assert!(!parent_based.sampled(Some(false), 1));
        assert!(!parent_based.sampled(None, 1));
        let always = CallSampler {
            follow_parent: false,
            root: RootSampling::Always,
        };
        assert!(always.sampled(Some(false), 1));
    }

    #[test]
    fn ids_are_valid_and_distinct() {
        let spans: std::collections::BTreeSet<u64> = (0..10_000).map(|_| ids::span_id()).collect();
        assert_eq!(spans.len(), 10_000);
        assert!(!spans.contains(&0));
        assert_ne!(ids::trace_id(), ids::trace_id());
    }
}
