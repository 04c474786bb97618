use observe::instrumented;

#[instrumented(service = "parsing", histogram = "latncy")]
fn parse() {}

fn main() {}
