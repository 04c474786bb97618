//! Start-up: configuration from the environment or from code, the Prometheus recorder for
//! every metric that is not a call site's, the `/metrics` listener on its own thread, and
//! the guard that stops it.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use metrics_exporter_prometheus::{
    BuildError, Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use tokio::sync::oneshot;

use crate::clock::Ticks;
pub use crate::error::Error;
use crate::logs::{self, LogFormat};
use crate::metrics_auth::{AuthSource, MetricsAuth};
use crate::metrics_server::{self, Limits};
use crate::names::{DEFAULT_ENVIRONMENT, DEFAULT_METRICS_ADDR, LABEL_ENVIRONMENT, LATENCY_BUCKETS};
use crate::otel::{self, Endpoint, OtelConfig, OtlpProtocol};
use crate::push::{PushConfig, Pusher};
use crate::{exposition, families, metric_site, site};

/// The exporter, once [`init`] succeeded. Call sites register only after this is set.
static EXPORTER: OnceLock<PrometheusHandle> = OnceLock::new();
/// What call sites' own storage needs, set by [`init`] just before `EXPORTER`.
static SITES: OnceLock<SitesConfig> = OnceLock::new();

#[derive(Debug)]
struct SitesConfig {
    environment: String,
    /// Calibrated once: every site's durations are TSC deltas scaled by it.
    clock: Ticks,
}
/// Claimed by the first `init` that gets past configuration; released if it fails.
static INITIALISING: AtomicBool = AtomicBool::new(false);

/// How often samples are folded into histograms when nothing scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Runtime configuration. Start from [`builder`] (the defaults) or [`Builder::from_env`].
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    environment: String,
    metrics_addr: Option<SocketAddr>,
    logging: bool,
    /// `None`: the environment's default.
    log_format: Option<LogFormat>,
    otel: OtelConfig,
    push: Option<PushConfig>,
    /// Credentials `/metrics` requires; `None`: open.
    metrics_auth: Option<AuthSource>,
}

/// A builder with the defaults: environment `dev`, metrics on `127.0.0.1:9464`, a log
/// subscriber for events filtered by `RUST_LOG` (default `info`).
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
        otel: OtelConfig::default(),
        push: None,
        metrics_auth: None,
    }
}

/// Starts the runtime configured from the environment: `OBSERVE_ENVIRONMENT` (the
/// `environment` label, default `dev`), `OBSERVE_METRICS_ADDR` (the `/metrics`
/// listener, default `127.0.0.1:9464`, `off` to disable), `OBSERVE_LOG_FORMAT` (`json` or
/// `pretty`), `OBSERVE_PUSHGATEWAY_URL` (+ `_JOB`, and `OBSERVE_PUSH_INTERVAL` such as
/// `10s`) and the standard `OTEL_*` variables (span export when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set). Keep the guard until shutdown.
pub fn init() -> Result<Guard, Error> {
    Builder::from_env()?.init()
}

