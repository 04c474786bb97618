//! Head sampling that never loses a failure: the configured sampler decides which traces are
//! *sampled*, but every span is *recorded*, so that [`super::export_queue`] can still export the
//! spans that end with an error status (the RFC's "failed operations are always kept").

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};

/// The ratio of traces sampled by default in an environment: everything in `dev` (and any
/// environment observe does not know), half in `staging`, a tenth in `prod`.
pub(crate) fn default_ratio(environment: &str) -> f64 {
    match environment {
        "prod" | "production" => 0.1,
        "staging" | "stage" => 0.5,
        _ => 1.0,
    }
}

/// Which head sampler, as `OTEL_TRACES_SAMPLER` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SamplerKind {
    AlwaysOn,
    AlwaysOff,
    TraceIdRatio,
    ParentBasedAlwaysOn,
    ParentBasedAlwaysOff,
    ParentBasedTraceIdRatio,
}

impl SamplerKind {
    /// The names the OpenTelemetry specification gives them, for an error message.
    pub(crate) const NAMES_REASON: &'static str = "expected `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off` or `parentbased_traceidratio`";

    pub(crate) fn parse(value: &str) -> Option<Self> {
        Some(match value.trim() {
            "always_on" => SamplerKind::AlwaysOn,
            "always_off" => SamplerKind::AlwaysOff,
            "traceidratio" => SamplerKind::TraceIdRatio,
            "parentbased_always_on" => SamplerKind::ParentBasedAlwaysOn,
            "parentbased_always_off" => SamplerKind::ParentBasedAlwaysOff,
            "parentbased_traceidratio" => SamplerKind::ParentBasedTraceIdRatio,
            _ => return None,
        })
    }

    /// The SDK sampler, with `ratio` for the ratio-based kinds.
    pub(crate) fn sampler(self, ratio: f64) -> Sampler {
        let ratio = Sampler::TraceIdRatioBased(ratio);
        match self {
            SamplerKind::AlwaysOn => Sampler::AlwaysOn,
            SamplerKind::AlwaysOff => Sampler::AlwaysOff,
            SamplerKind::TraceIdRatio => ratio,
            SamplerKind::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            SamplerKind::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            SamplerKind::ParentBasedTraceIdRatio => Sampler::ParentBased(Box::new(ratio)),
        }
    }
}

/// Turns the head sampler's "drop" into "record only": the span keeps its data (and its
/// unsampled flag, which children inherit), so its end status can still decide its export.
#[derive(Debug, Clone)]
pub(crate) struct RecordEverything(pub(crate) Sampler);

impl ShouldSample for RecordEverything {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let mut result =
            self.0
                .should_sample(parent_context, trace_id, name, span_kind, attributes, links);
        if result.decision == SamplingDecision::Drop {
            result.decision = SamplingDecision::RecordOnly;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_follows_the_environment() {
        assert_eq!(default_ratio("dev"), 1.0);
        assert_eq!(default_ratio("staging"), 0.5);
        assert_eq!(default_ratio("prod"), 0.1);
        assert_eq!(default_ratio("qa"), 1.0);
    }

    #[test]
    fn sampler_names_parse() {
        assert_eq!(
            SamplerKind::parse("parentbased_traceidratio"),
            Some(SamplerKind::ParentBasedTraceIdRatio)
        );
        assert_eq!(
            SamplerKind::parse("always_off"),
            Some(SamplerKind::AlwaysOff)
        );
        assert_eq!(SamplerKind::parse("sometimes"), None);
    }

    /// A dropped root becomes a recorded, unsampled span; a sampled one stays sampled.
    #[test]
    fn drop_becomes_record_only() {
        let never = RecordEverything(SamplerKind::AlwaysOff.sampler(1.0));
        let always = RecordEverything(SamplerKind::AlwaysOn.sampler(1.0));
        let decide = |s: &RecordEverything| {
            s.should_sample(
                None,
                TraceId::from(7u128),
                "x",
                &SpanKind::Internal,
                &[],
                &[],
            )
            .decision
        };
        assert_eq!(decide(&never), SamplingDecision::RecordOnly);
        assert_eq!(decide(&always), SamplingDecision::RecordAndSample);
    }
}
