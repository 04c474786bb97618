// N008: a gauge's name ends in a unit or `_current`.
fn main() {
    observe::gauge!("copilot_parsing_queue_depth", help = "Messages waiting.").set(3.0);
}
