//! The process's `tracing` subscriber: log events as human text or as the RFC's JSON
//! lines, filtered by `RUST_LOG`, plus the OpenTelemetry layers when spans are exported
//! (instrumented functions' spans are observe's own then; see `traces::call_export`).

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::OnceLock;

#[cfg(feature = "otlp")]
use opentelemetry::trace::TraceContextExt;
#[cfg(feature = "otlp")]
use opentelemetry_sdk::trace::SdkTracer;
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::hex;
#[cfg(feature = "otlp")]
use crate::traces::call_parent::{CallParentLayer, current_ids, is_call_span};

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
/// instrumented call. Spans, not the call spans, which are observe's own; and the events
/// the other layers take, which it ignores: where per-layer filters disagree on a call
/// site (one always, one never), `tracing` asks every layer's filter on each of its
/// events (about 430 instructions a log line in `scripts/request_cost.sh`) instead of
/// deciding the call site once.
#[cfg(feature = "otlp")]
fn call_parent_layer<S>() -> BoxedLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let spans =
        filter_fn(|meta| meta.is_span() && !is_call_span(meta) && !is_export_stack(meta.target()));
    CallParentLayer.with_filter(spans.or(events_only())).boxed()
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
    fn ids(&self, _: &Event<'_>) -> Option<(u128, u64)> {
        None
    }

    /// `trace_id` and `span_id` of the event's span, as exported: the instrumented call
    /// it happens in (or a `tracing` span inside that), else its `tracing` span, read
    /// through the dispatch (this layer's own context hides spans, which its events-only
    /// filter disables). Out of line, so that `scripts/request_cost.sh` can tell its cost.
    #[cfg(feature = "otlp")]
    #[inline(never)]
    fn ids(&self, event: &Event<'_>) -> Option<(u128, u64)> {
        let of_span = |span: &tracing::Id| {
            let dispatch = self.dispatch.get()?.upgrade()?;
            let otel = tracing_opentelemetry::get_otel_context(span, &dispatch)?;
            let span = otel.span();
            let cx = span.span_context();
            cx.is_valid().then(|| cx.clone())
        };
        let ids_of = |cx: opentelemetry::trace::SpanContext| {
            (
                u128::from_be_bytes(cx.trace_id().to_bytes()),
                u64::from_be_bytes(cx.span_id().to_bytes()),
            )
        };
        match event.parent() {
            Some(parent) => of_span(parent).map(ids_of),
            None if event.is_contextual() => current_ids(|| {
                let dispatch = self.dispatch.get()?.upgrade()?;
                of_span(dispatch.current_span().id()?)
            }),
            None => None,
        }
    }

    /// The event's line, without its newline, into `fields.line`.
    fn format_line(&self, event: &Event<'_>, fields: &mut JsonFields) {
        let meta = event.metadata();
        fields.clear();
        event.record(fields);
        let JsonFields {
            line,
            message,
            labels,
            error_type,
            error_message,
            ..
        } = fields;
        let now = humantime::format_rfc3339_millis(std::time::SystemTime::now());
        // Writing into a `Vec` cannot fail.
        let _ = write!(
            line,
            "{{\"timestamp\":\"{now}\",\"level\":\"{}\"",
            meta.level()
        );
        line.extend_from_slice(b",\"service\":");
        json_string(line, &self.service);
        line.extend_from_slice(b",\"logger\":");
        json_string(line, meta.target());
        line.extend_from_slice(b",\"message\":");
        if message.is_empty() {
            line.extend_from_slice(b"\"\"");
        } else {
            line.extend_from_slice(message);
        }
        if let Some((trace_id, span_id)) = self.ids(event) {
            line.extend_from_slice(&ids_members(trace_id, span_id));
        }
        if !labels.is_empty() {
            line.extend_from_slice(b",\"labels\":{");
            line.extend_from_slice(labels);
            line.push(b'}');
        }
        if !error_type.is_empty() || !error_message.is_empty() {
            line.extend_from_slice(b",\"error\":{");
            if !error_type.is_empty() {
                line.extend_from_slice(b"\"type\":");
                line.extend_from_slice(error_type);
            }
            if !error_message.is_empty() {
                if !error_type.is_empty() {
                    line.push(b',');
                }
                line.extend_from_slice(b"\"message\":");
                line.extend_from_slice(error_message);
            }
            line.push(b'}');
        }
        line.push(b'}');
    }
}

