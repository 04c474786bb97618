//! Runs `examples/parsing_service.rs` as a process, sends it a known mix of messages, and
//! checks the exact RED metrics it exports on `/metrics`. Needs no Prometheus; `promtool`
//! lints the exposition when it is installed.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use futures::future::join_all;
use prometheus_parse::Value;
use support::{
    ACTIVE, DURATION, DURATION_COUNT, ENVIRONMENT, FAILURES, Kind, PROCESSED, SERVICE, Service,
    expected, http_client, parse_exposition, queue, values_by,
};

/// The traffic of the main test.
const GOOD: usize = 7;
const INVALID_JSON: usize = 3;
const EMPTY_BODY: usize = 2;
const TOO_LARGE: usize = 1;

#[tokio::test(flavor = "multi_thread")]
async fn exports_exact_red_metrics_for_known_traffic() {
    let client = http_client();
    let service = Service::start(&client).await;

    // Concurrently, so calls overlap and the in-flight gauge really goes up and down.
    let messages = [
        (Kind::Good, GOOD),
        (Kind::InvalidJson, INVALID_JSON),
        (Kind::EmptyBody, EMPTY_BODY),
        (Kind::TooLarge, TOO_LARGE),
    ]
    .into_iter()
    .flat_map(|(kind, count)| (0..count).map(move |n| (kind, n)));
    join_all(messages.map(|(kind, n)| service.send(&client, kind, n))).await;

    let exposition = service.scrape(&client).await;
    let scrape = parse_exposition(&exposition);

    // decode sees every message and fails only on malformed JSON; validate sees the 10
    // decoded ones and fails on the 2 empty and 1 oversized bodies; normalise sees the 7
    // valid ones and cannot fail (its failure series exists, at 0).
    let decoded = (GOOD + EMPTY_BODY + TOO_LARGE) as f64; // 10
    let invalid_json = INVALID_JSON as f64; // 3
    let valid = GOOD as f64; // 7
    let rejected = (EMPTY_BODY + TOO_LARGE) as f64; // 3
    let calls = expected(&[
        (&["decode", "success"], decoded),
        (&["decode", "failure"], invalid_json),
        (&["validate", "success"], valid),
        (&["validate", "failure"], rejected),
        (&["normalise", "success"], valid),
        (&["normalise", "failure"], 0.0),
    ]);
    let by_call = ["operation", "outcome"];
    assert_eq!(
        values_by(&scrape, PROCESSED, &by_call),
        calls,
        "{PROCESSED}"
    );
    assert_eq!(
        values_by(&scrape, DURATION_COUNT, &by_call),
        calls,
        "{DURATION_COUNT}: one observation per call"
    );
    assert_eq!(
        values_by(&scrape, FAILURES, &["operation", "error_type"]),
        expected(&[
            (&["decode", "InvalidJson"], INVALID_JSON as f64),
            (&["validate", "EmptyBody"], EMPTY_BODY as f64),
            (&["validate", "TooLarge"], TOO_LARGE as f64),
        ]),
        "{FAILURES}"
    );
    assert_eq!(
        values_by(&scrape, ACTIVE, &["operation"]),
        expected(&[
            (&["decode"], 0.0),
            (&["validate"], 0.0),
            (&["normalise"], 0.0)
        ]),
        "{ACTIVE}: every call finished"
    );

    // The function-like macros: each message counted and sized under its queue; the
    // queue `observe.toml` does not declare is recorded as `_OTHER`, and counted as such.
    let mut per_queue: std::collections::BTreeMap<Vec<String>, f64> = Default::default();
    for count in [GOOD, INVALID_JSON, EMPTY_BODY, TOO_LARGE] {
        for n in 0..count {
            let recorded = match queue(n) {
                "mystery" => "_OTHER",
                declared => declared,
            };
            *per_queue.entry(vec![recorded.to_owned()]).or_default() += 1.0;
        }
    }
    let others = per_queue[&vec!["_OTHER".to_owned()]];
    assert_eq!(
        values_by(
            &scrape,
            "copilot_parsing_messages_received_total",
            &["queue"]
        ),
        per_queue
    );
    assert_eq!(
        values_by(
            &scrape,
            "copilot_parsing_message_size_bytes_count",
            &["queue"]
        ),
        per_queue
    );
    assert!(
        values_by(&scrape, "copilot_parsing_queue_depth_messages", &["queue"])
            .values()
            .all(|v| *v == 0.0),
        "every message answered"
    );
    assert_eq!(
        values_by(
            &scrape,
            "observe_runtime_label_overflow_total",
            &["metric", "label"]
        ),
        expected(&[
            (&["copilot_parsing_message_size_bytes", "queue"], others),
            (
                &["copilot_parsing_messages_received_total", "queue"],
                others
            ),
            (&["copilot_parsing_queue_depth_messages", "queue"], others),
        ]),
    );

    assert_histogram_buckets_match_counts(&scrape);
    assert_every_series_is_labelled(&scrape);
    for family in [PROCESSED, FAILURES, DURATION, ACTIVE] {
        let help = scrape.docs.get(family).map(String::as_str);
        assert!(
            help.is_some_and(|h| !h.trim().is_empty()),
            "{family} has no HELP"
        );
    }
    promtool_check(&exposition);
}

