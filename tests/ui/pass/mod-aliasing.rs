//! Local items named like the runtime's dependencies cannot shadow generated paths.

mod tracing {}
mod metrics {}
mod inventory {}
#[allow(dead_code)]
struct CallGuard;
#[allow(dead_code)]
fn once() {}

use observe::instrumented;

#[instrumented(service = "shapes")]
fn aliased(x: u8) -> u8 {
    x
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(aliased(3), 3);
}

#[path = "support/exposition.rs"]
mod exposition;
