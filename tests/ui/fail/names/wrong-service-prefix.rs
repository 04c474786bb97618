// N003: the name continues with its service: `<namespace>_<service>_`.
fn main() {
    observe::counter!("copilot_chunking_retries_total", service = "parsing", help = "Retries.")
        .increment(1);
}
