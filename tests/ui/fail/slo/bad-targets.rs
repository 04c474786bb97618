// S002: every problem of `slo(…)` at once: a target outside (0%, 100%), a threshold
// without a unit, an unknown key.
use observe::instrumented;

#[instrumented(
    service = "parsing",
    slo(availability = "100%", latency(threshold = "5", target = "95%"), availabilty = "99%")
)]
fn parse_message(raw: &str) -> usize {
    raw.len()
}

fn main() {
    let _ = parse_message("x");
}
