//! `http::HeaderMap` as a trace-context carrier in builds without the `otlp` feature
//! (with it, `opentelemetry-http`'s adapters do this; that crate comes with the exporter).

use opentelemetry::propagation::{Extractor, Injector};

pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    /// The value, if it is visible ASCII.
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

pub(crate) struct HeaderInjector<'a>(pub(crate) &'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    /// Skips a key or value that is not a valid header (none of the trace-context ones).
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}