impl Builder {
    /// The defaults, overridden by `OBSERVE_ENVIRONMENT` and `OBSERVE_METRICS_ADDR`.
    pub fn from_env() -> Result<Self, Error> {
        let mut builder = builder();
        if let Some(value) = env_var("OBSERVE_ENVIRONMENT") {
            builder.environment = parse_environment(&value)?;
        }
        if let Some(value) = env_var("OBSERVE_METRICS_ADDR") {
            builder.metrics_addr = parse_metrics_addr(&value)?;
        }
        builder.metrics_auth = auth_from_env()?;
        if let Some(value) = env_var("OBSERVE_LOG_FORMAT") {
            builder.log_format = Some(LogFormat::parse(&value).ok_or(Error::InvalidEnv {
                var: "OBSERVE_LOG_FORMAT",
                value,
                reason: "expected `json` or `pretty`",
            })?);
        }
        if let Some(url) = env_var("OBSERVE_PUSHGATEWAY_URL") {
            let mut push = PushConfig::new(url);
            push.job = env_var("OBSERVE_PUSHGATEWAY_JOB");
            if let Some(value) = env_var("OBSERVE_PUSH_INTERVAL") {
                push.interval = PushConfig::parse_interval(&value)?;
            }
            builder.push = Some(push);
        }
        builder
            .otel
            .read_env(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))?;
        Ok(builder)
    }

    /// The `environment` label on every series (e.g. `dev`, `staging`, `prod`).
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = environment.into();
        self
    }

    /// Serve `/metrics` on this address.
    pub fn metrics_addr(mut self, addr: SocketAddr) -> Self {
        self.metrics_addr = Some(addr);
        self
    }

    /// Require HTTP basic auth on `/metrics`, checked against the bcrypt hashes of this
    /// file's `user:hash` lines (as `htpasswd -nbB user password` writes them);
    /// `OBSERVE_METRICS_BASIC_AUTH_FILE`.
    pub fn metrics_basic_auth_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.metrics_auth = Some(AuthSource::BasicFile(path.into()));
        self
    }

    /// Require `Authorization: Bearer <token>` on `/metrics`, the token being this file's
    /// content (trimmed); `OBSERVE_METRICS_BEARER_TOKEN_FILE`.
    pub fn metrics_bearer_token_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.metrics_auth = Some(AuthSource::BearerFile(path.into()));
        self
    }

    /// No `/metrics` listener; the exposition is still available from [`render`].
    pub fn without_metrics_listener(mut self) -> Self {
        self.metrics_addr = None;
        self
    }

    /// Whether `init` installs a `tracing` log subscriber for events (`RUST_LOG` filter,
    /// default `info`). It never replaces a subscriber the program installed itself.
    pub fn logging(mut self, enabled: bool) -> Self {
        self.logging = enabled;
        self
    }

    /// How log events are written: [`LogFormat::Json`] (default in `staging` and `prod`) or
    /// [`LogFormat::Pretty`] (default elsewhere).
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = Some(format);
        self
    }

    /// Export spans over OTLP to this collector (a base URL such as
    /// `http://127.0.0.1:4317`, as `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub fn otlp_endpoint(mut self, url: impl Into<String>) -> Self {
        self.otel.endpoint = Some(Endpoint::Base(url.into()));
        self
    }

    /// The OTLP transport (default gRPC; `OTEL_EXPORTER_OTLP_PROTOCOL`).
    pub fn otlp_protocol(mut self, protocol: OtlpProtocol) -> Self {
        self.otel.protocol = protocol;
        self
    }

    /// The `service.name` of exported spans and the `service` of JSON logs (default:
    /// `OTEL_SERVICE_NAME`, else the one service the linked `#[instrumented]` functions name).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.otel.service_name = Some(name.into());
        self
    }

    /// The `service.version` resource attribute, e.g. `env!("CARGO_PKG_VERSION")`.
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.otel.service_version = Some(version.into());
        self
    }

    /// The ratio of traces the head sampler keeps (default by environment: `dev` 1.0,
    /// `staging` 0.5, `prod` 0.1; `OTEL_TRACES_SAMPLER_ARG`). Spans that end with an error
    /// are exported whatever the ratio. Values are clamped to 0..=1.
    pub fn trace_sample_ratio(mut self, ratio: f64) -> Self {
        self.otel.ratio = Some(ratio.clamp(0.0, 1.0));
        self
    }

    /// How many finished spans may wait for export (default 2048). When the collector is
    /// down or slow, spans past it are dropped and counted, never waited for.
    pub fn span_queue_capacity(mut self, capacity: usize) -> Self {
        self.otel.queue_capacity = capacity;
        self
    }

    /// How long dropping the guard waits for pending spans (default 5 s).
    pub fn span_flush_timeout(mut self, timeout: Duration) -> Self {
        self.otel.flush_timeout = timeout;
        self
    }

    /// Push the exposition to the Prometheus Pushgateway at this URL (such as
    /// `http://127.0.0.1:9091`) every push interval and when the guard is dropped, as job
    /// [`service_name`](Self::service_name) unless [`push_job`](Self::push_job) names one.
    pub fn pushgateway(mut self, url: impl Into<String>) -> Self {
        self.push = Some(PushConfig::new(url.into()));
        self
    }

    /// The Pushgateway job (`OBSERVE_PUSHGATEWAY_JOB`); needs [`pushgateway`](Self::pushgateway).
    pub fn push_job(mut self, job: impl Into<String>) -> Self {
        if let Some(push) = &mut self.push {
            push.job = Some(job.into());
        }
        self
    }

    /// How often to push (default 10 s, at least 100 ms: `init` refuses less, as it
    /// refuses `OBSERVE_PUSH_INTERVAL` below it); needs [`pushgateway`](Self::pushgateway).
    pub fn push_interval(mut self, interval: Duration) -> Self {
        if let Some(push) = &mut self.push {
            push.interval = interval;
        }
        self
    }

    /// Starts the runtime. Fails if it already runs, if the listener cannot bind, or if
    /// another `metrics` recorder is installed.
    pub fn init(self) -> Result<Guard, Error> {
        if INITIALISING.swap(true, Ordering::AcqRel) {
            return Err(Error::AlreadyInitialised);
        }
        let started = self.start();
        if started.is_err() {
            INITIALISING.store(false, Ordering::Release);
        }
        started
    }

    fn start(self) -> Result<Guard, Error> {
        families::check(
            &site::all_sites()
                .map(site::CallSite::meta)
                .collect::<Vec<_>>(),
            &metric_site::all_metric_sites()
                .map(metric_site::MetricSite::meta)
                .collect::<Vec<_>>(),
        )?;
        let prometheus = prometheus_builder(&self.environment)?;
        if self.logging {
            logs::check_filter()?;
        }
        let auth = match &self.metrics_auth {
            Some(source) => source.load()?,
            None => MetricsAuth::Open,
        };
        let open_to_all = auth.is_open();
        // Bound here, before anything is installed, so a taken port is a clean error.
        let listener = match self.metrics_addr {
            Some(addr) => Some(bind(addr)?),
            None => None,
        };
        // The address really bound: port 0 asks the system for a free one.
        let metrics_addr = listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .or(self.metrics_addr);
        let log_format = self.logging.then(|| {
            self.log_format
                .unwrap_or_else(|| LogFormat::default_for(&self.environment))
        });
        let named = self.otel.endpoint.is_some()
            || self.push.is_some()
            || log_format == Some(LogFormat::Json);
        let service_name = if named {
            otel::service_name(&self.otel)
        } else {
            String::new()
        };
        let push_target = match &self.push {
            Some(push) => {
                push.check_interval()?;
                Some((push.target(&service_name)?, push.interval))
            }
            None => None,
        };
        let io = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Exporter(e.to_string()))?;
        let span_exporter = match &self.otel.endpoint {
            Some(endpoint) => match otel::Pipeline::exporter(&self.otel, endpoint, io.handle()) {
                Ok(exporter) => Some(exporter),
                Err(error) => {
                    io.shutdown_background();
                    return Err(error);
                }
            },
            None => None,
        };
        let recorder = match self.build_recorder(prometheus, listener, auth, &io) {
            Ok(recorder) => recorder,
            Err(error) => {
                // Dropping a runtime blocks, which panics inside the caller's runtime.
                io.shutdown_background();
                return Err(error);
            }
        };
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            io.shutdown_background();
            return Err(Error::RecorderAlreadySet);
        }

        let traces = span_exporter.map(|exporter| {
            otel::Pipeline::start(
                &self.otel,
                exporter,
                &self.environment,
                &service_name,
                io.handle(),
            )
        });
        let (traces, tracer) = match traces {
            Some((pipeline, tracer)) => {
                crate::propagation::enable();
                (Some(pipeline), Some(tracer))
            }
            None => (None, None),
        };

        let pusher = push_target
            .map(|(target, interval)| Pusher::start(target, interval, render, io.handle()));

        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("observe-exporter".into())
            .spawn(move || {
                let _ = io.block_on(shutdown_rx);
                io.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| Error::Exporter(e.to_string()))?;

        logs::install(log_format, service_name, tracer);
        if let Some(addr) = metrics_addr
            && open_to_all
            && !addr.ip().is_loopback()
        {
            tracing::info!(
                target: "observe",
                "/metrics on {addr} answers anyone who can reach it; set OBSERVE_METRICS_BASIC_AUTH_FILE or OBSERVE_METRICS_BEARER_TOKEN_FILE to require credentials"
            );
        }
        SITES
            .set(SitesConfig {
                environment: self.environment,
                clock: Ticks::new(),
            })
            .expect("SITES is set only here, under INITIALISING");
        EXPORTER
            .set(handle.clone())
            .expect("EXPORTER is set only here, under INITIALISING");
        // Every linked function's series exist from start-up, at zero, so dashboards and
        // absence alerts see them before the first call.
        site::all_sites().for_each(site::CallSite::register_now);
        metric_site::all_metric_sites().for_each(metric_site::MetricSite::register_now);
        Ok(Guard {
            handle,
            metrics_addr,
            traces,
            pusher,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }
}

impl Builder {
    /// The recorder and its upkeep task, and the `/metrics` responder if `listener`, on
    /// `io`. The exporter's own listener would serve only its render, without the sites'.
    fn build_recorder(
        &self,
        prometheus: PrometheusBuilder,
        listener: Option<std::net::TcpListener>,
        auth: MetricsAuth,
        io: &tokio::runtime::Runtime,
    ) -> Result<PrometheusRecorder, Error> {
        let _entered = io.enter();
        let recorder = prometheus.build_recorder();
        let handle = recorder.handle();
        io.spawn(async move {
            loop {
                tokio::time::sleep(UPKEEP_INTERVAL).await;
                handle.run_upkeep();
            }
        });
        if let Some(listener) = listener {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| Error::Exporter(e.to_string()))?;
            io.spawn(metrics_server::serve(
                listener,
                Limits::default(),
                auth,
                || render().unwrap_or_default(),
            ));
        }
        Ok(recorder)
    }
}

