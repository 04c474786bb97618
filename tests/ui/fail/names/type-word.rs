// N011: no type words in names (the type is in `# TYPE`), also through `name`.
use observe::instrumented;

#[instrumented(service = "parsing", name = "gauge")]
fn parse() {}

fn main() {
    observe::counter!("copilot_parsing_retry_counter_total", help = "Retries.").increment(1);
    parse();
}
