//! `observe::testing` as a user's tests use it: no `init`, no port, no scrape. The tests
//! of this binary run in parallel threads and call the same functions and metric macros,
//! so each one's exact counts also show that captures are isolated. No test here calls
//! `init`: after it, captures see nothing (documented).

use std::sync::Barrier;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use observe::testing::{self, Calls};
use observe::{ErrorLabel, instrumented};
use tower::ServiceExt;

const PROCESSED: &str = "copilot_testing_messages_processed_total";
const FAILURES: &str = "copilot_testing_failures_total";
const DURATION_COUNT: &str = "copilot_testing_duration_seconds_count";

#[derive(Debug, ErrorLabel)]
enum ParseError {
    Empty,
    #[error_label(rename = "TooLargeError")]
    TooLarge,
}

#[instrumented(service = "testing")]
fn parse(input: &str) -> Result<usize, ParseError> {
    match input {
        "" => Err(ParseError::Empty),
        big if big.len() > 8 => Err(ParseError::TooLarge),
        ok => Ok(ok.len()),
    }
}

#[instrumented(service = "testing")]
async fn handle(body: String) -> Result<String, ParseError> {
    tokio::task::yield_now().await;
    parse(&body).map(|n| format!("{n} bytes"))
}

#[test]
fn counts_by_outcome_and_error_type() {
    let (parsed, recorded) =
        testing::capture(|| ["a", "", "bb", "far too large", ""].map(|i| parse(i).is_ok()));
    assert_eq!(
        parsed,
        [true, false, true, false, false],
        "values unchanged"
    );
    assert_eq!(
        recorded.calls("parse"),
        Calls {
            success: 2,
            failure: 3,
            cancelled: 0,
            error_types: [("Empty".to_owned(), 2), ("TooLargeError".to_owned(), 1)].into(),
            duration_count: 5,
        }
    );
    recorded.assert_series(
        PROCESSED,
        &[
            (&[("outcome", "success")], 2.0),
            (&[("outcome", "failure")], 3.0),
        ],
    );
    recorded.assert_series(
        FAILURES,
        &[
            (&[("error_type", "Empty")], 2.0),
            (&[("error_type", "TooLargeError")], 1.0),
        ],
    );
    assert_eq!(
        recorded.value(DURATION_COUNT, &[("outcome", "failure")]),
        3.0
    );
    // The series carry the labels `/metrics` shows, with `environment="test"`.
    let series = recorded.series(PROCESSED);
    let labels = &series[0].labels;
    assert_eq!(labels["environment"], "test");
    assert_eq!(labels["service"], "testing");
    assert_eq!(labels["operation"], "parse");
}

/// Parallel captures of the same function on several threads each count only their own
/// calls, whatever the interleaving.
#[test]
fn parallel_captures_are_isolated() {
    let barrier = Barrier::new(4);
    std::thread::scope(|scope| {
        for calls in 1..=4u64 {
            let barrier = &barrier;
            scope.spawn(move || {
                let ((), recorded) = testing::capture(|| {
                    barrier.wait();
                    for _ in 0..calls * 100 {
                        let _ = parse("ok");
                    }
                });
                assert_eq!(recorded.calls("parse").success, calls * 100);
                assert_eq!(recorded.calls("parse").failure, 0);
            });
        }
    });
}

/// A future is captured on whichever threads poll it, and a nested capture takes the
/// calls made within it.
#[test]
fn futures_and_nested_captures() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (replies, recorded) = runtime.block_on(testing::capture_future(async {
        let a = tokio::spawn(testing::capture_future(handle("abc".to_owned())));
        let b = handle(String::new()).await;
        let (a, inner) = a.await.unwrap();
        assert_eq!(inner.calls("handle").success, 1);
        (a.ok(), b.is_err())
    }));
    assert_eq!(replies, (Some("3 bytes".to_owned()), true));
    assert_eq!(recorded.calls("handle").failure, 1);
    assert_eq!(
        recorded.calls("handle").success,
        0,
        "taken by the nested capture"
    );
    assert_eq!(recorded.calls("parse").error_types["Empty"], 1);
}

#[test]
fn a_failed_assertion_shows_expected_and_actual_side_by_side() {
    let (_, recorded) = testing::capture(|| parse(""));
    let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        recorded.assert_series(PROCESSED, &[(&[("outcome", "success")], 1.0)]);
    }))
    .unwrap_err();
    let message = failure.downcast_ref::<String>().unwrap();
    assert_eq!(
        message,
        "series of `copilot_testing_messages_processed_total` differ\n  expected              | actual\n≠ {outcome=\"success\"} 1 | {outcome=\"success\"} 0\n≠                       | {outcome=\"failure\"} 1\n"
    );
}

