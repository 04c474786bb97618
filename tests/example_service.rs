//! Runs `examples/parsing_service.rs` as a process, sends it a known mix of messages, and
//! checks the exact RED metrics it exports on `/metrics`. Needs no Prometheus; `promtool`
//! lints the exposition when it is installed.

mod support;

use std::time::Duration;

use futures::future::join_all;
use prometheus_parse::Value;
use support::example::{
    ACTIVE, DURATION, DURATION_COUNT, ENVIRONMENT, FAILURES, Kind, PROCESSED, SERVICE, Service,
    queue,
};
use support::exposition::{Exposition, expected};
use support::otlp;
use support::process::{free_addr, http_client};
use support::prometheus_tools::promtool_check;

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
    let scrape = Exposition::parse(&exposition);

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
    assert_eq!(scrape.values_by(PROCESSED, &by_call), calls, "{PROCESSED}");
    assert_eq!(
        scrape.values_by(DURATION_COUNT, &by_call),
        calls,
        "{DURATION_COUNT}: one observation per call"
    );
    assert_eq!(
        scrape.values_by(FAILURES, &["operation", "error_type"]),
        expected(&[
            (&["decode", "InvalidJson"], INVALID_JSON as f64),
            (&["validate", "EmptyBody"], EMPTY_BODY as f64),
            (&["validate", "TooLarge"], TOO_LARGE as f64),
        ]),
        "{FAILURES}"
    );
    assert_eq!(
        scrape.values_by(ACTIVE, &["operation"]),
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
        scrape.values_by("copilot_parsing_messages_received_total", &["queue"]),
        per_queue
    );
    assert_eq!(
        scrape.values_by("copilot_parsing_message_size_bytes_count", &["queue"]),
        per_queue
    );
    assert!(
        scrape
            .values_by("copilot_parsing_queue_depth_messages", &["queue"])
            .values()
            .all(|v| *v == 0.0),
        "every message answered"
    );
    assert_eq!(
        scrape.values_by("observe_runtime_label_overflow_total", &["metric", "label"]),
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
        let help = scrape.help(family);
        assert!(
            help.is_some_and(|h| !h.trim().is_empty()),
            "{family} has no HELP"
        );
    }
    promtool_check(&exposition);
}

