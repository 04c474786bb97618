use std::fmt::Display;

use observe::instrumented;

#[instrumented(service = "shapes", skip(items))]
fn join(items: impl IntoIterator<Item = impl Display>) -> String {
    items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

#[instrumented(service = "shapes")]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[instrumented(service = "shapes")]
fn boxed_display(n: u32) -> Box<impl Display> {
    Box::new(n)
}

#[instrumented(service = "shapes")]
fn fallible_iter(ok: bool) -> Result<impl Iterator<Item = u8>, std::fmt::Error> {
    if !ok {
        return Err(std::fmt::Error);
    }
    Ok([1u8, 2].into_iter())
}

#[instrumented(service = "shapes")]
async fn async_impl_display(n: u32) -> impl Display {
    n + 1
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(join([1, 2, 3]), "1,2,3");
    assert_eq!(evens(5).collect::<Vec<_>>(), [0, 2, 4]);
    assert_eq!(boxed_display(4).to_string(), "4");
    assert_eq!(fallible_iter(true).unwrap().count(), 2);
    assert!(fallible_iter(false).is_err());
    assert_eq!(futures::executor::block_on(async_impl_display(1)).to_string(), "2");
}

#[path = "support/exposition.rs"]
mod exposition;
