//! The span each call opens: its name, OpenTelemetry attributes and recorded arguments,
//! and on failure the same `error.type` the metrics get.

mod exposition;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use observe::{ErrorLabel, instrumented};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Every span's name and fields, as recorded.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(String, BTreeMap<String, String>)>>>);

struct FieldMap<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldMap<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

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

fn spans_of(run: impl FnOnce()) -> Vec<(String, BTreeMap<String, String>)> {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    tracing::subscriber::with_default(subscriber, run);
    let spans = captured.0.lock().unwrap().clone();
    spans
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
    exposition::observe();
    let spans = spans_of(|| {
        fetch(&Message { id: 1 }, "x", true).unwrap_err();
    });
    let (_, fields) = &spans[0];
    assert_eq!(fields["error.type"], "ConnectionError");
    assert_eq!(fields["otel.status_code"], "ERROR");
    let m = exposition::scrape();
    assert_eq!(
        m.count(
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
