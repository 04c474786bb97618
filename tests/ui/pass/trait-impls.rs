use std::future::Future;

use observe::instrumented;

trait Store {
    fn get(&self, key: &str) -> Option<u32>;
    async fn fetch(&self, key: &str) -> Result<u32, std::io::Error>;
    fn fetch_send(&self, key: &str) -> impl Future<Output = u32> + Send;
    fn with_default(&self, key: &str) -> u32 {
        self.get(key).unwrap_or(0)
    }
}

#[derive(Debug)]
struct Memory;

impl Store for Memory {
    #[instrumented(service = "shapes")]
    fn get(&self, key: &str) -> Option<u32> {
        (key == "a").then_some(1)
    }

    #[instrumented(service = "shapes")]
    async fn fetch(&self, key: &str) -> Result<u32, std::io::Error> {
        self.get(key).ok_or_else(|| std::io::ErrorKind::NotFound.into())
    }

    /// A trait that demands a `Send` future: the instrumented `async fn` still is one.
    #[instrumented(service = "shapes")]
    async fn fetch_send(&self, key: &str) -> u32 {
        key.len() as u32
    }

    #[instrumented(service = "shapes")]
    fn with_default(&self, key: &str) -> u32 {
        self.get(key).unwrap_or(42)
    }
}

struct Generic<T>(T);

impl<T: Clone + std::fmt::Debug> Generic<T> {
    #[instrumented(service = "shapes")]
    fn value(&self) -> T {
        self.0.clone()
    }
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    let m = Memory;
    assert_eq!(m.get("a"), Some(1));
    assert_eq!(futures::executor::block_on(m.fetch("a")).unwrap(), 1);
    assert!(futures::executor::block_on(m.fetch("b")).is_err());
    assert_eq!(futures::executor::block_on(m.fetch_send("abc")), 3);
    assert_eq!(m.with_default("z"), 42);
    assert_eq!(Generic(5).value(), 5);
}

#[path = "support/exposition.rs"]
mod exposition;
