// S002: with `services` in observe.toml, the service is one of them (typo: nearest match).
use observe::instrumented;

#[instrumented(service = "parsnig")]
fn parse() {}

fn main() {
    observe::counter!("copilot_chunkng_retries_total", help = "Retries.").increment(1);
}