/// Each duration histogram's `+Inf` bucket holds every observation, as `_count` does.
fn assert_histogram_buckets_match_counts(scrape: &Exposition) {
    let counts = scrape.values_by(DURATION_COUNT, &["operation", "outcome"]);
    let histograms: Vec<_> = scrape.samples(DURATION, &[]).collect();
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

fn assert_every_series_is_labelled(scrape: &Exposition) {
    let ours: Vec<_> = scrape
        .all_samples()
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

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_metrics_port_is_a_clear_error() {
    let client = http_client();
    let mut first = Service::start(&client).await;

    // Its own HTTP port, so the only conflict is the metrics address.
    let mut second = Service::spawn(free_addr(), first.metrics_addr);
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

/// One request through the example with tracing on: the spans reach a real OTLP receiver
/// as one trace continuing the caller's `traceparent`, the downstream call carries it on,
/// and the JSON log lines name the same trace and span ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_and_json_logs_correlate_across_http_hops() {
    use std::sync::{Arc, Mutex};

    let receiver = otlp::Receiver::start().await;
    let downstream_headers: Arc<Mutex<Vec<axum::http::HeaderMap>>> = Arc::default();
    let seen = Arc::clone(&downstream_headers);
    let downstream = axum::Router::new().route(
        "/notify",
        axum::routing::post(move |headers: axum::http::HeaderMap| async move {
            seen.lock().unwrap().push(headers);
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let downstream_url = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, downstream).await });

    let client = http_client();
    let service = Service::start_with(
        &client,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip".to_owned()),
            (
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "x-tenant=blue".to_owned(),
            ),
            ("OBSERVE_LOG_FORMAT", "json".to_owned()),
            ("RUST_LOG", "info".to_owned()),
            ("PARSING_NOTIFY_URL", downstream_url),
        ],
    )
    .await;

    let good_trace = "0af7651916cd43dd8448eb211c80319c";
    let bad_trace = "1bf7651916cd43dd8448eb211c80319d";
    let caller_span = "b7ad6b7169203331";
    for (trace, kind) in [(good_trace, Kind::Good), (bad_trace, Kind::EmptyBody)] {
        let response = client
            .post(service.url("/parse"))
            .header("traceparent", format!("00-{trace}-{caller_span}-01"))
            .body(kind.body(0))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().is_success(), kind.error_type().is_none());
    }

    let spans = receiver
        .wait_for(Duration::from_secs(15), |spans| {
            spans.iter().filter(|s| s.trace_id == good_trace).count() >= 5
                && spans.iter().filter(|s| s.trace_id == bad_trace).count() >= 3
        })
        .await;
    let in_trace = |trace: &str, name: &str| -> otlp::ReceivedSpan {
        let found: Vec<_> = spans
            .iter()
            .filter(|s| s.trace_id == trace && s.name == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one {name} in {trace}: {spans:#?}\n{}",
            service.process.output()
        );
        found[0].clone()
    };

    // The good request: process (server, child of the caller) → decode, validate,
    // normalise, notify (client); downstream got notify's span as its parent.
    let process = in_trace(good_trace, "process");
    assert_eq!(process.parent_span_id, caller_span);
    assert_eq!(process.kind, otlp::KIND_SERVER);
    assert_eq!(
        process.resource.get("service.name").map(String::as_str),
        Some(SERVICE)
    );
    assert_eq!(
        process
            .resource
            .get("deployment.environment.name")
            .map(String::as_str),
        Some(ENVIRONMENT)
    );
    assert!(process.resource.contains_key("service.version"));
    for child in ["decode", "validate", "normalise", "notify"] {
        let span = in_trace(good_trace, child);
        assert_eq!(
            span.parent_span_id, process.span_id,
            "{child}'s parent is process"
        );
        assert_eq!(span.attr("code.function"), Some(child));
    }
    let notify = in_trace(good_trace, "notify");
    assert_eq!(notify.kind, otlp::KIND_CLIENT);
    let downstream = downstream_headers.lock().unwrap().clone();
    assert_eq!(downstream.len(), 1);
    assert_eq!(
        downstream[0]["traceparent"],
        format!("00-{good_trace}-{}-01", notify.span_id),
        "the downstream call continues from notify's span"
    );

    // The rejected request: error status and error.type on the failing step and the request.
    let validate = in_trace(bad_trace, "validate");
    assert_eq!(validate.status, otlp::STATUS_ERROR);
    assert_eq!(validate.attr("error.type"), Some("EmptyBody"));
    let rejected = in_trace(bad_trace, "process");
    assert_eq!(rejected.status, otlp::STATUS_ERROR);
    assert_eq!(rejected.parent_span_id, caller_span);

    // JSON logs: one object per line, the RFC's fields, the exported ids.
    let logs: Vec<serde_json::Value> = service
        .process
        .stdout()
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let line = |message: &str| -> serde_json::Value {
        logs.iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no log line {message:?} in {logs:#?}"))
            .clone()
    };
    let parsed = line("message parsed");
    assert_eq!(parsed["level"], "INFO");
    assert_eq!(parsed["service"], SERVICE);
    assert_eq!(parsed["logger"], "parsing_service");
    assert_eq!(parsed["trace_id"], good_trace);
    assert_eq!(parsed["span_id"], process.span_id.as_str());
    assert_eq!(parsed["labels"]["message.id"], "good-0");
    assert_eq!(parsed["labels"]["words"], 3);
    let timestamp = parsed["timestamp"].as_str().unwrap();
    assert!(
        timestamp.len() == 24 && timestamp.ends_with('Z') && timestamp.as_bytes()[19] == b'.',
        "ISO 8601 UTC with milliseconds: {timestamp}"
    );
    let metadata = receiver.last_headers();
    assert_eq!(metadata["x-tenant"], "blue", "{metadata:?}");
    assert_eq!(metadata["grpc-encoding"], "gzip", "{metadata:?}");
    let rejected_line = line("message rejected");
    assert_eq!(rejected_line["level"], "WARN");
    assert_eq!(rejected_line["trace_id"], bad_trace);
    assert_eq!(rejected_line["span_id"], rejected.span_id.as_str());
    assert_eq!(rejected_line["error"]["type"], "EmptyBody");
    assert_eq!(rejected_line["error"]["message"], "the message has no body");
}

/// The same spans over OTLP/HTTP with protobuf bodies (`OTEL_EXPORTER_OTLP_PROTOCOL`),
/// gzipped, with the headers a collector behind a gateway wants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_http_protobuf() {
    let receiver = otlp::Receiver::start_http().await;
    let client = http_client();
    let service = Service::start_with(
        &client,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip".to_owned()),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20t0ken,x-tenant=blue".to_owned(),
            ),
        ],
    )
    .await;
    let trace = "2cf7651916cd43dd8448eb211c80319e";
    let response = client
        .post(service.url("/parse"))
        .header("traceparent", format!("00-{trace}-b7ad6b7169203331-01"))
        .body(Kind::Good.body(0))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let spans = receiver
        .wait_for(Duration::from_secs(15), |spans| {
            spans.iter().filter(|s| s.trace_id == trace).count() >= 4
        })
        .await;
    let mut names: Vec<&str> = spans
        .iter()
        .filter(|s| s.trace_id == trace)
        .map(|s| s.name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["decode", "normalise", "process", "validate"],
        "{spans:#?}\n{}",
        service.process.output()
    );
    let headers = receiver.last_headers();
    assert_eq!(headers["authorization"], "Bearer t0ken");
    assert_eq!(headers["x-tenant"], "blue");
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["content-type"], "application/x-protobuf");
    let user_agent = headers["user-agent"].to_str().unwrap();
    assert!(user_agent.starts_with("observe/"), "{user_agent}");
}

/// `OBSERVE_METRICS_ADDR=127.0.0.1:0`: the system picks the port, and the example prints
/// the one bound (from `Guard::metrics_addr`), where the exposition is served.
#[tokio::test(flavor = "multi_thread")]
async fn the_example_prints_the_metrics_port_the_system_chose() {
    let client = http_client();
    let mut command = std::process::Command::new(support::example::example_binary());
    command
        .env("PARSING_ADDR", free_addr().to_string())
        .env("OBSERVE_METRICS_ADDR", "127.0.0.1:0");
    let mut process = support::process::ChildProcess::spawn("parsing_service", command);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let url = loop {
        let stdout = process.stdout();
        if let Some(url) = stdout.lines().find_map(|l| l.strip_prefix("metrics on ")) {
            break url.trim().to_owned();
        }
        assert!(process.exited().is_none(), "{}", process.output());
        assert!(std::time::Instant::now() < deadline, "{}", process.output());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!url.contains(":0/"), "the real port, not 0: {url}");
    let exposition = support::process::get_text(&client, &url).await;
    assert!(exposition.contains(PROCESSED), "{exposition}");
}
