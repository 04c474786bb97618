//! OpenTelemetry trace export: configuration from the builder and the standard `OTEL_*`
//! variables, the resource, the sampler and the OTLP exporter behind [`SpanExportQueue`].
//! Nothing here runs unless an endpoint is configured.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Key, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::export_queue::{DroppedSpans, OtlpExporter, SpanExportQueue};
use super::otlp_client::OtlpClient;
use super::otlp_encode::BatchEncoder;
use super::sampling::{self, RecordEverything, SamplerKind};
use crate::error::Error;
use crate::instrumented::all_call_sites;

/// The OTLP transport.
///
/// ```no_run
/// # fn main() -> Result<(), observe::Error> {
/// let _guard = observe::builder()
///     .otlp_endpoint("http://otel-collector:4318")
///     .otlp_protocol(observe::OtlpProtocol::HttpProtobuf)
///     .init()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// OTLP/gRPC (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc`), usually port 4317.
    #[default]
    Grpc,
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`), usually port 4318; spans are
    /// posted to `<endpoint>/v1/traces`.
    HttpProtobuf,
}

/// Whether export request bodies are compressed (`OTEL_EXPORTER_OTLP_COMPRESSION`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum OtlpCompression {
    #[default]
    None,
    Gzip,
}

/// What `OTEL_SERVICE_NAME` is when nothing names the service.
const UNKNOWN_SERVICE: &str = "unknown_service";
/// Spans waiting for export at most; past it new spans are dropped and counted.
const DEFAULT_QUEUE_CAPACITY: usize = 2048;
/// How long the guard waits for pending spans on shutdown.
const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// One export's deadline, retries included, unless `OTEL_EXPORTER_OTLP_TIMEOUT` says.
const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(3);

/// Trace export settings, part of the runtime's `Builder`.
#[derive(Debug, Clone)]
pub(crate) struct OtlpConfig {
    /// The collector; `None` disables export.
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) protocol: OtlpProtocol,
    pub(crate) service_name: Option<String>,
    pub(crate) service_version: Option<String>,
    pub(crate) sampler: SamplerKind,
    /// Overrides the environment's default ratio.
    pub(crate) ratio: Option<f64>,
    pub(crate) queue_capacity: usize,
    pub(crate) flush_timeout: Duration,
    /// Sent with every export request (`OTEL_EXPORTER_OTLP_HEADERS`), e.g. credentials.
    pub(crate) headers: HeaderMap,
    pub(crate) compression: OtlpCompression,
    pub(crate) export_timeout: Duration,
}

/// Where spans go: a base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`, the builder) or the traces
/// URL itself (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, used as is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Base(String),
    Traces(String),
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            endpoint: None,
            protocol: OtlpProtocol::Grpc,
            service_name: None,
            service_version: None,
            sampler: SamplerKind::ParentBasedTraceIdRatio,
            ratio: None,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
            headers: HeaderMap::new(),
            compression: OtlpCompression::None,
            export_timeout: DEFAULT_EXPORT_TIMEOUT,
        }
    }
}

impl OtlpConfig {
    /// Applies the standard variables that are set.
    pub(crate) fn read_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(url) = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            self.endpoint = Some(Endpoint::Traces(url));
        } else if let Some(url) = var("OTEL_EXPORTER_OTLP_ENDPOINT") {
            self.endpoint = Some(Endpoint::Base(url));
        }
        if let Some(value) =
            var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"))
        {
            self.protocol = match value.trim() {
                "grpc" => OtlpProtocol::Grpc,
                "http/protobuf" => OtlpProtocol::HttpProtobuf,
                _ => {
                    return Err(Error::InvalidEnv {
                        var: "OTEL_EXPORTER_OTLP_PROTOCOL",
                        value,
                        reason: "expected `grpc` or `http/protobuf` (`http/json` is not supported)",
                    });
                }
            };
        }
        // The `…_TRACES_…` variable wins; an error names the one that was read.
        let traces_or_all = |traces: &'static str, all: &'static str| {
            var(traces)
                .map(|value| (traces, value))
                .or_else(|| var(all).map(|value| (all, value)))
        };
        if let Some((var, value)) = traces_or_all(
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
        ) {
            self.headers = parse_headers(&value).ok_or(Error::InvalidEnv {
                var,
                value,
                reason: "expected `key=value` pairs separated by commas, values URL-encoded",
            })?;
        }
        if let Some((var, value)) = traces_or_all(
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ) {
            self.compression = match value.trim() {
                "gzip" => OtlpCompression::Gzip,
                "none" | "" => OtlpCompression::None,
                _ => {
                    return Err(Error::InvalidEnv {
                        var,
                        value,
                        reason: "expected `gzip` or `none`",
                    });
                }
            };
        }
        if let Some((var, value)) = traces_or_all(
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ) {
            self.export_timeout = value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis)
                .ok_or(Error::InvalidEnv {
                    var,
                    value,
                    reason: "expected a number of milliseconds, such as `10000`",
                })?;
        }
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            self.endpoint = None;
        }
        if let Some(name) = var("OTEL_SERVICE_NAME") {
            self.service_name = Some(name);
        }
        if let Some(value) = var("OTEL_TRACES_SAMPLER") {
            self.sampler = SamplerKind::parse(&value).ok_or(Error::InvalidEnv {
                var: "OTEL_TRACES_SAMPLER",
                value,
                reason: SamplerKind::NAMES_REASON,
            })?;
        }
        if let Some(value) = var("OTEL_TRACES_SAMPLER_ARG") {
            self.ratio = Some(parse_ratio(&value).ok_or(Error::InvalidEnv {
                var: "OTEL_TRACES_SAMPLER_ARG",
                value,
                reason: "expected a ratio between 0 and 1, such as `0.1`",
            })?);
        }
        Ok(())
    }

    /// The ratio in force: the override, else the environment's default.
    pub(crate) fn ratio(&self, environment: &str) -> f64 {
        self.ratio
            .unwrap_or_else(|| sampling::default_ratio(environment))
    }
}

