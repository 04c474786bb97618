//! The process's `tracing` subscriber: log events as human text or as the RFC's JSON
//! lines, filtered by `RUST_LOG`, plus the OpenTelemetry layers when spans are exported
//! (instrumented functions' spans are observe's own then; see `traces::call_export`).

use std::io::Write;
use std::sync::OnceLock;

#[cfg(feature = "otlp")]
use opentelemetry::trace::TraceContextExt;
#[cfg(feature = "otlp")]
use opentelemetry_sdk::trace::SdkTracer;
use serde_json::{Map, Value};
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

#[cfg(feature = "otlp")]
use crate::traces::call_parent::{CallParentLayer, current_span_context, is_call_span};

/// How log events are written to stdout.
///
/// ```no_run
/// # fn main() -> Result<(), observe::Error> {
/// use observe::LogFormat;
///
/// let format = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
///     LogFormat::Pretty
/// } else {
///     LogFormat::Json
/// };
/// let _guard = observe::builder().log_format(format).init()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// `tracing-subscriber`'s human-readable lines (the default in `dev`).
    Pretty,
    /// One JSON object per event: `timestamp`, `level`, `service`, `logger`, `message`,
    /// `trace_id`/`span_id` inside a span, `labels`, `error{type,message}` (the default in
    /// `staging` and `prod`).
    Json,
}

impl LogFormat {
    /// JSON where logs are shipped to an aggregator, text where a human reads them.
    pub(crate) fn default_for(environment: &str) -> Self {
        match environment {
            "staging" | "stage" | "prod" | "production" => LogFormat::Json,
            _ => LogFormat::Pretty,
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "json" => Some(LogFormat::Json),
            "pretty" | "text" => Some(LogFormat::Pretty),
            _ => None,
        }
    }
}

type BoxedLayer<S> = Box<dyn Layer<S> + Send + Sync>;

/// Without the `otlp` feature there is no tracer: the type has no values.
#[cfg(not(feature = "otlp"))]
#[derive(Debug)]
pub(crate) enum SdkTracer {}

/// Installs the subscriber unless the program installed one itself (that one wins; it is
/// not an error). `logs: None` writes no logs; `tracer: None` exports no spans.
pub(crate) fn install(logs: Option<LogFormat>, service: String, tracer: Option<SdkTracer>) {
    // Layered rather than a `Vec` of layers: a `Vec` does not pass on the dispatch the
    // JSON layer needs to read span ids.
    let _ = match (tracer, logs.map(|format| (format, service))) {
        // Without export the subscriber stays what it was: spans are disabled at their
        // call site and cost nothing.
        (None, None) => return,
        // Concrete layers, exactly the subscriber observe installed before it exported
        // spans: nothing is added to the calls' path.
        (None, Some((LogFormat::Pretty, _))) => tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_filter(events_only()))
            .try_init(),
        (None, Some((LogFormat::Json, service))) => tracing_subscriber::registry()
            .with(JsonLines::new(service).with_filter(events_only()))
            .try_init(),
        (Some(tracer), None) => tracing_subscriber::registry()
            .with(call_parent_layer())
            .with(otel_layer(tracer))
            .try_init(),
        (Some(tracer), Some((format, service))) => tracing_subscriber::registry()
            .with(call_parent_layer())
            .with(otel_layer(tracer))
            .with(log_layer(format, service))
            .try_init(),
    };
}

/// Events only, filtered by `RUST_LOG` (default `info`): formatting a span's fields would
/// cost an allocation per instrumented call.
fn log_layer<S>(format: LogFormat, service: String) -> BoxedLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    match format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_filter(events_only())
            .boxed(),
        LogFormat::Json => JsonLines::new(service).with_filter(events_only()).boxed(),
    }
}

/// Whether a `RUST_LOG` value parses as a filter (empty counts as unset). Only ASCII is
/// handed to the parser: tracing-subscriber 0.3.23's directive parser panics on some
/// non-ASCII input (it slices inside a character), found by `init::parser_properties`.
pub(crate) fn is_valid_filter(value: &str) -> bool {
    value.trim().is_empty() || (value.is_ascii() && EnvFilter::builder().parse(value).is_ok())
}

/// Log events `RUST_LOG` enables (default `info`), never spans.
fn events_only<S>() -> impl tracing_subscriber::layer::Filter<S> {
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    filter_fn(|meta| meta.is_event()).and(env)
}

