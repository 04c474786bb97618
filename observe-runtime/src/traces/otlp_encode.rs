//! One export request's body, OTLP's `ExportTraceServiceRequest` in protobuf, written
//! straight from what the export queue holds, into one buffer.
//!
//! Why not the SDK's exporter: it turns each span into `SpanData`, then into
//! `opentelemetry-proto`'s structs (every key and string value copied into a `String`,
//! spans grouped through a `HashMap`), then encodes and frees them: about 18,000
//! instructions per exported span (`scripts/request_cost.sh`). Here an observe call span
//! goes from its `FinishedCall` to bytes with its static names copied once, and the
//! resource is encoded once, at start. The output is the SDK's, byte for byte (the tests
//! encode the same spans both ways).
//!
//! `tracing` spans of other libraries come through the SDK as `SpanData`, and are
//! encoded from it, events and links included.

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;

use super::call_export;
use super::export_queue::Queued;
use super::proto_writer::ProtoWriter;
use crate::instrumented::{Copied, FinishedCall};
use crate::names::{SPAN_CODE_FUNCTION, SPAN_CODE_NAMESPACE, SPAN_ERROR_TYPE, SPAN_SERVICE_NAME};

/// Field numbers of the OTLP messages written here (`opentelemetry/proto/**/*.proto`).
mod field {
    pub(super) const REQUEST_RESOURCE_SPANS: u32 = 1;
    pub(super) const RESOURCE_SPANS_RESOURCE: u32 = 1;
    pub(super) const RESOURCE_SPANS_SCOPE_SPANS: u32 = 2;
    pub(super) const RESOURCE_SPANS_SCHEMA_URL: u32 = 3;
    pub(super) const RESOURCE_ATTRIBUTES: u32 = 1;
    pub(super) const SCOPE_SPANS_SCOPE: u32 = 1;
    pub(super) const SCOPE_SPANS_SPANS: u32 = 2;
    pub(super) const SCOPE_SPANS_SCHEMA_URL: u32 = 3;
    pub(super) const SCOPE_NAME: u32 = 1;
    pub(super) const SCOPE_VERSION: u32 = 2;
    pub(super) const SCOPE_ATTRIBUTES: u32 = 3;
    pub(super) const SPAN_TRACE_ID: u32 = 1;
    pub(super) const SPAN_SPAN_ID: u32 = 2;
    pub(super) const SPAN_TRACE_STATE: u32 = 3;
    pub(super) const SPAN_PARENT_SPAN_ID: u32 = 4;
    pub(super) const SPAN_NAME: u32 = 5;
    pub(super) const SPAN_KIND: u32 = 6;
    pub(super) const SPAN_START: u32 = 7;
    pub(super) const SPAN_END: u32 = 8;
    pub(super) const SPAN_ATTRIBUTES: u32 = 9;
    pub(super) const SPAN_DROPPED_ATTRIBUTES: u32 = 10;
    pub(super) const SPAN_EVENTS: u32 = 11;
    pub(super) const SPAN_DROPPED_EVENTS: u32 = 12;
    pub(super) const SPAN_LINKS: u32 = 13;
    pub(super) const SPAN_DROPPED_LINKS: u32 = 14;
    pub(super) const SPAN_STATUS: u32 = 15;
    pub(super) const SPAN_FLAGS: u32 = 16;
    pub(super) const EVENT_TIME: u32 = 1;
    pub(super) const EVENT_NAME: u32 = 2;
    pub(super) const EVENT_ATTRIBUTES: u32 = 3;
    pub(super) const EVENT_DROPPED_ATTRIBUTES: u32 = 4;
    pub(super) const LINK_TRACE_ID: u32 = 1;
    pub(super) const LINK_SPAN_ID: u32 = 2;
    pub(super) const LINK_TRACE_STATE: u32 = 3;
    pub(super) const LINK_ATTRIBUTES: u32 = 4;
    pub(super) const LINK_DROPPED_ATTRIBUTES: u32 = 5;
    pub(super) const LINK_FLAGS: u32 = 6;
    pub(super) const STATUS_MESSAGE: u32 = 2;
    pub(super) const STATUS_CODE: u32 = 3;
    pub(super) const KEY_VALUE_KEY: u32 = 1;
    pub(super) const KEY_VALUE_VALUE: u32 = 2;
    pub(super) const ANY_STRING: u32 = 1;
    pub(super) const ANY_BOOL: u32 = 2;
    pub(super) const ANY_INT: u32 = 3;
    pub(super) const ANY_DOUBLE: u32 = 4;
    pub(super) const ANY_ARRAY: u32 = 5;
    pub(super) const ARRAY_VALUES: u32 = 1;
}