/// `key1=value1,key2=value2`, values percent-decoded (the OTLP exporter specification).
fn parse_headers(value: &str) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    for pair in value.split(',').filter(|pair| !pair.trim().is_empty()) {
        let (key, value) = pair.split_once('=')?;
        let name = HeaderName::from_bytes(key.trim().as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(&percent_decode(value.trim())?).ok()?;
        headers.append(name, value);
    }
    Some(headers)
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    Some(decoded)
}

pub(crate) fn parse_ratio(value: &str) -> Option<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
}

/// The service's name, most explicit first: the builder or `OTEL_SERVICE_NAME`, then
/// `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, then the one service every linked
/// `#[instrumented]` function names, else `unknown_service`.
pub(crate) fn service_name(config: &OtlpConfig) -> String {
    if let Some(name) = &config.service_name {
        return name.clone();
    }
    let detected = Resource::builder().build();
    if let Some(name) = detected.get(&Key::from_static_str("service.name")) {
        let name = name.as_str();
        // The SDK's own fallback is `unknown_service:<executable>`.
        if !name.starts_with(UNKNOWN_SERVICE) {
            return name.into_owned();
        }
    }
    let mut services = all_call_sites().map(|s| s.meta().service);
    match services.next() {
        Some(first) if services.all(|s| s == first) => first.to_owned(),
        _ => UNKNOWN_SERVICE.to_owned(),
    }
}

/// A running trace pipeline: the provider the `tracing` layer's tracer belongs to.
#[derive(Debug)]
pub(crate) struct OtlpPipeline {
    provider: SdkTracerProvider,
    flush_timeout: Duration,
}

impl OtlpPipeline {
    /// The OTLP client; its connection tasks run on `io`. Built before anything global
    /// is installed, so a bad endpoint fails `init` cleanly.
    pub(crate) fn exporter(
        config: &OtlpConfig,
        endpoint: &Endpoint,
        io: &tokio::runtime::Handle,
    ) -> Result<OtlpClient, Error> {
        let _entered = io.enter();
        let url = endpoint_url(config.protocol, endpoint);
        OtlpClient::new(
            config.protocol,
            &url,
            config.headers.clone(),
            config.compression,
            config.export_timeout,
        )
        .map_err(|reason| Error::TraceExporter {
            endpoint: url,
            reason,
        })
    }

    /// The provider feeding `client` through the export task on `io`, and its tracer.
    pub(crate) fn start(
        config: &OtlpConfig,
        client: OtlpClient,
        environment: &str,
        service_name: &str,
        io: &tokio::runtime::Handle,
    ) -> (Self, SdkTracer) {
        let resource = resource(config, environment, service_name);
        let endpoint = config
            .endpoint
            .as_ref()
            .map_or_else(String::new, |e| endpoint_url(config.protocol, e));
        let exporter = OtlpExporter {
            encoder: BatchEncoder::new(&resource),
            client,
        };
        let processor = SpanExportQueue::start(
            exporter,
            io,
            config.queue_capacity,
            config.flush_timeout,
            DroppedSpans::register(service_name, &endpoint),
        );
        // Instrumented functions' spans are observe's own, sampled by the same rule.
        super::call_export::start(
            processor.sender(),
            config.sampler,
            config.ratio(environment),
            crate::clock::Ticks::new(),
        );
        let sampler = RecordEverything(config.sampler.sampler(config.ratio(environment)));
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(sampler)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("observe");
        let pipeline = OtlpPipeline {
            provider,
            flush_timeout: config.flush_timeout,
        };
        (pipeline, tracer)
    }

