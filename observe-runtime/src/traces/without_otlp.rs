//! Stands in for `otlp.rs` when the `otlp` feature is off: the configuration keeps only
//! the service name (JSON logs and Pushgateway pushes use it), and no span exporter or
//! pipeline can exist, so `init` and the guard compile unchanged and never export.

use opentelemetry::Context;

use crate::error::Error;
use crate::instrumented::all_call_sites;

/// What `OTEL_SERVICE_NAME` is when nothing names the service.
const UNKNOWN_SERVICE: &str = "unknown_service";

/// The part of the trace settings a metrics-only build has.
#[derive(Debug, Clone, Default)]
pub(crate) struct OtlpConfig {
    /// Always `None`: without the feature nothing configures a collector.
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) service_name: Option<String>,
}

/// No collector can be configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {}

impl OtlpConfig {
    /// Only `OTEL_SERVICE_NAME`; the export variables are reported by
    /// `init::compiled_out` instead of being parsed.
    pub(crate) fn read_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(name) = var("OTEL_SERVICE_NAME") {
            self.service_name = Some(name);
        }
        Ok(())
    }
}

/// The service's name, in the order the full build uses: the builder or
/// `OTEL_SERVICE_NAME`, then `service.name` in `OTEL_RESOURCE_ATTRIBUTES` (read as the
/// SDK's resource detector reads it), then the one service every linked `#[instrumented]`
/// function names, else `unknown_service`.
pub(crate) fn service_name(config: &OtlpConfig) -> String {
    if let Some(name) = &config.service_name {
        return name.clone();
    }
    let attributes = std::env::var("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default();
    if let Some(name) = resource_service_name(&attributes) {
        return name.to_owned();
    }
    let mut services = all_call_sites().map(|s| s.meta().service);
    match services.next() {
        Some(first) if services.all(|s| s == first) => first.to_owned(),
        _ => UNKNOWN_SERVICE.to_owned(),
    }
}

/// `service.name` in `key=value,…` (trimmed, the last one wins, as in the SDK).
fn resource_service_name(attributes: &str) -> Option<&str> {
    attributes
        .split_terminator(',')
        .filter_map(|entry| entry.split_once('='))
        .filter(|(key, _)| key.trim() == "service.name")
        .map(|(_, value)| value.trim())
        .next_back()
        .filter(|name| !name.is_empty() && !name.starts_with(UNKNOWN_SERVICE))
}

/// A span exporter: none can be built without an endpoint.
pub(crate) enum SpanExporter {}

/// A running trace pipeline: none exists in this build.
#[derive(Debug)]
pub(crate) enum OtlpPipeline {}

impl OtlpPipeline {
    pub(crate) fn exporter(
        _: &OtlpConfig,
        endpoint: &Endpoint,
        _: &tokio::runtime::Handle,
    ) -> Result<SpanExporter, Error> {
        match *endpoint {}
    }

    /// `Tracer` is whatever the log subscriber takes: no value of it is ever made here.
    pub(crate) fn start<Tracer>(
        _: &OtlpConfig,
        exporter: SpanExporter,
        _: &str,
        _: &str,
        _: &tokio::runtime::Handle,
    ) -> (Self, Tracer) {
        match exporter {}
    }

    pub(crate) fn flush(&self) -> bool {
        match *self {}
    }

    pub(crate) fn shutdown(&self) {
        match *self {}
    }
}

/// `tracing_opentelemetry`'s span extension as `propagation` uses it: without the
/// OpenTelemetry layer no span carries a context (and `propagation` reads it only when
/// spans are exported, which they never are here).
pub(crate) trait OpenTelemetrySpanExt {
    fn set_parent(&self, cx: Context) -> Result<(), std::convert::Infallible>;
}

impl OpenTelemetrySpanExt for tracing::Span {
    fn set_parent(&self, _: Context) -> Result<(), std::convert::Infallible> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_name_from_resource_attributes() {
        assert_eq!(
            resource_service_name("team=a, service.name = orders ,x=y"),
            Some("orders")
        );
        assert_eq!(
            resource_service_name("service.name=a,service.name=b"),
            Some("b")
        );
        for none in [
            "",
            "team=a",
            "service.name=",
            "service.name=unknown_service:x",
            "garbage",
        ] {
            assert_eq!(resource_service_name(none), None, "{none}");
        }
    }

    #[test]
    fn only_the_service_name_is_read_and_nothing_fails() {
        let mut config = OtlpConfig::default();
        config
            .read_env(|name| match name {
                "OTEL_SERVICE_NAME" => Some("parsing".into()),
                // Invalid in the full build; irrelevant here.
                _ => Some("bogus".into()),
            })
            .unwrap();
        assert_eq!(config.service_name.as_deref(), Some("parsing"));
        assert!(config.endpoint.is_none());
        assert_eq!(service_name(&config), "parsing");
    }
}
