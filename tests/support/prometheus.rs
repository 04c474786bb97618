//! A real Prometheus server scraping one target, and its instant-query API: what a
//! Prometheus actually stores from observe's exposition.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Client;

use super::process::{ChildProcess, free_addr, start_until_ready};

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const QUERY_TIMEOUT: Duration = Duration::from_secs(20);

/// A Prometheus server scraping one target every second, killed on drop.
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
    ) -> Prometheus {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
                 scrape_configs:\n  \
                 - job_name: {job}\n    \
                   static_configs:\n      \
                     - targets: ['{target}']\n"
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
                .arg(format!("--web.listen-address={addr}"));
            let process = ChildProcess::spawn("prometheus", command);
            (process, format!("http://{addr}/-/ready"), addr)
        };
        let (process, addr) =
            start_until_ready(client, READY_TIMEOUT, spawn, |body| body.contains("Ready")).await;
        Prometheus { process, addr }
    }

    pub fn api<'a>(&'a self, client: &'a Client) -> Api<'a> {
        Api {
            client,
            url: format!("http://{}/api/v1/query", self.addr),
            prometheus: self,
        }
    }
}

/// The instant-query API.
pub struct Api<'a> {
    client: &'a Client,
    url: String,
    prometheus: &'a Prometheus,
}

impl Api<'_> {
    /// The result vector of `promql`, evaluated now.
    pub async fn query(&self, promql: &str) -> Vec<Sample> {
        let response = self
            .client
            .get(&self.url)
            .query(&[("query", promql)])
            .send()
            .await
            .unwrap_or_else(|e| panic!("query {promql}: {e}"));
        let body: serde_json::Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("query {promql}: not JSON: {e}"));
        assert_eq!(body["status"], "success", "query {promql}: {body}");
        assert_eq!(
            body["data"]["resultType"], "vector",
            "query {promql}: {body}"
        );
        body["data"]["result"]
            .as_array()
            .unwrap_or_else(|| panic!("query {promql}: no result array: {body}"))
            .iter()
            .map(Sample::from_json)
            .collect()
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
#[derive(Debug)]
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
}