/// Before the OpenTelemetry layer (layers see a new span in the order they were added):
/// gives the `tracing` spans it exports their parent when they start inside an
/// instrumented call. Spans only, not the call spans, which are observe's own.
#[cfg(feature = "otlp")]
fn call_parent_layer<S>() -> BoxedLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    CallParentLayer
        .with_filter(filter_fn(|meta| {
            meta.is_span() && !is_call_span(meta) && !is_export_stack(meta.target())
        }))
        .boxed()
}

#[cfg(not(feature = "otlp"))]
fn otel_layer<S>(tracer: SdkTracer) -> BoxedLayer<S> {
    match tracer {}
}

/// Never used without the `otlp` feature (there is no tracer to pair it with).
#[cfg(not(feature = "otlp"))]
fn call_parent_layer<S: Subscriber>() -> BoxedLayer<S> {
    Box::new(tracing_subscriber::layer::Identity::new())
}

/// Every span (at any level: an instrumented fn's span is the trace) and the events
/// `RUST_LOG` enables, except those of the export stack itself, which would otherwise
/// trace their own exports, and instrumented functions' spans, which observe exports
/// itself (`traces::call_export`): under this subscriber they are not created at all.
#[cfg(feature = "otlp")]
fn otel_layer<S>(tracer: SdkTracer) -> BoxedLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let env = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let spans_or_enabled_events = filter_fn(|meta| meta.is_span()).or(env);
    let not_export_stack = filter_fn(|meta| !is_export_stack(meta.target()) && !is_call_span(meta));
    // Off: attributes that cost a clock read per enter and exit (busy/idle time) or an
    // allocation per span (thread name), and `target`, which repeats `code.namespace`.
    tracing_opentelemetry::layer()
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_target(false)
        .with_tracer(tracer)
        .with_filter(not_export_stack.and(spans_or_enabled_events))
        .boxed()
}

#[cfg(any(feature = "otlp", test))]
fn is_export_stack(target: &str) -> bool {
    const CRATES: &[&str] = &[
        "h2",
        "hyper",
        "hyper_util",
        "tonic",
        "tower",
        "opentelemetry",
        "opentelemetry_sdk",
        "opentelemetry_http",
    ];
    // Its first path segment; by hand, as `split("::")` sets up a substring searcher on
    // every log event (a tenth of what observe added to a request's log line).
    let end = target
        .as_bytes()
        .windows(2)
        .position(|pair| pair == b"::")
        .unwrap_or(target.len());
    CRATES.contains(&&target[..end])
}

/// Writes each event as one JSON object on its own line of stdout.
struct JsonLines {
    service: String,
    /// The subscriber this layer belongs to, to read the current span's OpenTelemetry ids.
    dispatch: OnceLock<WeakDispatch>,
}

impl JsonLines {
    fn new(service: String) -> Self {
        JsonLines {
            service,
            dispatch: OnceLock::new(),
        }
    }

    /// Spans are not exported without the `otlp` feature: no ids.
    #[cfg(not(feature = "otlp"))]
    fn ids(&self, _: &Event<'_>) -> Option<(String, String)> {
        None
    }

    /// `trace_id` and `span_id` of the event's span, as exported: the instrumented call
    /// it happens in (or a `tracing` span inside that), else its `tracing` span, read
    /// through the dispatch (this layer's own context hides spans, which its events-only
    /// filter disables).
    #[cfg(feature = "otlp")]
    fn ids(&self, event: &Event<'_>) -> Option<(String, String)> {
        let of_span = |span: &tracing::Id| {
            let dispatch = self.dispatch.get()?.upgrade()?;
            let otel = tracing_opentelemetry::get_otel_context(span, &dispatch)?;
            let span = otel.span();
            let cx = span.span_context();
            cx.is_valid().then(|| cx.clone())
        };
        let cx = match event.parent() {
            Some(parent) => of_span(parent),
            None if event.is_contextual() => current_span_context(|| {
                let dispatch = self.dispatch.get()?.upgrade()?;
                of_span(dispatch.current_span().id()?)
            }),
            None => None,
        }?;
        Some((
            lower_hex(&cx.trace_id().to_bytes()),
            lower_hex(&cx.span_id().to_bytes()),
        ))
    }
}

/// An id (a trace id's 16 bytes or a span id's 8) as W3C trace context and OTLP/JSON write
/// it: lower-case hex, two digits a byte. By table into a stack buffer: `TraceId`'s
/// `Display` goes through `u128`'s `LowerHex` and padding, which cost more than the rest of
/// the ids' lookup.
#[cfg(feature = "otlp")]
fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0; 32];
    let bytes = &bytes[..bytes.len().min(16)];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
    std::str::from_utf8(&hex[..bytes.len() * 2])
        .expect("hex digits are ASCII")
        .to_owned()
}

