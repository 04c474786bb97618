// C001: the product of the labels' bounds stays within the series budget; the error
// prints the product.
use observe::instrumented;

#[instrumented(service = "parsing", labels(error_code = "503"))]
fn call_dependency() {}

fn main() {}
