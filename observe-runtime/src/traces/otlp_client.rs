//! The OTLP transport: one request per batch, its body already encoded
//! (`otlp_encode`). gRPC goes through tonic with a codec that passes the body through;
//! HTTP/protobuf through hyper's pooled client. Both send the standard headers
//! (`OTEL_EXPORTER_OTLP_HEADERS`), optionally gzip the body, and retry what OTLP calls
//! retryable (gRPC `UNAVAILABLE` and the like; HTTP 429, 502, 503, 504; a refused
//! connection) with a doubling back-off, all within the export's deadline.
//!
//! Plain `http` only: no TLS stack is compiled in (an `https` endpoint is refused at
//! `init`, with the reason). A collector or sidecar on the same host or network is the
//! usual set-up.

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes};
use http::{HeaderMap, HeaderValue, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

use super::otlp::{OtlpCompression, OtlpProtocol};

/// The gRPC method of OTLP trace export.
const GRPC_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// Attempts after the first, at most.
const MAX_RETRIES: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Names the exporter to the collector, as the SDK's exporters do.
const USER_AGENT: &str = concat!("observe/", env!("CARGO_PKG_VERSION"));
/// Collectors answer with a few bytes (a partial success at most).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What the collector said about a delivered batch: the spans it rejected, if any.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Delivered {
    pub(crate) rejected: u64,
    pub(crate) message: String,
}

/// How a failed attempt ends: retried, or given up at once.
enum Failure {
    Retryable(String),
    Final(String),
}

#[derive(Debug, Clone)]
enum Transport {
    Grpc(tonic::client::Grpc<Channel>),
    Http(Box<HttpTransport>),
}

#[derive(Debug, Clone)]
struct HttpTransport {
    client: Client<HttpConnector, Full<Bytes>>,
    uri: Uri,
}

/// Sends encoded batches to one collector.
#[derive(Debug, Clone)]
pub(crate) struct OtlpClient {
    transport: Transport,
    headers: HeaderMap,
    gzip: bool,
    timeout: Duration,
}

impl OtlpClient {
    /// A client for `url` (the traces URL); connects on first use. Must be called within
    /// the runtime the exports run on (tonic spawns its connection task there).
    pub(crate) fn new(
        protocol: OtlpProtocol,
        url: &str,
        headers: HeaderMap,
        compression: OtlpCompression,
        timeout: Duration,
    ) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| format!("not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err("`https` needs TLS, which observe's OTLP exporter does not \
                            include; export over `http` to a collector or sidecar nearby"
                    .into());
            }
            _ => return Err("the URL must start with `http://`".into()),
        }
        if uri.host().is_none() {
            return Err("no host in the URL".into());
        }
        let gzip = compression == OtlpCompression::Gzip;
        let transport = match protocol {
            OtlpProtocol::Grpc => {
                let channel = tonic::transport::Endpoint::from(uri)
                    .user_agent(USER_AGENT)
                    .map_err(|e| e.to_string())?
                    .connect_timeout(timeout)
                    .timeout(timeout)
                    .connect_lazy();
                let mut grpc = tonic::client::Grpc::new(channel);
                if gzip {
                    grpc = grpc.send_compressed(CompressionEncoding::Gzip);
                }
                Transport::Grpc(grpc)
            }
            OtlpProtocol::HttpProtobuf => {
                let mut connector = HttpConnector::new();
                connector.set_connect_timeout(Some(timeout));
                connector.set_nodelay(true);
                let client = Client::builder(TokioExecutor::new()).build(connector);
                Transport::Http(Box::new(HttpTransport { client, uri }))
            }
        };
        Ok(OtlpClient {
            transport,
            headers,
            gzip,
            timeout,
        })
    }

    /// The deadline of one export, retries included.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends one batch's body, retrying what may succeed later, until the deadline.
    pub(crate) async fn send(&mut self, body: Vec<u8>) -> Result<Delivered, String> {
        // Compressed once for every attempt (tonic compresses gRPC messages itself).
        let body = match self.transport {
            Transport::Http(_) if self.gzip => gzip(&body),
            _ => Bytes::from(body),
        };
        let timeout = self.timeout;
        let mut last_failure = None;
        let attempts = async {
            let mut backoff = FIRST_BACKOFF;
            for retry in 0..=MAX_RETRIES {
                if retry > 0 {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                match self.attempt(body.clone()).await {
                    Ok(delivered) => return Ok(delivered),
                    Err(Failure::Retryable(reason)) => last_failure = Some(reason),
                    Err(Failure::Final(reason)) => return Err(reason),
                }
            }
            Err(last_failure.take().unwrap_or_default())
        };
        let result = tokio::time::timeout(timeout, attempts).await;
        match result {
            Ok(result) => result,
            Err(_) => Err(match last_failure {
                Some(reason) => format!("{reason}, still after {} ms", timeout.as_millis()),
                None => format!("no answer within {} ms", timeout.as_millis()),
            }),
        }
    }

    async fn attempt(&mut self, body: Bytes) -> Result<Delivered, Failure> {
        match &mut self.transport {
            Transport::Grpc(grpc) => {
                grpc.ready()
                    .await
                    .map_err(|e| Failure::Retryable(format!("cannot connect: {}", chain(&e))))?;
                let mut request = tonic::Request::new(body);
                *request.metadata_mut() =
                    tonic::metadata::MetadataMap::from_headers(self.headers.clone());
                let path = http::uri::PathAndQuery::from_static(GRPC_EXPORT);
                match grpc.unary(request, path, PassThrough).await {
                    Ok(response) => Ok(partial_success(response.get_ref())),
                    Err(status) => Err(grpc_failure(&status)),
                }
            }
            Transport::Http(http) => {
                let HttpTransport { client, uri } = &**http;
                let mut request = http::Request::post(uri.clone())
                    .body(Full::new(body))
                    .map_err(|e| Failure::Final(e.to_string()))?;
                let headers = request.headers_mut();
                headers.extend(self.headers.clone());
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-protobuf"),
                );
                if self.gzip {
                    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
                if !headers.contains_key(header::USER_AGENT) {
                    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
                }
                let response = client
                    .request(request)
                    .await
                    .map_err(|e| Failure::Retryable(format!("cannot send: {}", chain(&e))))?;
                let status = response.status();
                let answer = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                    .collect()
                    .await
                    .map(|body| body.to_bytes())
                    .unwrap_or_default();
                if status.is_success() {
                    return Ok(partial_success(&answer));
                }
                let reason = format!("the collector answered {status}");
                Err(match status.as_u16() {
                    429 | 502 | 503 | 504 => Failure::Retryable(reason),
                    _ => Failure::Final(reason),
                })
            }
        }
    }
}

