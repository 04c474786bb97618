// A001 for the function-like macros: unknown keys (labels go inside `labels(…)`),
// duplicates, and malformed values, all reported.
fn main() {
    observe::counter!(
        "copilot_parsing_retry_attempts_total",
        hlep = "Retries.",
        queue = "parsing",
        help = "Retries.",
        help = "Again.",
        preset = 3,
    )
    .increment(1);
}
