//! Per-call cost of instrumentation, side by side in one run (see BENCHMARKS.md, which
//! `scripts/bench.sh` regenerates from this bench's results):
//!
//! - `tiny_handler`: a ~1 ns function bare, with observe's `#[instrumented]` under
//!   `observe::init()`'s defaults, and with what users would write instead.
//! - `two_threads`: two threads calling the same instrumented function (per call per thread).
//! - `realistic_handler`: a handler deserialising and validating a ~1 KB JSON message,
//!   bare and instrumented, sync and async (tokio).
//! - `subscribers`: observe and `tracing::instrument` with a span-recording fmt subscriber.
//! - `metric_macros`: one observation of a histogram and one increment of a counter with a
//!   runtime label value, through observe's `histogram!`/`counter!` and through the
//!   `metrics` crate (its macros per call, and handles cached by the caller), recorded by
//!   `metrics-exporter-prometheus` as `observe::init` installs it.
//!
//! `cargo bench --bench overhead`

#[path = "support/handlers.rs"]
mod handlers;
#[path = "support/paired.rs"]
mod paired;
#[path = "support/tiny.rs"]
mod tiny;

use std::hint::black_box;
use std::sync::{Barrier, OnceLock};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use metrics::{Counter, Gauge, Histogram};
use tiny::{
    Odd, bare, observed, traced, traced_with_call_fields, traced_with_empty_call_fields, work,
};

/// The floor of timing a call: the bare function between two reads of observe's clock.
fn between_two_clock_reads(n: u64) -> Result<u64, Odd> {
    let start = handlers::clock_ticks();
    let result = work(n);
    black_box(handlers::clock_ticks().wrapping_sub(start));
    result
}

#[fastrace::trace]
fn fastraced(n: u64) -> Result<u64, Odd> {
    work(n)
}

#[autometrics::autometrics]
fn autometricked(n: u64) -> Result<u64, Odd> {
    work(n)
}

/// The `metrics` macros on every call: a registry lookup per metric per call.
fn per_call_macros(n: u64) -> Result<u64, Odd> {
    let in_flight =
        metrics::gauge!("bench_macros_active_workers_current", "operation" => "per_call_macros");
    in_flight.increment(1.0);
    let start = Instant::now();
    let result = work(n);
    let outcome = if result.is_ok() { "success" } else { "failure" };
    metrics::histogram!("bench_macros_duration_seconds", "operation" => "per_call_macros", "outcome" => outcome)
        .record(start.elapsed().as_secs_f64());
    metrics::counter!("bench_macros_processed_total", "operation" => "per_call_macros", "outcome" => outcome).increment(1);
    in_flight.decrement(1.0);
    result
}

/// Handles looked up once and cached, as a careful hand-written version would: the same
/// histogram, counter and in-flight gauge as observe, without the span.
struct Handles {
    duration: Histogram,
    processed: Counter,
    in_flight: Gauge,
}

fn handles() -> &'static Handles {
    static HANDLES: OnceLock<Handles> = OnceLock::new();
    HANDLES.get_or_init(|| Handles {
        duration: metrics::histogram!("bench_cached_duration_seconds", "operation" => "cached", "outcome" => "success"),
        processed: metrics::counter!("bench_cached_processed_total", "operation" => "cached", "outcome" => "success"),
        in_flight: metrics::gauge!("bench_cached_active_workers_current", "operation" => "cached"),
    })
}

fn cached_handles_quanta(n: u64) -> Result<u64, Odd> {
    let handles = handles();
    handles.in_flight.increment(1.0);
    let start = quanta::Instant::now();
    let result = work(n);
    handles.duration.record(start.elapsed().as_secs_f64());
    handles.processed.increment(1);
    handles.in_flight.decrement(1.0);
    result
}

fn cached_handles_std(n: u64) -> Result<u64, Odd> {
    let handles = handles();
    handles.in_flight.increment(1.0);
    let start = Instant::now();
    let result = work(n);
    handles.duration.record(start.elapsed().as_secs_f64());
    handles.processed.increment(1);
    handles.in_flight.decrement(1.0);
    result
}

/// Discards fastrace's spans: the cost measured is recording them.
struct DiscardSpans;