impl<S> Layer<S> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = JsonFields::default();
        event.record(&mut fields);
        let mut line = Map::new();
        let now = humantime::format_rfc3339_millis(std::time::SystemTime::now());
        line.insert("timestamp".into(), Value::String(now.to_string()));
        line.insert("level".into(), Value::String(meta.level().as_str().into()));
        line.insert("service".into(), Value::String(self.service.clone()));
        line.insert("logger".into(), Value::String(meta.target().into()));
        line.insert(
            "message".into(),
            Value::String(fields.message.unwrap_or_default()),
        );
        if let Some((trace_id, span_id)) = self.ids(event) {
            line.insert("trace_id".into(), Value::String(trace_id));
            line.insert("span_id".into(), Value::String(span_id));
        }
        if !fields.labels.is_empty() {
            line.insert("labels".into(), Value::Object(fields.labels));
        }
        if !fields.error.is_empty() {
            line.insert("error".into(), Value::Object(fields.error));
        }
        let mut bytes = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        bytes.push(b'\n');
        // One write per line, so lines of concurrent events never interleave.
        let _ = std::io::stdout().lock().write_all(&bytes);
    }
}

/// An event's fields sorted into the RFC's places: `message`; `error` (or
/// `error.message`) and `error.type` into `error`; everything else into `labels`.
#[derive(Default)]
struct JsonFields {
    message: Option<String>,
    labels: Map<String, Value>,
    error: Map<String, Value>,
}

impl JsonFields {
    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            "message" => {
                self.message = Some(match value {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
            }
            "error" | "error.message" => {
                self.error.insert("message".into(), value);
            }
            "error.type" => {
                self.error.insert("type".into(), value);
            }
            name => {
                self.labels.insert(name.into(), value);
            }
        }
    }
}

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn format_defaults_by_environment() {
        assert_eq!(LogFormat::default_for("dev"), LogFormat::Pretty);
        assert_eq!(LogFormat::default_for("staging"), LogFormat::Json);
        assert_eq!(LogFormat::default_for("prod"), LogFormat::Json);
        assert_eq!(LogFormat::parse("json"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse("xml"), None);
    }

    #[test]
    fn export_stack_targets_are_recognised() {
        assert!(is_export_stack("h2::codec"));
        assert!(is_export_stack("opentelemetry_sdk"));
        assert!(!is_export_stack("parsing_service"));
        assert!(!is_export_stack("hyperion::x"));
        assert!(!is_export_stack("hyper:x"));
    }

    /// The ids in log lines are written as the SDK writes them.
    #[cfg(feature = "otlp")]
    #[test]
    fn ids_are_written_as_the_sdk_writes_them() {
        use opentelemetry::trace::{SpanId, TraceId};
        for (trace, span) in [
            (
                0x0af7651916cd43dd8448eb211c80319c_u128,
                0x00f067aa0ba902b7_u64,
            ),
            (1, 1),
            (u128::MAX, u64::MAX),
        ] {
            let (trace, span) = (TraceId::from(trace), SpanId::from(span));
            assert_eq!(lower_hex(&trace.to_bytes()), trace.to_string());
            assert_eq!(lower_hex(&span.to_bytes()), span.to_string());
        }
    }

    /// Fields land where the RFC puts them.
    #[test]
    fn fields_are_sorted_into_message_labels_and_error() {
        #[derive(Clone, Default)]
        struct Collect(Arc<Mutex<Vec<JsonFields>>>);
        impl<S: Subscriber> Layer<S> for Collect {
            fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
                let mut fields = JsonFields::default();
                event.record(&mut fields);
                self.0.lock().unwrap().push(fields);
            }
        }
        let collect = Collect::default();
        let subscriber = tracing_subscriber::registry().with(collect.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(
                archive_id = "ietf-123",
                duration_ms = 1234u64,
                error.type = "ConnectionError",
                error = "Connection refused",
                "Archive failed"
            );
        });
        let events = collect.0.lock().unwrap();
        let fields = &events[0];
        assert_eq!(fields.message.as_deref(), Some("Archive failed"));
        assert_eq!(fields.labels["archive_id"], "ietf-123");
        assert_eq!(fields.labels["duration_ms"], 1234);
        assert_eq!(fields.error["type"], "ConnectionError");
        assert_eq!(fields.error["message"], "Connection refused");
    }
}
