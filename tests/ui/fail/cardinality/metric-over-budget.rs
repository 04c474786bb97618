// C001 on a function-like macro with runtime labels: each adds its bound plus `_OTHER`.
fn main() {
    let (code, queue, dependency) = ("503", "parsing", "search");
    observe::histogram!(
        "copilot_parsing_dependency_call_duration_seconds",
        help = "Dependency calls.",
        labels(error_code = code, queue = queue, dependency = dependency),
    )
    .record(0.1);
}