impl fastrace::collector::Reporter for DiscardSpans {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        black_box(spans);
    }
}

/// Calls under a fastrace root span, a new root every 1000 calls (its submission is
/// included, amortised), as if 1000 such calls made one traced request.
fn under_fastrace_root(iters: u64) -> Duration {
    let start = Instant::now();
    let mut done = 0;
    while done < iters {
        let batch = (iters - done).min(1000);
        let root = fastrace::Span::root("request", fastrace::prelude::SpanContext::random());
        let _parent = root.set_local_parent();
        for n in 0..batch {
            black_box(fastraced(black_box(n)).ok());
        }
        done += batch;
    }
    start.elapsed()
}

/// The runtime as `observe::init()` sets it up (metrics exported, default log subscriber:
/// events only, no OTLP), less the listener: no port in benches.
fn start_observe() -> &'static observe::Guard {
    static GUARD: OnceLock<observe::Guard> = OnceLock::new();
    GUARD.get_or_init(|| {
        observe::builder()
            .without_metrics_listener()
            .init()
            .expect("observe starts")
    })
}

fn tiny_handler(c: &mut Criterion) {
    let mut group = c.benchmark_group("tiny_handler");
    group.bench_function("bare", |b| b.iter(|| bare(black_box(7))));
    group.bench_function("bare_between_two_clock_reads", |b| {
        b.iter(|| between_two_clock_reads(black_box(7)))
    });
    // Before `init` installs the events-only subscriber (after it, spans are off too).
    group.bench_function("tracing_instrument_no_subscriber", |b| {
        b.iter(|| traced(black_box(7)))
    });
    start_observe();
    fastrace::set_reporter(DiscardSpans, fastrace::collector::Config::default());
    group.bench_function("observe_instrumented", |b| {
        b.iter(|| observed(black_box(7)))
    });
    group.bench_function("metrics_cached_handles_quanta", |b| {
        b.iter(|| cached_handles_quanta(black_box(7)))
    });
    group.bench_function("metrics_cached_handles_std_instant", |b| {
        b.iter(|| cached_handles_std(black_box(7)))
    });
    group.bench_function("metrics_macros_per_call", |b| {
        b.iter(|| per_call_macros(black_box(7)))
    });
    group.bench_function("fastrace_trace_under_root", |b| {
        b.iter_custom(under_fastrace_root)
    });
    group.bench_function("autometrics_metrics_backend", |b| {
        b.iter(|| autometricked(black_box(7)))
    });
    group.finish();
    fastrace::flush();
    // Drain the samples the exporter buffered, as a scrape would.
    black_box(observe::render().map(|text| text.len()));
}

/// One of the tiny handler's variants.
type TinyHandler = fn(u64) -> Result<u64, Odd>;

/// `threads` threads calling `f` at once; the time of the measuring thread's calls.
fn concurrently(threads: usize, iters: u64, f: TinyHandler) -> Duration {
    let start = Barrier::new(threads);
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(|| {
                start.wait();
                for n in 0..iters {
                    black_box(f(black_box(n)).ok());
                }
            });
        }
        start.wait();
        let began = Instant::now();
        for n in 0..iters {
            black_box(f(black_box(n)).ok());
        }
        began.elapsed()
    })
}

fn two_threads(c: &mut Criterion) {
    start_observe();
    let mut group = c.benchmark_group("two_threads");
    // `bare` is the control: on a shared 2-vCPU machine, two threads also slow each other
    // down through scheduling, whatever they run.
    let variants: [(&str, TinyHandler); 3] = [
        ("bare", bare),
        ("observe", observed),
        ("metrics_cached_handles_quanta", cached_handles_quanta),
    ];
    for (name, f) in variants {
        for (threads, suffix) in [(1, "1_thread"), (2, "2_threads")] {
            group.bench_function(format!("{name}_{suffix}"), |b| {
                b.iter_custom(|iters| concurrently(threads, iters, f))
            });
        }
    }
    group.finish();
    black_box(observe::render().map(|text| text.len()));
}