/// `,"trace_id":"…","span_id":"…"`, the ids as W3C trace context and OTLP/JSON write
/// them (lower-case hex), built on the stack and appended with one copy.
fn ids_members(trace_id: u128, span_id: u64) -> [u8; IDS_MEMBERS_LEN] {
    let mut out = [b'"'; IDS_MEMBERS_LEN];
    let (trace_key, rest) = out.split_at_mut(TRACE_ID_KEY.len());
    trace_key.copy_from_slice(TRACE_ID_KEY);
    let (high, rest) = rest.split_at_mut(16);
    high.copy_from_slice(&hex::lower_hex_u64((trace_id >> 64) as u64));
    let (low, rest) = rest.split_at_mut(16);
    low.copy_from_slice(&hex::lower_hex_u64(trace_id as u64));
    let (span_key, rest) = rest.split_at_mut(SPAN_ID_KEY.len());
    span_key.copy_from_slice(SPAN_ID_KEY);
    rest[..16].copy_from_slice(&hex::lower_hex_u64(span_id));
    // The closing quote is the array's fill.
    out
}

const TRACE_ID_KEY: &[u8] = b",\"trace_id\":\"";
const SPAN_ID_KEY: &[u8] = b"\",\"span_id\":\"";
/// The length of [`ids_members`]: its two keys, 32 and 16 digits, the closing quote.
const IDS_MEMBERS_LEN: usize = TRACE_ID_KEY.len() + 32 + SPAN_ID_KEY.len() + 16 + 1;

/// `text` as a JSON string, quoted and escaped.
fn json_string(out: &mut Vec<u8>, text: &str) {
    // Writing into a `Vec` cannot fail.
    let _ = serde_json::to_writer(out, text);
}

impl<S> Layer<S> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        thread_local! {
            /// Reused line after line: a warm thread writes a line without allocating
            /// (a `Debug` field's text aside).
            static FIELDS: RefCell<JsonFields> = RefCell::default();
        }
        let write = |fields: &mut JsonFields| {
            self.format_line(event, fields);
            fields.line.push(b'\n');
            // One write per line, so lines of concurrent events never interleave.
            let _ = std::io::stdout().lock().write_all(&fields.line);
        };
        FIELDS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut fields) => write(&mut fields),
            // An event logged while formatting one (from a field's `Debug`).
            Err(_) => write(&mut JsonFields::default()),
        });
    }
}

/// An event's fields, each written as JSON where the RFC puts it: `message`; `error` (or
/// `error.message`) and `error.type` into `error`; everything else into `labels`, in the
/// order they were recorded. Empty when absent.
#[derive(Default)]
struct JsonFields {
    /// The whole line, assembled last.
    line: Vec<u8>,
    /// A JSON string.
    message: Vec<u8>,
    /// `"name":value` pairs, comma-separated.
    labels: Vec<u8>,
    /// JSON values.
    error_type: Vec<u8>,
    error_message: Vec<u8>,
    /// A `Debug` or `Display` value's text, before it is escaped.
    text: String,
}

