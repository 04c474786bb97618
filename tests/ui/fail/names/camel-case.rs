// N001: lowercase snake_case, not camelCase.
fn main() {
    observe::counter!("copilotParsingRetriesTotal", help = "Retries.").increment(1);
}
