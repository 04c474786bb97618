use observe::instrumented;

#[instrumented(service = "parsing", labels(queue = "parsing", queue = "chunking"))]
fn parse() {}

fn main() {}
