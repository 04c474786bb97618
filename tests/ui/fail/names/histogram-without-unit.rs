// N007: a histogram's name ends in its base unit.
fn main() {
    observe::histogram!("copilot_parsing_batch_size", help = "Messages per batch.").record(3.0);
}
