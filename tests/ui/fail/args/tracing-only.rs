// tracing's arguments with no observe counterpart: refused, each with observe's way.
use observe::instrumented;

#[instrumented(service = "parsing", follows_from = [cause])]
fn linked(cause: u64) -> u64 {
    cause
}

#[instrumented(service = "parsing", parent = None)]
fn detached() {}

#[instrumented(service = "parsing", ret(Json), err = "x", level = 7)]
fn malformed(fail: bool) -> Result<(), std::fmt::Error> {
    if fail { Err(std::fmt::Error) } else { Ok(()) }
}

fn main() {}
