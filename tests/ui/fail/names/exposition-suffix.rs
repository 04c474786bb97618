// N010: `_bucket`, `_sum` and `_count` are the exposition's own suffixes.
fn main() {
    observe::counter!("copilot_parsing_messages_count", help = "Messages seen.").increment(1);
    observe::gauge!("copilot_parsing_latency_bucket", help = "Latency.").set(1.0);
}
