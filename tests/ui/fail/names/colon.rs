// N012: colons are reserved for recording rules.
fn main() {
    observe::counter!("copilot:parsing_retries_total", help = "Retries.").increment(1);
}
