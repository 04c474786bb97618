// S001: a latency SLO's threshold is a bucket bound of the function's preset; 3 s is
// between the `latency` preset's 2.5 and 5, so the histogram cannot count the calls under it.
use observe::instrumented;

#[instrumented(service = "parsing", slo(latency(threshold = "3s", target = "95%")))]
fn parse_message(raw: &str) -> usize {
    raw.len()
}

fn main() {
    let _ = parse_message("x");
}
