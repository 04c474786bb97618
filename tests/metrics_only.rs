//! A build without an exporter feature (`cargo test --no-default-features --features
//! enabled --test metrics_only`, and `cargo check` of each feature alone): an environment
//! that asks for the compiled-out exporter gets one warning naming the cargo feature,
//! not a failure; metrics, `parent = headers` and trace-context propagation keep working.
//! Compiled only when at least one exporter feature is off. (Its own test binary: it sets
//! environment variables and initialises the process's runtime.)
#![cfg(not(all(feature = "otlp", feature = "pushgateway")))]

mod support;

use std::sync::{Arc, Mutex};

use observe::instrumented;
use opentelemetry::trace::TraceContextExt as _;
use support::exposition::Exposition;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Continues the caller's trace (a no-op without span export) and returns the headers it
/// would send downstream.
#[instrumented(service = "exporting", parent = headers, skip(headers))]
fn serve(request: u32, headers: &http::HeaderMap) -> Result<http::HeaderMap, std::fmt::Error> {
    if request == 0 {
        return Err(std::fmt::Error);
    }
    let mut outgoing = http::HeaderMap::new();
    observe::propagation::inject(&mut outgoing);
    Ok(outgoing)
}

/// The `observe` target's warnings, as text.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target() == "observe" && *meta.level() == tracing::Level::WARN {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().unwrap().push(message.0);
        }
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

#[test]
fn compiled_out_exporters_are_one_warning_each_and_metrics_still_work() {
    // The program's own subscriber wins over observe's, so the warnings land here.
    let warnings = Warnings::default();
    tracing_subscriber::registry().with(warnings.clone()).init();
    // SAFETY: this test binary has one test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317");
        std::env::set_var("OBSERVE_PUSHGATEWAY_URL", "http://127.0.0.1:9");
        std::env::set_var("OBSERVE_METRICS_ADDR", "off");
    }
    let guard = observe::init().expect("a compiled-out exporter is not an init error");

    let mut expected = Vec::new();
    if cfg!(not(feature = "otlp")) {
        expected.push(("OTEL_EXPORTER_OTLP_ENDPOINT", "`otlp` cargo feature"));
    }
    if cfg!(not(feature = "pushgateway")) {
        expected.push(("OBSERVE_PUSHGATEWAY_URL", "`pushgateway` cargo feature"));
    }
    let got = warnings.0.lock().unwrap().clone();
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (line, (var, feature)) in got.iter().zip(&expected) {
        assert!(line.starts_with(var), "{line}");
        assert!(line.contains(feature), "{line}");
    }

    // Metrics are recorded as in the full build.
    let mut incoming = http::HeaderMap::new();
    incoming.insert("traceparent", TRACEPARENT.parse().unwrap());
    let outgoing = serve(1, &incoming).unwrap();
    assert_eq!(serve(0, &incoming), Err(std::fmt::Error));
    let scrape = Exposition::parse(&guard.render());
    let op = |outcome| [("operation", "serve"), ("outcome", outcome)];
    assert_eq!(
        scrape.count("copilot_exporting_messages_processed_total", &op("success")),
        1.0
    );
    assert_eq!(
        scrape.count("copilot_exporting_messages_processed_total", &op("failure")),
        1.0
    );

    // Propagation parses incoming headers in every build; without span export nothing
    // continues the trace, so nothing is injected downstream.
    let cx = observe::propagation::extract(&incoming);
    assert_eq!(
        cx.span().span_context().trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    if cfg!(not(feature = "otlp")) {
        assert!(outgoing.is_empty(), "{outgoing:?}");
        assert!(!guard.flush_spans());
    }
}