/// Each duration histogram's `+Inf` bucket holds every observation, as `_count` does.
fn assert_histogram_buckets_match_counts(scrape: &prometheus_parse::Scrape) {
    let counts = values_by(scrape, DURATION_COUNT, &["operation", "outcome"]);
    let histograms: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == DURATION)
        .collect();
    assert_eq!(histograms.len(), counts.len(), "one histogram per count");
    for sample in histograms {
        let Value::Histogram(buckets) = &sample.value else {
            panic!("{DURATION} is not a histogram: {:?}", sample.value);
        };
        let inf = buckets
            .iter()
            .find(|b| b.less_than == f64::INFINITY)
            .expect("a +Inf bucket");
        let key = vec![
            sample
                .labels
                .get("operation")
                .unwrap_or_default()
                .to_owned(),
            sample.labels.get("outcome").unwrap_or_default().to_owned(),
        ];
        assert_eq!(Some(&inf.count), counts.get(&key), "{DURATION}{key:?}");
    }
}

fn assert_every_series_is_labelled(scrape: &prometheus_parse::Scrape) {
    let ours: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric.starts_with("copilot_parsing_"))
        .collect();
    assert!(!ours.is_empty(), "no copilot_parsing_ series at all");
    for sample in ours {
        assert_eq!(
            sample.labels.get("service"),
            Some(SERVICE),
            "{}",
            sample.metric
        );
        assert_eq!(
            sample.labels.get("environment"),
            Some(ENVIRONMENT),
            "{}",
            sample.metric
        );
        let instrumented = [PROCESSED, FAILURES, ACTIVE, DURATION]
            .iter()
            .any(|family| sample.metric.starts_with(family));
        assert!(
            !instrumented || sample.labels.get("operation").is_some(),
            "{}",
            sample.metric
        );
    }
}

/// `promtool check metrics` must accept the exposition without a single lint.
fn promtool_check(exposition: &str) {
    let Some(promtool) = support::tool_or_skip("promtool") else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(exposition.as_bytes())
        .expect("write to promtool");
    let output = child.wait_with_output().expect("run promtool");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.trim().is_empty(),
        "promtool check metrics: {}\n{report}\n--- exposition ---\n{exposition}",
        output.status
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_metrics_port_is_a_clear_error() {
    let client = http_client();
    let mut first = Service::start(&client).await;

    // Its own HTTP port, so the only conflict is the metrics address.
    let mut second = Service::spawn(support::free_addr(), first.metrics_addr);
    let status = second
        .process
        .wait_exit(Duration::from_secs(10))
        .await
        .unwrap_or_else(|| {
            panic!(
                "the second instance kept running\n{}",
                second.process.output()
            )
        });
    let stderr = second.process.stderr();
    assert!(
        !status.success(),
        "the second instance exited with {status}"
    );
    assert_ne!(status.code(), Some(101), "a panic, not an error:\n{stderr}");
    assert!(
        !stderr.contains("panicked"),
        "a panic, not an error:\n{stderr}"
    );
    assert!(
        stderr.contains(&first.metrics_addr.to_string()),
        "the error should name the address:\n{stderr}"
    );
    assert!(
        second.process.port_clash(),
        "the error should say the address is in use:\n{stderr}"
    );
    // The failed start left the first instance alone.
    if let Err(status) = first.wait_healthy(&client).await {
        panic!(
            "the first instance exited ({status})\n{}",
            first.process.output()
        );
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_the_service_gracefully() {
    let client = http_client();
    let mut service = Service::start(&client).await;
    service.send(&client, Kind::Good, 0).await;

    service.process.terminate();
    let status = service
        .process
        .wait_exit(Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("still running after SIGTERM\n{}", service.process.output()));
    assert!(status.success(), "{status}\n{}", service.process.output());
    assert!(
        service.process.stdout().contains("parsing service stopped"),
        "{}",
        service.process.output()
    );
}
