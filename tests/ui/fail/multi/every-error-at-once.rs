use observe::instrumented;

#[instrumented(
    service = "Parsing",
    histogram = "tokens",
    histgram = "latency",
    level = "loud",
    labels(request_id = "x", le = "1"),
)]
fn parse() {}

fn main() {}
