use observe::instrumented;

#[instrumented(service = "parsing", labels(queue = "a", queue = "b"))]
fn parse() {}

fn main() {}
