use observe::instrumented;

#[instrumented(histogram = "latency")]
fn parse() {}

fn main() {}
