// The name is a string literal, so it can be checked before the code compiles.
fn main() {
    let name = "copilot_parsing_retry_attempts_total";
    observe::counter!(name, help = "Retries.").increment(1);
}