/// A field's value as `tracing` hands it over.
enum FieldValue<'a> {
    Str(&'a str),
    Debug(&'a dyn std::fmt::Debug),
    Error(&'a (dyn std::error::Error + 'static)),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

impl JsonFields {
    fn clear(&mut self) {
        self.line.clear();
        self.message.clear();
        self.labels.clear();
        self.error_type.clear();
        self.error_message.clear();
    }

    fn put(&mut self, field: &Field, value: FieldValue<'_>) {
        match field.name() {
            "message" => {
                // Always a string: a number or `bool` as its text.
                self.message.clear();
                write_text(&mut self.text, &value);
                json_string(&mut self.message, &self.text);
            }
            "error" | "error.message" => {
                self.error_message.clear();
                json_value(&mut self.error_message, &mut self.text, value);
            }
            "error.type" => {
                self.error_type.clear();
                json_value(&mut self.error_type, &mut self.text, value);
            }
            name => {
                if !self.labels.is_empty() {
                    self.labels.push(b',');
                }
                json_string(&mut self.labels, name);
                self.labels.push(b':');
                json_value(&mut self.labels, &mut self.text, value);
            }
        }
    }
}

/// `value` as JSON: numbers and `bool`s as such (a non-finite float as `null`), the rest
/// as strings.
fn json_value(out: &mut Vec<u8>, text: &mut String, value: FieldValue<'_>) {
    let _ = match value {
        FieldValue::Str(s) => serde_json::to_writer(out, s),
        FieldValue::I64(v) => serde_json::to_writer(out, &v),
        FieldValue::U64(v) => serde_json::to_writer(out, &v),
        FieldValue::F64(v) => serde_json::to_writer(out, &v),
        FieldValue::Bool(v) => serde_json::to_writer(out, &v),
        FieldValue::Debug(_) | FieldValue::Error(_) => {
            write_text(text, &value);
            serde_json::to_writer(out, text.as_str())
        }
    };
}

/// `value`'s text (`Debug` for the values `tracing` hands over that way) into `text`.
fn write_text(text: &mut String, value: &FieldValue<'_>) {
    text.clear();
    // Writing into a `String` cannot fail.
    let _ = match value {
        FieldValue::Str(s) => text.write_str(s),
        FieldValue::Debug(d) => write!(text, "{d:?}"),
        FieldValue::Error(e) => write!(text, "{e}"),
        FieldValue::I64(v) => write!(text, "{v}"),
        FieldValue::U64(v) => write!(text, "{v}"),
        FieldValue::F64(v) => write!(text, "{v}"),
        FieldValue::Bool(v) => write!(text, "{v}"),
    };
}

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, FieldValue::Debug(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, FieldValue::Str(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, FieldValue::U64(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, FieldValue::F64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, FieldValue::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, FieldValue::Error(value));
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
            let members = ids_members(trace, span);
            let (trace, span) = (TraceId::from(trace), SpanId::from(span));
            let members = String::from_utf8(members.to_vec()).unwrap();
            assert_eq!(
                members,
                format!(",\"trace_id\":\"{trace}\",\"span_id\":\"{span}\"")
            );
        }
    }

    /// Fields land where the RFC puts them, as valid JSON whatever their text.
    #[test]
    fn fields_are_sorted_into_message_labels_and_error() {
        #[derive(Clone)]
        struct Collect(Arc<JsonLines>, Arc<Mutex<Vec<String>>>);
        impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Collect {
            fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
                let mut fields = JsonFields::default();
                self.0.format_line(event, &mut fields);
                self.1
                    .lock()
                    .unwrap()
                    .push(String::from_utf8(fields.line).unwrap());
            }
        }
        let collect = Collect(
            Arc::new(JsonLines::new("archiv\"er".into())),
            Arc::default(),
        );
        let subscriber = tracing_subscriber::registry().with(collect.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(
                archive_id = "ietf-123",
                duration_ms = 1234u64,
                offset = -3i64,
                ratio = f64::NAN,
                ok = false,
                path = ?std::path::Path::new("a\\b\n"),
                error.type = "ConnectionError",
                error = "Connection refused",
                "Archive {} failed",
                "ietf\u{1}"
            );
            tracing::info!(answer = 42, "plain");
            tracing::info!(message = 7);
        });
        let lines = collect.1.lock().unwrap();
        let parse = |i: usize| -> serde_json::Value {
            serde_json::from_str(&lines[i]).unwrap_or_else(|e| panic!("{e}: {}", lines[i]))
        };
        let line = parse(0);
        assert_eq!(line["level"], "ERROR");
        assert_eq!(line["service"], "archiv\"er");
        assert_eq!(line["logger"], module_path!());
        assert_eq!(line["message"], "Archive ietf\u{1} failed");
        assert_eq!(line["labels"]["archive_id"], "ietf-123");
        assert_eq!(line["labels"]["duration_ms"], 1234);
        assert_eq!(line["labels"]["offset"], -3);
        assert_eq!(line["labels"]["ratio"], serde_json::Value::Null);
        assert_eq!(line["labels"]["ok"], false);
        assert_eq!(line["labels"]["path"], "\"a\\\\b\\n\"");
        assert_eq!(line["error"]["type"], "ConnectionError");
        assert_eq!(line["error"]["message"], "Connection refused");
        assert!(line.get("trace_id").is_none());
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(
            timestamp.len() == 24 && timestamp.ends_with('Z'),
            "{timestamp}"
        );
        let plain = parse(1);
        assert_eq!(plain["labels"]["answer"], 42);
        assert!(plain.get("error").is_none());
        assert_eq!(parse(2)["message"], "7");
        assert!(parse(2).get("labels").is_none());
    }
}
