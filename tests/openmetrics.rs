//! `/metrics` in OpenMetrics, with exemplars, in-process against a real OTLP receiver: a
//! scraper that asks as Prometheus does gets OpenMetrics 1.0.0 that the strictest parser
//! here accepts (the Python `prometheus_client`'s; see `support/openmetrics.rs`), holding
//! the same series as the Prometheus text, whose trace ids are those of exported calls;
//! a scraper that does not ask gets the Prometheus text, byte for byte what it was.
//! (Own binary: it initialises the process's runtime, sampling half the traces.)

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use observe::{ErrorLabel, instrumented};
use serde_json::Value;
use support::openmetrics;
use support::otlp::{Fixture, STATUS_ERROR};

/// What Prometheus 2.x sends when it scrapes.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
const OPENMETRICS_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const PROCESSED: &str = "copilot_sampling_messages_processed";
const DURATION: &str = "copilot_sampling_duration_seconds";

#[derive(Debug, ErrorLabel)]
enum WorkError {
    TimeoutError,
}

#[instrumented(service = "sampling")]
fn work(call: u32, pause: Duration, fail: bool) -> Result<u32, WorkError> {
    std::thread::sleep(pause);
    observe::counter!(
        "copilot_sampling_retry_attempts_total",
        help = "Attempts, to show the function-like macros' families convert too.",
    )
    .increment(1);
    observe::histogram!(
        "copilot_sampling_batch_size_messages",
        help = "Messages per \"batch\".",
    )
    .record(f64::from(call % 40));
    if fail {
        Err(WorkError::TimeoutError)
    } else {
        Ok(call)
    }
}

/// The `n`th call's pause: most are fast (the 0.01 s bucket), some land in 0.05 and 0.1.
fn pause(call: u32) -> Duration {
    match call % 20 {
        3 => Duration::from_millis(20),
        7 => Duration::from_millis(60),
        _ => Duration::ZERO,
    }
}

#[test]
fn openmetrics_scrapes_carry_exported_trace_ids_and_the_same_series() {
    let Some(python) = openmetrics::parser_or_skip() else {
        return;
    };
    let fx = Fixture::start(|b| {
        b.metrics_addr("127.0.0.1:0".parse().unwrap())
            .trace_sample_ratio(0.5)
    });
    let started = unix_seconds();
    for call in 0..200 {
        let _ = work(call, pause(call), call % 4 == 1);
    }
    let spans = fx.flushed_spans();
    let metrics = format!("http://{}/metrics", fx.guard.metrics_addr().unwrap());

    let (open, text, text_only) = fx.runtime.block_on(async {
        let client = reqwest::Client::new();
        let open = get(&client, &metrics, Some(PROMETHEUS_ACCEPT), true).await;
        let text = get(&client, &metrics, None, false).await;
        let text_only = get(&client, &metrics, Some("text/plain;version=0.0.4"), true).await;
        (open, text, text_only)
    });
    assert_eq!(open.content_type, OPENMETRICS_TYPE);
    assert_eq!(open.vary, "accept, accept-encoding");
    assert_eq!(text.content_type, TEXT_TYPE);
    assert_eq!(text_only.content_type, TEXT_TYPE);
    // The Prometheus text is what `render` gives, exemplars or not in storage: the same
    // lines (the recorder's families and series come in hash order, different per render).
    assert_eq!(sorted_lines(&text.body), sorted_lines(&fx.guard.render()));
    assert_eq!(sorted_lines(&text_only.body), sorted_lines(&text.body));
    assert!(!text.body.contains(" # {"), "{}", text.body);
    the_samples_are_the_same(&open.body, &text.body);

    let families = openmetrics::parse(python, &open.body);
    every_family_converts(&families, &text.body);
    let family = |name: &str| -> &Value {
        families
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no family {name} in\n{}", open.body))
    };
    assert_eq!(family(PROCESSED)["type"], "counter");
    assert_eq!(family(DURATION)["type"], "histogram");
    assert_eq!(family(DURATION)["unit"], "seconds");
    assert_eq!(family("copilot_sampling_retry_attempts")["type"], "counter");
    let batch = family("copilot_sampling_batch_size_messages");
    assert_eq!(batch["unit"], "messages");
    assert_eq!(batch["help"], "Messages per \"batch\".");

    // Exported calls by trace id: successes are exported only when sampled.
    let exported: BTreeMap<String, (u32, bool, u64)> = spans
        .iter()
        .filter(|s| s.name == "work")
        .map(|s| {
            let call = s.attr("call").unwrap().parse().unwrap();
            let failed = s.status == STATUS_ERROR;
            (s.trace_id.clone(), (call, failed, s.duration_nanos))
        })
        .collect();
    let sampled_successes: Vec<u32> = exported
        .values()
        .filter(|(_, failed, _)| !failed)
        .map(|(call, _, _)| *call)
        .collect();
    assert!(
        (20..130).contains(&sampled_successes.len()),
        "about half of the 150 successes sampled: {}",
        sampled_successes.len()
    );
    let exemplars = exemplars_of(family(DURATION), family(PROCESSED));
    let now = unix_seconds();
    for exemplar in &exemplars {
        let (call, failed, span_nanos) = exported.get(&exemplar.trace_id).unwrap_or_else(|| {
            panic!(
                "{exemplar:?}: a trace id the receiver never got\n{}",
                open.body
            )
        });
        assert_eq!(*failed, exemplar.outcome == "failure", "{exemplar:?}");
        assert!(
            (started - 1.0..=now + 1.0).contains(&exemplar.timestamp),
            "{exemplar:?} not between {started} and {now}"
        );
        if let Some(le) = exemplar.le {
            assert!(exemplar.value <= le, "{exemplar:?} above its bucket");
            let pause = pause(*call).as_secs_f64();
            assert!(
                exemplar.value >= pause,
                "{exemplar:?}: call {call} slept {pause}s"
            );
            // One clock reading ends both the observation and the span: they last as long
            // (to the nanosecond each side's conversion from ticks may round).
            let span_seconds = *span_nanos as f64 / 1e9;
            assert!(
                (exemplar.value - span_seconds).abs() <= 3e-9,
                "{exemplar:?}: its span lasted {span_seconds}s"
            );
        } else {
            assert_eq!(exemplar.value, 1.0, "{exemplar:?}: one increment");
        }
    }
    // The latest sampled success is the processed counter's success exemplar.
    let last_success = sampled_successes.iter().max().unwrap();
    let counter_success = exemplars
        .iter()
        .find(|e| e.le.is_none() && e.outcome == "success")
        .expect("the success counter has an exemplar");
    assert_eq!(exported[&counter_success.trace_id].0, *last_success);
    let buckets: BTreeSet<String> = exemplars
        .iter()
        .filter(|e| e.outcome == "success")
        .filter_map(|e| e.le.map(|le| le.to_string()))
        .collect();
    assert!(
        buckets.len() >= 3,
        "exemplars in 0.01, 0.05 and 0.1: {buckets:?}"
    );
    assert!(
        exemplars
            .iter()
            .any(|e| e.outcome == "failure" && e.le.is_none())
    );
}

