//! The span each call opens: its name, OpenTelemetry attributes and recorded arguments,
//! and on failure the same `error.type` the metrics get.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use observe::{ErrorLabel, instrumented};
use support::span_fields::FieldMap;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// A span's name and its fields.
type SpanFields = (String, BTreeMap<String, String>);

/// Every span's name and fields, as recorded.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<SpanFields>>>);

impl<S> Layer<S> for Captured
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, cx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldMap(&mut fields));
        if let Some(parent) = cx.current_span().id() {
            fields.insert("__parent".into(), parent.into_u64().to_string());
        }
        let mut spans = self.0.lock().unwrap();
        fields.insert("__id".into(), id.into_u64().to_string());
        spans.push((attrs.metadata().name().to_owned(), fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        let id = id.into_u64().to_string();
        if let Some((_, fields)) = spans.iter_mut().rev().find(|(_, f)| f["__id"] == id) {
            values.record(&mut FieldMap(fields));
        }
    }
}

#[derive(Debug, ErrorLabel)]
enum FetchError {
    ConnectionError,
}

#[derive(Debug)]
struct Message {
    id: u32,
}

#[instrumented(service = "spans", skip(secret), fields(message.id = message.id))]
fn fetch(message: &Message, secret: &str, fail: bool) -> Result<usize, FetchError> {
    if fail {
        Err(FetchError::ConnectionError)
    } else {
        Ok(secret.len())
    }
}

fn spans_of(run: impl FnOnce()) -> Vec<SpanFields> {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    tracing::subscriber::with_default(subscriber, run);
    captured.0.lock().unwrap().clone()
}

#[test]
fn the_span_carries_otel_attributes_and_arguments() {
    let spans = spans_of(|| {
        fetch(&Message { id: 42 }, "hunter2", false).unwrap();
    });
    let (name, fields) = &spans[0];
    assert_eq!(name, "fetch");
    assert_eq!(fields["service.name"], "spans");
    assert_eq!(fields["code.function"], "fetch");
    assert_eq!(fields["code.namespace"], "spans");
    assert_eq!(fields["message"], "Message { id: 42 }");
    assert_eq!(fields["message.id"], "42");
    assert_eq!(fields["fail"], "false");
    assert!(!fields.contains_key("secret"), "skipped");
    assert!(!fields.contains_key("error.type"), "no error on success");
}

#[test]
fn a_failure_marks_the_span_with_the_metrics_error_type() {
    let (spans, recorded) = observe::testing::capture(|| {
        spans_of(|| {
            fetch(&Message { id: 1 }, "x", true).unwrap_err();
        })
    });
    let (_, fields) = &spans[0];
    assert_eq!(fields["error.type"], "ConnectionError");
    assert_eq!(fields["otel.status_code"], "ERROR");
    assert_eq!(
        recorded.value(
            "copilot_spans_failures_total",
            &[("operation", "fetch"), ("error_type", "ConnectionError")]
        ),
        1.0
    );
}

#[instrumented(service = "spans", level = "debug", skip_all)]
async fn nested(depth: u32) -> u32 {
    if depth == 0 { 0 } else { inner(depth) }
}

#[instrumented(service = "spans", skip_all)]
fn inner(depth: u32) -> u32 {
    depth * 2
}

#[test]
fn async_bodies_run_inside_their_span() {
    let spans = spans_of(|| {
        assert_eq!(futures::executor::block_on(nested(2)), 4);
    });
    let names: Vec<&str> = spans.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["nested", "inner"]);
    assert_eq!(
        spans[1].1.get("__parent"),
        Some(&spans[0].1["__id"]),
        "inner is a child of nested"
    );
    assert!(!spans[0].1.contains_key("__parent"), "nested is a root");
    assert!(!spans[0].1.contains_key("depth"), "skip_all");
}

/// A span as a subscriber sees it: metadata, field names in order, and each value with the
/// `Visit` method that delivered it.
#[derive(Debug, PartialEq)]
struct SpanView {
    target: String,
    level: tracing::Level,
    file: Option<String>,
    module_path: Option<String>,
    field_names: Vec<String>,
    values: Vec<String>,
}

/// Each new span's name, line and view.
#[derive(Clone, Default)]
struct Views(Arc<Mutex<Vec<NamedView>>>);

type NamedView = (String, Option<u32>, SpanView);

struct Tagged<'a>(&'a mut Vec<String>);

impl Visit for Tagged<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{} debug {value:?}", field.name()));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(format!("{} str {value}", field.name()));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Views {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let meta = attrs.metadata();
        let mut values = Vec::new();
        attrs.record(&mut Tagged(&mut values));
        let view = SpanView {
            target: meta.target().to_owned(),
            level: *meta.level(),
            file: meta.file().map(str::to_owned),
            module_path: meta.module_path().map(str::to_owned),
            field_names: meta.fields().iter().map(|f| f.name().to_owned()).collect(),
            values,
        };
        let name = meta.name().to_owned();
        self.0.lock().unwrap().push((name, meta.line(), view));
    }
}

