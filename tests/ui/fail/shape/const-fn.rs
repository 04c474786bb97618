use observe::instrumented;

#[instrumented(service = "parsing")]
const fn answer() -> u32 {
    42
}

fn main() {
    let _ = answer();
}