/// Keeps the runtime running; dropping it exports the pending spans (waiting at most the
/// span flush timeout), pushes to the Pushgateway one last time (if one is configured),
/// and stops the `/metrics` listener.
#[must_use = "dropping the guard stops the /metrics listener"]
#[derive(Debug)]
pub struct Guard {
    handle: PrometheusHandle,
    metrics_addr: Option<SocketAddr>,
    /// Span export, if an endpoint is configured; its task runs on the exporter thread.
    traces: Option<otel::Pipeline>,
    /// Pushes to a Pushgateway, if one is configured; also on the exporter thread.
    pusher: Option<Pusher>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Guard {
    /// The Prometheus text exposition of everything recorded so far.
    pub fn render(&self) -> String {
        render_with(&self.handle)
    }

    /// Where `/metrics` is served, if it is: the address bound, so with port 0 the port the
    /// system chose.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Exports the spans finished so far, waiting at most the span flush timeout. `false`
    /// if spans are not exported (no endpoint) or the wait timed out; spans the collector
    /// refused are counted in [`SPANS_DROPPED`](crate::SPANS_DROPPED).
    pub fn flush_spans(&self) -> bool {
        self.traces.as_ref().is_some_and(otel::Pipeline::flush)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Before the runtime stops: the export task runs on it.
        if let Some(traces) = self.traces.take() {
            traces.shutdown();
        }
        // After the spans: the last push then includes the final dropped-span counts.
        if let Some(pusher) = self.pusher.take() {
            pusher.shutdown();
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The Prometheus text exposition, or `None` before [`init`]: the exporter's render of
/// every other metric, then every call site's series.
pub fn render() -> Option<String> {
    EXPORTER.get().map(render_with)
}

fn render_with(handle: &PrometheusHandle) -> String {
    let mut text = handle.render();
    if let Some(sites) = SITES.get() {
        exposition::append(&mut text, &sites.environment, site::all_sites());
    }
    text
}

/// Whether the recorder is installed, so metric sites may register.
#[inline]
pub(crate) fn is_initialised() -> bool {
    EXPORTER.get().is_some()
}

/// The clock call sites time with, once [`init`] has started.
#[inline]
pub(crate) fn clock() -> Option<&'static Ticks> {
    SITES.get().map(|sites| &sites.clock)
}

/// Binds the `/metrics` address, ready for the exporter's runtime.
fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, Error> {
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| Error::MetricsListener { addr, source })?;
    Ok(listener)
}

/// The recorder's configuration: the environment label and every call site's buckets, so
/// that each histogram is exported as a histogram, never as a summary.
fn prometheus_builder(environment: &str) -> Result<PrometheusBuilder, Error> {
    let exporter_error = |e: BuildError| Error::Exporter(e.to_string());
    let mut builder = PrometheusBuilder::new()
        .add_global_label(LABEL_ENVIRONMENT, environment)
        .set_buckets(LATENCY_BUCKETS)
        .map_err(exporter_error)?;
    let mut claimed: Vec<&'static site::SiteMeta> = Vec::new();
    for meta in site::all_sites().map(site::CallSite::meta) {
        match claimed
            .iter()
            .find(|m| m.duration.name == meta.duration.name)
        {
            Some(first) if first.buckets != meta.buckets => {
                return Err(Error::ConflictingBuckets {
                    metric: meta.duration.name,
                    first: first.operation,
                    second: meta.operation,
                });
            }
            Some(_) => {}
            None => {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(meta.duration.name.into()), meta.buckets)
                    .map_err(exporter_error)?;
                claimed.push(meta);
            }
        }
    }
    let histograms = metric_site::all_metric_sites()
        .map(metric_site::MetricSite::meta)
        .filter(|m| m.kind == metric_site::MetricKind::Histogram);
    let mut claimed: Vec<&'static metric_site::MetricSiteMeta> = Vec::new();
    for meta in histograms {
        match claimed.iter().find(|m| m.name == meta.name) {
            Some(first) if first.buckets != meta.buckets => {
                return Err(Error::ConflictingBuckets {
                    metric: meta.name,
                    first: first.module_path,
                    second: meta.module_path,
                });
            }
            Some(_) => {}
            None => {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(meta.name.into()), meta.buckets)
                    .map_err(exporter_error)?;
                claimed.push(meta);
            }
        }
    }
    Ok(builder)
}

