//! The runtime's configuration from code: [`builder`] and its setters.

use std::net::SocketAddr;
#[cfg(any(feature = "otlp", feature = "pushgateway"))]
use std::time::Duration;

use super::compiled_out::CompiledOut;
use crate::logs::LogFormat;
use crate::names::{DEFAULT_ENVIRONMENT, DEFAULT_METRICS_ADDR};
use crate::serve::auth::AuthSource;
use crate::serve::push::PushConfig;
use crate::traces::otlp::OtlpConfig;
#[cfg(feature = "otlp")]
use crate::traces::otlp::{Endpoint, OtlpProtocol};

/// Runtime configuration. Start from [`builder`] (the defaults; `Builder::default()` is
/// the same) or [`Builder::from_env`].
///
/// ```no_run
/// # fn main() -> Result<(), observe::Error> {
/// let _guard = observe::builder()
///     .environment("staging")
///     .metrics_addr("0.0.0.0:9464".parse().unwrap())
///     .init()?; // keep it until shutdown
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    pub(super) environment: String,
    pub(super) metrics_addr: Option<SocketAddr>,
    pub(super) logging: bool,
    /// `None`: the environment's default.
    pub(super) log_format: Option<LogFormat>,
    pub(super) otel: OtlpConfig,
    pub(super) push: Option<PushConfig>,
    /// Credentials `/metrics` requires; `None`: open.
    pub(super) metrics_auth: Option<AuthSource>,
    /// Exporters the environment asks for that this build compiled out (warned at `init`).
    pub(super) compiled_out: Vec<CompiledOut>,
}

/// A builder with the defaults: environment `dev`, metrics on `127.0.0.1:9464`, a log
/// subscriber for events filtered by `RUST_LOG` (default `info`).
///
/// ```no_run
/// # fn main() -> Result<(), observe::Error> {
/// let _guard = observe::builder().logging(false).init()?;
/// # Ok(()) }
/// ```
pub fn builder() -> Builder {
    Builder {
        environment: DEFAULT_ENVIRONMENT.to_owned(),
        metrics_addr: Some(
            DEFAULT_METRICS_ADDR
                .parse()
                .expect("default address is valid"),
        ),
        logging: true,
        log_format: None,
        otel: OtlpConfig::default(),
        push: None,
        metrics_auth: None,
        compiled_out: Vec::new(),
    }
}

impl Default for Builder {
    /// The same as [`builder`].
    fn default() -> Self {
        builder()
    }
}

