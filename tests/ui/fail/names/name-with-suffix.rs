use observe::instrumented;

#[instrumented(service = "parsing", name = "generation_seconds")]
fn generate() {}

fn main() {}
