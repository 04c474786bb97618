// N006: only counters end in `_total`.
fn main() {
    observe::gauge!("copilot_parsing_depth_total", help = "Messages waiting.").set(1.0);
    observe::histogram!("copilot_parsing_batch_total", help = "Messages per batch.").record(1.0);
}
