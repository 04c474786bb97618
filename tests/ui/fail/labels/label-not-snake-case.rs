use observe::instrumented;

#[instrumented(service = "parsing", labels(queueName = "parsing"))]
fn parse() {}

fn main() {}
