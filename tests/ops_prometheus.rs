//! Operations as code, end to end on a real Prometheus: the example service exports its
//! artefacts in the test profile (every window ÷ 60, so the 1-hour window is 1 minute),
//! Prometheus loads the generated rules and scrapes the service under a bounded load with
//! injected failures, and
//! - the availability burn-rate alert of `decode` reaches `firing` (`/api/v1/alerts`);
//! - every recording rule is healthy and returns data;
//! - every dashboard panel's query (and each variable's and annotation's) parses and
//!   returns data, with the variables substituted as Grafana would;
//! - `metrics.lock` agrees with a real scrape: the same families, types and labels.
//!
//! Skipped (loudly) without `prometheus` on PATH, unless `OBSERVE_REQUIRE_PROMETHEUS=1`.

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use observe::ops::{Lock, MetricType};
use reqwest::Client;
use support::example::{ENVIRONMENT, Kind, Service, example_binary, queue};
use support::exposition::Exposition;
use support::process::{TempDir, free_addr, http_client};
use support::prometheus::{Prometheus, Sample};
use support::prometheus_tools::tool_or_skip;

const JOB: &str = "parsing";
/// The test profile's time compression.
const WINDOW_SCALE: &str = "60";
/// Messages a second while the test runs: half of them malformed JSON, so `decode`
/// fails 50% of its calls against a 99% SLO (a 50× burn; the page threshold is 14.4×).
const REQUESTS_PER_SECOND: u64 = 20;
const ALERT_TIMEOUT: Duration = Duration::from_secs(90);
const DATA_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn generated_rules_alerts_and_dashboards_work_on_a_real_prometheus() {
    let Some(prometheus_bin) = tool_or_skip("prometheus") else {
        return;
    };
    let started = Instant::now();
    let dir = TempDir::new("observe-ops-e2e");
    let ops = dir.path().join("ops");
    let export = Command::new(example_binary())
        .args([
            "--export-ops".as_ref(),
            ops.as_os_str(),
            "--window-scale".as_ref(),
            WINDOW_SCALE.as_ref(),
        ])
        .output()
        .expect("run the example with --export-ops");
    assert!(
        export.status.success(),
        "--export-ops failed: {}",
        String::from_utf8_lossy(&export.stderr)
    );

    let client = http_client();
    // Summaries are posted to a port nothing listens on: `notify` fails `Unreachable`,
    // so every operation has traffic and every recording rule has data.
    let nowhere = free_addr();
    let service = Service::start_with(
        &client,
        &[("PARSING_NOTIFY_URL", format!("http://{nowhere}/notify"))],
    )
    .await;
    let rules = [
        ops.join("rules/recording.yml"),
        ops.join("rules/alerts.yml"),
    ];
    let prometheus = Prometheus::start(
        &client,
        &prometheus_bin,
        dir.path(),
        JOB,
        service.metrics_addr,
        &rules,
    )
    .await;

    let sent = Arc::new(AtomicUsize::new(0));
    let load = tokio::spawn(send_load(
        client.clone(),
        service.url("/parse"),
        sent.clone(),
    ));

    let alert = prometheus
        .poll_until(
            ALERT_TIMEOUT,
            "ParsingErrorBudgetBurn firing for decode",
            async || firing_decode_page(&prometheus, &client).await,
        )
        .await;
    println!(
        "firing after {:?} and {} messages: {alert:#?}",
        started.elapsed(),
        sent.load(Ordering::Relaxed)
    );

    let recorded = every_recording_rule_returns_data(&prometheus, &client).await;
    let queried = every_dashboard_query_returns_data(&prometheus, &client, &ops).await;
    load.abort();
    the_lock_agrees_with_a_scrape(&service.scrape(&client).await, &ops);
    println!(
        "{recorded} recording rules and {queried} dashboard queries checked; took {:?}",
        started.elapsed()
    );
}

