//! `otlp_encode`'s tests: the same spans encoded by observe and by the SDK's exporter
//! path (`opentelemetry-proto`'s conversion, then prost), compared byte for byte.

use std::borrow::Cow;
use std::time::Duration;

use opentelemetry::trace::{Event, Link, SpanContext, TraceFlags, TraceId, TraceState};
use opentelemetry::{KeyValue, StringValue};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
use prost::Message as _;
use tracing::callsite::{DefaultCallsite, Identifier};
use tracing::field::FieldSet;
use tracing::metadata::Kind;
use tracing::{Level, Metadata};

use super::*;
use crate::instrumented::{
    Args, CallSampler, CallSite, CallTrace, CallTracing, RootSampling, TEST_META,
};

static SITE: CallSite = CallSite::new(TEST_META);
static SPAN: DefaultCallsite = DefaultCallsite::new(&SPAN_META);
static SPAN_META: Metadata<'static> = Metadata::new(
    "decode",
    "app",
    Level::INFO,
    Some("src/app.rs"),
    Some(1),
    Some("app"),
    FieldSet::new(
        &[
            "service.name",
            "code.function",
            "code.namespace",
            "error.type",
            "otel.status_code",
            "otel.kind",
            "attempt",
            "offset",
            "huge",
            "ratio",
            "strict",
            "message",
        ],
        Identifier(&SPAN),
    ),
    Kind::SPAN,
);

fn tracing() -> &'static CallTracing {
    Box::leak(Box::new(CallTracing {
        sampler: CallSampler {
            follow_parent: true,
            root: RootSampling::Never,
        },
        export: Box::new(|_| {}),
    }))
}

/// A call under `parent` with every kind of argument, sampled or not as the parent is.
#[allow(clippy::needless_borrow)]
fn call(parent: SpanContext, error_type: Option<&'static str>) -> FinishedCall {
    let trace = CallTrace::start(tracing(), &SITE, &SPAN_META, Some(&parent));
    let mut args = Args::EMPTY;
    let message = String::from("héllo \"quoted\"");
    // What the macro hands over: the values, and their copies made the same way (its
    // receiver is always `&&&RecordArg`, whichever tier answers).
    #[allow(unused_imports)]
    use crate::instrumented::{
        RecordArg, RecordDebugArg as _, RecordNoArg as _, RecordPrimitiveArg as _,
    };
    trace.record_args(
        &mut args,
        1, // "server"
        &[
            Some(&"server"),
            Some(&3u64),
            Some(&-42i64),
            Some(&u64::MAX),
            Some(&0.25f64),
            Some(&false),
            Some(&tracing::field::debug(&message)),
        ],
        &[
            None,
            (&&&RecordArg(&3u64)).__observe_copy(),
            (&&&RecordArg(&-42i64)).__observe_copy(),
            (&&&RecordArg(&u64::MAX)).__observe_copy(),
            (&&&RecordArg(&0.25f64)).__observe_copy(),
            (&&&RecordArg(&false)).__observe_copy(),
            (&&&RecordArg(&message)).__observe_copy(),
        ],
    );
    let start = crate::clock::Ticks::new().now();
    FinishedCall {
        trace,
        args,
        start,
        end: start + 1_000_000,
        error_type,
    }
}

fn parent(sampled: bool, remote: bool, trace_state: Option<&str>) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(
        TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128),
        opentelemetry::trace::SpanId::from(0xb7ad6b7169203331_u64),
        flags,
        remote,
        trace_state.map_or(TraceState::NONE, |s| s.parse::<TraceState>().unwrap()),
    )
}

/// A span the SDK recorded, with what `tracing` spans of other libraries carry.
fn sdk_span(name: &'static str, scope: InstrumentationScope, failed: bool) -> SpanData {
    let context = SpanContext::new(
        TraceId::from(0x1234u128),
        opentelemetry::trace::SpanId::from(0x99u64),
        TraceFlags::SAMPLED,
        false,
        "a=1,b=2".parse().unwrap(),
    );
    let start = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_764_500_000_123_456_789);
    let mut events = SpanEvents::default();
    events.events.push(Event::new(
        "retry",
        start + Duration::from_micros(10),
        vec![KeyValue::new("attempt", 2i64)],
        1,
    ));
    events.dropped_count = 3;
    let mut links = SpanLinks::default();
    links.links.push(Link::new(
        context.clone(),
        vec![KeyValue::new("why", "batch")],
        0,
    ));
    SpanData {
        span_context: context.clone(),
        parent_span_id: if failed {
            SpanId::INVALID
        } else {
            SpanId::from(7u64)
        },
        parent_span_is_remote: failed,
        span_kind: SpanKind::Client,
        name: Cow::Borrowed(name),
        start_time: start,
        end_time: start + Duration::from_micros(250),
        attributes: vec![
            KeyValue::new("db.system", "postgresql"),
            KeyValue::new("rows", 0i64),
            KeyValue::new("cached", false),
            KeyValue::new("load", 0.0f64),
            KeyValue::new("negative", -1.5f64),
            KeyValue::new("empty", ""),
            KeyValue::new(
                "hosts",
                Value::Array(Array::String(vec![
                    StringValue::from("a"),
                    StringValue::from(""),
                ])),
            ),
            KeyValue::new("ports", Value::Array(Array::I64(vec![5432, 0, -1]))),
            KeyValue::new("flags", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new("weights", Value::Array(Array::F64(vec![0.5]))),
            KeyValue::new("long", "x".repeat(300)),
        ],
        dropped_attributes_count: 2,
        events,
        links,
        status: if failed {
            Status::error("connection reset")
        } else {
            Status::Ok
        },
        instrumentation_scope: scope,
    }
}

