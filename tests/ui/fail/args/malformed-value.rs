use observe::instrumented;

#[instrumented(service = parsing, skip_all = "yes")]
fn parse() {}

fn main() {}
