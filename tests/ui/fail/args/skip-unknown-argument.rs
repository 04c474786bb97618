use observe::instrumented;

#[instrumented(service = "parsing", skip(mesage))]
fn parse(message: &str) -> usize {
    message.len()
}

fn main() {}
