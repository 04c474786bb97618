#![allow(unsafe_op_in_unsafe_fn)]

use observe::instrumented;

/// An `unsafe fn` whose body performs unsafe operations without an `unsafe` block.
#[instrumented(service = "shapes", skip(ptr))]
unsafe fn read(ptr: *const u32) -> u32 {
    *ptr
}

#[instrumented(service = "shapes", skip(ptr))]
unsafe fn read_in_block(ptr: *const u32) -> u32 {
    unsafe { *ptr }
}

#[instrumented(service = "shapes")]
pub extern "C" fn c_abi(x: u32) -> u32 {
    x + 1
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    let value = 7u32;
    assert_eq!(unsafe { read(&value) }, 7);
    assert_eq!(unsafe { read_in_block(&value) }, 7);
    assert_eq!(c_abi(1), 2);
}

#[path = "support/exposition.rs"]
mod exposition;
