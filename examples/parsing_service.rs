//! A small HTTP service instrumented with `observe`: `POST /parse` takes a JSON message,
//! decodes, validates and normalises it through three `#[instrumented]` functions, and
//! `/metrics` (on `OBSERVE_METRICS_ADDR`) exports the RED metrics of each step.
//!
//! ```text
//! cargo run --example parsing_service
//! curl -s localhost:8080/parse -d '{"id": "m-1", "source": "Email", "body": "hello  world"}'
//! curl -s localhost:9464/metrics | grep copilot_parsing
//! ```
//!
//! Each request continues the caller's trace (an incoming W3C `traceparent`) and, when
//! `PARSING_NOTIFY_URL` is set, posts the summary there carrying the trace on.
//!
//! `--export-ops DIR` writes the service's operations artefacts (METRICS.md, rules,
//! runbooks, dashboards, metrics.lock) to `DIR` and exits; `--window-scale N` divides
//! every rule window by `N` (a test profile: at 60 the 1-hour window is 1 minute).
//! `--check-ops DIR` fails if `DIR` is stale or breaks its `metrics.lock`
//! (`OBSERVE_OPS_UPDATE=1` rewrites it instead).
//!
//! Environment: `PARSING_ADDR` (default `127.0.0.1:8080`), `OBSERVE_METRICS_ADDR` (default
//! `127.0.0.1:9464`, `off` disables), `OBSERVE_ENVIRONMENT` (default `dev`),
//! `PARSING_NOTIFY_URL` (unset: no downstream call), `OBSERVE_LOG_FORMAT` (`json` or
//! `pretty`), `OTEL_EXPORTER_OTLP_ENDPOINT` (unset: no span export) and the other `OTEL_*`.

use std::error::Error;
use std::fmt;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use observe::{ErrorLabel, instrumented};
use serde::{Deserialize, Serialize};

const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Bodies above this are rejected as `TooLarge`.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// Why a message was rejected. The variant name is the `error_type` label and the
/// `error` field of the 400 response.
#[derive(Debug, ErrorLabel)]
enum ParseError {
    /// Not JSON, or not a message (e.g. `id` missing).
    InvalidJson(serde_json::Error),
    /// `body` missing or blank.
    EmptyBody,
    /// `body` longer than the limit.
    TooLarge { len: usize, max: usize },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::InvalidJson(e) => write!(f, "not a JSON message: {e}"),
            ParseError::EmptyBody => f.write_str("the message has no body"),
            ParseError::TooLarge { len, max } => {
                write!(f, "the body is {len} bytes, over the {max}-byte limit")
            }
        }
    }
}

impl Error for ParseError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ParseError::InvalidJson(e) => Some(e),
            _ => None,
        }
    }
}

/// Why the downstream service did not take a summary.
#[derive(Debug, ErrorLabel)]
enum NotifyError {
    /// No connection, or no answer in time.
    Unreachable(reqwest::Error),
    /// It answered with an error status.
    Rejected(reqwest::StatusCode),
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotifyError::Unreachable(e) => write!(f, "downstream unreachable: {e}"),
            NotifyError::Rejected(status) => write!(f, "downstream answered {status}"),
        }
    }
}

/// A message as it arrives.
#[derive(Debug, Deserialize)]
struct Message {
    id: String,
    source: String,
    #[serde(default)]
    body: Option<String>,
}

/// A message whose body is present and within the limit.
#[derive(Debug)]
struct ValidMessage {
    id: String,
    source: String,
    body: String,
}

/// What `POST /parse` answers for an accepted message.
#[derive(Debug, Serialize)]
struct Summary {
    id: String,
    source: String,
    words: usize,
    bytes: usize,
}

// `raw` may be large: keep it off the span. Decoding is fast: its latency SLO, declared
// here rather than in `observe.toml`, is 99% of calls within 0.5 s.
#[instrumented(
    service = "parsing",
    skip(raw),
    slo(latency(threshold = "0.5s", target = "99%"))
)]
async fn decode(raw: Bytes) -> Result<Message, ParseError> {
    serde_json::from_slice(&raw).map_err(ParseError::InvalidJson)
}