fn realistic_handler(c: &mut Criterion) {
    start_observe();
    let message = handlers::message();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let mut group = c.benchmark_group("realistic_handler");
    group.bench_function("sync_bare", |b| {
        b.iter(|| handlers::handle_bare(black_box(&message)))
    });
    group.bench_function("sync_observe", |b| {
        b.iter(|| handlers::handle_observed(black_box(&message)))
    });
    group.bench_function("async_bare", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(handlers::handle_async_bare(black_box(&message)).await.ok());
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("async_observe", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(
                        handlers::handle_async_observed(black_box(&message))
                            .await
                            .ok(),
                    );
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    paired_ratios(&message, &runtime);
}

/// The instrumented/bare ratio of the realistic handler, paired (see `paired.rs`): the
/// criterion medians above are measured seconds apart, and on a shared machine their
/// ratio's interval is too wide to tell 1% from noise. Printed, and written for
/// `scripts/bench_report.py`.
fn paired_ratios(message: &str, runtime: &tokio::runtime::Runtime) {
    const OBSERVATIONS: usize = 200;
    const CALLS: u64 = 500;
    // A sync variant of the handler against the bare one.
    let against_bare = |variant: fn(&str) -> Result<usize, handlers::ParseError>| {
        paired::measure(OBSERVATIONS, CALLS, |use_variant, calls| {
            let handler = if use_variant {
                variant
            } else {
                handlers::handle_bare
            };
            paired::time(calls, || {
                black_box(handler(black_box(message)).ok());
            })
        })
    };
    let sync = against_bare(handlers::handle_observed);
    // The floor: only the two clock reads any per-call duration needs.
    let clock_reads = against_bare(handlers::handle_between_two_clock_reads);
    // The method's own bias: the bare handler against itself.
    let control = against_bare(handlers::handle_bare);
    // Layout alone: the same code compiled twice, in two places.
    let layout = against_bare(handlers::handle_bare_copy);
    let asynchronous = paired::measure(OBSERVATIONS, CALLS, |instrumented, calls| {
        runtime.block_on(async {
            let start = Instant::now();
            for _ in 0..calls {
                if instrumented {
                    black_box(
                        handlers::handle_async_observed(black_box(message))
                            .await
                            .ok(),
                    );
                } else {
                    black_box(handlers::handle_async_bare(black_box(message)).await.ok());
                }
            }
            start.elapsed()
        })
    });
    paired::report(
        "realistic_handler",
        "variant/bare",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/paired_ratios.json"),
        [
            ("sync", sync),
            ("async", asynchronous),
            ("two_clock_reads", clock_reads),
            ("control", control),
            ("layout_control", layout),
        ],
    );
}

/// A span-recording subscriber: `fmt` to a sink (it formats every span's fields).
fn fmt_to_sink() -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_max_level(tracing::Level::INFO)
        .finish()
}

/// Last: a scoped subscriber that records spans makes their callsites interesting, and
/// the interest stays cached after it is dropped.
fn subscribers(c: &mut Criterion) {
    start_observe();
    let mut group = c.benchmark_group("subscribers");
    group.bench_function("observe_metrics_only", |b| {
        b.iter(|| observed(black_box(7)))
    });
    tracing::subscriber::with_default(fmt_to_sink(), || {
        group.bench_function("observe_metrics_and_fmt_subscriber", |b| {
            b.iter(|| observed(black_box(7)))
        });
        group.bench_function("tracing_instrument_fmt_subscriber", |b| {
            b.iter(|| traced(black_box(7)))
        });
        group.bench_function("tracing_instrument_call_fields_fmt_subscriber", |b| {
            b.iter(|| traced_with_call_fields(black_box(7)))
        });
    });
    group.finish();
    paired_under_fmt();
}

/// observe against `#[tracing::instrument]` under `fmt`, paired (see `paired.rs`). The
/// criterion rows above run one after the other, and under `fmt` each later row is slower
/// than the one before it whatever it measures (the allocator's and the span slab's state
/// drift: `#[tracing::instrument]` measured first and again last differed by a third), so
/// only alternating blocks compare the two. Printed, and written for
/// `scripts/bench_report.py`.
fn paired_under_fmt() {
    const OBSERVATIONS: usize = 100;
    const CALLS: u64 = 2_000;
    let fmt = tracing::Dispatch::new(fmt_to_sink());
    let call = |function: fn(u64) -> Result<u64, Odd>, calls| {
        paired::time(calls, || {
            black_box(function(black_box(7)).ok());
        })
    };
    let against_traced = |variant: fn(u64) -> Result<u64, Odd>| {
        paired::measure(OBSERVATIONS, CALLS, |use_variant, calls| {
            let function = if use_variant { variant } else { traced };
            tracing::dispatcher::with_default(&fmt, || call(function, calls))
        })
    };
    // What the span alone adds: each function under `fmt` less the same function under
    // observe's subscriber (metrics, spans off), observe's against `#[tracing::instrument]`'s.
    let span_added = paired::measure_added(OBSERVATIONS, CALLS, |block, calls| {
        let function = if block.variant { observed } else { traced };
        if block.on {
            tracing::dispatcher::with_default(&fmt, || call(function, calls))
        } else {
            call(function, calls)
        }
    });
    paired::report(
        "subscribers",
        "against #[tracing::instrument] under fmt",
        concat!(env!("CARGO_TARGET_TMPDIR"), "/paired_subscribers.json"),
        [
            ("fmt_observe", against_traced(observed)),
            ("fmt_observe_span_added", span_added),
            (
                "fmt_traced_observe_shape",
                against_traced(traced_with_empty_call_fields),
            ),
            ("fmt_control", against_traced(traced)),
        ],
    );
}

/// The queues a request may name, read at runtime as the example reads its header.
const QUEUES: [&str; 3] = ["parsing", "chunking", "chunking.failed"];

fn observe_macros(queue: &str, size: f64) {
    observe::histogram!(
        "copilot_bench_message_size_bytes",
        help = "Sizes of the messages received.",
        labels(queue = queue),
    )
    .record(size);
    observe::counter!(
        "copilot_bench_messages_received_total",
        help = "Messages received.",
        labels(queue = queue),
    )
    .increment(1);
}

fn metrics_macros(queue: &'static str, size: f64) {
    metrics::histogram!("bench_message_size_bytes", "queue" => queue).record(size);
    metrics::counter!("bench_messages_received_total", "queue" => queue).increment(1);
}

/// The series of each queue, registered once, looked up by the queue's position: what a
/// careful hand-written version keeps.
fn metrics_cached(queue: usize, size: f64) {
    static HANDLES: OnceLock<Vec<(Histogram, Counter)>> = OnceLock::new();
    let handles = HANDLES.get_or_init(|| {
        QUEUES
            .iter()
            .map(|&queue| {
                (
                    metrics::histogram!("bench_cached_size_bytes", "queue" => queue),
                    metrics::counter!("bench_cached_received_total", "queue" => queue),
                )
            })
            .collect()
    });
    let (histogram, counter) = &handles[queue];
    histogram.record(size);
    counter.increment(1);
}

fn metric_macros(c: &mut Criterion) {
    start_observe();
    let mut group = c.benchmark_group("metric_macros");
    // The queue changes from call to call, as it would from request to request.
    let mut call = 0usize;
    let mut next = move || {
        call = call.wrapping_add(1);
        let queue = call % QUEUES.len();
        (queue, (call % 2000) as f64)
    };
    group.bench_function("observe_histogram_and_counter", |b| {
        b.iter(|| {
            let (queue, size) = next();
            observe_macros(black_box(QUEUES[queue]), black_box(size))
        })
    });
    group.bench_function("metrics_macros_per_call", |b| {
        b.iter(|| {
            let (queue, size) = next();
            metrics_macros(black_box(QUEUES[queue]), black_box(size))
        })
    });
    group.bench_function("metrics_handles_cached", |b| {
        b.iter(|| {
            let (queue, size) = next();
            metrics_cached(black_box(queue), black_box(size))
        })
    });
    group.finish();
    // Drain the samples the exporter buffered, as a scrape would.
    black_box(observe::render().map(|text| text.len()));
}

criterion_group!(
    benches,
    tiny_handler,
    two_threads,
    realistic_handler,
    subscribers,
    metric_macros
);
criterion_main!(benches);
