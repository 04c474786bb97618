use observe::instrumented;

#[instrumented(service = "parsing", service = "chunking")]
fn parse() {}

fn main() {}
