//! Same-named functions of one service (a `new` on two types, a `handle` in two modules,
//! one trait method implemented for two types) share their series: the exposition holds
//! one line per label set with the sites' counts summed, and a real Prometheus scraping it
//! stores those sums (issue 16: it used to keep one of the duplicate lines' samples).

mod support;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use observe::{ErrorLabel, instrumented};
use support::exposition::{Exposition, expected};
use support::process::{TempDir, free_addr, http_client};
use support::prometheus::Prometheus;
use support::prometheus_tools::{promtool_check, tool_or_skip};

const PROCESSED: &str = "copilot_peer_messages_processed_total";
const FAILURES: &str = "copilot_peer_failures_total";
const ACTIVE: &str = "copilot_peer_active_workers_current";
const DURATION: &str = "copilot_peer_duration_seconds";
const JOB: &str = "peer";

#[derive(Debug, ErrorLabel)]
enum PeerError {
    Refused,
}

struct Client;
struct Server;

impl Client {
    #[instrumented(service = "peer")]
    fn new() -> Client {
        Client
    }
}

impl Server {
    #[instrumented(service = "peer")]
    fn new() -> Server {
        Server
    }
}

mod inbound {
    #[observe::instrumented(service = "peer")]
    pub fn handle(n: u32) -> Result<u32, super::PeerError> {
        Ok(n + 1)
    }
}

mod outbound {
    #[observe::instrumented(service = "peer")]
    pub fn handle(_n: u32) -> Result<u32, super::PeerError> {
        Err(super::PeerError::Refused)
    }
}

trait Call {
    fn call(&self) -> u32;
}

impl Call for Client {
    #[instrumented(service = "peer")]
    fn call(&self) -> u32 {
        1
    }
}

impl Call for Server {
    #[instrumented(service = "peer")]
    fn call(&self) -> u32 {
        2
    }
}

/// The runtime with a `/metrics` listener, for the Prometheus test.
fn metrics_addr() -> std::net::SocketAddr {
    static ADDR: OnceLock<(observe::Guard, std::net::SocketAddr)> = OnceLock::new();
    ADDR.get_or_init(|| {
        let addr = free_addr();
        let guard = observe::builder()
            .environment("test")
            .metrics_addr(addr)
            .logging(false)
            .init()
            .expect("observe starts");
        (guard, addr)
    })
    .1
}

/// 11 `new`, 7 `handle` (4 succeed, 3 fail), 8 `call`, each operation split unevenly
/// between its two sites so a kept-one-line bug shows as a wrong count.
fn make_calls() {
    (0..10).for_each(|_| {
        let Client = Client::new();
    });
    let Server = Server::new();
    for n in 0..4 {
        assert_eq!(inbound::handle(n).unwrap(), n + 1);
    }
    for n in 0..3 {
        assert!(outbound::handle(n).is_err());
    }
    assert_eq!(Client.call(), 1);
    (0..7).for_each(|_| assert_eq!(Server.call(), 2));
}

fn want_processed() -> BTreeMap<Vec<String>, f64> {
    expected(&[
        (&["new", "success"], 11.0),
        (&["new", "failure"], 0.0),
        (&["handle", "success"], 4.0),
        (&["handle", "failure"], 3.0),
        (&["call", "success"], 8.0),
        (&["call", "failure"], 0.0),
    ])
}

/// Every sample line's name and label set, each exactly once.
fn assert_one_line_per_label_set(raw: &str) {
    let mut seen = BTreeMap::new();
    for line in raw.lines().filter(|l| l.starts_with("copilot_peer_")) {
        let series = line.rsplit_once(' ').expect("a sample line").0;
        *seen.entry(series).or_insert(0) += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "series exposed more than once: {repeated:?}\n{raw}"
    );
    assert!(!seen.is_empty(), "no peer series:\n{raw}");
}

#[tokio::test(flavor = "multi_thread")]
async fn same_named_functions_render_one_summed_series_and_prometheus_stores_the_sums() {
    let addr = metrics_addr();
    make_calls();
    let raw = observe::render().expect("started");
    assert_one_line_per_label_set(&raw);
    promtool_check(&raw);

    let m = Exposition::parse(&raw);
    assert_eq!(
        m.values_by(PROCESSED, &["operation", "outcome"]),
        want_processed()
    );
    assert_eq!(
        m.values_by(FAILURES, &["operation", "error_type"]),
        expected(&[(&["handle", "Refused"], 3.0)])
    );
    assert_eq!(
        m.values_by(ACTIVE, &["operation"]),
        expected(&[(&["call"], 0.0), (&["handle"], 0.0), (&["new"], 0.0)])
    );
    let count = |op, outcome| {
        m.count(
            &format!("{DURATION}_count"),
            &[("operation", op), ("outcome", outcome)],
        )
    };
    let buckets = m.buckets(DURATION, &[("operation", "new"), ("outcome", "success")]);
    assert_eq!(buckets.last().expect("+Inf").1, 11.0, "{buckets:?}");
    assert_eq!(count("handle", "failure"), 3.0);

    let Some(prometheus_bin) = tool_or_skip("prometheus") else {
        return;
    };
    let client = http_client();
    let dir = TempDir::new("observe-shared-series");
    let prometheus = Prometheus::start(&client, &prometheus_bin, dir.path(), JOB, addr, &[]).await;
    let api = prometheus.api(&client);
    let stored = api
        .poll(&format!("{PROCESSED}{{job=\"{JOB}\"}}"), |r| r.len() == 6)
        .await;
    let by_operation: BTreeMap<Vec<String>, f64> = stored
        .iter()
        .map(|s| (vec![s.label("operation"), s.label("outcome")], s.value))
        .collect();
    assert_eq!(by_operation, want_processed());
    let series = api
        .query(&format!(
            "count({{job=\"{JOB}\",__name__=~\"copilot_peer_.*\"}})"
        ))
        .await;
    let lines = raw
        .lines()
        .filter(|l| l.starts_with("copilot_peer_"))
        .count();
    assert_eq!(
        series[0].value, lines as f64,
        "Prometheus stores one series per exposed line"
    );
}