/// What the SDK's OTLP exporter sends for the same spans, encoded by prost.
fn sdk_body(resource: &Resource, spans: Vec<SpanData>) -> Vec<u8> {
    let resource = ResourceAttributesWithSchema::from(resource);
    ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(spans, &resource),
    }
    .encode_to_vec()
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_service_name("parsing")
        .with_attribute(KeyValue::new("deployment.environment.name", "prod"))
        .with_schema_url(
            [KeyValue::new("host.arch", "amd64")],
            "https://opentelemetry.io/schemas/1.27.0",
        )
        .build()
}

#[test]
fn call_spans_encode_as_the_sdk_path_did_byte_for_byte() {
    let calls = [
        // Sampled, under a remote parent with a `tracestate`: arguments formatted.
        || call(parent(true, true, Some("vendor=1")), None),
        // Unsampled and failed: the numbers and `bool`s copied.
        || call(parent(false, false, None), Some("TimeoutError")),
        || call(parent(true, false, None), Some("ParseError")),
    ];
    let queued: Vec<Queued> = calls.iter().map(|c| Queued::Call(c())).collect();
    let expected: Vec<SpanData> = queued
        .iter()
        .map(|q| match q {
            Queued::Call(c) => crate::traces::call_export::span_data(FinishedCall {
                trace: c.trace.clone(),
                args: c.args.clone(),
                start: c.start,
                end: c.end,
                error_type: c.error_type,
            }),
            Queued::Sdk(_) => unreachable!(),
        })
        .collect();
    let resource = resource();
    let ours = BatchEncoder::new(&resource).encode(&queued);
    assert_eq!(ours, sdk_body(&resource, expected));
    // The arguments really went both ways: formatted, then copied.
    let decoded = ExportTraceServiceRequest::decode(&ours[..]).unwrap();
    let spans = &decoded.resource_spans[0].scope_spans[0].spans;
    let keys = |i: usize| -> Vec<&str> {
        spans[i]
            .attributes
            .iter()
            .map(|kv| kv.key.as_str())
            .collect()
    };
    assert!(keys(0).contains(&"message"), "{:?}", keys(0));
    assert!(!keys(1).contains(&"message") && keys(1).contains(&"huge"));
    assert_eq!(keys(1).last(), Some(&"error.type"));
}

#[test]
fn sdk_spans_and_several_scopes_encode_as_the_sdk_does() {
    let other = InstrumentationScope::builder("sqlx")
        .with_version("0.8.6")
        .with_schema_url("https://opentelemetry.io/schemas/1.26.0")
        .with_attributes([KeyValue::new("pool", "main")])
        .build();
    let make = || {
        vec![
            sdk_span("SELECT", other.clone(), false),
            sdk_span("handshake", OBSERVE_SCOPE.clone(), true),
            sdk_span("INSERT", other.clone(), true),
        ]
    };
    let mut queued: Vec<Queued> = make()
        .into_iter()
        .map(|span| Queued::Sdk(Box::new(span)))
        .collect();
    queued.insert(1, Queued::Call(call(parent(true, false, None), None)));
    let mut expected = make();
    let Queued::Call(c) = &queued[1] else {
        unreachable!()
    };
    expected.insert(
        1,
        crate::traces::call_export::span_data(FinishedCall {
            trace: c.trace.clone(),
            args: c.args.clone(),
            start: c.start,
            end: c.end,
            error_type: c.error_type,
        }),
    );
    let resource = resource();
    let mut encoder = BatchEncoder::new(&resource);
    assert_eq!(encoder.encode(&queued), sdk_body(&resource, expected));
    // The encoder is reused batch after batch.
    let again = encoder.encode(&queued[..1]);
    assert_eq!(again, sdk_body(&resource, make()[..1].to_vec()));
}
