//! The Pushgateway's HTTP client: hyper's HTTP/1.1 client, one connection per push (a
//! push every few seconds at most needs no pool), plain `http` only (`PushConfig::target`
//! refuses `https`).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The Pushgateway's answers are a few bytes (an error message at most).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy)]
pub(crate) struct PushClient;

impl PushClient {
    /// Sends `request` (an absolute `http` URL) and reads the whole response.
    pub(crate) async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, String> {
        let (mut head, body) = request.into_parts();
        let authority = head.uri.authority().cloned().ok_or("no host in the URL")?;
        // `[::1]` in a URL, `::1` to connect.
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let stream = TcpStream::connect((host, authority.port_u16().unwrap_or(80)))
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        // Ends when the exchange is over: the request asks the server to close.
        tokio::spawn(connection);
        // HTTP/1.1 wants the path in the request line and the authority in `Host`.
        let path = head.uri.path_and_query().map_or("/", |p| p.as_str());
        head.uri = path
            .parse()
            .map_err(|e: http::uri::InvalidUri| e.to_string())?;
        let host_header =
            http::HeaderValue::from_str(authority.as_str()).map_err(|e| e.to_string())?;
        head.headers.insert(http::header::HOST, host_header);
        head.headers.insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
        let response = sender
            .send_request(http::Request::from_parts(head, Full::new(body)))
            .await
            .map_err(|e| e.to_string())?;
        let (head, body) = response.into_parts();
        let body = Limited::new(body, MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        Ok(http::Response::from_parts(head, body))
    }
}
