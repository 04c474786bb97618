//! `http::HeaderMap` as a trace-context carrier. The two trace-context headers are looked
//! up by static name: a lookup by `&str` parses the name first, which was half of what
//! continuing a request's trace cost (`scripts/request_cost.sh`).

use http::HeaderName;
use opentelemetry::propagation::{Extractor, Injector};

static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

fn static_name(key: &str) -> Option<&'static HeaderName> {
    match key {
        "traceparent" => Some(&TRACEPARENT),
        "tracestate" => Some(&TRACESTATE),
        _ => None,
    }
}

pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    /// The value, if it is visible ASCII.
    fn get(&self, key: &str) -> Option<&str> {
        let value = match static_name(key) {
            Some(name) => self.0.get(name),
            None => self.0.get(key),
        };
        value.and_then(|value| value.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

pub(crate) struct HeaderInjector<'a>(pub(crate) &'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    /// Skips a key or value that is not a valid header (none of the trace-context ones).
    fn set(&mut self, key: &str, value: String) {
        let name = match static_name(key) {
            Some(name) => Ok(name.clone()),
            None => HeaderName::from_bytes(key.as_bytes()),
        };
        if let (Ok(name), Ok(value)) = (name, http::HeaderValue::from_str(&value)) {
            self.0.insert(name, value);
        }
    }
}