impl Builder {
    /// The `environment` label on every series (e.g. `dev`, `staging`, `prod`).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().environment("prod").init()?;
    /// # Ok(()) }
    /// ```
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = environment.into();
        self
    }

    /// Serve `/metrics` on this address.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().metrics_addr("0.0.0.0:9464".parse().unwrap()).init()?;
    /// # Ok(()) }
    /// ```
    pub fn metrics_addr(mut self, addr: SocketAddr) -> Self {
        self.metrics_addr = Some(addr);
        self
    }

    /// No `/metrics` listener; the exposition is still available from [`render`](crate::render).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let guard = observe::builder().without_metrics_listener().init()?;
    /// assert_eq!(guard.metrics_addr(), None);
    /// let text = guard.render(); // the exposition, without a port
    /// # Ok(()) }
    /// ```
    pub fn without_metrics_listener(mut self) -> Self {
        self.metrics_addr = None;
        self
    }

    /// Whether `init` installs a `tracing` log subscriber for events (`RUST_LOG` filter,
    /// default `info`). It never replaces a subscriber the program installed itself.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // The program installs its own subscriber; observe adds none.
    /// tracing_subscriber::fmt().init();
    /// let _guard = observe::builder().logging(false).init()?;
    /// # Ok(()) }
    /// ```
    pub fn logging(mut self, enabled: bool) -> Self {
        self.logging = enabled;
        self
    }

    /// How log events are written: [`LogFormat::Json`] (default in `staging` and `prod`) or
    /// [`LogFormat::Pretty`] (default elsewhere).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().log_format(observe::LogFormat::Json).init()?;
    /// # Ok(()) }
    /// ```
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = Some(format);
        self
    }

    /// Export spans over OTLP to this collector (a base URL such as
    /// `http://127.0.0.1:4317`, as `OTEL_EXPORTER_OTLP_ENDPOINT`).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().otlp_endpoint("http://127.0.0.1:4317").init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Needs the `otlp` feature (on by default).
    #[cfg(feature = "otlp")]
    pub fn otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otel.endpoint = Some(Endpoint::Base(url.into()));
        self
    }

    /// The OTLP transport (default gRPC; `OTEL_EXPORTER_OTLP_PROTOCOL`).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder()
    ///     .otlp_endpoint("http://127.0.0.1:4318")
    ///     .otlp_protocol(observe::OtlpProtocol::HttpProtobuf)
    ///     .init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Needs the `otlp` feature (on by default).
    #[cfg(feature = "otlp")]
    pub fn otlp_protocol(mut self, protocol: OtlpProtocol) -> Self {
        self.otel.protocol = protocol;
        self
    }

    /// The `service.name` of exported spans and the `service` of JSON logs (default:
    /// `OTEL_SERVICE_NAME`, else the one service the linked `#[instrumented]` functions name).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().service_name("parsing").init()?;
    /// # Ok(()) }
    /// ```
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.otel.service_name = Some(name.into());
        self
    }

    /// The `service.version` resource attribute, e.g. `env!("CARGO_PKG_VERSION")`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().service_version(env!("CARGO_PKG_VERSION")).init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Needs the `otlp` feature (on by default).
    #[cfg(feature = "otlp")]
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.otel.service_version = Some(version.into());
        self
    }

    /// The ratio of traces the head sampler keeps (default by environment: `dev` 1.0,
    /// `staging` 0.5, `prod` 0.1; `OTEL_TRACES_SAMPLER_ARG`). Spans that end with an error
    /// are exported whatever the ratio. Values are clamped to 0..=1.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder()
    ///     .otlp_endpoint("http://127.0.0.1:4317")
    ///     .trace_sample_ratio(0.25) // a quarter of the traces, and every failed span
    ///     .init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Needs the `otlp` feature (on by default).
    #[cfg(feature = "otlp")]
    pub fn trace_sample_ratio(mut self, ratio: f64) -> Self {
        self.otel.ratio = Some(ratio.clamp(0.0, 1.0));
        self
    }

    /// How many finished spans may wait for export (default 2048). When the collector is
    /// down or slow, spans past it are dropped and counted, never waited for. The queue is
    /// allocated whole when spans start being exported, about 150 bytes a span (300 KB at
    /// the default), so that queueing a span never allocates.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().otlp_endpoint("http://127.0.0.1:4317").span_queue_capacity(8192).init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Needs the `otlp` feature (on by default).
    #[cfg(feature = "otlp")]
    pub fn span_queue_capacity(mut self, capacity: usize) -> Self {
        self.otel.queue_capacity = capacity;
        self
    }

    /// How long dropping the guard waits for pending spans (default 5 s).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// use std::time::Duration;
    ///
    /// let _guard = observe::builder().span_flush_timeout(Duration::from_secs(2)).init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Needs the `otlp` feature (on by default).
    #[cfg(feature = "otlp")]
    pub fn span_flush_timeout(mut self, timeout: Duration) -> Self {
        self.otel.flush_timeout = timeout;
        self
    }

    /// Push the exposition to the Prometheus Pushgateway at this URL (such as
    /// `http://127.0.0.1:9091`) every push interval and when the guard is dropped, as job
    /// [`service_name`](Self::service_name) unless [`push_job`](Self::push_job) names one.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().pushgateway("http://127.0.0.1:9091").init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Needs the `pushgateway` feature (on by default).
    #[cfg(feature = "pushgateway")]
    pub fn pushgateway(mut self, url: impl Into<String>) -> Self {
        self.push = Some(PushConfig::new(url.into()));
        self
    }

    /// The Pushgateway job (`OBSERVE_PUSHGATEWAY_JOB`); needs [`pushgateway`](Self::pushgateway).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().pushgateway("http://127.0.0.1:9091").push_job("nightly_import").init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Needs the `pushgateway` feature (on by default).
    #[cfg(feature = "pushgateway")]
    pub fn push_job(mut self, job: impl Into<String>) -> Self {
        if let Some(push) = &mut self.push {
            push.job = Some(job.into());
        }
        self
    }

    /// How often to push (default 10 s, at least 100 ms: `init` refuses less, as it
    /// refuses `OBSERVE_PUSH_INTERVAL` below it); needs [`pushgateway`](Self::pushgateway).
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder()
    ///     .pushgateway("http://127.0.0.1:9091")
    ///     .push_interval(Duration::from_secs(30))
    ///     .init()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Needs the `pushgateway` feature (on by default).
    #[cfg(feature = "pushgateway")]
    pub fn push_interval(mut self, interval: Duration) -> Self {
        if let Some(push) = &mut self.push {
            push.interval = interval;
        }
        self
    }

    /// Require HTTP basic auth on `/metrics`, checked against the bcrypt hashes of this
    /// file's `user:hash` lines (as `htpasswd -nbB user password` writes them);
    /// `OBSERVE_METRICS_BASIC_AUTH_FILE`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().metrics_basic_auth_file("/etc/observe/htpasswd").init()?;
    /// # Ok(()) }
    /// ```
    pub fn metrics_basic_auth_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.metrics_auth = Some(AuthSource::BasicFile(path.into()));
        self
    }

    /// Require `Authorization: Bearer <token>` on `/metrics`, the token being this file's
    /// content (trimmed); `OBSERVE_METRICS_BEARER_TOKEN_FILE`.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().metrics_bearer_token_file("/run/secrets/metrics_token").init()?;
    /// # Ok(()) }
    /// ```
    pub fn metrics_bearer_token_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.metrics_auth = Some(AuthSource::BearerFile(path.into()));
        self
    }
}
