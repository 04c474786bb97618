//! The cost of a span that OpenTelemetry records: observe under `init()` with an OTLP
//! endpoint (a real OTLP/gRPC receiver in this process) and 10% head sampling, against
//! `#[tracing::instrument]` under the same subscriber. Its own process: a process has one
//! global subscriber, and `overhead.rs` measures the default (no OTLP) one.
//!
//! Every span is recorded so that a failure is exported even when its trace was not
//! sampled; a success is exported in 10% of traces.
//!
//! `cargo bench --bench otel`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

// The trace tests' receiver; this bench uses its counting mode only.
#[allow(dead_code)]
#[path = "../tests/support/otlp.rs"]
mod otlp;
#[path = "support/tiny.rs"]
mod tiny;

use tiny::{bare, observed, traced};

fn otel_sampled_tenth(c: &mut Criterion) {
    let receiver_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime for the receiver");
    // Counts the spans and keeps none: millions of them in bounded memory.
    let receiver = receiver_runtime.block_on(otlp::Receiver::start_counting());
    // `init()`'s defaults (metrics, events-only logs) plus an OTLP endpoint at 10%.
    let guard = observe::builder()
        .without_metrics_listener()
        .otlp_endpoint(receiver.endpoint())
        .trace_sample_ratio(0.1)
        .init()
        .expect("observe starts");

    let mut group = c.benchmark_group("otel_sampled_tenth");
    group.bench_function("bare", |b| b.iter(|| bare(black_box(7))));
    // Root calls: the head sampler samples one trace in ten.
    group.bench_function("observe_success", |b| b.iter(|| observed(black_box(7))));
    group.bench_function("observe_failure_always_exported", |b| {
        b.iter(|| observed(black_box(u64::MAX)))
    });
    // Calls in a caller's trace (a `traceparent` that was continued): its decision,
    // followed by the parent-based sampler, isolates each path.
    group.bench_function("observe_success_unsampled_trace", |b| {
        let _caller = caller(false).attach();
        b.iter(|| observed(black_box(7)))
    });
    group.bench_function("observe_success_sampled_trace", |b| {
        let _caller = caller(true).attach();
        b.iter(|| observed(black_box(7)))
    });
    group.bench_function("observe_failure_unsampled_trace", |b| {
        let _caller = caller(false).attach();
        b.iter(|| observed(black_box(u64::MAX)))
    });
    group.bench_function("tracing_instrument", |b| b.iter(|| traced(black_box(7))));
    group.finish();

    guard.flush_spans();
    std::thread::sleep(Duration::from_millis(200));
    let dropped: f64 = observe::render()
        .unwrap_or_default()
        .lines()
        .filter(|line| line.starts_with("observe_otlp_spans_dropped_total{"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    println!(
        "otel_sampled_tenth: the receiver got {} spans; the export queue dropped {dropped}",
        receiver.span_count()
    );
    let path = concat!(env!("CARGO_TARGET_TMPDIR"), "/otel_export.json");
    let json = format!(
        r#"{{"received": {}, "dropped": {dropped}}}"#,
        receiver.span_count()
    );
    std::fs::write(path, json + "\n").expect("write the export counts");
}

/// The context of a remote caller whose trace was sampled or not.
fn caller(sampled: bool) -> opentelemetry::Context {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        flags,
        true,
        TraceState::NONE,
    ))
}

criterion_group!(benches, otel_sampled_tenth);
criterion_main!(benches);
