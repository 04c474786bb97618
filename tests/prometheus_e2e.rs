//! End to end with a real Prometheus: it scrapes the example service under load, and the
//! RFC's queries answer with sensible values; and with a real Pushgateway, which the
//! example pushes to. Skipped (loudly) without `prometheus` / `prometheus-pushgateway` on
//! PATH, unless `OBSERVE_REQUIRE_PROMETHEUS=1`.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Client;
use support::example::{ENVIRONMENT, Kind, PROCESSED, SERVICE, Service};
use support::exposition::Exposition;
use support::process::{
    ChildProcess, TempDir, free_addr, get_text, http_client, start_until_ready,
};
use support::prometheus::{Prometheus, Sample};
use support::prometheus_tools::tool_or_skip;

const JOB: &str = "parsing";
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const QUERY_TIMEOUT: Duration = Duration::from_secs(20);

/// The load: 20 messages a second for 8 seconds, in cycles of 10 messages with 1 bad
/// in 5, so a whole number of cycles is sent.
const REQUESTS_PER_SECOND: u64 = 20;
const LOAD_CYCLES: usize = 16;
const CYCLE: [Kind; 10] = [
    Kind::Good,
    Kind::Good,
    Kind::Good,
    Kind::Good,
    Kind::InvalidJson,
    Kind::Good,
    Kind::Good,
    Kind::Good,
    Kind::Good,
    Kind::EmptyBody,
];
/// Annotated calls per cycle: a good message goes through decode, validate and
/// normalise (3 calls, no failure); malformed JSON stops at decode (1 call, 1 failure);
/// an empty body stops at validate (2 calls, 1 failure). So 8×3 + 1 + 2 = 27 calls and
/// 2 failures per cycle.
const CALLS_PER_CYCLE: f64 = 27.0;
const FAILURES_PER_CYCLE: f64 = 2.0;

const RATE_PROCESSED: &str = "rate(copilot_parsing_messages_processed_total[5m])";
const P95_DURATION: &str =
    "histogram_quantile(0.95, rate(copilot_parsing_duration_seconds_bucket[5m]))";
const FAILURE_RATIO: &str = "sum by (service) (rate(copilot_parsing_failures_total[5m])) / sum by (service) (rate(copilot_parsing_messages_processed_total[5m]))";

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_the_service_and_answers_the_rfc_queries() {
    let Some(prometheus_bin) = tool_or_skip("prometheus") else {
        return;
    };
    let started = Instant::now();
    let client = http_client();
    let service = Service::start(&client).await;

    // One cycle before Prometheus starts: every series exists from the first scrape on,
    // holding exactly one cycle. See `assert_failure_ratio` for why that matters.
    send_cycles(&client, &service, 1).await;

    // Declared first so it is dropped last, after Prometheus stopped writing to it.
    let dir = TempDir::new("observe-prometheus-e2e");
    let prometheus = Prometheus::start(
        &client,
        &prometheus_bin,
        dir.path(),
        JOB,
        service.metrics_addr,
        &[],
    )
    .await;
    let api = prometheus.api(&client);

    // A first scrape before the load, so the load's increase is measured from it.
    let up = api
        .poll(&format!("up{{job=\"{JOB}\"}}"), |r| !r.is_empty())
        .await;
    assert_eq!(up[0].value, 1.0, "the service's target is down: {up:?}");

    send_cycles(&client, &service, LOAD_CYCLES).await;

    // Until a scrape after the load: every call of warm-up and load is in Prometheus.
    let total_calls = (1 + LOAD_CYCLES) as f64 * CALLS_PER_CYCLE;
    api.poll("sum(copilot_parsing_messages_processed_total)", |r| {
        r.len() == 1 && r[0].value == total_calls
    })
    .await;

    let rates = api.poll(RATE_PROCESSED, |r| !r.is_empty()).await;
    let p95 = api.poll(P95_DURATION, |r| !r.is_empty()).await;
    let ratio = api.poll(FAILURE_RATIO, |r| !r.is_empty()).await;
    // Shown with `--nocapture`, to see what Prometheus answered.
    println!(
        "{RATE_PROCESSED}:\n{rates:#?}\n{P95_DURATION}:\n{p95:#?}\n{FAILURE_RATIO}:\n{ratio:#?}"
    );
    assert_processed_rates(&rates);
    assert_p95_durations(&p95);
    assert_failure_ratio(&ratio);

    println!("prometheus_e2e took {:?}", started.elapsed());
}

