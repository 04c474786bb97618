use observe::instrumented;

#[instrumented(servce = "parsing")]
fn parse() {}

fn main() {}