/// `SpanFlags`: the parent's remoteness is always stated.
const FLAGS_CONTEXT_HAS_IS_REMOTE: u32 = 0x100;
const FLAGS_CONTEXT_IS_REMOTE: u32 = 0x200;
const FLAG_SAMPLED: u32 = 0x01;
const STATUS_ERROR: u64 = 2;
const STATUS_OK: u64 = 1;

/// The scope of observe's call spans: the one of the tracer behind the `tracing` layer.
pub(crate) static OBSERVE_SCOPE: LazyLock<InstrumentationScope> =
    LazyLock::new(|| InstrumentationScope::builder("observe").build());

/// Encodes batches for one resource.
#[derive(Debug)]
pub(crate) struct BatchEncoder {
    /// `ResourceSpans.resource` and `.schema_url`, encoded once.
    resource: Vec<u8>,
    schema_url: Option<String>,
    /// The last body's size, to size the next one's buffer.
    last_len: usize,
}

impl BatchEncoder {
    pub(crate) fn new(resource: &Resource) -> Self {
        let mut w = ProtoWriter::default();
        for (key, value) in resource.iter() {
            key_value(&mut w, field::RESOURCE_ATTRIBUTES, key.as_str(), |w| {
                any_value(w, value)
            });
        }
        BatchEncoder {
            resource: w.into_vec(),
            schema_url: resource.schema_url().map(str::to_owned),
            last_len: 1024,
        }
    }

    /// The request body for `batch`: one `ResourceSpans`, one `ScopeSpans` per scope in
    /// the order they first appear, spans in batch order (what the SDK's exporter sends).
    pub(crate) fn encode(&mut self, batch: &[Queued]) -> Vec<u8> {
        let mut w = ProtoWriter::with_capacity(self.last_len + self.last_len / 4);
        // Reserved lengths as they usually come out, so that closing moves nothing: a
        // batch's 16 KiB to 2 MiB, a call span's 128 bytes to 16 KiB.
        let resource_spans = w.begin_sized(field::REQUEST_RESOURCE_SPANS, 3);
        w.bytes_always(field::RESOURCE_SPANS_RESOURCE, &self.resource);
        let mut scopes: Vec<&InstrumentationScope> = Vec::new();
        for queued in batch {
            let scope = scope_of(queued);
            if !scopes.iter().any(|seen| same_scope(seen, scope)) {
                scopes.push(scope);
            }
        }
        for scope in scopes {
            let scope_spans = w.begin_sized(field::RESOURCE_SPANS_SCOPE_SPANS, 3);
            let scope_message = w.begin(field::SCOPE_SPANS_SCOPE);
            w.string(field::SCOPE_NAME, scope.name());
            w.string(field::SCOPE_VERSION, scope.version().unwrap_or_default());
            for kv in scope.attributes() {
                attribute(&mut w, field::SCOPE_ATTRIBUTES, kv);
            }
            w.end(scope_message);
            for queued in batch.iter().filter(|q| same_scope(scope_of(q), scope)) {
                let span = w.begin_sized(field::SCOPE_SPANS_SPANS, 2);
                match queued {
                    Queued::Call(call) => call_span(&mut w, call),
                    Queued::Sdk(data) => sdk_span(&mut w, data),
                }
                w.end(span);
            }
            w.string(
                field::SCOPE_SPANS_SCHEMA_URL,
                scope.schema_url().unwrap_or_default(),
            );
            w.end(scope_spans);
        }
        w.string(
            field::RESOURCE_SPANS_SCHEMA_URL,
            self.schema_url.as_deref().unwrap_or_default(),
        );
        w.end(resource_spans);
        self.last_len = w.len();
        w.into_vec()
    }
}

