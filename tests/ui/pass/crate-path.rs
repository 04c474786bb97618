//! `crate = path` for a re-exported or renamed `observe`.

mod reexport {
    pub use observe;
}

use observe::instrumented;

#[instrumented(service = "shapes", crate = reexport::observe)]
fn through_reexport(x: u8) -> u8 {
    x
}

#[instrumented(service = "shapes", crate = "::observe")]
fn string_path(x: u8) -> u8 {
    x
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(through_reexport(1), 1);
    assert_eq!(string_path(2), 2);
}

#[path = "support/exposition.rs"]
mod exposition;