// The message carries the body, so only the limit is recorded on the span.
#[instrumented(service = "parsing", skip(message))]
fn validate(message: Message, max_body_bytes: usize) -> Result<ValidMessage, ParseError> {
    let body = message.body.unwrap_or_default();
    if body.trim().is_empty() {
        return Err(ParseError::EmptyBody);
    }
    if body.len() > max_body_bytes {
        return Err(ParseError::TooLarge {
            len: body.len(),
            max: max_body_bytes,
        });
    }
    Ok(ValidMessage {
        id: message.id,
        source: message.source,
        body,
    })
}

/// Posts a summary downstream, with this trace's `traceparent` so its spans join it.
#[instrumented(service = "parsing", name = "notify", kind = "client", skip_all)]
async fn notify(client: &reqwest::Client, url: &str, summary: &Summary) -> Result<(), NotifyError> {
    let mut headers = HeaderMap::new();
    observe::propagation::inject(&mut headers);
    let response = client
        .post(url)
        .headers(headers)
        .json(summary)
        .send()
        .await
        .map_err(NotifyError::Unreachable)?;
    match response.status() {
        status if status.is_success() => Ok(()),
        status => Err(NotifyError::Rejected(status)),
    }
}

/// The pipeline's configuration, shared by every request.
struct Parser {
    max_body_bytes: usize,
    /// Where summaries are posted, if anywhere.
    downstream: Option<(reqwest::Client, String)>,
}

impl Parser {
    /// Decode → validate → normalise, then notify downstream; each step records its own
    /// metrics, and this request span continues the caller's trace.
    #[instrumented(
        service = "parsing",
        name = "request",
        operation = "parse",
        kind = "server",
        parent = headers,
        skip_all
    )]
    async fn process(&self, headers: &HeaderMap, raw: Bytes) -> Result<Summary, ParseError> {
        let result = self.parse_message(raw).await;
        match &result {
            Ok(summary) => {
                tracing::info!(message.id = %summary.id, words = summary.words, "message parsed");
                if let Some((client, url)) = &self.downstream
                    && let Err(error) = notify(client, url, summary).await
                {
                    tracing::warn!(error.type = error.error_label(), error = %error, "summary not delivered");
                }
            }
            Err(error) => {
                tracing::warn!(error.type = error.error_label(), error = %error, "message rejected");
            }
        }
        result
    }

    async fn parse_message(&self, raw: Bytes) -> Result<Summary, ParseError> {
        let message = decode(raw).await?;
        let message = validate(message, self.max_body_bytes)?;
        Ok(self.normalise(message))
    }

    /// Lower-cases the source and counts the body's words.
    #[instrumented(service = "parsing", skip_all)]
    fn normalise(&self, message: ValidMessage) -> Summary {
        Summary {
            id: message.id,
            source: message.source.trim().to_lowercase(),
            words: count_words(&message.body),
            bytes: message.body.len(),
        }
    }
}

/// The request's hottest loop, kept out of line so that every build of the example runs
/// the same machine code for it (the load scripts also start it on a 64-byte boundary):
/// inlined, its speed followed the code around it (±2% of a request between builds whose
/// loop did not change), which `scripts/load.sh` would have counted as instrumentation.
#[inline(never)]
fn count_words(body: &str) -> usize {
    body.split_whitespace().count()
}

/// The queue a message was taken from, for the per-queue metrics: the `X-Queue` header,
/// else `parsing`. A queue `observe.toml` does not declare is recorded as `_OTHER`.
fn source_queue(headers: &HeaderMap) -> &str {
    headers
        .get("x-queue")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("parsing")
}

