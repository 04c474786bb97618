//! Exemplars end to end: a real Prometheus with `--enable-feature=exemplar-storage` scrapes
//! the example service (which it asks for OpenMetrics, as Prometheus always does), the
//! service exports its spans over OTLP to the in-process receiver with half the traces
//! sampled, and `/api/v1/query_exemplars` answers, for the duration buckets and the
//! processed counter, trace ids the receiver got: every one of them, exactly.
//!
//! Skipped (loudly) without `prometheus` on PATH, unless `OBSERVE_REQUIRE_PROMETHEUS=1`.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Client;
use support::example::{DURATION, Kind, PROCESSED, SERVICE, Service};
use support::otlp::Receiver;
use support::process::{TempDir, http_client};
use support::prometheus::Prometheus;
use support::prometheus_tools::tool_or_skip;

const JOB: &str = "parsing";
const REQUESTS_PER_SECOND: u64 = 20;
/// Bounds the load too: it stops when the test does, at most this long.
const EXEMPLARS_TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_stores_exemplars_whose_trace_ids_were_exported() {
    let Some(prometheus_bin) = tool_or_skip("prometheus") else {
        return;
    };
    let receiver = Receiver::start().await;
    let client = http_client();
    let service = Arc::new(
        Service::start_with(
            &client,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
                ("OTEL_TRACES_SAMPLER_ARG", "0.5".to_owned()),
            ],
        )
        .await,
    );
    let dir = TempDir::new("observe-exemplars-e2e");
    let prometheus = Prometheus::start_with_flags(
        &client,
        &prometheus_bin,
        dir.path(),
        JOB,
        service.metrics_addr,
        &[],
        &["--enable-feature=exemplar-storage"],
    )
    .await;

    let sent = Arc::new(AtomicUsize::new(0));
    let load = tokio::spawn(send_load(client.clone(), service.clone(), sent.clone()));
    let exemplars = prometheus
        .poll_until(
            EXEMPLARS_TIMEOUT,
            "exemplars of success and failure, every trace id received over OTLP",
            async || exported_exemplars(&prometheus, &client, &receiver).await,
        )
        .await;
    load.abort();

    let up = prometheus.api(&client).query("up").await;
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0].value, 1.0, "the OpenMetrics scrapes succeed: {up:?}");
    for exemplar in &exemplars {
        assert_eq!(exemplar.series["job"], JOB, "{exemplar:?}");
        assert_eq!(exemplar.series["service"], SERVICE, "{exemplar:?}");
        match exemplar.series.get("le").and_then(|le| le.as_str()) {
            Some(le) => {
                let le: f64 = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                assert!(exemplar.value <= le, "{exemplar:?}: above its bucket");
            }
            None => assert_eq!(exemplar.value, 1.0, "{exemplar:?}: one increment"),
        }
    }
    println!(
        "{} exemplars after {} messages, every trace id received: {:#?}",
        exemplars.len(),
        sent.load(Ordering::Relaxed),
        exemplars.iter().take(4).collect::<Vec<_>>()
    );
}

/// Three good messages then one malformed, at [`REQUESTS_PER_SECOND`], until aborted.
async fn send_load(client: Client, service: Arc<Service>, sent: Arc<AtomicUsize>) {
    let mut ticks = tokio::time::interval(Duration::from_millis(1000 / REQUESTS_PER_SECOND));
    let limit = EXEMPLARS_TIMEOUT.as_secs() * REQUESTS_PER_SECOND + REQUESTS_PER_SECOND * 10;
    for n in 0..limit as usize {
        ticks.tick().await;
        let kind = if n % 4 == 3 {
            Kind::InvalidJson
        } else {
            Kind::Good
        };
        service.send(&client, kind, n).await;
        sent.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Exemplar {
    series: serde_json::Map<String, serde_json::Value>,
    trace_id: String,
    value: f64,
}

/// The exemplars Prometheus stored for the duration buckets and the processed counter,
/// once both outcomes have some on each and every trace id is one the receiver got.
async fn exported_exemplars(
    prometheus: &Prometheus,
    client: &Client,
    receiver: &Receiver,
) -> Result<Vec<Exemplar>, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (start, end) = ((now - 600).to_string(), (now + 60).to_string());
    let mut exemplars = Vec::new();
    for query in [format!("{DURATION}_bucket"), PROCESSED.to_owned()] {
        let params = [("query", query.as_str()), ("start", &start), ("end", &end)];
        let data = prometheus
            .api_get(client, "query_exemplars", &params)
            .await?;
        for series in data.as_array().into_iter().flatten() {
            for exemplar in series["exemplars"].as_array().into_iter().flatten() {
                exemplars.push(Exemplar {
                    series: series["seriesLabels"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    trace_id: exemplar["labels"]["trace_id"]
                        .as_str()
                        .ok_or_else(|| format!("no trace_id: {exemplar}"))?
                        .to_owned(),
                    value: exemplar["value"]
                        .as_str()
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| format!("no value: {exemplar}"))?,
                });
            }
        }
    }
    let kinds: BTreeSet<(bool, String)> = exemplars
        .iter()
        .map(|e| {
            let outcome = e.series["outcome"].as_str().unwrap_or_default().to_owned();
            (e.series.contains_key("le"), outcome)
        })
        .collect();
    for bucket in [true, false] {
        for outcome in ["success", "failure"] {
            if !kinds.contains(&(bucket, outcome.to_owned())) {
                return Err(format!(
                    "no {outcome} exemplar (bucket: {bucket}) yet: {kinds:?}"
                ));
            }
        }
    }
    let received: BTreeSet<String> = receiver.spans().into_iter().map(|s| s.trace_id).collect();
    let missing: Vec<&Exemplar> = exemplars
        .iter()
        .filter(|e| !received.contains(&e.trace_id))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{} of {} exemplars name a trace the receiver did not get (of {} traces): {missing:#?}",
            missing.len(),
            exemplars.len(),
            received.len()
        ));
    }
    Ok(exemplars)
}
