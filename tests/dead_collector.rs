//! The example service exporting spans to a collector that refuses connections, hangs,
//! answers 500 or answers 429: requests are served as fast as ever, every span that
//! cannot be delivered is counted in `observe_otlp_spans_dropped_total`, memory stays
//! bounded, and the log says so once, naming the endpoint (repeats are summarised a
//! minute later, past this test).

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::future::join_all;
use support::example::{Kind, Service};
use support::exposition::Exposition;
use support::process::http_client;

/// Messages sent per collector; each makes 4 spans (request, decode, validate, normalise).
const MESSAGES: usize = 100;
/// Far above what 100 loopback requests take, far below a collector's timeouts piling up.
const SEND_BOUND: Duration = Duration::from_secs(10);
const DROPPED: &str = "observe_otlp_spans_dropped_total";

#[derive(Debug, Clone, Copy)]
enum Collector {
    /// Nothing listens on the port.
    Refusing,
    /// Accepts, reads, never answers.
    Hanging,
    /// Answers every export with this status.
    Status(u16),
}

/// Starts the collector; its endpoint.
async fn start(collector: Collector) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    match collector {
        Collector::Refusing => drop(listener),
        Collector::Hanging => {
            tokio::spawn(async move {
                let app = axum::Router::new().fallback(std::future::pending::<()>);
                axum::serve(listener, app).await
            });
        }
        Collector::Status(status) => {
            tokio::spawn(async move {
                let app = axum::Router::new().fallback(move || async move {
                    axum::http::StatusCode::from_u16(status).unwrap()
                });
                axum::serve(listener, app).await
            });
        }
    }
    addr
}

/// Sum of the samples of the metrics whose name `select` accepts.
fn total(exposition: &str, select: impl Fn(&str) -> bool) -> f64 {
    Exposition::parse(exposition)
        .all_samples()
        .iter()
        .filter(|s| select(&s.metric))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn against(collector: Collector) {
    let client = http_client();
    let endpoint = format!("http://{}", start(collector).await);
    let service = Service::start_with(
        &client,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.clone()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        ],
    )
    .await;

    let started = Instant::now();
    for batch in (0..MESSAGES).collect::<Vec<_>>().chunks(10) {
        join_all(batch.iter().map(|&n| service.send(&client, Kind::Good, n))).await;
    }
    let sent_in = started.elapsed();
    assert!(
        sent_in < SEND_BOUND,
        "{collector:?}: {MESSAGES} messages took {sent_in:?}"
    );

    // Every span ends up dropped, and counted: as many as there were instrumented calls.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (spans, dropped) = loop {
        let exposition = service.scrape(&client).await;
        let spans = total(&exposition, |m| {
            m.starts_with("copilot_parsing") && m.ends_with("_messages_processed_total")
        });
        let dropped = total(&exposition, |m| m == DROPPED);
        if dropped >= spans || Instant::now() > deadline {
            break (spans, dropped);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(spans, (MESSAGES * 4) as f64, "{collector:?}");
    assert_eq!(
        dropped, spans,
        "{collector:?}: every span dropped is counted"
    );

    let rss = rss_kib(service.process.id());
    assert!(rss < 200 * 1024, "{collector:?}: RSS {rss} KiB");

    eprintln!(
        "{collector:?}: all {dropped} dropped after {:?}",
        started.elapsed()
    );
    let output = service.process.output();
    let warnings: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("cannot export spans to"))
        .collect();
    assert_eq!(warnings.len(), 1, "{collector:?}: one warning\n{output}");
    let url = format!("{endpoint}/v1/traces");
    assert!(
        warnings[0].contains(&url),
        "{collector:?}: names {url}\n{}",
        warnings[0]
    );
    assert!(warnings[0].contains("WARN"), "{}", warnings[0]);
    eprintln!("{}", warnings[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_collector_never_slows_calls_and_every_drop_is_counted_and_logged_once() {
    join_all(
        [
            Collector::Refusing,
            Collector::Hanging,
            Collector::Status(500),
            Collector::Status(429),
        ]
        .map(against),
    )
    .await;
}