struct Answer {
    content_type: String,
    vary: String,
    body: String,
}

async fn get(client: &reqwest::Client, url: &str, accept: Option<&str>, gzip: bool) -> Answer {
    let mut request = client.get(url);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    if gzip {
        request = request.header("accept-encoding", "gzip");
    }
    let response = request.send().await.expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map_or(String::new(), |v| v.to_str().unwrap().to_owned())
    };
    let (content_type, vary) = (header("content-type"), header("vary"));
    assert_eq!(header("content-encoding"), if gzip { "gzip" } else { "" });
    let bytes = response.bytes().await.expect("the body");
    let mut body = String::new();
    if gzip {
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut body)
            .expect("gzip");
    } else {
        body = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    }
    Answer {
        content_type,
        vary,
        body,
    }
}

/// Every sample line of one format is the other's, byte for byte, once the exemplar is
/// cut off: the same series, names, labels and values.
fn the_samples_are_the_same(open: &str, text: &str) {
    let samples = |body: &str, cut: bool| -> Vec<String> {
        body.lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(" # {") {
                Some((sample, _)) if cut => sample.to_owned(),
                _ => l.to_owned(),
            })
            .collect()
    };
    let (mut open_samples, mut text_samples) = (samples(open, true), samples(text, false));
    open_samples.sort();
    text_samples.sort();
    assert_eq!(open_samples, text_samples);
    assert!(open.ends_with("\n# EOF\n"));
    assert!(!open.contains("\n\n"));
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

/// Each `# TYPE` of the Prometheus text is one OpenMetrics family: a counter without its
/// `_total`, of the same type, with as many samples.
fn every_family_converts(families: &[Value], text: &str) {
    let mut expected: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let (name, kind) = l.split_once(' ').unwrap();
            let name = match kind {
                "counter" => name.strip_suffix("_total").unwrap(),
                _ => name,
            };
            (name.to_owned(), kind.to_owned())
        })
        .collect();
    let mut parsed: Vec<(String, String)> = families
        .iter()
        .map(|f| (text_of(&f["name"]), text_of(&f["type"])))
        .collect();
    expected.sort();
    parsed.sort();
    assert_eq!(parsed, expected);
    let sample_lines = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    let parsed_samples: usize = families
        .iter()
        .map(|f| f["samples"].as_array().unwrap().len())
        .sum();
    assert_eq!(parsed_samples, sample_lines);
}

#[derive(Debug)]
struct Exemplar {
    outcome: String,
    /// The bucket's bound; `None` on the processed counter.
    le: Option<f64>,
    trace_id: String,
    value: f64,
    timestamp: f64,
}

fn exemplars_of(duration: &Value, processed: &Value) -> Vec<Exemplar> {
    let mut found = Vec::new();
    for family in [duration, processed] {
        for sample in family["samples"].as_array().unwrap() {
            let exemplar = &sample["exemplar"];
            if exemplar.is_null() {
                continue;
            }
            let labels = exemplar["labels"].as_object().unwrap();
            assert_eq!(labels.len(), 1, "{exemplar}");
            let trace_id = text_of(&labels["trace_id"]);
            assert!(
                trace_id.len() == 32 && trace_id.bytes().all(|b| b.is_ascii_hexdigit()),
                "{trace_id}"
            );
            let le = sample["labels"]["le"].as_str().map(|le| match le {
                "+Inf" => f64::INFINITY,
                le => le.parse().unwrap(),
            });
            assert_eq!(le.is_some(), family == duration, "{sample}");
            found.push(Exemplar {
                outcome: text_of(&sample["labels"]["outcome"]),
                le,
                trace_id,
                value: exemplar["value"].as_f64().unwrap(),
                timestamp: exemplar["timestamp"].as_f64().unwrap(),
            });
        }
    }
    found
}

fn text_of(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
