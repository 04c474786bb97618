// H002: the preset measures the unit the histogram's name ends in; counters take none.
fn main() {
    observe::histogram!("copilot_parsing_body_bytes", help = "Body sizes.", preset = "latency")
        .record(10.0);
    observe::counter!("copilot_parsing_retry_attempts_total", help = "Retries.", preset = "latency")
        .increment(1);
}
