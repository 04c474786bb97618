//! The runtime's parsers of outside input never panic, and refuse what they cannot use
//! with an error naming where it came from: environment values, incoming `traceparent` /
//! `tracestate` headers, and `/metrics` request heads (the pieces observe parses, then
//! whole heads of random bytes against the real listener).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::Duration;

use opentelemetry::trace::TraceContextExt as _;
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::env::{parse_environment, parse_metrics_addr};
use crate::serve::auth::{decode_basic, parse_htpasswd, parse_token};
use crate::serve::listener::Limits;
use crate::serve::push::PushConfig;
use crate::serve::response::{accepts_gzip, route};
use crate::traces::otlp::OtlpConfig;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

const OTEL_VARS: &[&str] = &[
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SDK_DISABLED",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
];

/// A W3C `traceparent`, sometimes damaged in one place.
fn traceparent() -> impl Strategy<Value = String> {
    (
        "[0-9a-f]{2}",
        "[0-9a-f]{32}",
        "[0-9a-f]{16}",
        "[0-9a-f]{2}",
        0usize..60,
        ".{0,3}",
    )
        .prop_map(|(version, trace, span, flags, at, noise)| {
            let mut value = format!("{version}-{trace}-{span}-{flags}");
            let at = at.min(value.len());
            if value.is_char_boundary(at) && at % 3 == 0 {
                value.replace_range(at..(at + noise.len().min(1)).min(value.len()), &noise);
            }
            value
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn environment_values_never_panic_and_errors_name_the_variable(
        var in prop::sample::select(OTEL_VARS),
        value in ".{0,40}",
    ) {
        let mut otel = OtlpConfig::default();
        if let Err(error) = otel.read_env(|name| (name == var).then(|| value.clone())) {
            prop_assert!(error.to_string().contains("OTEL_"), "{error}");
        }
        if let Err(error) = super::env::parse_log_filter(&value) {
            prop_assert!(error.to_string().contains("RUST_LOG"));
        }
        if let Err(error) = PushConfig::parse_interval(&value) {
            prop_assert!(error.to_string().contains("OBSERVE_PUSH_INTERVAL"));
        }
        if let Err(error) = parse_metrics_addr(&value) {
            prop_assert!(error.to_string().contains("OBSERVE_METRICS_ADDR"));
        }
        if let Err(error) = parse_environment(&value) {
            prop_assert!(error.to_string().contains("OBSERVE_ENVIRONMENT"));
        }
        if let Err(error) = PushConfig::new(value.clone()).target("job") {
            prop_assert!(error.to_string().contains("OBSERVE_PUSHGATEWAY_URL"));
        }
        let mut push = PushConfig::new("http://127.0.0.1:9091".into());
        push.job = Some(value.clone());
        if let Err(error) = push.target("job") {
            prop_assert!(error.to_string().contains("OBSERVE_PUSHGATEWAY_JOB"));
        }
    }

    #[test]
    fn trace_context_headers_never_panic(
        parent in prop_oneof![traceparent(), ".{0,80}"],
        state in ".{0,80}",
    ) {
        // What may be accepted: hex fields of the right lengths once surrounding white
        // space is trimmed (OpenTelemetry's propagator trims the header, as HTTP allows).
        let valid = |p: &str| {
            let parts: Vec<&str> = p.trim().split('-').collect();
            parts.len() >= 4
                && parts[1].len() == 32
                && parts[2].len() == 16
                && parts.iter().all(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        let message = HashMap::from([
            ("traceparent".to_owned(), parent.clone()),
            ("tracestate".to_owned(), state.clone()),
        ]);
        let cx = crate::traces::propagation::extract(&message);
        if cx.has_active_span() {
            prop_assert!(valid(&parent), "accepted {parent:?}");
        }
        let mut headers = http::HeaderMap::new();
        if let (Ok(p), Ok(s)) = (parent.parse(), state.parse()) {
            headers.insert("traceparent", p);
            headers.insert("tracestate", s);
            let cx = crate::traces::propagation::extract(&headers);
            if cx.has_active_span() {
                prop_assert!(valid(&parent), "accepted {parent:?}");
            }
        }
    }

    #[test]
    fn request_head_pieces_never_panic(
        method in "[A-Z]{1,8}",
        target in "/?.{0,64}",
        encodings in prop::collection::vec("[a-zA-Z*;=.,0-9 ]{0,24}", 0..4),
        authorization in prop::collection::vec(any::<u8>(), 0..64),
        file in ".{0,200}",
    ) {
        if let Ok(method) = http::Method::from_bytes(method.as_bytes()) {
            let _ = route(&method, &target);
        }
        let mut headers = http::HeaderMap::new();
        for value in &encodings {
            if let Ok(value) = value.parse() {
                headers.append(http::header::ACCEPT_ENCODING, value);
            }
        }
        let _ = accepts_gzip(&headers);
        let _ = decode_basic(&authorization);
        let _ = parse_htpasswd(&file);
        let _ = parse_token(&file);
    }
}

/// The inputs this property test found that made tracing-subscriber's `RUST_LOG` parser
/// panic (it slices inside a multi-byte character): an error naming the variable now.
#[test]
fn non_ascii_log_filters_are_errors_not_panics() {
    for value in ["A\u{a1}=", "A\u{80329}=", "info,\u{e9}=debug"] {
        let error = super::env::parse_log_filter(value).expect_err(value);
        assert!(error.to_string().contains("RUST_LOG"), "{error}");
    }
}

/// What one exchange with the listener gave: the status, or `None` if it closed the
/// connection without answering.
fn exchange(addr: std::net::SocketAddr, head: &[u8]) -> Option<u16> {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.write_all(head);
    // End of input: an unfinished head is answered or closed at once, not timed out.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    if answer.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.starts_with("HTTP/1.1 ") || text.starts_with("HTTP/1.0 "),
        "not HTTP: {text:?}"
    );
    Some(text[9..12].parse().expect("a status code"))
}

/// A request head, valid or damaged.
fn head() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        (
            "(GET|HEAD|POST|PUT|DELETE|BREW|get) ",
            "/[ -~]{0,40}",
            " HTTP/(1\\.1|1\\.0|2|9\\.9)",
            prop::collection::vec("[ -~]{0,30}(: [ -~\t]{0,30})?", 0..6),
            prop::bool::ANY,
        )
            .prop_map(|(method, target, version, headers, crlf)| {
                let eol = if crlf { "\r\n" } else { "\n" };
                let mut head = format!("{method}{target}{version}{eol}");
                for header in headers {
                    head.push_str(&header);
                    head.push_str(eol);
                }
                head.push_str(eol);
                head.into_bytes()
            }),
    ]
}

fn listener() -> std::net::SocketAddr {
    static ADDR: std::sync::OnceLock<std::net::SocketAddr> = std::sync::OnceLock::new();
    *ADDR.get_or_init(|| {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let io = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            io.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let limits = Limits {
                    render_spacing: Duration::ZERO,
                    ..Limits::default()
                };
                crate::serve::listener::serve(listener, limits, Default::default(), |_| {
                    "up 1\n".to_owned()
                })
                .await;
            });
        });
        addr_rx.recv().unwrap()
    })
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn random_request_heads_get_an_http_answer_or_a_close(head in head()) {
        let addr = listener();
        let status = exchange(addr, &head);
        if let Some(status) = status {
            prop_assert!(
                [200, 400, 404, 405, 414, 431, 505].contains(&status),
                "{status} for {:?}", String::from_utf8_lossy(&head)
            );
        }
        prop_assert_eq!(
            exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(200)
        );
    }
}
