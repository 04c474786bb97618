use observe::instrumented;

// Both mistakes are reported at once.
#[instrumented(service = "parsing", kind = "sever", level = "verbos")]
fn handle() {}

#[instrumented(service = "parsing", kind = "queue")]
fn consume() {}

#[instrumented(service = "parsing", kind = consumer)]
fn unquoted() {}

fn main() {}
