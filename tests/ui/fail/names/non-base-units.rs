// N009: base units only, spelled out: seconds not milliseconds or `ms`, bytes not `kb`.
fn main() {
    observe::histogram!("copilot_parsing_latency_milliseconds", help = "Parse latency.").record(3.0);
    observe::histogram!("copilot_parsing_latency_ms", help = "Parse latency.").record(3.0);
    observe::gauge!("copilot_parsing_buffer_kb", help = "Buffered input.").set(3.0);
}
