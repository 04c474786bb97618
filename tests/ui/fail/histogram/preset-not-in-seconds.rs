use observe::instrumented;

#[instrumented(service = "parsing", histogram = "size")]
fn parse() {}

fn main() {}
