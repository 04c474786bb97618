use observe::instrumented;

#[instrumented(service = "parsing")]
struct Handler;

fn main() {}
