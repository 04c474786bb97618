use observe::instrumented;

#[instrumented(service = "parsing", kind = "server")]
fn serve(n: u32) -> u32 {
    call(n) + publish(n) + consume(n) + internal(n)
}

#[instrumented(service = "parsing", kind = "client")]
fn call(n: u32) -> u32 {
    n
}

#[instrumented(service = "parsing", kind = "producer")]
fn publish(n: u32) -> u32 {
    n
}

#[instrumented(service = "parsing", kind = "consumer", skip_all)]
async fn consume_async(n: u32) -> u32 {
    n
}

#[instrumented(service = "parsing", kind = "consumer")]
fn consume(n: u32) -> u32 {
    n
}

#[instrumented(service = "parsing", kind = "internal")]
fn internal(n: u32) -> u32 {
    n
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(serve(1), 4);
    let _ = consume_async(2);
}

#[path = "support/exposition.rs"]
mod exposition;
