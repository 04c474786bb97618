use observe::instrumented;

#[instrumented(service = "parsing", labels(le = "1", quantile = "0.5"))]
fn parse() {}

fn main() {}
