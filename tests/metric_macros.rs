//! `observe::counter!`, `gauge!` and `histogram!` read back from the real exporter: exact
//! values per label set, runtime label values outside their declared set or past their
//! bound recorded as `_OTHER` and counted, histogram buckets from the preset of the unit.

mod support;

use support::exposition::{observe, scrape};

const RETRIES: &str = "copilot_parsing_retry_attempts_total";
const DEPTH: &str = "copilot_parsing_queue_depth_messages";
const BATCH: &str = "copilot_chunking_batch_size_messages";
const CALLS: &str = "copilot_parsing_dependency_calls_total";
const STARTS: &str = "copilot_lifecycle_starts_total";
const OVERFLOW: &str = "observe_runtime_label_overflow_total";

fn retried(queue: &str) {
    observe::counter!(
        "copilot_parsing_retry_attempts_total",
        help = "Parse attempts retried after a failure, by queue.",
        labels(queue = queue),
    )
    .increment(1);
}

#[test]
fn counters_per_declared_runtime_value_and_other() {
    observe();
    for _ in 0..2 {
        retried("parsing");
    }
    retried("chunking.failed");
    for _ in 0..4 {
        retried("embedding");
    }
    retried(&String::from("parsing"));
    let e = scrape();
    let at = |queue| {
        e.count(
            RETRIES,
            &[
                ("queue", queue),
                ("service", "parsing"),
                ("environment", "test"),
            ],
        )
    };
    assert_eq!(at("parsing"), 3.0);
    assert_eq!(at("chunking.failed"), 1.0);
    assert_eq!(at("chunking"), 0.0);
    assert_eq!(
        at("_OTHER"),
        4.0,
        "values outside the declared set are not lost"
    );
    assert_eq!(
        e.count(
            OVERFLOW,
            &[
                ("metric", RETRIES),
                ("label", "queue"),
                ("service", "parsing")
            ]
        ),
        4.0
    );
    assert_eq!(
        e.help(RETRIES),
        Some("Parse attempts retried after a failure, by queue.")
    );
    assert_eq!(e.type_of(RETRIES), Some("counter"));
}

fn moved(queue: &str, collection: &str) {
    observe::counter!(
        "copilot_parsing_documents_moved_total",
        help = "Documents moved, by queue and collection.",
        labels(queue = queue, collection = collection),
    )
    .increment(1);
}

/// Two runtime labels with declared sets: each combination is its own series, a value
/// outside its set is `_OTHER` for that label only and counted against that label.
#[test]
fn two_declared_runtime_labels_combine_and_overflow_apart() {
    const MOVED: &str = "copilot_parsing_documents_moved_total";
    observe();
    moved("parsing", "documents");
    moved("parsing", "chunks");
    moved("parsing", "chunks");
    moved("chunking.failed", "documents");
    moved("embedding", "chunks");
    moved("chunking", "images");
    moved("chunking", "images");
    moved("embedding", &String::from("images"));
    let e = scrape();
    let at = |queue, collection| {
        e.count(
            MOVED,
            &[
                ("queue", queue),
                ("collection", collection),
                ("service", "parsing"),
                ("environment", "test"),
            ],
        )
    };
    assert_eq!(at("parsing", "documents"), 1.0);
    assert_eq!(at("parsing", "chunks"), 2.0);
    assert_eq!(at("chunking.failed", "documents"), 1.0);
    assert_eq!(at("_OTHER", "chunks"), 1.0);
    assert_eq!(at("chunking", "_OTHER"), 2.0);
    assert_eq!(at("_OTHER", "_OTHER"), 1.0);
    assert_eq!(
        e.values_by(MOVED, &["queue", "collection"]).len(),
        6,
        "one series per combination seen"
    );
    let overflowed = |label| {
        e.count(
            OVERFLOW,
            &[("metric", MOVED), ("label", label), ("service", "parsing")],
        )
    };
    assert_eq!(overflowed("queue"), 2.0);
    assert_eq!(overflowed("collection"), 3.0);
}