    /// Exports what is pending, waiting at most the flush timeout.
    pub(crate) fn flush(&self) -> bool {
        self.provider.force_flush().is_ok()
    }

    /// Exports what is pending, waiting at most the flush timeout, and stops.
    pub(crate) fn shutdown(&self) {
        if let Err(error) = self.provider.shutdown_with_timeout(self.flush_timeout) {
            eprintln!("observe: pending spans not exported at shutdown: {error}");
        }
    }
}

/// The traces URL the exporter is given: gRPC takes the base; HTTP posts to `/v1/traces`
/// under it, unless the traces URL was given directly.
pub(crate) fn endpoint_url(protocol: OtlpProtocol, endpoint: &Endpoint) -> String {
    match (protocol, endpoint) {
        (_, Endpoint::Traces(url)) | (OtlpProtocol::Grpc, Endpoint::Base(url)) => url.clone(),
        (OtlpProtocol::HttpProtobuf, Endpoint::Base(url)) => {
            format!("{}/v1/traces", url.trim_end_matches('/'))
        }
    }
}

/// `OTEL_RESOURCE_ATTRIBUTES` and the SDK's attributes, then `service.name`,
/// `deployment.environment.name` and, if known, `service.version`.
fn resource(config: &OtlpConfig, environment: &str, service_name: &str) -> Resource {
    let mut builder = Resource::builder()
        .with_service_name(service_name.to_owned())
        .with_attribute(KeyValue::new(
            "deployment.environment.name",
            environment.to_owned(),
        ));
    if let Some(version) = &config.service_version {
        builder = builder.with_attribute(KeyValue::new("service.version", version.clone()));
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn standard_variables_are_honoured() {
        let mut config = OtlpConfig::default();
        config
            .read_env(env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_SERVICE_NAME", "parsing"),
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ]))
            .unwrap();
        assert_eq!(config.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(
            endpoint_url(config.protocol, config.endpoint.as_ref().unwrap()),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(config.service_name.as_deref(), Some("parsing"));
        assert_eq!(config.sampler, SamplerKind::TraceIdRatio);
        assert_eq!(config.ratio("prod"), 0.25);
    }

    #[test]
    fn ratio_defaults_to_the_environment() {
        let config = OtlpConfig::default();
        assert_eq!(config.ratio("prod"), 0.1);
        assert_eq!(config.ratio("staging"), 0.5);
        assert_eq!(config.ratio("dev"), 1.0);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ] {
            let error = OtlpConfig::default()
                .read_env(env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(error.contains(var), "{error}");
        }
    }

    #[test]
    fn headers_compression_and_timeout_are_read() {
        let mut config = OtlpConfig::default();
        config
            .read_env(env(&[
                ("OTEL_EXPORTER_OTLP_HEADERS", "x-scope=all"),
                (
                    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                    "authorization=Bearer%20abc%3D, x-tenant = blue",
                ),
                ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
                ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10000"),
            ]))
            .unwrap();
        assert_eq!(config.headers["authorization"], "Bearer abc=");
        assert_eq!(config.headers["x-tenant"], "blue");
        assert!(
            !config.headers.contains_key("x-scope"),
            "the traces variable wins"
        );
        assert_eq!(config.compression, OtlpCompression::Gzip);
        assert_eq!(config.export_timeout, Duration::from_secs(10));
        for (var, value) in [
            ("OTEL_EXPORTER_OTLP_HEADERS", "no-equals-sign"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "bad header=1"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "k=%zz"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "no-equals-sign"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0"),
        ] {
            let error = OtlpConfig::default()
                .read_env(env(&[(var, value)]))
                .unwrap_err()
                .to_string();
            assert!(error.contains(var), "{error}");
        }
    }

    #[test]
    fn sdk_disabled_turns_export_off_and_traces_url_is_kept() {
        let mut config = OtlpConfig::default();
        config
            .read_env(env(&[
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/custom"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ]))
            .unwrap();
        assert_eq!(
            endpoint_url(config.protocol, config.endpoint.as_ref().unwrap()),
            "http://c:4318/custom"
        );
        config
            .read_env(env(&[("OTEL_SDK_DISABLED", "true")]))
            .unwrap();
        assert_eq!(config.endpoint, None);
    }
}
