use std::fmt::Debug;

use observe::instrumented;

#[instrumented(service = "shapes")]
fn largest<T: PartialOrd + Copy + Debug>(items: &[T]) -> Option<T> {
    items.iter().copied().fold(None, |max, x| match max {
        Some(m) if m >= x => Some(m),
        _ => Some(x),
    })
}

#[instrumented(service = "shapes", skip(convert))]
fn convert_all<T, U, F>(items: Vec<T>, convert: F) -> Vec<U>
where
    T: Debug,
    F: Fn(T) -> U,
{
    items.into_iter().map(convert).collect()
}

#[instrumented(service = "shapes")]
fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.len() >= b.len() { a } else { b }
}

#[instrumented(service = "shapes")]
fn first_word(s: &str) -> &str {
    s.split(' ').next().unwrap_or("")
}

#[instrumented(service = "shapes")]
fn sum_array<const N: usize>(values: [u32; N]) -> u32 {
    values.iter().sum()
}

#[instrumented(service = "shapes")]
async fn async_generic<T: Debug + Send + Clone>(value: &T) -> T {
    value.clone()
}

/// Returning a borrow of a captured `&mut` (tracing#2857).
#[instrumented(service = "shapes")]
fn first_mut(values: &mut [u8]) -> &mut u8 {
    &mut values[0]
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(largest(&[3, 9, 2]), Some(9));
    assert_eq!(convert_all(vec![1, 2], |x: i32| x.to_string()), vec!["1", "2"]);
    assert_eq!(longest("ab", "abc"), "abc");
    assert_eq!(first_word("hello world"), "hello");
    assert_eq!(sum_array([1, 2, 3]), 6);
    assert_eq!(futures::executor::block_on(async_generic(&"x".to_string())), "x");
    let mut v = [1u8, 2];
    *first_mut(&mut v) = 7;
    assert_eq!(v, [7, 2]);
}

#[path = "support/exposition.rs"]
mod exposition;
