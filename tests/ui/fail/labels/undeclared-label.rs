// L008: every label has a declared bound, else its series cannot be counted.
use observe::instrumented;

#[instrumented(service = "parsing", labels(tenant = "acme"))]
fn parse() {}

fn main() {
    observe::counter!("copilot_parsing_retry_attempts_total", help = "Retries.", labels(qeue = "parsing"))
        .increment(1);
}
