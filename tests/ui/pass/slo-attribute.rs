//! An SLO next to the code: availability, and a latency whose threshold is a bound of the
//! function's preset (`latency`: …, 0.5, 1, …). The catalogue carries both.

use observe::instrumented;

#[instrumented(
    service = "shapes",
    slo(availability = "99.95%", latency(threshold = "500ms", target = "99%"))
)]
fn parse_message(raw: &str) -> Result<usize, std::num::ParseIntError> {
    raw.parse()
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(parse_message("12"), Ok(12));
    let catalog = observe::catalog();
    let op = &catalog.services[0].operations[0];
    assert_eq!(op.availability.to_string(), "99.95%");
    let latency = op.latency.as_ref().expect("a latency SLO");
    assert_eq!((latency.threshold_seconds, latency.target.to_string().as_str()), (0.5, "99%"));
}

#[path = "support/exposition.rs"]
mod exposition;
