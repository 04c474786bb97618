//! `observe::testing` as a user's tests use it: no `init`, no port, no scrape. The tests
//! of this binary run in parallel threads and call the same functions, so each one's
//! exact counts also show that captures are isolated.

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