fn scope_of(queued: &Queued) -> &InstrumentationScope {
    match queued {
        Queued::Call(_) => &OBSERVE_SCOPE,
        Queued::Sdk(data) => &data.instrumentation_scope,
    }
}

/// Scopes compare by value (names, version, attributes); observe's own, the usual one,
/// by address first.
fn same_scope(a: &InstrumentationScope, b: &InstrumentationScope) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// An observe call span: the span `call_export` describes, attribute for attribute.
fn call_span(w: &mut ProtoWriter, call: &FinishedCall) {
    let trace = &call.trace;
    let meta = trace.meta;
    let ids = trace.ids;
    w.bytes(field::SPAN_TRACE_ID, &ids.trace_id().to_be_bytes());
    w.bytes(field::SPAN_SPAN_ID, &ids.span_id.to_be_bytes());
    if let Some(state) = &trace.trace_state {
        w.string(field::SPAN_TRACE_STATE, &state.header());
    }
    if ids.parent_span_id != 0 {
        w.bytes(
            field::SPAN_PARENT_SPAN_ID,
            &ids.parent_span_id.to_be_bytes(),
        );
    }
    w.string(field::SPAN_NAME, meta.name());
    w.uint(field::SPAN_KIND, span_kind(&call_kind(call.args.kind())));
    w.fixed64(field::SPAN_START, call_export::unix_nanos(call.start));
    w.fixed64(field::SPAN_END, call_export::unix_nanos(call.end));
    // The site's span and metadata statics come from one expansion, so its constant
    // attributes are the same for every call of it.
    w.raw(trace.site.span_attributes(|| {
        let mut constant = ProtoWriter::default();
        constant_attributes(&mut constant, trace.site.meta().service, meta);
        constant.into_vec().into_boxed_slice()
    }));
    for kv in call.args.formatted() {
        attribute(w, field::SPAN_ATTRIBUTES, kv);
    }
    for (name, value) in call.args.copied(meta) {
        match value {
            Copied::U64(v) => match i64::try_from(v) {
                Ok(v) => span_attribute(w, name, Scalar::I64(v)),
                Err(_) => span_attribute(w, name, Scalar::Str(&v.to_string())),
            },
            Copied::I64(v) => span_attribute(w, name, Scalar::I64(v)),
            Copied::F64(v) => span_attribute(w, name, Scalar::F64(v)),
            Copied::Bool(v) => span_attribute(w, name, Scalar::Bool(v)),
        }
    }
    if let Some(error_type) = call.error_type {
        span_attribute(w, SPAN_ERROR_TYPE, Scalar::Str(error_type));
    }
    let status = w.begin(field::SPAN_STATUS);
    if call.error_type.is_some() {
        w.uint(field::STATUS_CODE, STATUS_ERROR);
    }
    w.end(status);
    let sampled = if ids.sampled { FLAG_SAMPLED } else { 0 };
    let remote = if ids.parent_remote {
        FLAGS_CONTEXT_IS_REMOTE
    } else {
        0
    };
    w.fixed32(
        field::SPAN_FLAGS,
        sampled | FLAGS_CONTEXT_HAS_IS_REMOTE | remote,
    );
}

