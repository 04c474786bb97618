use observe::instrumented;

#[instrumented(service = "parsing", level = "verbose")]
fn parse() {}

fn main() {}
