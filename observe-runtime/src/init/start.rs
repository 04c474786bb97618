//! Start-up: checks every linked site, then brings up the exporter thread (its I/O
//! runtime, the Prometheus recorder, the `/metrics` responder, span export and pushes),
//! installs the log subscriber and the process-wide state, and returns the init guard.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::sync::oneshot;

use super::{Builder, Guard};
use crate::clock::Ticks;
use crate::error::Error;
use crate::global::{CALL_SITE_CONFIG, CallSiteConfig, INITIALISING, RECORDER, TRACES_EXPORTED};
use crate::instrumented::{CallSite, all_call_sites};
use crate::logs::{self, LogFormat};
use crate::metrics::{MetricSite, all_metric_sites};
use crate::serve::auth::MetricsAuth;
use crate::serve::push::Pusher;
use crate::serve::{budget, families, listener, recorder, render, shared_series};
use crate::traces::otlp::{self, OtlpPipeline};

/// Starts the runtime configured from the environment: `OBSERVE_ENVIRONMENT` (the
/// `environment` label, default `dev`), `OBSERVE_METRICS_ADDR` (the `/metrics`
/// listener, default `127.0.0.1:9464`, `off` to disable), `OBSERVE_LOG_FORMAT` (`json` or
/// `pretty`), `OBSERVE_PUSHGATEWAY_URL` (+ `_JOB`, and `OBSERVE_PUSH_INTERVAL` such as
/// `10s`) and the standard `OTEL_*` variables (span export when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set). Keep the guard until shutdown.
///
/// ```no_run
/// fn main() -> Result<(), observe::Error> {
///     let _guard = observe::init()?; // /metrics on 127.0.0.1:9464
///     // … serve until shutdown; dropping the guard flushes spans and stops /metrics.
///     Ok(())
/// }
/// ```
pub fn init() -> Result<Guard, Error> {
    Builder::from_env()?.init()
}

/// What `start` settles before anything is spawned or installed, so that every
/// configuration error fails `init` with nothing to undo.
struct Plan {
    prometheus: PrometheusBuilder,
    listener: Option<TcpListener>,
    /// The address `listener` bound: with port 0, the one the system chose.
    metrics_addr: Option<SocketAddr>,
    auth: MetricsAuth,
    log_format: Option<LogFormat>,
    service_name: String,
    push_target: Option<(String, Duration)>,
}

impl Builder {
    /// Starts the runtime. Fails if it already runs, if the listener cannot bind, or if
    /// another `metrics` recorder is installed.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let _guard = observe::builder().environment("staging").init()?;
    /// # Ok(()) }
    /// ```
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

    fn plan(&self) -> Result<Plan, Error> {
        let call_sites: Vec<_> = all_call_sites().map(CallSite::meta).collect();
        let metric_sites: Vec<_> = all_metric_sites().map(MetricSite::meta).collect();
        families::check(&call_sites, &metric_sites)?;
        budget::check(&call_sites, &metric_sites)?;
        families::check_buckets(&call_sites, &metric_sites)?;
        let prometheus = recorder::prometheus_builder(&self.environment)?;
        if self.logging {
            super::env::check_log_filter()?;
        }
        let auth = match &self.metrics_auth {
            Some(source) => source.load()?,
            None => MetricsAuth::Open,
        };
        // Bound here, before anything is installed, so a taken port is a clean error.
        let listener = match self.metrics_addr {
            Some(addr) => Some(listener::bind(addr)?),
            None => None,
        };
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
            otlp::service_name(&self.otel)
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
        Ok(Plan {
            prometheus,
            listener,
            metrics_addr,
            auth,
            log_format,
            service_name,
            push_target,
        })
    }

    fn start(self) -> Result<Guard, Error> {
        let plan = self.plan()?;
        let io = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::MetricsExporter(e.to_string()))?;
        let span_exporter = match &self.otel.endpoint {
            Some(endpoint) => match OtlpPipeline::exporter(&self.otel, endpoint, io.handle()) {
                Ok(exporter) => Some(exporter),
                Err(error) => {
                    io.shutdown_background();
                    return Err(error);
                }
            },
            None => None,
        };
        let open_to_all = plan.auth.is_open();
        let prometheus =
            match recorder::build_recorder(plan.prometheus, plan.listener, plan.auth, &io) {
                Ok(recorder) => recorder,
                Err(error) => {
                    // Dropping a runtime blocks, which panics inside the caller's runtime.
                    io.shutdown_background();
                    return Err(error);
                }
            };
        let handle = prometheus.handle();
        if metrics::set_global_recorder(prometheus).is_err() {
            io.shutdown_background();
            return Err(Error::RecorderAlreadySet);
        }

        let traces = span_exporter.map(|exporter| {
            OtlpPipeline::start(
                &self.otel,
                exporter,
                &self.environment,
                &plan.service_name,
                io.handle(),
            )
        });
        let (traces, tracer) = match traces {
            Some((pipeline, tracer)) => {
                TRACES_EXPORTED.store(true, Ordering::Release);
                (Some(pipeline), Some(tracer))
            }
            None => (None, None),
        };

        let pusher = plan
            .push_target
            .map(|(target, interval)| Pusher::start(target, interval, render::render, io.handle()));

        let (shutdown, thread) = spawn_exporter_thread(io)?;

        logs::install(plan.log_format, plan.service_name, tracer);
        super::compiled_out::warn(&self.compiled_out);
        if let Some(addr) = plan.metrics_addr
            && open_to_all
            && !addr.ip().is_loopback()
        {
            tracing::info!(
                target: "observe",
                "/metrics on {addr} answers anyone who can reach it; set OBSERVE_METRICS_BASIC_AUTH_FILE or OBSERVE_METRICS_BEARER_TOKEN_FILE to require credentials"
            );
        }
        shared_series::warn(&all_call_sites().map(CallSite::meta).collect::<Vec<_>>());
        CALL_SITE_CONFIG
            .set(CallSiteConfig {
                environment: self.environment,
                clock: Ticks::new(),
            })
            .expect("CALL_SITE_CONFIG is set only here, under INITIALISING");
        RECORDER
            .set(handle.clone())
            .expect("RECORDER is set only here, under INITIALISING");
        // Every linked function's series exist from start-up, at zero, so dashboards and
        // absence alerts see them before the first call.
        all_call_sites().for_each(CallSite::register_now);
        all_metric_sites().for_each(MetricSite::register_now);
        Ok(Guard {
            recorder: handle,
            metrics_addr: plan.metrics_addr,
            traces,
            pusher,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }
}

/// Runs `io` (recorder upkeep, `/metrics`, span export, pushes) on the `observe-exporter`
/// thread until the sender is used or dropped.
fn spawn_exporter_thread(
    io: tokio::runtime::Runtime,
) -> Result<(oneshot::Sender<()>, JoinHandle<()>), Error> {
    let (shutdown, shutdown_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("observe-exporter".into())
        .spawn(move || {
            let _ = io.block_on(shutdown_rx);
            io.shutdown_timeout(Duration::from_secs(1));
        })
        .map_err(|e| Error::MetricsExporter(e.to_string()))?;
    Ok((shutdown, thread))
}
