// H001: the preset exists (typo: nearest match).
fn main() {
    observe::histogram!("copilot_parsing_request_seconds", help = "Requests.", preset = "latncy")
        .record(0.2);
}
