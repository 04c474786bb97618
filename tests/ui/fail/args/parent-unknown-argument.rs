use std::collections::HashMap;

use observe::instrumented;

#[instrumented(service = "parsing", parent = header)]
fn handle(headers: &http::HeaderMap) -> usize {
    headers.len()
}

#[instrumented(service = "parsing", parent = incoming)]
fn consume(body: &str, properties: &HashMap<String, String>) -> usize {
    body.len() + properties.len()
}

#[instrumented(service = "parsing", parent = "headers")]
fn quoted(headers: &http::HeaderMap) -> usize {
    headers.len()
}

fn main() {}
