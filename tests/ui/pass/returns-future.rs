use std::future::Future;
use std::pin::Pin;

use observe::instrumented;

#[instrumented(service = "shapes")]
fn later(n: u32) -> impl Future<Output = Result<u32, std::io::Error>> + Send {
    async move { Ok(n + 1) }
}

#[instrumented(service = "shapes")]
fn borrowing<'a>(s: &'a str) -> impl Future<Output = usize> + 'a {
    async move { s.len() }
}

/// The shape `async-trait` expands to.
#[instrumented(service = "shapes")]
fn boxed(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send + 'static>> {
    Box::pin(async move { n * 3 })
}

#[instrumented(service = "shapes")]
fn ready(n: u32) -> std::future::Ready<u32> {
    std::future::ready(n)
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(futures::executor::block_on(assert_send(later(1))).unwrap(), 2);
    assert_eq!(futures::executor::block_on(borrowing("abc")), 3);
    assert_eq!(futures::executor::block_on(assert_send(boxed(2))), 6);
    assert_eq!(futures::executor::block_on(ready(5)), 5);
}

#[path = "support/exposition.rs"]
mod exposition;