/// An error and its sources, `: `-separated: the transports' own messages ("client
/// error (Connect)") name no cause, their sources do ("Connection refused").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The gRPC codes OTLP says to retry.
fn grpc_failure(status: &tonic::Status) -> Failure {
    use tonic::Code;
    let reason = format!(
        "the collector answered {:?}: {}",
        status.code(),
        status.message()
    );
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => Failure::Retryable(reason),
        _ => Failure::Final(reason),
    }
}

fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing into a `Vec` cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

/// `ExportTraceServiceResponse.partial_success`: `rejected_spans` (1) and
/// `error_message` (2). Anything unreadable counts as full success, as the SDK does.
fn partial_success(response: &[u8]) -> Delivered {
    let mut delivered = Delivered::default();
    let Some(partial) = fields(response).find_map(|(field, value)| match (field, value) {
        (1, Field::Len(bytes)) => Some(bytes),
        _ => None,
    }) else {
        return delivered;
    };
    for (field, value) in fields(partial) {
        match (field, value) {
            (1, Field::Varint(rejected)) => delivered.rejected = rejected,
            (2, Field::Len(message)) => {
                delivered.message = String::from_utf8_lossy(message).into_owned();
            }
            _ => {}
        }
    }
    delivered
}

enum Field<'a> {
    Varint(u64),
    Len(&'a [u8]),
    Other,
}

/// The fields of a protobuf message, until the end or the first malformed one.
fn fields(mut message: &[u8]) -> impl Iterator<Item = (u64, Field<'_>)> {
    std::iter::from_fn(move || {
        let key = read_varint(&mut message)?;
        let value = match key & 7 {
            0 => Field::Varint(read_varint(&mut message)?),
            1 => {
                message = message.get(8..)?;
                Field::Other
            }
            2 => {
                let len = usize::try_from(read_varint(&mut message)?).ok()?;
                let bytes = message.get(..len)?;
                message = &message[len..];
                Field::Len(bytes)
            }
            5 => {
                message = message.get(4..)?;
                Field::Other
            }
            _ => return None,
        };
        Some((key >> 3, value))
    })
}

fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// A gRPC codec for bodies already encoded: sends the bytes, returns the answer's.
#[derive(Debug, Clone, Copy)]
struct PassThrough;

impl Codec for PassThrough {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = PassThrough;
    type Decoder = PassThrough;

    fn encoder(&mut self) -> Self::Encoder {
        PassThrough
    }

    fn decoder(&mut self) -> Self::Decoder {
        PassThrough
    }
}

impl Encoder for PassThrough {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for PassThrough {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traces::proto_writer::ProtoWriter;

