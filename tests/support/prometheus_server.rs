//! A real Prometheus server for the end-to-end tests: started on a free port with a
//! scrape target and rule files, and its HTTP API (instant queries, alerts, rules, label
//! values). Killed on drop.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Client;

use super::process::{ChildProcess, START_ATTEMPTS, free_addr, wait_for};

const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A Prometheus scraping one target every second and evaluating its rules every second.
pub struct Prometheus {
    pub process: ChildProcess,
    pub addr: SocketAddr,
}

impl Prometheus {
    /// Starts Prometheus on a free port (again on another if that one was taken) and
    /// waits until it is ready.
    pub async fn start(
        client: &Client,
        binary: &Path,
        dir: &Path,
        job: &str,
        target: SocketAddr,
        rule_files: &[PathBuf],
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
                 scrape_configs:\n  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n",
                rules.join(", ")
            ),
        )
        .expect("write prometheus.yml");
        let mut attempt = 1;
        loop {
            let addr = free_addr();
            let mut command = Command::new(binary);
            command
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join(format!("data-{attempt}")).display()
                ))
                .arg(format!("--web.listen-address={addr}"));
            let mut process = ChildProcess::spawn("prometheus", command);
            let url = format!("http://{addr}/-/ready");
            match wait_for(client, &url, &mut process, READY_TIMEOUT, |body| {
                body.contains("Ready")
            })
            .await
            {
                Ok(()) => return Prometheus { process, addr },
                Err(_) if attempt < START_ATTEMPTS && process.port_clash() => attempt += 1,
                Err(status) => panic!("prometheus exited ({status})\n{}", process.output()),
            }
        }
    }

    /// GETs `/api/v1/<path>` and returns `data`, failing on an error status.
    pub async fn api(
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
    pub async fn query(&self, client: &Client, promql: &str) -> Result<Vec<Sample>, String> {
        let data = self.api(client, "query", &[("query", promql)]).await?;
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

    /// Polls `check` until it returns `Some`, failing after `timeout` with the last `Err`.
    pub async fn poll<T>(
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
}

/// One element of an instant vector.
#[derive(Debug, Clone)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    /// `{"metric": {..}, "value": [<time>, "<value>"]}`; values are strings, possibly NaN.
    pub fn from_json(json: &serde_json::Value) -> Sample {
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

    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}