/// A call span's constant attributes, those `tracing-opentelemetry` gave its `tracing`
/// span: the service and where the function is. Most of a call span's bytes, and, written
/// field by field for every span, most of its encoding time (`ProtoWriter::end` above
/// all); each site's are written once and copied (`CallSite::span_attributes`).
fn constant_attributes(w: &mut ProtoWriter, service: &str, meta: &tracing::Metadata<'_>) {
    span_attribute(w, SPAN_SERVICE_NAME, Scalar::Str(service));
    span_attribute(w, SPAN_CODE_FUNCTION, Scalar::Str(meta.name()));
    let module = meta.module_path();
    span_attribute(
        w,
        SPAN_CODE_NAMESPACE,
        Scalar::Str(module.unwrap_or_default()),
    );
    if let Some(file) = meta.file() {
        span_attribute(w, "code.file.path", Scalar::Str(file));
    }
    if let Some(module) = module {
        span_attribute(w, "code.module.name", Scalar::Str(module));
    }
    if let Some(line) = meta.line() {
        span_attribute(w, "code.line.number", Scalar::I64(i64::from(line)));
    }
}

/// One attribute of a span.
fn span_attribute(w: &mut ProtoWriter, key: &str, value: Scalar<'_>) {
    key_value(w, field::SPAN_ATTRIBUTES, key, |w| scalar(w, value));
}

