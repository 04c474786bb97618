//! What the trickier shapes record: a fn returning a future is measured until the future
//! completes and classified by its output; methods and trait impls count like any fn.
//! Read back with `observe::testing` captures (this binary never calls `init`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use observe::testing::capture_future;
use observe::{ErrorLabel, instrumented};

const PROCESSED: &str = "copilot_shapes_messages_processed_total";
const DURATION: &str = "copilot_shapes_duration_seconds";

#[derive(Debug, ErrorLabel)]
enum JobError {
    Rejected,
}

#[instrumented(service = "shapes")]
fn delayed(ms: u64) -> impl Future<Output = Result<u64, JobError>> + Send {
    async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if ms == 0 {
            Err(JobError::Rejected)
        } else {
            Ok(ms)
        }
    }
}

#[instrumented(service = "shapes")]
fn boxed(fail: bool) -> Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>> {
    Box::pin(async move {
        if fail {
            Err(JobError::Rejected)
        } else {
            Ok(())
        }
    })
}

/// A team's own alias of a boxed future.
type JobFuture<T> = Pin<Box<dyn Future<Output = Result<T, JobError>> + Send>>;

#[instrumented(service = "shapes")]
fn via_box_future(ms: u64) -> futures::future::BoxFuture<'static, Result<u64, JobError>> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if ms == 0 {
            Err(JobError::Rejected)
        } else {
            Ok(ms)
        }
    })
}

#[instrumented(service = "shapes")]
fn via_local_box_future(
    shared: std::rc::Rc<u64>,
) -> futures::future::LocalBoxFuture<'static, Result<u64, JobError>> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(*shared)
    })
}

#[instrumented(service = "shapes")]
fn via_team_alias(fail: bool) -> JobFuture<u32> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if fail { Err(JobError::Rejected) } else { Ok(7) }
    })
}

#[instrumented(service = "shapes")]
fn via_ready(fail: bool) -> std::future::Ready<Result<u32, JobError>> {
    std::future::ready(if fail { Err(JobError::Rejected) } else { Ok(1) })
}

#[tokio::test]
async fn futures_behind_aliases_and_named_types_are_measured_by_their_output() {
    let ((), m) = capture_future(async {
        assert_eq!(via_box_future(20).await.unwrap(), 20);
        via_box_future(0).await.unwrap_err();
        assert_eq!(via_local_box_future(std::rc::Rc::new(5)).await.unwrap(), 5);
        assert_eq!(via_team_alias(false).await.unwrap(), 7);
        via_team_alias(true).await.unwrap_err();
        assert_eq!(via_ready(false).await.unwrap(), 1);
        via_ready(true).await.unwrap_err();
        // Created but never awaited: cancelled when dropped, not a success at creation.
        drop(via_team_alias(false));
    })
    .await;

    let count = |op, outcome| m.value(PROCESSED, &[("operation", op), ("outcome", outcome)]);
    assert_eq!(count("via_box_future", "success"), 1.0);
    assert_eq!(count("via_box_future", "failure"), 1.0);
    assert_eq!(count("via_local_box_future", "success"), 1.0);
    assert_eq!(count("via_team_alias", "success"), 1.0);
    assert_eq!(count("via_team_alias", "failure"), 1.0);
    assert_eq!(count("via_team_alias", "cancelled"), 1.0);
    assert_eq!(count("via_ready", "success"), 1.0);
    assert_eq!(count("via_ready", "failure"), 1.0);
    for op in ["via_box_future", "via_local_box_future", "via_team_alias"] {
        let buckets = m.buckets(DURATION, &[("operation", op), ("outcome", "success")]);
        assert_eq!(buckets[0], (0.01, 0.0), "{op}: the 20 ms await is measured");
    }
}

#[tokio::test]
async fn a_returned_future_is_measured_until_it_completes() {
    let ((), m) = capture_future(async {
        assert_eq!(delayed(20).await.unwrap(), 20);
        assert!(delayed(0).await.is_err());
        boxed(true).await.unwrap_err();
        boxed(false).await.unwrap();
    })
    .await;

    let op = |op, outcome| [("operation", op), ("outcome", outcome)];
    let buckets = m.buckets(DURATION, &op("delayed", "success"));
    assert_eq!(
        buckets[0],
        (0.01, 0.0),
        "the 20 ms await is inside the measurement"
    );
    assert_eq!(buckets[1], (0.05, 1.0));
    assert_eq!(
        m.value(PROCESSED, &op("delayed", "failure")),
        1.0,
        "classified by the future's output"
    );
    assert_eq!(
        m.value(
            "copilot_shapes_failures_total",
            &[("operation", "boxed"), ("error_type", "Rejected")]
        ),
        1.0
    );
    assert_eq!(m.value(PROCESSED, &op("boxed", "success")), 1.0);
}

trait Repository {
    async fn load(&self, id: u32) -> Result<u32, JobError>;
}

#[derive(Debug)]
struct Memory;

impl Repository for Memory {
    #[instrumented(service = "shapes", operation = "repository_load")]
    async fn load(&self, id: u32) -> Result<u32, JobError> {
        if id == 0 {
            Err(JobError::Rejected)
        } else {
            Ok(id)
        }
    }
}

#[derive(Debug)]
struct Worker;

impl Worker {
    #[instrumented(service = "shapes")]
    fn run(self: Arc<Self>, n: u32) -> u32 {
        n
    }
}

#[tokio::test]
async fn trait_impls_and_methods_are_counted() {
    let ((), m) = capture_future(async {
        let repo = Memory;
        assert_eq!(repo.load(1).await.unwrap(), 1);
        repo.load(0).await.unwrap_err();
        let worker = Arc::new(Worker);
        assert_eq!(worker.clone().run(3), 3);
        assert_eq!(worker.run(4), 4);
    })
    .await;

    let op = |op, outcome| [("operation", op), ("outcome", outcome)];
    assert_eq!(m.value(PROCESSED, &op("repository_load", "success")), 1.0);
    assert_eq!(m.value(PROCESSED, &op("repository_load", "failure")), 1.0);
    assert_eq!(m.value(PROCESSED, &op("run", "success")), 2.0);
}
