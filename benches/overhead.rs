//! Per-call cost of instrumenting a tiny handler, side by side in one run: the bare
//! function, observe's `#[instrumented]` under `observe::init()`'s defaults, and what users
//! would write instead (`tracing::instrument`, `metrics` macros on every call, handles
//! cached once).
//!
//! `cargo bench --bench overhead`

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use metrics::{Counter, Histogram};
use observe::instrumented;

#[derive(Debug)]
struct Odd;

/// The work every variant wraps: about as small as a handler gets.
#[inline(never)]
fn work(n: u64) -> Result<u64, Odd> {
    if n == u64::MAX {
        Err(Odd)
    } else {
        Ok(n.wrapping_mul(31).rotate_left(7))
    }
}

fn bare(n: u64) -> Result<u64, Odd> {
    work(n)
}

#[instrumented(service = "bench")]
fn observed(n: u64) -> Result<u64, Odd> {
    work(n)
}

#[tracing::instrument]
fn traced(n: u64) -> Result<u64, Odd> {
    work(n)
}

/// The `metrics` macros on every call: a registry lookup per metric per call.
fn per_call_macros(n: u64) -> Result<u64, Odd> {
    let start = Instant::now();
    let result = work(n);
    let outcome = if result.is_ok() { "success" } else { "failure" };
    metrics::histogram!("bench_macros_duration_seconds", "operation" => "per_call_macros", "outcome" => outcome)
        .record(start.elapsed().as_secs_f64());
    metrics::counter!("bench_macros_processed_total", "operation" => "per_call_macros", "outcome" => outcome).increment(1);
    result
}

/// Handles looked up once and cached, as a careful hand-written version would.
fn cached_handles(n: u64) -> Result<u64, Odd> {
    static HANDLES: OnceLock<(Histogram, Counter)> = OnceLock::new();
    let (histogram, counter) = HANDLES.get_or_init(|| {
        (
            metrics::histogram!("bench_cached_duration_seconds", "operation" => "cached_handles", "outcome" => "success"),
            metrics::counter!("bench_cached_processed_total", "operation" => "cached_handles", "outcome" => "success"),
        )
    });
    let start = Instant::now();
    let result = work(n);
    histogram.record(start.elapsed().as_secs_f64());
    counter.increment(1);
    result
}

fn overhead(c: &mut Criterion) {
    // The runtime as `observe::init()` sets it up, less the listener (no port in benches).
    let guard = observe::builder()
        .without_metrics_listener()
        .init()
        .expect("observe starts");
    let mut group = c.benchmark_group("tiny_handler");
    group.bench_function("bare", |b| b.iter(|| bare(black_box(7))));
    group.bench_function("observe_instrumented", |b| {
        b.iter(|| observed(black_box(7)))
    });
    group.bench_function("tracing_instrument", |b| b.iter(|| traced(black_box(7))));
    group.bench_function("metrics_macros_per_call", |b| {
        b.iter(|| per_call_macros(black_box(7)))
    });
    group.bench_function("metrics_cached_handles", |b| {
        b.iter(|| cached_handles(black_box(7)))
    });
    group.finish();
    // Drain the samples the exporter buffered, as a scrape would.
    black_box(guard.render().len());
}

criterion_group!(benches, overhead);
criterion_main!(benches);