fn env_var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The credentials `/metrics` requires, from `OBSERVE_METRICS_BASIC_AUTH_FILE` or
/// `OBSERVE_METRICS_BEARER_TOKEN_FILE` (not both).
fn auth_from_env() -> Result<Option<AuthSource>, Error> {
    let basic = env_var("OBSERVE_METRICS_BASIC_AUTH_FILE");
    let bearer = env_var("OBSERVE_METRICS_BEARER_TOKEN_FILE");
    match (basic, bearer) {
        (Some(_), Some(value)) => Err(Error::InvalidEnv {
            var: "OBSERVE_METRICS_BEARER_TOKEN_FILE",
            value,
            reason: "set either OBSERVE_METRICS_BASIC_AUTH_FILE or OBSERVE_METRICS_BEARER_TOKEN_FILE, not both",
        }),
        (Some(path), None) => Ok(Some(AuthSource::BasicFile(path.into()))),
        (None, Some(path)) => Ok(Some(AuthSource::BearerFile(path.into()))),
        (None, None) => Ok(None),
    }
}

pub(crate) fn parse_environment(value: &str) -> Result<String, Error> {
    let valid = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err(Error::InvalidEnv {
            var: "OBSERVE_ENVIRONMENT",
            value: value.to_owned(),
            reason: "expected a short name such as `dev`, `staging` or `prod` (letters, digits, `_`, `-`)",
        })
    }
}

pub(crate) fn parse_metrics_addr(value: &str) -> Result<Option<SocketAddr>, Error> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value
        .trim()
        .parse()
        .map(Some)
        .map_err(|_| Error::InvalidEnv {
            var: "OBSERVE_METRICS_ADDR",
            value: value.to_owned(),
            reason: "expected `host:port` such as `127.0.0.1:9464`, or `off`",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_addr_accepts_off_and_socket_addresses() {
        assert_eq!(parse_metrics_addr("off").unwrap(), None);
        assert_eq!(parse_metrics_addr("OFF").unwrap(), None);
        assert_eq!(
            parse_metrics_addr("127.0.0.1:9000").unwrap(),
            Some("127.0.0.1:9000".parse().unwrap())
        );
        let err = parse_metrics_addr("localhost").unwrap_err().to_string();
        assert!(err.contains("OBSERVE_METRICS_ADDR"), "{err}");
    }

    #[test]
    fn environment_must_be_a_short_name() {
        assert_eq!(parse_environment("prod").unwrap(), "prod");
        assert!(parse_environment("prod env").is_err());
    }
}
