use observe::instrumented;

trait Handler {
    #[instrumented(service = "parsing")]
    fn handle(&self) -> u32;
}

fn main() {}
