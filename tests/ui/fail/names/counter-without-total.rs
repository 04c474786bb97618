// N005: a counter's name ends in `_total`.
fn main() {
    observe::counter!("copilot_parsing_retries", help = "Parse attempts retried.").increment(1);
}
