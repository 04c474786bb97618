// L004: observe sets `service` and `environment` on every series itself.
fn main() {
    observe::counter!(
        "copilot_parsing_retry_attempts_total",
        help = "Retries.",
        labels(service = "parsing", environment = "prod"),
    )
    .increment(1);
}