/// README's example: an axum handler tested through its router, without a port.
#[tokio::test]
async fn an_axum_handler() {
    async fn parse_route(body: String) -> StatusCode {
        match handle(body).await {
            Ok(_) => StatusCode::OK,
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }
    let app = Router::new().route("/parse", post(parse_route));
    let request = Request::post("/parse").body(Body::from("")).unwrap();

    let (response, recorded) = testing::capture_future(app.oneshot(request)).await;

    assert_eq!(response.unwrap().status(), StatusCode::BAD_REQUEST);
    // `handle` and the `parse` it calls share the service's families.
    recorded.assert_series(
        PROCESSED,
        &[
            (&[("operation", "handle"), ("outcome", "failure")], 1.0),
            (&[("operation", "parse"), ("outcome", "failure")], 1.0),
        ],
    );
    let calls = recorded.calls("handle");
    assert_eq!((calls.success, calls.failure), (0, 1));
    assert_eq!(calls.error_types["Empty"], 1);
}

const RETRIES: &str = "copilot_testing_retry_attempts_total";
const DEPTH: &str = "copilot_testing_queue_depth_messages";
const BATCH: &str = "copilot_testing_batch_size_messages";
const OVERFLOW: &str = "observe_runtime_label_overflow_total";

fn retried(queue: &str, times: u64) {
    observe::counter!(
        "copilot_testing_retry_attempts_total",
        help = "Attempts retried, by queue.",
        labels(queue = queue),
    )
    .increment(times);
}

fn depth(queue: &str) -> observe::GaugeRef {
    observe::gauge!(
        "copilot_testing_queue_depth_messages",
        help = "Messages waiting, by queue.",
        labels(queue = queue),
    )
}

fn batch(size: f64) {
    observe::histogram!(
        "copilot_testing_batch_size_messages",
        help = "Messages per batch.",
        labels(queue = "chunking"),
    )
    .record(size);
}

/// What `counter!`, `gauge!` and `histogram!` record within a capture, per series, as
/// `/metrics` would show it: values outside a label's set as `_OTHER`, counted.
#[test]
fn metric_macros_are_captured_per_series() {
    let ((), recorded) = testing::capture(|| {
        retried("parsing", 2);
        retried("chunking.failed", 1);
        retried("embedding", 4);
        depth("parsing").set(12.0);
        depth("parsing").increment(3.0);
        depth("chunking").set(4.0);
        depth("chunking").decrement(1.5);
        [3.0, 30.0, 30.0, 3000.0].into_iter().for_each(batch);
    });
    recorded.assert_series(
        RETRIES,
        &[
            (&[("queue", "parsing")], 2.0),
            (&[("queue", "chunking.failed")], 1.0),
            (&[("queue", "_OTHER")], 4.0),
        ],
    );
    recorded.assert_series(
        OVERFLOW,
        &[(&[("metric", RETRIES), ("label", "queue")], 1.0)],
    );
    recorded.assert_series(
        DEPTH,
        &[
            (&[("queue", "parsing")], 15.0),
            (&[("queue", "chunking")], 2.5),
        ],
    );
    // The built-in `batch` preset of the `messages` unit: 1, 5, 10, 25, 50, 100, 250,
    // 500, 1000.
    let buckets: Vec<(String, f64)> = recorded
        .series(&format!("{BATCH}_bucket"))
        .into_iter()
        .map(|s| (s.labels["le"].clone(), s.value))
        .collect();
    let expected = [
        ("1", 0.0),
        ("5", 1.0),
        ("10", 1.0),
        ("25", 1.0),
        ("50", 3.0),
        ("100", 3.0),
        ("250", 3.0),
        ("500", 3.0),
        ("1000", 3.0),
        ("+Inf", 4.0),
    ]
    .map(|(le, n)| (le.to_owned(), n));
    assert_eq!(buckets, expected);
    assert_eq!(
        recorded.value(&format!("{BATCH}_count"), &[("queue", "chunking")]),
        4.0
    );
    assert_eq!(
        recorded.value(&format!("{BATCH}_sum"), &[("queue", "chunking")]),
        3063.0
    );
    let series = recorded.series(DEPTH);
    assert_eq!(series[0].labels["environment"], "test");
    assert_eq!(series[0].labels["service"], "testing");
    let text = recorded.exposition();
    assert!(
        text.contains(&format!("# HELP {RETRIES} Attempts retried, by queue.\n")),
        "{text}"
    );
    assert!(text.contains(&format!("# TYPE {DEPTH} gauge\n")), "{text}");
}

/// The in-flight pattern across two call sites: raised where a message arrives, lowered
/// where it is answered. One name and label set is one series, whichever site records.
#[test]
fn two_sites_of_one_series_record_into_it_together() {
    let lowered = |queue: &str| {
        observe::gauge!(
            "copilot_testing_queue_depth_messages",
            help = "Messages waiting, by queue.",
            labels(queue = queue),
        )
        .decrement(1.0)
    };
    let ((), recorded) = testing::capture(|| {
        for _ in 0..3 {
            depth("parsing").increment(1.0);
        }
        lowered("parsing");
        depth("chunking").set(5.0);
        lowered("chunking");
    });
    recorded.assert_series(
        DEPTH,
        &[
            (&[("queue", "parsing")], 2.0),
            (&[("queue", "chunking")], 4.0),
        ],
    );
    let text = recorded.exposition();
    assert_eq!(
        text.matches(&format!("# TYPE {DEPTH} gauge")).count(),
        1,
        "{text}"
    );
}

/// Two `#[test]`s of this binary call the same metric sites with different values (the
/// harness runs them in parallel threads); each sees only its own.
#[test]
fn metric_captures_of_parallel_tests_are_isolated_a() {
    let ((), recorded) = testing::capture(|| {
        (0..300).for_each(|_| retried("parsing", 1));
        depth("chunking").set(1.0);
    });
    recorded.assert_series(RETRIES, &[(&[("queue", "parsing")], 300.0)]);
    recorded.assert_series(DEPTH, &[(&[("queue", "chunking")], 1.0)]);
}

#[test]
fn metric_captures_of_parallel_tests_are_isolated_b() {
    let ((), recorded) = testing::capture(|| {
        (0..500).for_each(|_| retried("chunking", 2));
        depth("chunking").set(2.0);
    });
    recorded.assert_series(RETRIES, &[(&[("queue", "chunking")], 1000.0)]);
    recorded.assert_series(DEPTH, &[(&[("queue", "chunking")], 2.0)]);
}

/// The same, forced to overlap: four threads capture at once, each with its own counts,
/// its own `_OTHER` values and gauge value.
#[test]
fn parallel_metric_captures_are_isolated() {
    let barrier = Barrier::new(4);
    std::thread::scope(|scope| {
        for n in 1..=4u64 {
            let barrier = &barrier;
            scope.spawn(move || {
                let ((), recorded) = testing::capture(|| {
                    barrier.wait();
                    for _ in 0..n * 100 {
                        retried("parsing", 1);
                        retried(&format!("elsewhere-{n}"), 1);
                    }
                    depth("parsing").set(n as f64);
                    batch(n as f64);
                });
                let n = n as f64;
                recorded.assert_series(
                    RETRIES,
                    &[
                        (&[("queue", "parsing")], n * 100.0),
                        (&[("queue", "_OTHER")], n * 100.0),
                    ],
                );
                recorded.assert_series(
                    OVERFLOW,
                    &[(&[("metric", RETRIES), ("label", "queue")], n * 100.0)],
                );
                recorded.assert_series(DEPTH, &[(&[("queue", "parsing")], n)]);
                recorded.assert_series(&format!("{BATCH}_sum"), &[(&[("queue", "chunking")], n)]);
            });
        }
    });
}

/// A captured future's metric macros are captured on whichever threads poll it.
#[test]
fn metric_macros_in_a_captured_future() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let ((), recorded) = runtime.block_on(testing::capture_future(async {
        for _ in 0..10 {
            retried("parsing", 1);
            tokio::task::yield_now().await;
        }
    }));
    recorded.assert_series(RETRIES, &[(&[("queue", "parsing")], 10.0)]);
    // Outside a capture, before `init`, the same site records nothing anywhere, and the
    // next capture starts from zero.
    retried("parsing", 1);
    let ((), again) = testing::capture(|| retried("parsing", 1));
    again.assert_series(RETRIES, &[(&[("queue", "parsing")], 1.0)]);
}