/// Good and malformed messages alternately, at [`REQUESTS_PER_SECOND`], from the three
/// queues (one undeclared, so the overflow counter appears too), until aborted.
async fn send_load(client: Client, url: String, sent: Arc<AtomicUsize>) {
    let mut ticks = tokio::time::interval(Duration::from_millis(1000 / REQUESTS_PER_SECOND));
    for n in 0.. {
        ticks.tick().await;
        let kind = if n % 2 == 0 {
            Kind::Good
        } else {
            Kind::InvalidJson
        };
        let response = client
            .post(&url)
            .header("x-queue", queue(n / 2))
            .body(kind.body(n))
            .send()
            .await;
        if let Ok(response) = response {
            let expected = if kind == Kind::Good { 200 } else { 400 };
            assert_eq!(response.status().as_u16(), expected, "{kind:?}");
            sent.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The page alert of `decode`'s availability SLO, once firing.
async fn firing_decode_page(
    prometheus: &Prometheus,
    client: &Client,
) -> Result<serde_json::Value, String> {
    let data = prometheus.api_get(client, "alerts", &[]).await?;
    let alerts = data["alerts"].as_array().cloned().unwrap_or_default();
    alerts
        .iter()
        .find(|a| {
            let l = &a["labels"];
            l["alertname"] == "ParsingErrorBudgetBurn"
                && l["operation"] == "decode"
                && l["severity"] == "critical"
                && a["state"] == "firing"
        })
        .cloned()
        .map(|alert| {
            assert_eq!(alert["labels"]["environment"], ENVIRONMENT, "{alert}");
            assert_eq!(
                alert["labels"]["component"], "document_processing",
                "{alert}"
            );
            let summary = alert["annotations"]["summary"].as_str().unwrap_or_default();
            // Half the messages are malformed; a scrape between the two of a pair moves
            // the windowed ratio off exactly 50%.
            let percent: f64 = summary
                .strip_prefix("parsing decode: ")
                .and_then(|rest| rest.split_once("% of calls failing in ci,"))
                .and_then(|(value, _)| value.parse().ok())
                .unwrap_or_else(|| panic!("{summary}"));
            assert!((40.0..=60.0).contains(&percent), "{summary}");
            assert_eq!(
                alert["annotations"]["runbook"], "runbooks/ParsingErrorBudgetBurn.md",
                "{alert}"
            );
            alert
        })
        .ok_or_else(|| format!("not firing yet: {alerts:?}"))
}

/// Every recording rule of the generated file is healthy and returns at least one series.
async fn every_recording_rule_returns_data(prometheus: &Prometheus, client: &Client) -> usize {
    let data = prometheus
        .api_get(client, "rules", &[("type", "record")])
        .await
        .expect("GET /api/v1/rules");
    let rules: Vec<serde_json::Value> = data["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(rules.len() > 100, "{} recording rules loaded", rules.len());
    for rule in &rules {
        let name = rule["name"].as_str().expect("rule name");
        let labels: Vec<String> = rule["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let promql = format!("{name}{{{}}}", labels.join(","));
        prometheus
            .poll_until(
                DATA_TIMEOUT,
                &format!("recording rule {promql}"),
                async || {
                    let health = prometheus
                        .api_get(client, "rules", &[("type", "record")])
                        .await?;
                    let unhealthy = health.to_string().contains("\"health\":\"err\"");
                    if unhealthy {
                        return Err(format!("a rule is unhealthy: {health}"));
                    }
                    let samples = prometheus.try_query(client, &promql).await?;
                    if samples.is_empty() {
                        Err("no data".to_owned())
                    } else {
                        Ok(())
                    }
                },
            )
            .await;
    }
    rules.len()
}

/// Grafana's substitution of the dashboards' variables: the environment and service of
/// the test, every operation and SLO.
fn substitute(expr: &str) -> String {
    expr.replace("$environment", ENVIRONMENT)
        .replace("$service", "parsing")
        .replace("$operation", ".+")
        .replace("$slo", ".+")
}

/// Every PromQL query of every dashboard (panels, annotations) and every variable's
/// `label_values` parses and returns data.
async fn every_dashboard_query_returns_data(
    prometheus: &Prometheus,
    client: &Client,
    ops: &std::path::Path,
) -> usize {
    let mut checked = 0;
    for entry in std::fs::read_dir(ops.join("dashboards")).expect("dashboards/") {
        let path = entry.expect("entry").path();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut queries: Vec<(String, String)> = Vec::new();
        for panel in json["panels"].as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                queries.push((
                    format!("{name}: panel `{}`", panel["title"]),
                    target["expr"].as_str().unwrap().to_owned(),
                ));
            }
        }
        for annotation in json["annotations"]["list"].as_array().into_iter().flatten() {
            if let Some(expr) = annotation["target"]["expr"].as_str() {
                queries.push((
                    format!("{name}: annotation `{}`", annotation["name"]),
                    expr.to_owned(),
                ));
            }
        }
        assert!(queries.len() >= 5, "{name}: {queries:?}");
        for (what, expr) in queries {
            let promql = substitute(&expr);
            prometheus
                .poll_until(DATA_TIMEOUT, &format!("{what}: {promql}"), async || {
                    let samples: Vec<Sample> = prometheus.try_query(client, &promql).await?;
                    if samples.is_empty() {
                        Err("no data".to_owned())
                    } else {
                        Ok(())
                    }
                })
                .await;
            checked += 1;
        }
        for variable in json["templating"]["list"].as_array().into_iter().flatten() {
            let Some(query) = variable["query"]["query"].as_str() else {
                continue;
            };
            let inner = query
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
                .expect("label_values(…)");
            let (selector, label) = inner
                .rsplit_once(", ")
                .expect("label_values(selector, label)");
            let selector = substitute(selector);
            prometheus
                .poll_until(
                    DATA_TIMEOUT,
                    &format!("{name}: variable {query}"),
                    async || {
                        let values = prometheus
                            .api_get(
                                client,
                                &format!("label/{label}/values"),
                                &[("match[]", &selector)],
                            )
                            .await?;
                        if values.as_array().is_some_and(|v| !v.is_empty()) {
                            Ok(())
                        } else {
                            Err(format!("no values: {values}"))
                        }
                    },
                )
                .await;
            checked += 1;
        }
    }
    checked
}

/// Every family of the scrape is in `metrics.lock` with the same type and labels, and
/// every locked family is in the scrape.
fn the_lock_agrees_with_a_scrape(exposition: &str, ops: &std::path::Path) {
    let lock =
        Lock::parse(&std::fs::read_to_string(ops.join("metrics.lock")).expect("metrics.lock"))
            .expect("parse metrics.lock");
    // Types from the `# TYPE` lines; a histogram's `_bucket`, `_sum` and `_count` samples
    // belong to its family.
    let types: BTreeMap<&str, MetricType> = exposition
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_once(' '))
        .map(|(name, kind)| {
            (
                name,
                MetricType::parse(kind.trim()).unwrap_or_else(|| panic!("{name}: type {kind}")),
            )
        })
        .collect();
    let scrape = Exposition::parse(exposition);
    let mut scraped: BTreeMap<String, (MetricType, Vec<String>)> = BTreeMap::new();
    for sample in scrape.all_samples() {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|suffix| sample.metric.strip_suffix(suffix))
            .find(|base| types.get(base) == Some(&MetricType::Histogram))
            .unwrap_or(&sample.metric);
        let kind = *types
            .get(family)
            .unwrap_or_else(|| panic!("{family}: no # TYPE line"));
        let entry = scraped
            .entry(family.to_owned())
            .or_insert((kind, Vec::new()));
        entry
            .1
            .extend(sample.labels.keys().filter(|l| *l != "le").cloned());
        entry.1.sort();
        entry.1.dedup();
    }
    let locked: BTreeMap<String, (MetricType, Vec<String>)> = lock
        .families
        .iter()
        .map(|f| (f.name.clone(), (f.kind, f.labels.clone())))
        .collect();
    assert_eq!(
        scraped, locked,
        "the scrape and metrics.lock disagree\n--- scrape ---\n{exposition}"
    );
}
