// M001: every metric has HELP text, one non-empty line.
fn main() {
    observe::counter!("copilot_parsing_retry_attempts_total").increment(1);
    observe::gauge!("copilot_parsing_queue_depth_messages", help = "  ").set(1.0);
}