const PLAIN_LINE: u32 = line!() + 1;
#[instrumented(service = "spans", kind = "server", level = "warn")]
fn plain(id: u32, label: &str) -> usize {
    id as usize + label.len()
}

/// As many recorded arguments as the runtime's `call_span` takes.
#[instrumented(service = "spans")]
fn four(a: u8, b: u8, c: u8, d: u8) -> u8 {
    a + b + c + d
}

/// One more: the macro builds this span with `tracing::span!`, with the same fields
/// (`code.function` first).
#[instrumented(service = "spans")]
fn wide(a: u8, b: u8, c: u8, d: u8, e: u8) -> u8 {
    a + b + c + d + e
}

/// Without `fields(..)` the span is built by the runtime, not by `tracing::span!`: a
/// subscriber sees exactly what `span!` with the same fields gives it. The constant
/// OpenTelemetry attributes are declared and left empty (observe exports them on its own
/// spans), so a formatting subscriber formats what `#[tracing::instrument]` would.
#[test]
fn the_runtime_built_span_is_the_one_span_would_build() {
    let views = Views::default();
    let subscriber = tracing_subscriber::registry().with(views.clone());
    tracing::subscriber::with_default(subscriber, || {
        plain(7, "x");
        let (id, label) = (7u32, "x");
        let _reference = tracing::span!(
            target: module_path!(),
            tracing::Level::WARN,
            "plain",
            "service.name" = tracing::field::Empty,
            "code.function" = tracing::field::Empty,
            "code.namespace" = tracing::field::Empty,
            "error.type" = tracing::field::Empty,
            "otel.status_code" = tracing::field::Empty,
            "otel.kind" = "server",
            id = tracing::field::debug(&id),
            label = tracing::field::debug(&label)
        );
        four(1, 2, 3, 4);
        wide(1, 2, 3, 4, 5);
    });
    let views = views.0.lock().unwrap();
    let [
        (name, line, instrumented),
        (_, _, reference),
        (_, _, four),
        (_, _, wide),
    ] = &views[..]
    else {
        panic!("four spans expected, got {}", views.len());
    };
    assert_eq!(name, "plain");
    assert_eq!(
        *line,
        Some(PLAIN_LINE),
        "the attribute's line, as with span!"
    );
    assert_eq!(instrumented, reference);
    assert_eq!(
        instrumented.values,
        ["otel.kind str server", "id debug 7", "label debug \"x\"",]
    );
    assert_eq!(
        four.values,
        ["a debug 1", "b debug 2", "c debug 3", "d debug 4"]
    );
    // A span built by `span!` (`fields(..)`, or more arguments) records the constant
    // attributes, `code.function` first: it stays an ordinary `tracing` span when observe
    // exports its own (the order tells them apart), exported by an OpenTelemetry layer.
    assert_eq!(
        wide.values[..3],
        [
            "code.function str wide",
            "service.name str spans",
            "code.namespace str spans"
        ]
    );
    assert_eq!(
        wide.values[3..],
        [
            "a debug 1",
            "b debug 2",
            "c debug 3",
            "d debug 4",
            "e debug 5"
        ]
    );
}

/// No `Debug`: left off the span, with no error and no bound added.
struct Opaque(u32);

#[instrumented(service = "spans")]
fn mixed<T: Copy + Into<u64>>(
    label: &str,
    opaque: Opaque,
    by_ref: &Opaque,
    generic: T,
    numbers: impl Iterator<Item = u32>,
    (first, mut second): (u8, u8),
    #[allow(unused_variables)] unused: u8,
) -> u64 {
    second += first;
    label.len() as u64
        + u64::from(opaque.0 + by_ref.0)
        + generic.into()
        + u64::from(second)
        + numbers.map(u64::from).sum::<u64>()
}

#[test]
fn arguments_are_recorded_when_their_type_implements_debug() {
    let spans = spans_of(|| {
        let total = mixed(
            "ab",
            Opaque(1),
            &Opaque(2),
            3u8,
            [4, 5].into_iter(),
            (6, 7),
            0,
        );
        assert_eq!(total, 2 + 1 + 2 + 3 + 13 + 9);
    });
    let (name, fields) = &spans[0];
    assert_eq!(name, "mixed");
    let recorded: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| !k.starts_with("__") && !k.contains('.'))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // `generic` has no `Debug` bound, `numbers` is an `impl Iterator`, `Opaque` has no
    // `Debug`: none is recorded. Pattern bindings are, each under its own name.
    assert_eq!(
        recorded,
        [
            ("first", "6"),
            ("label", "\"ab\""),
            ("second", "7"),
            ("unused", "0")
        ]
    );
}
