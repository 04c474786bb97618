//! observe's own call spans (`instrumented::call_trace`) as OTLP spans: what
//! `tracing-opentelemetry` made of a call's `tracing` span, written only for the spans
//! that are exported (sampled, or failed), by the export task (`otlp_encode`), from what
//! the calling thread queued.
//!
//! Timestamps are the call's own clock readings, placed on the wall clock through one
//! reading of both taken when export starts (the TSC runs at a constant rate; its drift
//! from the wall clock is parts per million).
//!
//! A failure in a trace the head sampler dropped (locally, or upstream: a `traceparent`
//! with sampled=0) is exported alone, as in the SDK path before it: its parent is named
//! but not exported, so the backend shows a partial trace. Its arguments are the numbers
//! and `bool`s (copied at entry); `Debug` forms are formatted only for sampled spans.

use std::sync::OnceLock;
#[cfg(test)]
use std::time::Duration;
use std::time::SystemTime;

#[cfg(test)]
use opentelemetry::KeyValue;
#[cfg(test)]
use opentelemetry::trace::{SpanId, Status};
#[cfg(test)]
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::export_queue::{Queued, SpanSender};
use super::sampling::SamplerKind;
use crate::clock::Ticks;
use crate::instrumented::{CallSampler, CallTracing, RootSampling, start_call_tracing};
#[cfg(test)]
use crate::instrumented::{Copied, FinishedCall};
#[cfg(test)]
use crate::names::{SPAN_CODE_FUNCTION, SPAN_CODE_NAMESPACE, SPAN_ERROR_TYPE, SPAN_SERVICE_NAME};

/// Starts exporting observe's own call spans through `sender`, sampled like the SDK's
/// spans. `false` if they were already started (a second `init` in one process).
pub(crate) fn start(sender: SpanSender, sampler: SamplerKind, ratio: f64, clock: Ticks) -> bool {
    let _ = WALL_ANCHOR.set(WallAnchor::now(clock));
    start_call_tracing(CallTracing {
        sampler: call_sampler(sampler, ratio),
        export: Box::new(move |call| sender.send(Queued::Call(call))),
    })
}

/// Set by [`start`], read by the export task.
static WALL_ANCHOR: OnceLock<WallAnchor> = OnceLock::new();

/// The OpenTelemetry sampler `kind` as observe applies it to its call spans.
fn call_sampler(kind: SamplerKind, ratio: f64) -> CallSampler {
    let (follow_parent, root) = match kind {
        SamplerKind::AlwaysOn => (false, RootSampling::Always),
        SamplerKind::AlwaysOff => (false, RootSampling::Never),
        SamplerKind::TraceIdRatio => (false, RootSampling::ratio(ratio)),
        SamplerKind::ParentBasedAlwaysOn => (true, RootSampling::Always),
        SamplerKind::ParentBasedAlwaysOff => (true, RootSampling::Never),
        SamplerKind::ParentBasedTraceIdRatio => (true, RootSampling::ratio(ratio)),
    };
    CallSampler {
        follow_parent,
        root,
    }
}

/// One reading of the call clock and the wall clock together.
struct WallAnchor {
    ticks: u64,
    /// The wall clock in nanoseconds since the Unix epoch, what OTLP timestamps are.
    unix_nanos: u64,
    clock: Ticks,
}

impl WallAnchor {
    fn now(clock: Ticks) -> Self {
        WallAnchor {
            ticks: clock.now(),
            unix_nanos: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos() as u64),
            clock,
        }
    }

    /// In integers: `SystemTime`'s arithmetic and conversion took about 6 ns a request of
    /// the exporter thread in `scripts/load_profile.sh` (c), beside the encoder's 40.
    fn unix_nanos(&self, ticks: u64) -> u64 {
        if ticks >= self.ticks {
            self.unix_nanos + self.clock.nanos(ticks - self.ticks)
        } else {
            self.unix_nanos
                .saturating_sub(self.clock.nanos(self.ticks - ticks))
        }
    }

    #[cfg(test)]
    fn wall(&self, ticks: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_nanos(self.unix_nanos(ticks))
    }
}

