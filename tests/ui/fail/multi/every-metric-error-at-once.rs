// Every violation of one call is reported, and the expression keeps its type, so no
// follow-on errors appear.
fn main() {
    let queue = String::from("parsing");
    observe::counter!(
        "copilot_parsing_retries",
        labels(user_id = "42", queue = queue, le = "1"),
    )
    .increment(1);
}
