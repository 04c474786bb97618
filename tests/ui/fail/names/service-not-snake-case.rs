use observe::instrumented;

#[instrumented(service = "ParsingService")]
fn parse() {}

fn main() {}
