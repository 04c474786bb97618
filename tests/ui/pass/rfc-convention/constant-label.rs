// A constant label under the built-in label table (`queue` bounded at 30, not declared in
// `observe.toml`): this site produces one `queue` value, so its duration histogram has
// 3 (outcome) × 13 (bucket series) series, well within the budget. The family's total
// over all of its sites is checked at `init` (and by `observe::check_series_budgets`).
use observe::instrumented;

#[instrumented(service = "orchestrator", labels(queue = "summarization"))]
fn summarize(text: &str) -> usize {
    text.len()
}

#[instrumented(service = "orchestrator", labels(queue = "translation"))]
fn translate(text: &str) -> usize {
    text.len() * 2
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(summarize("abc"), 3);
    assert_eq!(translate("abc"), 6);
    observe::check_series_budgets().expect("two small sites fit the budget");
}

#[path = "../support/exposition.rs"]
mod exposition;
