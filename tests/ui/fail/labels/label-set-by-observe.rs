use observe::instrumented;

#[instrumented(service = "parsing", labels(outcome = "ok", environment = "prod"))]
fn parse() {}

fn main() {}
