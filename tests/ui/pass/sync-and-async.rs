use observe::instrumented;

#[instrumented(service = "shapes")]
fn sync_fn(a: u32, b: u32) -> u32 {
    a + b
}

#[instrumented(service = "shapes")]
async fn async_fn(a: u32) -> Result<u32, std::io::Error> {
    Ok(a * 2)
}

#[instrumented(service = "shapes")]
fn unit_fn() {}

#[instrumented(service = "shapes")]
async fn async_unit_fn() {}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(sync_fn(1, 2), 3);
    unit_fn();
    assert_eq!(futures::executor::block_on(async_fn(4)).unwrap(), 8);
    futures::executor::block_on(async_unit_fn());
}

#[path = "support/exposition.rs"]
mod exposition;