#[test]
fn a_bounded_label_keeps_its_first_values_then_records_other() {
    observe();
    // `dependency` is declared with `max = 20` and no value set (CONVENTION.md's default).
    let call = |dependency: &str| {
        observe::counter!(
            "copilot_parsing_dependency_calls_total",
            help = "Calls to dependencies, by dependency.",
            labels(dependency = dependency),
        )
        .increment(1)
    };
    for _ in 0..3 {
        for i in 0..25 {
            call(&format!("dep{i}"));
        }
    }
    let e = scrape();
    for i in 0..20 {
        assert_eq!(
            e.count(CALLS, &[("dependency", &format!("dep{i}"))]),
            3.0,
            "dep{i}"
        );
    }
    assert_eq!(e.value(CALLS, &[("dependency", "dep20")]), None);
    assert_eq!(e.count(CALLS, &[("dependency", "_OTHER")]), 15.0);
    assert_eq!(
        e.count(OVERFLOW, &[("metric", CALLS), ("label", "dependency")]),
        15.0
    );
    assert_eq!(e.samples(CALLS, &[]).count(), 21, "20 values and `_OTHER`");
}

#[test]
fn gauges_set_and_move() {
    observe();
    let depth = |queue: &str| {
        observe::gauge!(
            "copilot_parsing_queue_depth_messages",
            help = "Messages waiting in a queue.",
            labels(queue = queue),
        )
    };
    depth("parsing").set(12.0);
    depth("parsing").increment(3.0);
    depth("chunking").set(4.0);
    depth("chunking").decrement(1.5);
    let e = scrape();
    assert_eq!(e.count(DEPTH, &[("queue", "parsing")]), 15.0);
    assert_eq!(e.count(DEPTH, &[("queue", "chunking")]), 2.5);
    assert_eq!(e.type_of(DEPTH), Some("gauge"));
}

#[test]
fn histograms_use_the_preset_of_their_unit() {
    observe();
    for size in [3.0, 30.0, 30.0, 3000.0] {
        observe::histogram!(
            "copilot_chunking_batch_size_messages",
            help = "Messages per chunking batch.",
            labels(queue = "chunking"),
        )
        .record(size);
    }
    let e = scrape();
    let buckets = e.buckets(BATCH, &[("queue", "chunking"), ("service", "chunking")]);
    // The built-in `batch` preset: 1, 5, 10, 25, 50, 100, 250, 500, 1000.
    let expected = [
        (1.0, 0.0),
        (5.0, 1.0),
        (10.0, 1.0),
        (25.0, 1.0),
        (50.0, 3.0),
        (100.0, 3.0),
        (250.0, 3.0),
        (500.0, 3.0),
        (1000.0, 3.0),
        (f64::INFINITY, 4.0),
    ];
    assert_eq!(buckets, expected);
    assert_eq!(e.type_of(BATCH), Some("histogram"));
}

/// A metric whose labels are all literals exists from `init` on, at zero.
#[test]
fn literal_label_series_exist_from_start_up() {
    observe();
    if false {
        observe::counter!(
            "copilot_lifecycle_starts_total",
            help = "Worker starts.",
            labels(queue = "parsing"),
        )
        .increment(1);
    }
    assert_eq!(scrape().value(STARTS, &[("queue", "parsing")]), Some(0.0));
}

#[test]
fn concurrent_runtime_labels_lose_no_counts() {
    observe();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let queue = if t % 2 == 0 { "chunking" } else { "nowhere" };
                for _ in 0..10_000 {
                    observe::counter!(
                        "copilot_chunking_retry_attempts_total",
                        help = "Chunking attempts retried, by queue.",
                        labels(queue = queue),
                    )
                    .increment(1);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let e = scrape();
    let name = "copilot_chunking_retry_attempts_total";
    assert_eq!(e.count(name, &[("queue", "chunking")]), 20_000.0);
    assert_eq!(e.count(name, &[("queue", "_OTHER")]), 20_000.0);
}
