// N013: a function-like macro may not take the name of one of the metrics
// `#[instrumented]` records for the service: the exposition would hold two families
// under one name.
fn main() {
    observe::counter!(
        "copilot_parsing_messages_processed_total",
        help = "Messages processed, counted by hand.",
    )
    .increment(1);
    observe::histogram!(
        "copilot_parsing_duration_seconds",
        help = "Parse time.",
    )
    .record(0.1);
}
