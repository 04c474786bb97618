//! Futures behind aliases and named types are recognised by their type (issue 15).

use std::future::{Future, Ready};
use std::pin::Pin;

use futures::future::{BoxFuture, LocalBoxFuture};
use observe::instrumented;

type TeamFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[instrumented(service = "shapes")]
fn boxed(n: u32) -> BoxFuture<'static, Result<u32, std::fmt::Error>> {
    Box::pin(async move { Ok(n) })
}

#[instrumented(service = "shapes")]
fn local(n: std::rc::Rc<u32>) -> LocalBoxFuture<'static, u32> {
    Box::pin(async move { *n })
}

#[instrumented(service = "shapes")]
fn team<'a>(name: &'a str) -> TeamFuture<'a, usize> {
    Box::pin(async move { name.len() })
}

#[instrumented(service = "shapes")]
fn ready(n: u32) -> Ready<Option<u32>> {
    std::future::ready(n.checked_sub(1))
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    futures::executor::block_on(async {
        assert_eq!(assert_send(boxed(3)).await, Ok(3));
        assert_eq!(local(std::rc::Rc::new(4)).await, 4);
        assert_eq!(assert_send(team("abc")).await, 3);
        assert_eq!(ready(1).await, Some(0));
    });
}

#[path = "support/exposition.rs"]
mod exposition;
