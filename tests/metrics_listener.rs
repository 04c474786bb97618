//! The `/metrics` listener against hostile and broken clients, over raw TCP: oversized
//! heads (431), oversized URLs (414), garbage (400), a head that never ends (closed within
//! the header timeout), more idle connections than the cap; after each, a scrape still
//! succeeds. And what a scraper relies on: keep-alive, `HEAD`, gzip, 404 and 405.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{OnceLock, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use observe::instrumented;

/// The listener's header timeout (`Limits::default`).
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// Its connection cap.
const MAX_CONNECTIONS: usize = 64;
const PROCESSED: &str = "copilot_hostile_messages_processed_total";

#[instrumented(service = "hostile")]
fn handled() {}

/// The cap test closes other connections by design: it runs alone, the others together.
static CAP: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    CAP.read().unwrap_or_else(|e| e.into_inner())
}

fn metrics_addr() -> SocketAddr {
    static GUARD: OnceLock<observe::Guard> = OnceLock::new();
    let guard = GUARD.get_or_init(|| {
        let guard = observe::builder()
            .environment("test")
            .metrics_addr("127.0.0.1:0".parse().unwrap())
            .logging(false)
            .init()
            .expect("observe starts");
        handled();
        guard
    });
    let addr = guard.metrics_addr().expect("a listener");
    assert_ne!(addr.port(), 0, "the bound port is reported");
    addr
}

fn connect() -> TcpStream {
    let stream = TcpStream::connect(metrics_addr()).expect("connect to /metrics");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream
}

/// Sends `request` (from another thread: the server may answer before reading it all)
/// and reads until the server closes.
fn exchange(request: Vec<u8>) -> Vec<u8> {
    let mut stream = connect();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&request);
    });
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    sender.join().unwrap();
    response
}

/// One response: status, lower-case headers, body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits `bytes` into responses; `heads` says which answer `HEAD` (no body).
fn parse_responses(mut bytes: &[u8], heads: &[bool]) -> Vec<Response> {
    let mut responses = Vec::new();
    for &head in heads {
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no complete head in {:?}", String::from_utf8_lossy(bytes)));
        let text = std::str::from_utf8(&bytes[..end]).unwrap();
        let mut lines = text.split("\r\n");
        let status_line = lines.next().unwrap();
        assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
        let status = status_line[9..12].parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').unwrap();
                (n.trim().to_ascii_lowercase(), v.trim().to_owned())
            })
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let body_start = end + 4;
        let body_len = if head { 0 } else { length };
        let body = bytes[body_start..body_start + body_len].to_vec();
        bytes = &bytes[body_start + body_len..];
        responses.push(Response {
            status,
            headers,
            body,
        });
    }
    assert!(
        bytes.is_empty(),
        "trailing bytes: {:?}",
        String::from_utf8_lossy(bytes)
    );
    responses
}

fn status_of(response: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(response);
    assert!(
        text.starts_with("HTTP/1.1 "),
        "not an HTTP answer: {text:?}"
    );
    text[9..12].parse().unwrap()
}

/// A whole scrape on a new connection: 200 and the exposition holds our series.
fn assert_scrape_succeeds() {
    let response =
        exchange(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec());
    let responses = parse_responses(&response, &[false]);
    assert_eq!(responses[0].status, 200);
    let text = String::from_utf8(responses[0].body.clone()).unwrap();
    assert!(text.contains(PROCESSED), "{text}");
}

#[test]
fn an_oversized_head_gets_431() {
    let _shared = shared();
    let mut request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n".to_vec();
    for n in 0..1000 {
        request.extend_from_slice(format!("x-filler-{n}: {}\r\n", "a".repeat(90)).as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    assert!(request.len() > 100_000);
    assert_eq!(status_of(&exchange(request)), 431);
    assert_scrape_succeeds();
}

#[test]
fn an_oversized_url_gets_414() {
    let _shared = shared();
    let request = format!(
        "GET /metrics?{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "q".repeat(8 * 1024)
    );
    assert_eq!(status_of(&exchange(request.into_bytes())), 414);
    assert_scrape_succeeds();
}

#[test]
fn garbage_gets_400() {
    let _shared = shared();
    for garbage in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..],
        b"GET /metrics\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /metrics HTTP/9.9\r\n\r\n",
    ] {
        let response = exchange(garbage.to_vec());
        assert_eq!(
            status_of(&response),
            400,
            "{:?}",
            String::from_utf8_lossy(garbage)
        );
    }
    assert_scrape_succeeds();
}

#[test]
fn a_head_that_never_ends_is_closed_within_the_header_timeout() {
    let _shared = shared();
    let mut stream = connect();
    let started = Instant::now();
    stream.write_all(b"GET /metr").unwrap();
    // A byte every second keeps the connection busy, but the head never completes.
    let mut dripper = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        for _ in 0..30 {
            std::thread::sleep(Duration::from_secs(1));
            if dripper.write_all(b"i").is_err() {
                return;
            }
        }
    });
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited >= HEADER_TIMEOUT - Duration::from_millis(100)
            && waited < HEADER_TIMEOUT + Duration::from_secs(2),
        "closed after {waited:?}"
    );
    assert_scrape_succeeds();
}

#[test]
fn idle_connections_beyond_the_cap_do_not_lock_out_a_scraper() {
    let _alone = CAP.write().unwrap_or_else(|e| e.into_inner());
    let idle: Vec<TcpStream> = (0..MAX_CONNECTIONS * 3).map(|_| connect()).collect();
    // Each connection past the cap closed the least recently active one.
    std::thread::sleep(Duration::from_millis(200));
    assert_scrape_succeeds();
    let closed = idle
        .iter()
        .filter(|stream| {
            stream
                .set_read_timeout(Some(Duration::from_millis(20)))
                .unwrap();
            // Closed: end of stream; still open: the read times out.
            matches!((&**stream).read(&mut [0u8; 1]), Ok(0))
        })
        .count();
    assert!(
        closed >= MAX_CONNECTIONS * 2,
        "{closed} of {} idle connections closed",
        idle.len()
    );
}

#[test]
fn keep_alive_head_and_gzip_as_scrapers_use_them() {
    let _shared = shared();
    let mut stream = connect();
    stream
        .write_all(
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n\
              HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n\
              GET /metrics?format=text HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    let responses = parse_responses(&bytes, &[false, true, false]);
    let [gzip, head, plain] = &responses[..] else {
        unreachable!()
    };
    for response in &responses {
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
    }
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gzip.body[..])
        .read_to_string(&mut text)
        .expect("a gzip body");
    assert!(text.contains(PROCESSED), "{text}");
    assert!(head.body.is_empty());
    assert!(
        head.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
            > 0
    );
    assert_eq!(plain.header("content-encoding"), None);
    assert!(String::from_utf8_lossy(&plain.body).contains(PROCESSED));
}

#[test]
fn other_paths_and_methods_get_404_and_405() {
    let _shared = shared();
    let response =
        exchange(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec());
    assert_eq!(parse_responses(&response, &[false])[0].status, 404);
    let response = exchange(
        b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"
            .to_vec(),
    );
    let responses = parse_responses(&response, &[false]);
    assert_eq!(responses[0].status, 405);
    assert_eq!(responses[0].header("allow"), Some("GET, HEAD"));
}