/// The kind a call span's `otel.kind` names.
pub(crate) fn call_kind(kind: Option<&str>) -> SpanKind {
    match kind {
        Some("server") => SpanKind::Server,
        Some("client") => SpanKind::Client,
        Some("producer") => SpanKind::Producer,
        Some("consumer") => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

/// OTLP's `SpanKind` number.
fn span_kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// A span the SDK recorded (a `tracing` span that is not an instrumented call).
fn sdk_span(w: &mut ProtoWriter, span: &SpanData) {
    let context = &span.span_context;
    w.bytes(field::SPAN_TRACE_ID, &context.trace_id().to_bytes());
    w.bytes(field::SPAN_SPAN_ID, &context.span_id().to_bytes());
    w.string(field::SPAN_TRACE_STATE, &context.trace_state().header());
    if span.parent_span_id != SpanId::INVALID {
        w.bytes(field::SPAN_PARENT_SPAN_ID, &span.parent_span_id.to_bytes());
    }
    w.string(field::SPAN_NAME, &span.name);
    w.uint(field::SPAN_KIND, span_kind(&span.span_kind));
    w.fixed64(field::SPAN_START, unix_nanos(span.start_time));
    w.fixed64(field::SPAN_END, unix_nanos(span.end_time));
    for kv in &span.attributes {
        attribute(w, field::SPAN_ATTRIBUTES, kv);
    }
    w.uint(
        field::SPAN_DROPPED_ATTRIBUTES,
        u64::from(span.dropped_attributes_count),
    );
    for event in &span.events.events {
        let message = w.begin(field::SPAN_EVENTS);
        w.fixed64(field::EVENT_TIME, unix_nanos(event.timestamp));
        w.string(field::EVENT_NAME, &event.name);
        for kv in &event.attributes {
            attribute(w, field::EVENT_ATTRIBUTES, kv);
        }
        w.uint(
            field::EVENT_DROPPED_ATTRIBUTES,
            u64::from(event.dropped_attributes_count),
        );
        w.end(message);
    }
    w.uint(
        field::SPAN_DROPPED_EVENTS,
        u64::from(span.events.dropped_count),
    );
    for link in &span.links.links {
        let linked = &link.span_context;
        let message = w.begin(field::SPAN_LINKS);
        w.bytes(field::LINK_TRACE_ID, &linked.trace_id().to_bytes());
        w.bytes(field::LINK_SPAN_ID, &linked.span_id().to_bytes());
        w.string(field::LINK_TRACE_STATE, &linked.trace_state().header());
        for kv in &link.attributes {
            attribute(w, field::LINK_ATTRIBUTES, kv);
        }
        w.uint(
            field::LINK_DROPPED_ATTRIBUTES,
            u64::from(link.dropped_attributes_count),
        );
        w.fixed32(
            field::LINK_FLAGS,
            span_flags(linked.trace_flags().to_u8(), linked.is_remote()),
        );
        w.end(message);
    }
    w.uint(
        field::SPAN_DROPPED_LINKS,
        u64::from(span.links.dropped_count),
    );
    let status = w.begin(field::SPAN_STATUS);
    match &span.status {
        Status::Error { description } => {
            w.string(field::STATUS_MESSAGE, description);
            w.uint(field::STATUS_CODE, STATUS_ERROR);
        }
        Status::Ok => w.uint(field::STATUS_CODE, STATUS_OK),
        Status::Unset => {}
    }
    w.end(status);
    w.fixed32(
        field::SPAN_FLAGS,
        span_flags(context.trace_flags().to_u8(), span.parent_span_is_remote),
    );
}

fn span_flags(trace_flags: u8, remote: bool) -> u32 {
    let remote = if remote { FLAGS_CONTEXT_IS_REMOTE } else { 0 };
    u32::from(trace_flags) | FLAGS_CONTEXT_HAS_IS_REMOTE | remote
}

fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

/// One value of `AnyValue`'s `oneof`.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Str(&'a str),
    Bool(bool),
    I64(i64),
    F64(f64),
}

/// The set member of an `AnyValue`: written even when it holds its type's default.
fn scalar(w: &mut ProtoWriter, value: Scalar<'_>) {
    match value {
        Scalar::Str(s) => w.bytes_always(field::ANY_STRING, s.as_bytes()),
        Scalar::Bool(b) => w.uint_always(field::ANY_BOOL, u64::from(b)),
        Scalar::I64(i) => w.uint_always(field::ANY_INT, i as u64),
        Scalar::F64(f) => w.double_always(field::ANY_DOUBLE, f),
    }
}

/// A `KeyValue` message in `field`, its `AnyValue`'s contents written by `value`.
fn key_value(w: &mut ProtoWriter, field: u32, key: &str, value: impl FnOnce(&mut ProtoWriter)) {
    let kv = w.begin(field);
    w.string(field::KEY_VALUE_KEY, key);
    let any = w.begin(field::KEY_VALUE_VALUE);
    value(w);
    w.end(any);
    w.end(kv);
}

/// An OpenTelemetry attribute as a `KeyValue` message in `field`.
fn attribute(w: &mut ProtoWriter, field: u32, kv: &KeyValue) {
    key_value(w, field, kv.key.as_str(), |w| any_value(w, &kv.value));
}

/// The contents of an `AnyValue`.
fn any_value(w: &mut ProtoWriter, value: &Value) {
    match value {
        Value::Bool(b) => scalar(w, Scalar::Bool(*b)),
        Value::I64(i) => scalar(w, Scalar::I64(*i)),
        Value::F64(f) => scalar(w, Scalar::F64(*f)),
        Value::String(s) => scalar(w, Scalar::Str(s.as_str())),
        Value::Array(array) => {
            let message = w.begin(field::ANY_ARRAY);
            let mut each = |value: Scalar<'_>| {
                let any = w.begin(field::ARRAY_VALUES);
                scalar(w, value);
                w.end(any);
            };
            match array {
                Array::Bool(values) => values.iter().for_each(|&v| each(Scalar::Bool(v))),
                Array::I64(values) => values.iter().for_each(|&v| each(Scalar::I64(v))),
                Array::F64(values) => values.iter().for_each(|&v| each(Scalar::F64(v))),
                Array::String(values) => values.iter().for_each(|v| each(Scalar::Str(v.as_str()))),
                // A kind of array newer than this encoder: sent as an empty array.
                _ => {}
            }
            w.end(message);
        }
        // A kind of value newer than this encoder: sent as its text.
        other => scalar(w, Scalar::Str(&other.as_str())),
    }
}

#[cfg(test)]
#[path = "otlp_encode_tests.rs"]
mod tests;
