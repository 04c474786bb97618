use observe::instrumented;

#[instrumented(service = "parsing", labels(user_id = "42"))]
fn parse() {}

fn main() {}
