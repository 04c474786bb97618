//! The hot path allocates nothing once warm, on the success, error and async paths, and
//! the metric state stays bounded however many calls happen between scrapes. A counting
//! global allocator, so this is its own test binary.

mod support;

use std::sync::Mutex;
use std::sync::atomic::Ordering;

use observe::{ErrorLabel, instrumented};
use support::allocations::{Counting, LIVE_BYTES, allocations_on_this_thread, poll_once};
use support::exposition;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The tests measure the whole process's bytes: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[derive(Debug, ErrorLabel)]
enum HandlerError {
    Invalid,
    Unavailable,
}

#[instrumented(service = "allocations")]
fn handle(n: u64) -> Result<u64, HandlerError> {
    match n % 3 {
        0 => Err(HandlerError::Invalid),
        1 => Err(HandlerError::Unavailable),
        _ => Ok(n * 2),
    }
}

#[instrumented(service = "allocations")]
fn succeed(n: u64) -> u64 {
    n + 1
}

#[instrumented(service = "allocations")]
async fn handle_async(n: u64) -> Result<u64, std::fmt::Error> {
    if n.is_multiple_of(2) {
        Err(std::fmt::Error)
    } else {
        Ok(n)
    }
}

/// Runs every path once, so slots, thread claims and the clock exist.
fn warm_up() {
    for n in 0..6 {
        let _ = handle(n);
        let _ = succeed(n);
        let _ = poll_once(handle_async(n));
    }
}

#[test]
fn warm_calls_allocate_nothing_on_success_error_and_async_paths() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    // The defaults of `init`, less the listener: the default log subscriber included.
    let _ = exposition::observe_with_logging();
    warm_up();
    let failures = |m: &exposition::Exposition, class| {
        m.count(
            "copilot_allocations_failures_total",
            &[("operation", "handle"), ("error_type", class)],
        )
    };
    let start = exposition::scrape();

    let before = allocations_on_this_thread();
    let mut checksum = 0u64;
    for n in 0..30_000 {
        checksum += handle(n).unwrap_or(1);
        checksum += succeed(n);
        checksum += poll_once(handle_async(n)).unwrap_or(1);
    }
    let allocations = allocations_on_this_thread() - before;
    assert!(checksum > 0);
    assert_eq!(allocations, 0, "allocations in 90 000 warm calls");

    let end = exposition::scrape();
    // A third of the 30 000 calls in each class, every one counted.
    for class in ["Invalid", "Unavailable"] {
        assert_eq!(failures(&end, class) - failures(&start, class), 10_000.0);
    }
}

/// A span callsite of our own, to ask the subscriber about (the `span!` macros do not
/// expose theirs).
struct Probe;
static PROBE: Probe = Probe;
static PROBE_METADATA: tracing::Metadata<'static> = tracing::Metadata::new(
    "probe",
    "allocations",
    tracing::Level::INFO,
    None,
    None,
    None,
    tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&PROBE)),
    tracing::metadata::Kind::SPAN,
);

impl tracing::callsite::Callsite for Probe {
    fn set_interest(&self, _: tracing::subscriber::Interest) {}
    fn metadata(&self) -> &tracing::Metadata<'_> {
        &PROBE_METADATA
    }
}

#[test]
fn the_default_log_subscriber_disables_spans_at_their_callsite() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let _ = exposition::observe_with_logging();
    // Events only: a span callsite is never interesting, so `span!` costs a cached check.
    let interest = tracing::dispatcher::get_default(|d| d.register_callsite(&PROBE_METADATA));
    assert!(interest.is_never(), "{interest:?}");
    assert!(tracing::info_span!("probe").is_disabled());
}

#[test]
fn ten_million_calls_without_a_scrape_grow_memory_by_less_than_a_mebibyte() {
    const CALLS: u64 = 10_000_000;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let _ = exposition::observe_with_logging();
    warm_up();
    let labels = [("operation", "succeed"), ("outcome", "success")];
    let processed = |m: &exposition::Exposition| {
        m.count("copilot_allocations_messages_processed_total", &labels)
    };
    let start = processed(&exposition::scrape());

    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let mut checksum = 0u64;
    for n in 0..CALLS {
        checksum = checksum.wrapping_add(succeed(n));
    }
    let grown = LIVE_BYTES.load(Ordering::Relaxed) - before;
    assert!(checksum > 0);
    assert!(
        grown < 1 << 20,
        "{CALLS} calls grew the live heap by {grown} bytes"
    );
    let end = processed(&exposition::scrape());
    assert_eq!(end - start, CALLS as f64, "every call is counted");
}

/// What the example's request handler records besides its calls: a counter, a histogram
/// and a gauge, by a queue read at runtime.
fn received(queue: &str, bytes: usize) {
    observe::counter!(
        "copilot_allocations_messages_received_total",
        help = "Messages received, by queue.",
        labels(queue = queue),
    )
    .increment(1);
    observe::histogram!(
        "copilot_allocations_message_size_bytes",
        help = "Sizes of the messages received, by queue.",
        labels(queue = queue),
    )
    .record(bytes as f64);
    let waiting = observe::gauge!(
        "copilot_allocations_queue_depth_messages",
        help = "Messages received and not yet answered, by queue.",
        labels(queue = queue),
    );
    waiting.increment(1.0);
    waiting.decrement(1.0);
}

/// `counter!`, `histogram!` and `gauge!` allocate nothing once warm (the histogram counts
/// into its buckets as it records, with no sample buffer to drain), and every observation
/// is in the scrape.
#[test]
fn warm_metric_macros_allocate_nothing_and_count_every_observation() {
    const CALLS: usize = 30_000;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let _ = exposition::observe_with_logging();
    let queues = ["parsing", "chunking", "chunking.failed"].map(String::from);
    for queue in &queues {
        received(queue, 0);
    }
    let count = |m: &exposition::Exposition, queue: &str| {
        m.count(
            "copilot_allocations_message_size_bytes_count",
            &[("queue", queue)],
        )
    };
    let start = exposition::scrape();

    let before = allocations_on_this_thread();
    for n in 0..CALLS {
        received(&queues[n % 3], n % 2000);
    }
    let allocations = allocations_on_this_thread() - before;
    assert_eq!(allocations, 0, "allocations in {CALLS} warm recordings");

    let end = exposition::scrape();
    for queue in &queues {
        assert_eq!(
            count(&end, queue) - count(&start, queue),
            (CALLS / 3) as f64
        );
        let received = |m: &exposition::Exposition| {
            m.count(
                "copilot_allocations_messages_received_total",
                &[("queue", queue)],
            )
        };
        assert_eq!(received(&end) - received(&start), (CALLS / 3) as f64);
        let depth = end.count(
            "copilot_allocations_queue_depth_messages",
            &[("queue", queue)],
        );
        assert_eq!(depth, 0.0, "raised and lowered once per message");
    }
}