fn anchor() -> &'static WallAnchor {
    WALL_ANCHOR.get_or_init(|| WallAnchor::now(Ticks::new()))
}

/// A call clock reading on the wall clock.
#[cfg(test)]
pub(crate) fn wall_time(ticks: u64) -> SystemTime {
    anchor().wall(ticks)
}

/// A call clock reading on the wall clock, in nanoseconds since the Unix epoch.
pub(crate) fn unix_nanos(ticks: u64) -> u64 {
    anchor().unix_nanos(ticks)
}

/// The span the SDK path made of a finished call: what `otlp_encode` writes directly,
/// kept as the reference its tests compare with.
#[cfg(test)]
pub(crate) fn span_data(call: FinishedCall) -> SpanData {
    let trace = &call.trace;
    let meta = trace.meta;
    let mut attributes = Vec::with_capacity(8 + call.args.formatted().len());
    attributes.extend([
        KeyValue::new(SPAN_SERVICE_NAME, trace.site.meta().service),
        KeyValue::new(SPAN_CODE_FUNCTION, meta.name()),
        KeyValue::new(SPAN_CODE_NAMESPACE, meta.module_path().unwrap_or_default()),
    ]);
    if let Some(file) = meta.file() {
        attributes.push(KeyValue::new("code.file.path", file));
    }
    if let Some(module) = meta.module_path() {
        attributes.push(KeyValue::new("code.module.name", module));
    }
    if let Some(line) = meta.line() {
        attributes.push(KeyValue::new("code.line.number", i64::from(line)));
    }
    attributes.extend(call.args.formatted().iter().cloned());
    attributes.extend(call.args.copied(meta).map(|(name, value)| match value {
        Copied::U64(v) => match i64::try_from(v) {
            Ok(v) => KeyValue::new(name, v),
            Err(_) => KeyValue::new(name, v.to_string()),
        },
        Copied::I64(v) => KeyValue::new(name, v),
        Copied::F64(v) => KeyValue::new(name, v),
        Copied::Bool(v) => KeyValue::new(name, v),
    }));
    let status = match call.error_type {
        Some(error_type) => {
            attributes.push(KeyValue::new(SPAN_ERROR_TYPE, error_type));
            Status::error("")
        }
        None => Status::Unset,
    };
    let ids = trace.ids;
    SpanData {
        span_context: crate::instrumented::span_context(ids, &trace.trace_state),
        parent_span_id: SpanId::from(ids.parent_span_id),
        parent_span_is_remote: ids.parent_remote,
        span_kind: super::otlp_encode::call_kind(call.args.kind()),
        name: std::borrow::Cow::Borrowed(meta.name()),
        start_time: wall_time(call.start),
        end_time: wall_time(call.end),
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status,
        instrumentation_scope: super::otlp_encode::OBSERVE_SCOPE.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_times_follow_the_call_clock() {
        let anchor = WallAnchor::now(Ticks::new());
        let later = anchor.clock.now();
        std::thread::sleep(Duration::from_millis(20));
        let end = anchor.clock.now();
        let elapsed = anchor.wall(end).duration_since(anchor.wall(later)).unwrap();
        assert!(
            (Duration::from_millis(19)..Duration::from_millis(40)).contains(&elapsed),
            "{elapsed:?}"
        );
        assert!(anchor.unix_nanos(anchor.ticks.saturating_sub(1_000)) <= anchor.unix_nanos);
        assert!(anchor.unix_nanos(later) >= anchor.unix_nanos);
    }

    #[test]
    fn sampler_kinds_map_to_the_call_sampler() {
        assert!(call_sampler(SamplerKind::ParentBasedTraceIdRatio, 0.1).follow_parent);
        assert!(!call_sampler(SamplerKind::TraceIdRatio, 0.1).follow_parent);
        assert!(matches!(
            call_sampler(SamplerKind::ParentBasedTraceIdRatio, 1.0).root,
            RootSampling::Always
        ));
    }
}
