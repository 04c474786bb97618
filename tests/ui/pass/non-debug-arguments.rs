//! Arguments whose type does not implement `Debug` compile, unskipped, and keep every
//! parameter form Rust accepts (issue 15).

use std::iter::Sum;

use observe::instrumented;

struct NotDebug(u32);

#[instrumented(service = "shapes")]
fn evens(it: impl Iterator<Item = u32>) -> Vec<u32> {
    it.filter(|n| n % 2 == 0).collect()
}

#[instrumented(service = "shapes")]
fn total<T: Copy + Sum<T>>(items: &[T]) -> T {
    items.iter().copied().sum()
}

#[instrumented(service = "shapes")]
fn by_value(value: NotDebug) -> u32 {
    value.0
}

#[instrumented(service = "shapes")]
fn by_reference(value: &NotDebug, again: &mut NotDebug) -> u32 {
    again.0 += 1;
    value.0 + again.0
}

#[instrumented(service = "shapes")]
fn patterns(
    (a, b): (u32, u32),
    NotDebug(inner): NotDebug,
    [x, y]: [u8; 2],
    mut counter: u32,
    #[allow(unused_variables)] ignored: u32,
    _: u32,
) -> u32 {
    counter += 1;
    a + b + inner + u32::from(x) + u32::from(y) + counter
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(evens(0..6), [0, 2, 4]);
    assert_eq!(total(&[1.5f64, 2.5]), 4.0);
    assert_eq!(by_value(NotDebug(3)), 3);
    let mut again = NotDebug(1);
    assert_eq!(by_reference(&NotDebug(2), &mut again), 4);
    assert_eq!(again.0, 2);
    assert_eq!(patterns((1, 2), NotDebug(3), [4, 5], 6, 0, 0), 1 + 2 + 3 + 4 + 5 + 7);
}

#[path = "support/exposition.rs"]
mod exposition;
