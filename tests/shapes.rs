//! What the trickier shapes record: a fn returning a future is measured until the future
//! completes and classified by its output; methods and trait impls count like any fn.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use observe::{ErrorLabel, instrumented};
use support::exposition::{observe, scrape};

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

#[tokio::test]
async fn a_returned_future_is_measured_until_it_completes() {
    observe();
    assert_eq!(delayed(20).await.unwrap(), 20);
    assert!(delayed(0).await.is_err());
    boxed(true).await.unwrap_err();
    boxed(false).await.unwrap();

    let m = scrape();
    let op = |op, outcome| [("operation", op), ("outcome", outcome)];
    let buckets = m.buckets(DURATION, &op("delayed", "success"));
    assert_eq!(
        buckets[0],
        (0.01, 0.0),
        "the 20 ms await is inside the measurement"
    );
    assert_eq!(buckets[1], (0.05, 1.0));
    assert_eq!(
        m.count(PROCESSED, &op("delayed", "failure")),
        1.0,
        "classified by the future's output"
    );
    assert_eq!(
        m.count(
            "copilot_shapes_failures_total",
            &[("operation", "boxed"), ("error_type", "Rejected")]
        ),
        1.0
    );
    assert_eq!(m.count(PROCESSED, &op("boxed", "success")), 1.0);
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
    observe();
    let repo = Memory;
    assert_eq!(repo.load(1).await.unwrap(), 1);
    repo.load(0).await.unwrap_err();
    let worker = Arc::new(Worker);
    assert_eq!(worker.clone().run(3), 3);
    assert_eq!(worker.run(4), 4);

    let m = scrape();
    let op = |op, outcome| [("operation", op), ("outcome", outcome)];
    assert_eq!(m.count(PROCESSED, &op("repository_load", "success")), 1.0);
    assert_eq!(m.count(PROCESSED, &op("repository_load", "failure")), 1.0);
    assert_eq!(m.count(PROCESSED, &op("run", "success")), 2.0);
}