/// Sends `cycles` cycles at [`REQUESTS_PER_SECOND`], checking every response.
async fn send_cycles(client: &Client, service: &Service, cycles: usize) {
    let mut ticks = tokio::time::interval(Duration::from_millis(1000 / REQUESTS_PER_SECOND));
    for n in 0..cycles * CYCLE.len() {
        ticks.tick().await;
        // The cycle's number: each bad kind comes once a cycle, and varies its shape by it.
        service
            .send(client, CYCLE[n % CYCLE.len()], n / CYCLE.len())
            .await;
    }
}

/// Every (operation, outcome) with traffic has a positive rate; normalise never fails, so
/// its failure series is present at exactly 0.
fn assert_processed_rates(result: &[Sample]) {
    let rates: BTreeMap<(String, String), f64> = result
        .iter()
        .map(|s| ((s.label("operation"), s.label("outcome")), s.value))
        .collect();
    let keys: Vec<_> = rates.keys().cloned().collect();
    assert_eq!(
        keys,
        [
            ("decode", "failure"),
            ("decode", "success"),
            ("normalise", "failure"),
            ("normalise", "success"),
            ("validate", "failure"),
            ("validate", "success"),
        ]
        .map(|(op, outcome)| (op.to_owned(), outcome.to_owned())),
        "{RATE_PROCESSED}: {result:?}"
    );
    for ((operation, outcome), rate) in rates {
        assert!(
            rate.is_finite(),
            "{RATE_PROCESSED}: {operation}/{outcome} = {rate}"
        );
        if (operation.as_str(), outcome.as_str()) == ("normalise", "failure") {
            assert_eq!(rate, 0.0, "{RATE_PROCESSED}: normalise cannot fail");
        } else {
            assert!(
                rate > 0.0,
                "{RATE_PROCESSED}: {operation}/{outcome} = {rate}"
            );
        }
    }
    for sample in result {
        sample.assert_service_labels();
    }
}

/// Series without observations in the window give NaN; the others a finite p95 within
/// the histogram's finite buckets (the largest is 60 s).
fn assert_p95_durations(result: &[Sample]) {
    let finite: Vec<_> = result.iter().filter(|s| s.value.is_finite()).collect();
    assert!(
        !finite.is_empty(),
        "{P95_DURATION}: no finite value in {result:?}"
    );
    for sample in finite {
        assert!(
            sample.value > 0.0 && sample.value <= 60.0,
            "{P95_DURATION}: {sample:?}"
        );
        sample.assert_service_labels();
    }
}

/// Every series held exactly one cycle at the first scrape and gained exactly
/// `LOAD_CYCLES` cycles by the last: the first value is the same fraction of the increase
/// on every series, and all series share their scrape timestamps, so `rate` extrapolates
/// every series by the same factor and it cancels out of the ratio. The ratio is then the
/// per-cycle one, 2 failures / 27 calls ≈ 0.074 (sent: 1 bad message in 5; each good one
/// counts 3 calls). The 1 % tolerance is for float rounding only.
fn assert_failure_ratio(result: &[Sample]) {
    assert_eq!(result.len(), 1, "{FAILURE_RATIO}: {result:?}");
    let ratio = result[0].value;
    let want = FAILURES_PER_CYCLE / CALLS_PER_CYCLE;
    assert!(
        ratio.is_finite() && ratio > 0.0 && ratio < 1.0,
        "{FAILURE_RATIO} = {ratio}"
    );
    assert!(
        (ratio - want).abs() <= want * 0.01,
        "{FAILURE_RATIO} = {ratio}, want {want} (2 failures per 27 calls)"
    );
    assert_eq!(result[0].label("service"), SERVICE);
}

