use observe::instrumented;

#[derive(Debug)]
struct Message {
    id: u64,
}

#[instrumented(
    service = "parsing",
    histogram = "latency",
    name = "generation",
    operation = "generate",
    level = "debug",
    skip(secret),
    fields(message.id = message.id, kind = "test"),
    labels(queue = "parsing", collection = "documents"),
    crate = ::observe,
)]
fn generate(message: &Message, secret: &str) -> usize {
    secret.len() + message.id as usize
}

#[instrumented(service = "parsing", level = WARN)]
fn level_as_ident() {}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(generate(&Message { id: 1 }, "ab"), 3);
    level_as_ident();
}

#[path = "support/exposition.rs"]
mod exposition;
