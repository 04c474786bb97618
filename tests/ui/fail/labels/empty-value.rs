// L009: a label value is not empty.
use observe::instrumented;

#[instrumented(service = "parsing", labels(database = ""))]
fn parse() {}

fn main() {}