/// The example's labels on every sample of its job.
trait ServiceLabels {
    fn assert_service_labels(&self);
}

impl ServiceLabels for Sample {
    fn assert_service_labels(&self) {
        assert_eq!(self.label("service"), SERVICE, "{self:?}");
        assert_eq!(self.label("environment"), ENVIRONMENT, "{self:?}");
        assert_eq!(self.label("job"), JOB, "{self:?}");
    }
}

/// The example pushes its exposition to a real Pushgateway on an interval while it runs,
/// and once more when it shuts down.
#[tokio::test(flavor = "multi_thread")]
async fn the_pushgateway_gets_the_exposition_on_an_interval_and_at_shutdown() {
    let Some(gateway_bin) = tool_or_skip("prometheus-pushgateway") else {
        return;
    };
    let client = http_client();
    let gateway = Pushgateway::start(&client, &gateway_bin).await;

    // Pushing every 200 ms: the counts arrive while the service runs. Killed, so no
    // final push can be mistaken for an interval one.
    let mut service = Service::start_with(
        &client,
        &[
            ("OBSERVE_PUSHGATEWAY_URL", gateway.url()),
            ("OBSERVE_PUSH_INTERVAL", "200ms".to_owned()),
        ],
    )
    .await;
    for n in 0..3 {
        service.send(&client, Kind::Good, n).await;
    }
    gateway.poll_decoded(&client, 3.0).await;
    service.process.kill();

    // Pushing every hour: only the push at shutdown can deliver these counts. The
    // instance replaces the job's group, so it holds this instance's 2 calls.
    let mut service = Service::start_with(
        &client,
        &[
            ("OBSERVE_PUSHGATEWAY_URL", gateway.url()),
            ("OBSERVE_PUSH_INTERVAL", "1h".to_owned()),
        ],
    )
    .await;
    for n in 0..2 {
        service.send(&client, Kind::Good, n).await;
    }
    service.process.terminate();
    let status = service.process.wait_exit(Duration::from_secs(15)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "the service stops cleanly: {status:?}\n{}",
        service.process.output()
    );
    gateway.poll_decoded(&client, 2.0).await;
}

/// A Pushgateway on a free loopback port, in-memory only.
struct Pushgateway {
    #[allow(dead_code)]
    process: ChildProcess,
    addr: SocketAddr,
}

impl Pushgateway {
    async fn start(client: &Client, binary: &Path) -> Pushgateway {
        let spawn = |_attempt| {
            let addr = free_addr();
            let mut command = Command::new(binary);
            command.arg(format!("--web.listen-address={addr}"));
            let process = ChildProcess::spawn("pushgateway", command);
            (process, format!("http://{addr}/-/ready"), addr)
        };
        let (process, addr) = start_until_ready(client, READY_TIMEOUT, spawn, |_| true).await;
        Pushgateway { process, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until the gateway serves `calls` successful decode calls of the example's
    /// job, with the runtime's labels.
    async fn poll_decoded(&self, client: &Client, calls: f64) {
        let key = vec![
            SERVICE.to_owned(),
            ENVIRONMENT.to_owned(),
            "decode".to_owned(),
            "success".to_owned(),
        ];
        let deadline = Instant::now() + QUERY_TIMEOUT;
        loop {
            let text = get_text(client, &format!("{}/metrics", self.url())).await;
            let by = ["job", "environment", "operation", "outcome"];
            let value = Exposition::parse(&text)
                .values_by(PROCESSED, &by)
                .get(&key)
                .copied();
            if value == Some(calls) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the Pushgateway holds {value:?} decode calls, not {calls}\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
