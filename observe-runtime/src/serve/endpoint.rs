//! The `/metrics` endpoint: a small HTTP/1.1 responder on the exporter's runtime. The
//! stock exporter's listener serves only its own render, and the exposition is that
//! render plus observe's own storage, so observe serves it itself.
//!
//! `GET /metrics` (any query string) answers the exposition, other paths 404, other
//! methods 405. Connections are kept alive as HTTP/1.1 allows (Prometheus reuses them).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::error::Error;

/// Longest request head accepted; a scrape's is a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;
/// How long an idle or slow connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Binds the `/metrics` address, ready for the exporter thread's runtime.
pub(crate) fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, Error> {
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| Error::MetricsListener { addr, source })?;
    Ok(listener)
}

/// Accepts connections until the runtime stops.
pub(crate) async fn serve(listener: TcpListener, render: fn() -> String) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, render));
            }
            Err(error) => {
                // Out of file descriptors, say: back off rather than spin.
                tracing::warn!(%error, "observe: cannot accept a /metrics connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn connection(mut stream: TcpStream, render: fn() -> String) {
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::with_capacity(1024);
    loop {
        let head =
            match tokio::time::timeout(IDLE_TIMEOUT, read_head(&mut stream, &mut buffer)).await {
                Ok(Ok(Some(head))) => head,
                // Closed, timed out, or too long / unreadable: nothing more to answer.
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return,
            };
        let request = Request::parse(&buffer[..head]);
        let keep_alive = request.keep_alive;
        let response = respond(&request, render);
        buffer.drain(..head);
        if stream.write_all(&response).await.is_err() || !keep_alive {
            return;
        }
    }
}

/// Reads until a whole request head is buffered; its length, or `None` at end of stream.
async fn read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some(end + 4));
        }
        if buffer.len() > MAX_HEAD {
            return Ok(None);
        }
        let mut chunk = [0u8; 2048];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

#[derive(Debug, PartialEq)]
struct Request<'a> {
    method: &'a str,
    path: &'a str,
    keep_alive: bool,
}

impl<'a> Request<'a> {
    fn parse(head: &'a [u8]) -> Self {
        let head = std::str::from_utf8(head).unwrap_or("");
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or("").split(' ');
        let method = request_line.next().unwrap_or("");
        let target = request_line.next().unwrap_or("");
        let version = request_line.next().unwrap_or("");
        let path = target.split('?').next().unwrap_or("");
        let connection = lines
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("connection"))
            .map(|(_, value)| value.trim());
        let keep_alive = match connection {
            Some(value) if value.eq_ignore_ascii_case("close") => false,
            Some(value) if value.eq_ignore_ascii_case("keep-alive") => true,
            // HTTP/1.1 keeps connections by default, HTTP/1.0 does not.
            _ => version == "HTTP/1.1",
        };
        Request {
            method,
            path,
            // A request with a body is not expected here; do not try to skip it.
            keep_alive: keep_alive && (method == "GET" || method == "HEAD"),
        }
    }
}

fn respond(request: &Request<'_>, render: fn() -> String) -> Vec<u8> {
    let (status, content_type, body) = match (request.method, request.path) {
        ("GET" | "HEAD", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            render(),
        ),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: metrics are served on /metrics\n".to_owned(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET /metrics is served\n".to_owned(),
        ),
    };
    let connection = if request.keep_alive {
        "keep-alive"
    } else {
        "close"
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: {connection}\r\n",
        body.len()
    );
    if status.starts_with("405") {
        response.push_str("allow: GET, HEAD\r\n");
    }
    response.push_str("\r\n");
    let mut response = response.into_bytes();
    if request.method != "HEAD" {
        response.extend_from_slice(body.as_bytes());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> String {
        "up 1\n".to_owned()
    }

    #[test]
    fn parses_the_request_line_and_connection_header() {
        let request = Request::parse(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(
            request,
            Request {
                method: "GET",
                path: "/metrics",
                keep_alive: true
            }
        );
        let close = Request::parse(b"GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(!close.keep_alive);
        assert!(!Request::parse(b"GET /metrics HTTP/1.0\r\n\r\n").keep_alive);
    }

    #[test]
    fn answers_metrics_404_and_405() {
        let get = |head: &[u8]| String::from_utf8(respond(&Request::parse(head), text)).unwrap();
        let ok = get(b"GET /metrics HTTP/1.1\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("content-length: 5\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\nup 1\n"), "{ok}");
        assert!(get(b"GET /health HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
        let post = get(b"POST /metrics HTTP/1.1\r\n\r\n");
        assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
        assert!(post.contains("connection: close"), "{post}");
        let head = get(b"HEAD /metrics HTTP/1.1\r\n\r\n");
        assert!(
            head.ends_with("content-length: 5\r\nconnection: keep-alive\r\n\r\n"),
            "{head}"
        );
    }
}