#[test]
fn a_failed_metric_assertion_shows_expected_and_actual_side_by_side() {
    let ((), recorded) = testing::capture(|| {
        retried("parsing", 2);
        retried("unknown", 1);
    });
    let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        recorded.assert_series(RETRIES, &[(&[("queue", "parsing")], 3.0)]);
    }))
    .unwrap_err();
    let message = failure.downcast_ref::<String>().unwrap();
    assert_eq!(
        message,
        "series of `copilot_testing_retry_attempts_total` differ\n  expected            | actual\n≠ {queue=\"parsing\"} 3 | {queue=\"parsing\"} 2\n≠                     | {queue=\"_OTHER\"} 1\n"
    );
}

#[instrumented(service = "testing")]
fn forgot_init() -> u32 {
    7
}

/// Outside a capture, a call before `init` is not recorded; debug builds say so once per
/// function, naming it.
#[cfg(debug_assertions)]
#[test]
fn a_call_before_init_warns_once_in_debug_builds() {
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        assert_eq!(forgot_init() + forgot_init(), 14);
    });
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let warning =
        "`forgot_init` was called before `observe::init`: calls before `init` are not recorded";
    assert_eq!(text.matches(warning).count(), 1, "{text}");
    assert!(text.contains("WARN"), "{text}");
}
