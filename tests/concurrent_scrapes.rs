//! Counts stay exact and consistent while threads call instrumented functions and others
//! render at once, in-process and over `/metrics` (whose renders are shared between
//! scrapes): in every render, each outcome's histogram `_count` equals its processed
//! counter and no count goes down; the last render holds exactly the calls made. (The
//! failures counter is separate words, read a moment apart from the histogram's, so it
//! equals the failure outcome only once the calls are done.)

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use observe::{ErrorLabel, instrumented};
use support::exposition::Exposition;

const PROCESSED: &str = "copilot_scraping_messages_processed_total";
const DURATION_COUNT: &str = "copilot_scraping_duration_seconds_count";
const FAILURES: &str = "copilot_scraping_failures_total";

const CALLERS: u64 = 3;
const CALLS: u64 = 300_000;

#[derive(Debug, ErrorLabel)]
enum JobError {
    Rejected,
}

#[instrumented(service = "scraping")]
fn job(n: u64) -> Result<u64, JobError> {
    if n.is_multiple_of(5) {
        Err(JobError::Rejected)
    } else {
        Ok(n)
    }
}

fn guard() -> &'static observe::Guard {
    static GUARD: OnceLock<observe::Guard> = OnceLock::new();
    GUARD.get_or_init(|| {
        observe::builder()
            .environment("test")
            .metrics_addr("127.0.0.1:0".parse().unwrap())
            .logging(false)
            .init()
            .expect("observe starts")
    })
}

/// `(success, failure)` counts after checking the render is consistent.
fn check(render: &str) -> (f64, f64) {
    let m = Exposition::parse(render);
    let labels = |outcome| [("operation", "job"), ("outcome", outcome)];
    let success = m.count(PROCESSED, &labels("success"));
    let failure = m.count(PROCESSED, &labels("failure"));
    assert_eq!(m.count(DURATION_COUNT, &labels("success")), success);
    assert_eq!(m.count(DURATION_COUNT, &labels("failure")), failure);
    (success, failure)
}

/// One scrape over HTTP on a kept-alive connection.
fn scrape_over_http(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

#[test]
fn every_render_is_consistent_under_concurrent_calls_and_scrapes() {
    let guard = guard();
    let done = AtomicBool::new(false);
    let renders = std::thread::scope(|s| {
        let callers: Vec<_> = (0..CALLERS)
            .map(|_| s.spawn(|| (0..CALLS).filter(|&n| job(n).is_ok()).count() as u64))
            .collect();
        let in_process = (0..2).map(|_| {
            s.spawn(|| {
                let mut last = (0.0, 0.0);
                let mut renders = 0;
                while !done.load(Ordering::Relaxed) {
                    let now = check(&guard.render());
                    assert!(now.0 >= last.0 && now.1 >= last.1, "{now:?} after {last:?}");
                    last = now;
                    renders += 1;
                }
                renders
            })
        });
        let over_http = s.spawn(|| {
            let mut stream = TcpStream::connect(guard.metrics_addr().unwrap()).unwrap();
            let mut renders = 0;
            while !done.load(Ordering::Relaxed) {
                check(&scrape_over_http(&mut stream));
                renders += 1;
            }
            renders
        });
        let renderers: Vec<_> = in_process.chain([over_http]).collect();
        for caller in callers {
            assert_eq!(caller.join().unwrap(), CALLS - CALLS / 5);
        }
        done.store(true, Ordering::Relaxed);
        renderers
            .into_iter()
            .map(|r| r.join().unwrap())
            .collect::<Vec<u64>>()
    });
    assert!(
        renders.iter().all(|&n| n > 0),
        "renders per thread: {renders:?}"
    );
    let total = (CALLERS * CALLS) as f64;
    let last = guard.render();
    assert_eq!(check(&last), (total * 0.8, total * 0.2));
    let failures = Exposition::parse(&last).count(
        FAILURES,
        &[("operation", "job"), ("error_type", "Rejected")],
    );
    assert_eq!(failures, total * 0.2);
}
