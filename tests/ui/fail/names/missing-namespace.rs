// N002: every name starts with the namespace (`copilot` in this repository's observe.toml).
fn main() {
    observe::counter!("parsing_retries_total", help = "Retries.").increment(1);
}
