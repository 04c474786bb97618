use std::collections::{BTreeMap, HashMap};

use observe::instrumented;

#[instrumented(service = "parsing", kind = "server", parent = headers, skip(headers))]
fn by_ref(headers: &http::HeaderMap, n: u32) -> u32 {
    n + headers.len() as u32
}

#[instrumented(service = "parsing", parent = headers, skip(headers))]
fn by_value(headers: http::HeaderMap) -> usize {
    headers.len()
}

#[instrumented(service = "parsing", kind = "consumer", parent = properties, skip_all)]
async fn from_queue(properties: HashMap<String, String>, body: String) -> usize {
    properties.len() + body.len()
}

#[instrumented(service = "parsing", parent = meta, skip_all)]
fn from_tree(meta: &BTreeMap<String, String>) -> usize {
    meta.len()
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    let mut headers = http::HeaderMap::new();
    observe::propagation::inject(&mut headers);
    assert_eq!(by_ref(&headers, 1), 1);
    assert_eq!(by_value(headers), 0);
    let _ = from_queue(HashMap::new(), String::new());
    assert_eq!(from_tree(&BTreeMap::new()), 0);
}

#[path = "support/exposition.rs"]
mod exposition;
