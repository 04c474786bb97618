//! Why `observe::init` could not start the runtime: each error names what is wrong and the fix.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why `observe::init` could not start the runtime.
///
/// ```no_run
/// fn main() -> Result<(), observe::Error> {
///     let _guard = match observe::init() {
///         Err(observe::Error::MetricsListener { addr, source }) => {
///             eprintln!("/metrics cannot listen on {addr} ({source}); set OBSERVE_METRICS_ADDR");
///             std::process::exit(2);
///         }
///         other => other?,
///     };
///     Ok(())
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `init` already ran in this process.
    #[error(
        "observe is already initialised in this process; call `init` once, early in `main`, and keep its guard"
    )]
    AlreadyInitialised,
    /// An environment variable holds a value that cannot be used.
    #[error("invalid {var}={value:?}: {reason}")]
    InvalidEnv {
        /// The variable's name.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong and what would be accepted.
        reason: &'static str,
    },
    /// The `/metrics` listener could not bind its address (for example, the port is taken).
    #[error(
        "cannot serve metrics on {addr}: {source}; set OBSERVE_METRICS_ADDR to a free address, or to `off` to disable the listener"
    )]
    MetricsListener {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The credentials file of `/metrics` cannot be read or holds no usable credentials.
    #[error(
        "cannot protect /metrics with {path}: {reason}; see OBSERVE_METRICS_BASIC_AUTH_FILE and OBSERVE_METRICS_BEARER_TOKEN_FILE in the README"
    )]
    MetricsAuth {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A setting made in code is out of its range.
    #[error("invalid {setting}({value}): {reason}")]
    InvalidSetting {
        /// The builder method.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What would be accepted.
        reason: &'static str,
    },
    /// Two call sites ask for different buckets on one histogram.
    #[error(
        "histogram `{metric}` is recorded with different buckets by operations `{first}` and `{second}`; give them the same `histogram` preset or a different `name`"
    )]
    ConflictingBuckets {
        /// The histogram's name.
        metric: &'static str,
        /// One operation.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// Two call sites give one metric name different types, or both `#[instrumented]` and a
    /// function-like macro use it.
    #[error(
        "metric `{metric}` is {first}, and {second}; a name is one metric family, of one type, recorded either by `#[instrumented]` or by the function-like macros: rename one of them"
    )]
    ConflictingMetric {
        /// The metric's name.
        metric: &'static str,
        /// What one call site makes of it.
        first: String,
        /// What the other makes of it.
        second: String,
    },
    /// A metric family may have more series, summed over all of its sites, than the
    /// convention's series budget allows.
    #[error(
        "metric `{family}` may have up to {series} series over all of its sites, over the series budget of {budget}: {sites}; lower the bounds of their labels, give some of them their own `name`, or raise `series_budget` in `observe.toml`"
    )]
    SeriesBudget {
        /// The family's name.
        family: &'static str,
        /// Its series, summed over its sites.
        series: u64,
        /// The budget.
        budget: u64,
        /// Each site, with the series it can produce.
        sites: String,
    },
    /// Another `metrics` recorder is installed already.
    #[error(
        "another `metrics` recorder is already installed; observe needs to install its own Prometheus recorder"
    )]
    RecorderAlreadySet,
    /// The Prometheus metrics exporter (the recorder, its I/O runtime or thread) could not
    /// be configured or started.
    #[error("cannot start the metrics exporter: {0}")]
    MetricsExporter(String),
    /// The OTLP span exporter could not be built (for example, the endpoint is no URL).
    #[error(
        "cannot export spans to {endpoint}: {reason}; set OTEL_EXPORTER_OTLP_ENDPOINT to a URL such as `http://127.0.0.1:4317`, or unset it to disable export"
    )]
    TraceExporter {
        /// The traces endpoint.
        endpoint: String,
        /// The exporter's error.
        reason: String,
    },
}