    #[test]
    fn partial_success_is_read_from_the_answer() {
        let mut inner = ProtoWriter::default();
        inner.uint(1, 3);
        inner.string(2, "attribute too long");
        let mut answer = ProtoWriter::default();
        answer.bytes_always(1, &inner.into_vec());
        assert_eq!(
            partial_success(&answer.into_vec()),
            Delivered {
                rejected: 3,
                message: "attribute too long".into()
            }
        );
        assert_eq!(partial_success(&[]), Delivered::default());
        // Truncated or malformed answers read as success, never panic.
        assert_eq!(partial_success(&[0x0a, 0x05, 0x08]), Delivered::default());
        assert_eq!(partial_success(&[0xff; 12]), Delivered::default());
    }

    /// A collector on loopback that answers each request with the next of `answers`
    /// (status, body), then 200; it counts the requests and keeps the last one's headers.
    async fn collector(
        answers: Vec<(u16, Vec<u8>)>,
    ) -> (
        String,
        std::sync::Arc<std::sync::atomic::AtomicUsize>,
        std::sync::Arc<std::sync::Mutex<HeaderMap>>,
    ) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let last_headers = Arc::new(Mutex::new(HeaderMap::new()));
        let (counted, kept) = (requests.clone(), last_headers.clone());
        let answers = Arc::new(answers);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (counted, kept, answers) = (counted.clone(), kept.clone(), answers.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: http::Request<_>| {
                        let n = counted.fetch_add(1, Ordering::SeqCst);
                        *kept.lock().unwrap() = request.headers().clone();
                        let (status, body) = answers.get(n).cloned().unwrap_or((200, Vec::new()));
                        async move {
                            http::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from(body)))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (url, requests, last_headers)
    }

    fn http_client(url: &str, timeout: Duration) -> OtlpClient {
        let mut headers = HeaderMap::new();
        headers.insert("x-tenant", HeaderValue::from_static("blue"));
        OtlpClient::new(
            OtlpProtocol::HttpProtobuf,
            url,
            headers,
            OtlpCompression::None,
            timeout,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn overloaded_answers_are_retried_and_partial_success_is_reported() {
        let mut partial = ProtoWriter::default();
        let nested = partial.begin(1);
        partial.uint(1, 2);
        partial.string(2, "too many attributes");
        partial.end(nested);
        let (url, requests, headers) = collector(vec![
            (503, Vec::new()),
            (429, Vec::new()),
            (200, partial.into_vec()),
        ])
        .await;
        let delivered = http_client(&url, Duration::from_secs(5))
            .send(b"batch".to_vec())
            .await
            .unwrap();
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(
            delivered,
            Delivered {
                rejected: 2,
                message: "too many attributes".into()
            }
        );
        let headers = headers.lock().unwrap();
        assert_eq!(headers["x-tenant"], "blue");
        assert_eq!(headers["content-type"], "application/x-protobuf");
    }

    #[tokio::test]
    async fn a_refused_batch_is_not_retried_and_retries_stop() {
        let (url, requests, _) = collector(vec![(400, b"bad".to_vec())]).await;
        let error = http_client(&url, Duration::from_secs(5))
            .send(b"batch".to_vec())
            .await
            .unwrap_err();
        assert!(error.contains("400"), "{error}");
        assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);

        let always_busy = vec![(503, Vec::new()); 10];
        let (url, requests, _) = collector(always_busy).await;
        let error = http_client(&url, Duration::from_secs(5))
            .send(b"batch".to_vec())
            .await
            .unwrap_err();
        assert!(error.contains("503"), "{error}");
        assert_eq!(
            requests.load(std::sync::atomic::Ordering::SeqCst),
            1 + MAX_RETRIES as usize
        );
    }

    #[tokio::test]
    async fn a_dead_collector_is_named_with_the_cause() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
        drop(listener);
        let error = http_client(&url, Duration::from_secs(3))
            .send(b"batch".to_vec())
            .await
            .unwrap_err();
        assert!(error.contains("refused"), "{error}");
    }

    #[tokio::test]
    async fn retries_end_at_the_deadline_with_the_last_reason() {
        let always_busy = vec![(503, Vec::new()); 10];
        let (url, _, _) = collector(always_busy).await;
        let started = std::time::Instant::now();
        let error = http_client(&url, Duration::from_millis(250))
            .send(b"batch".to_vec())
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(error.contains("503") && error.contains("250 ms"), "{error}");
    }

    #[test]
    fn https_and_other_schemes_are_refused_with_the_reason() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _entered = runtime.enter();
        let new = |url| {
            OtlpClient::new(
                OtlpProtocol::Grpc,
                url,
                HeaderMap::new(),
                OtlpCompression::None,
                Duration::from_secs(1),
            )
            .map(|_| ())
        };
        assert!(new("https://collector:4317").unwrap_err().contains("TLS"));
        assert!(new("collector:4317").is_err());
        assert!(new("http://collector:4317").is_ok());
    }
}