async fn parse(State(parser): State<Arc<Parser>>, headers: HeaderMap, raw: Bytes) -> Response {
    // Not function-shaped, so the function-like macros: names and labels are checked at
    // compile time like the attribute's, the queue's value at runtime.
    let queue = source_queue(&headers);
    observe::counter!(
        "copilot_parsing_messages_received_total",
        help = "Messages received on POST /parse, by the queue they came from.",
        labels(queue = queue),
    )
    .increment(1);
    observe::histogram!(
        "copilot_parsing_message_size_bytes",
        help = "Size of the raw messages received on POST /parse.",
        labels(queue = queue),
    )
    .record(raw.len() as f64);
    let waiting = observe::gauge!(
        "copilot_parsing_queue_depth_messages",
        help = "Messages received and not yet answered, by queue.",
        labels(queue = queue),
    );
    waiting.increment(1.0);
    let result = parser.process(&headers, raw).await;
    waiting.decrement(1.0);
    match result {
        Ok(summary) => (StatusCode::OK, Json(summary)).into_response(),
        Err(error) => {
            let body = serde_json::json!({
                "error": error.error_label(),
                "detail": error.to_string(),
            });
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
    }
}

async fn health() -> &'static str {
    "ok"
}

fn app(downstream: Option<String>) -> Router {
    let parser = Arc::new(Parser {
        max_body_bytes: MAX_BODY_BYTES,
        downstream: downstream.map(|url| (reqwest::Client::new(), url)),
    });
    Router::new()
        .route("/parse", post(parse))
        .route("/health", get(health))
        .with_state(parser)
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            eprintln!("parsing service: cannot listen for Ctrl-C: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(error) => {
                eprintln!("parsing service: cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

async fn serve(addr: SocketAddr, metrics_addr: Option<SocketAddr>) -> Result<(), Box<dyn Error>> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}; set PARSING_ADDR to a free address"))?;
    println!(
        "parsing service listening on http://{}",
        listener.local_addr()?
    );
    match metrics_addr {
        Some(metrics) => println!("metrics on http://{metrics}/metrics"),
        None => println!("metrics listener disabled (OBSERVE_METRICS_ADDR=off)"),
    }
    let downstream = std::env::var("PARSING_NOTIFY_URL").ok();
    axum::serve(listener, app(downstream))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    println!("parsing service stopped");
    Ok(())
}

fn run() -> Result<(), Box<dyn Error>> {
    let addr = std::env::var("PARSING_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("invalid PARSING_ADDR={addr:?}: expected `host:port`"))?;
    // Before the Tokio runtime: `init` starts its own exporter thread, and a failure
    // (e.g. the metrics port is taken) is reported before anything else starts.
    let builder = observe::Builder::from_env()?;
    // The version is a resource attribute of exported spans: only builds with OTLP export
    // (the `otlp` feature, on by default) have it.
    #[cfg(feature = "otlp")]
    let builder = builder.service_version(env!("CARGO_PKG_VERSION"));
    let guard = builder.init()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(addr, guard.metrics_addr()))?;
    // Served until the last request finished; only now stop `/metrics`.
    drop(guard);
    Ok(())
}

/// `--export-ops DIR [--window-scale N]` or `--check-ops DIR`: the artefacts of the
/// code, no service.
fn ops_command(args: &[String]) -> Option<Result<(), Box<dyn Error>>> {
    if let Some(i) = args.iter().position(|a| a == "--check-ops") {
        let Some(dir) = args.get(i + 1) else {
            return Some(Err("--check-ops needs a directory".into()));
        };
        return Some(observe::ops::check(dir).map_err(Into::into));
    }
    let dir = args.iter().position(|a| a == "--export-ops")?;
    let Some(dir) = args.get(dir + 1) else {
        return Some(Err("--export-ops needs a directory".into()));
    };
    let scale = match args.iter().position(|a| a == "--window-scale") {
        Some(i) => match args.get(i + 1).and_then(|n| n.parse::<u64>().ok()) {
            Some(n) if n > 0 => n,
            _ => return Some(Err("--window-scale needs a positive whole number".into())),
        },
        None => 1,
    };
    let options = observe::ops::Options::scaled(scale);
    Some(
        observe::ops::write_with(dir, &options)
            .map_err(|e| format!("cannot write {dir}: {e}").into()),
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match ops_command(&args) {
        Some(exported) => exported,
        None => run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("parsing service: {error}");
            ExitCode::FAILURE
        }
    }
}
