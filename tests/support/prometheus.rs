//! A real Prometheus server scraping one target (and evaluating rule files, if given),
//! and its HTTP API: instant queries, and any other `/api/v1/` path (alerts, rules). What
//! a Prometheus actually stores from observe's exposition, and what it makes of the
//! generated rules.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Client;

use super::process::{ChildProcess, free_addr, start_until_ready};

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const QUERY_TIMEOUT: Duration = Duration::from_secs(20);

/// A Prometheus server scraping one target and evaluating its rules every second, killed
/// on drop.
pub struct Prometheus {
    process: ChildProcess,
    addr: SocketAddr,
}

impl Prometheus {
    /// Starts Prometheus on a free port and waits until it is ready; started again on
    /// another port if that one was taken meanwhile (see `Service::start`).
    pub async fn start(
        client: &Client,
        binary: &Path,
        dir: &Path,
        job: &str,
        target: SocketAddr,
        rule_files: &[PathBuf],
    ) -> Prometheus {
        Prometheus::start_with_flags(client, binary, dir, job, target, rule_files, &[]).await
    }

    /// The same, with extra command-line flags (`--enable-feature=exemplar-storage`).
    pub async fn start_with_flags(
        client: &Client,
        binary: &Path,
        dir: &Path,
        job: &str,
        target: SocketAddr,
        rule_files: &[PathBuf],
        flags: &[&str],
    ) -> Prometheus {
        let rules: Vec<String> = rule_files
            .iter()
            .map(|f| format!("'{}'", f.display()))
            .collect();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
                 rule_files: [{}]\n\
                 scrape_configs:\n  \
                 - job_name: {job}\n    \
                   static_configs:\n      \
                     - targets: ['{target}']\n",
                rules.join(", ")
            ),
        )
        .expect("write prometheus.yml");
        let spawn = |attempt| {
            let addr = free_addr();
            let mut command = Command::new(binary);
            command
                .arg(format!("--config.file={}", config.display()))
                // A fresh database per attempt: a failed start may leave its lock behind.
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join(format!("data-{attempt}")).display()
                ))
                .arg(format!("--web.listen-address={addr}"))
                .args(flags);
            let process = ChildProcess::spawn("prometheus", command);
            (process, format!("http://{addr}/-/ready"), addr)
        };
        let (process, addr) =
            start_until_ready(client, READY_TIMEOUT, spawn, |body| body.contains("Ready")).await;
        Prometheus { process, addr }
    }

    /// GETs `/api/v1/<path>` and returns `data`; `Err` on an error status.
    pub async fn api_get(
        &self,
        client: &Client,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<serde_json::Value, String> {
        let response = client
            .get(format!("http://{}/api/v1/{path}", self.addr))
            .query(params)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("{path}: not JSON: {e}"))?;
        if body["status"] != "success" {
            return Err(format!("{path} {params:?}: {body}"));
        }
        Ok(body["data"].clone())
    }

    /// The instant vector of `promql` now; `Err` if Prometheus rejects the query.
    pub async fn try_query(&self, client: &Client, promql: &str) -> Result<Vec<Sample>, String> {
        let data = self.api_get(client, "query", &[("query", promql)]).await?;
        if data["resultType"] != "vector" {
            return Err(format!("{promql}: not a vector: {data}"));
        }
        Ok(data["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(Sample::from_json)
            .collect())
    }

    /// Runs `check` until it returns `Ok`, failing after `timeout` with the last `Err`.
    pub async fn poll_until<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut check: impl AsyncFnMut() -> Result<T, String>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            match check().await {
                Ok(value) => return value,
                Err(last) if Instant::now() >= deadline => {
                    panic!(
                        "{what}: not after {timeout:?}: {last}\n{}",
                        self.process.output()
                    )
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    /// The instant-query API with a client, for tests that only query.
    pub fn api<'a>(&'a self, client: &'a Client) -> Api<'a> {
        Api {
            client,
            prometheus: self,
        }
    }
}

/// The instant-query API.
pub struct Api<'a> {
    client: &'a Client,
    prometheus: &'a Prometheus,
}

impl Api<'_> {
    /// The result vector of `promql`, evaluated now; panics if Prometheus rejects it.
    pub async fn query(&self, promql: &str) -> Vec<Sample> {
        self.prometheus
            .try_query(self.client, promql)
            .await
            .unwrap_or_else(|e| panic!("query {promql}: {e}"))
    }

    /// Queries until `done` accepts the result (rates need two scrapes, and a scrape
    /// happens only every second), failing after [`QUERY_TIMEOUT`].
    pub async fn poll(&self, promql: &str, done: impl Fn(&[Sample]) -> bool) -> Vec<Sample> {
        let deadline = Instant::now() + QUERY_TIMEOUT;
        loop {
            let result = self.query(promql).await;
            if done(&result) {
                return result;
            }
            assert!(
                Instant::now() < deadline,
                "{promql}: no acceptable answer after {QUERY_TIMEOUT:?}, last {result:?}\n{}",
                self.prometheus.process.output()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// One element of an instant vector.
#[derive(Debug, Clone)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    /// `{"metric": {..}, "value": [<time>, "<value>"]}`; values are strings, possibly
    /// `NaN` or `+Inf`.
    fn from_json(json: &serde_json::Value) -> Sample {
        let labels = json["metric"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let value = json["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no value in {json}"));
        Sample { labels, value }
    }

    pub fn label(&self, name: &str) -> String {
        self.labels.get(name).cloned().unwrap_or_default()
    }

    /// The label's value without a copy (`""` if absent).
    pub fn label_str(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}
