// L007: a literal label value is inside the label's declared set.
use observe::instrumented;

#[instrumented(service = "parsing", labels(queue = "parsng"))]
fn parse() {}

fn main() {
    observe::gauge!("copilot_parsing_queue_depth_messages", help = "Waiting.", labels(queue = "embedding"))
        .set(1.0);
    observe::counter!("copilot_parsing_documents_total", help = "Documents by status.", labels(status = "done"))
        .increment(1);
}
