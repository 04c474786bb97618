use observe::instrumented;

// The attribute is wrong, but `parse` still exists: callers get no follow-on errors.
#[instrumented(service = "parsing", labels(email = "x"))]
fn parse(input: &str) -> usize {
    input.len()
}

fn main() {
    let n: usize = parse("abc");
    let _ = n;
}
