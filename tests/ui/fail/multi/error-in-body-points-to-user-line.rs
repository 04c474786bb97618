use observe::instrumented;

#[instrumented(service = "parsing")]
fn parse(input: &str) -> usize {
    let count: u32 = input.len();
    count as usize
}

#[instrumented(service = "parsing")]
async fn parse_async(input: &str) -> Result<usize, std::io::Error> {
    let count: String = input.len();
    Ok(count.len())
}

fn main() {}
