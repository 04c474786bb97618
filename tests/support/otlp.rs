//! A real OTLP trace receiver, in-process: the `opentelemetry-proto` crate's tonic service
//! (OTLP/gRPC), or `POST /v1/traces` with protobuf bodies (OTLP/HTTP), on a loopback port.
//! Run it on a multi-thread tokio runtime (a current-thread one deadlocks the exporter's
//! blocking flush against it). The trace tests keep every span; a bench counts them only
//! (`Receiver::start_counting`), so millions of spans fit in bounded memory.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use tokio::sync::oneshot;

/// One received span, flattened.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// OTLP `SpanKind`: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: i32,
    /// OTLP `StatusCode`: 0 unset, 1 ok, 2 error.
    pub status: i32,
    pub attributes: BTreeMap<String, String>,
    pub resource: BTreeMap<String, String>,
    /// End time minus start time.
    pub duration_nanos: u64,
}

impl ReceivedSpan {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

pub const KIND_INTERNAL: i32 = 1;
pub const KIND_SERVER: i32 = 2;
pub const KIND_CLIENT: i32 = 3;
pub const KIND_CONSUMER: i32 = 5;
pub const STATUS_ERROR: i32 = 2;

#[derive(Clone, Default)]
struct Store {
    /// Off for a counting receiver: the spans are counted, not kept.
    keep_spans: bool,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    span_count: Arc<AtomicU64>,
    requests: Arc<Mutex<usize>>,
    /// The headers (gRPC: metadata) of the last export request.
    last_headers: Arc<Mutex<http::HeaderMap>>,
}

#[tonic::async_trait]
impl TraceService for Store {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        *self.last_headers.lock().unwrap() = request.metadata().clone().into_headers();
        self.ingest(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Store {
    fn keeping_spans() -> Store {
        Store {
            keep_spans: true,
            ..Store::default()
        }
    }

    fn ingest(&self, request: ExportTraceServiceRequest) {
        let spans = (request.resource_spans.iter())
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len())
            .sum::<usize>();
        self.span_count.fetch_add(spans as u64, Ordering::Relaxed);
        if self.keep_spans {
            self.spans.lock().unwrap().extend(flatten_spans(request));
        }
        *self.requests.lock().unwrap() += 1;
    }
}

fn flatten_spans(request: ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut received = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = resource_spans
            .resource
            .map(|r| flatten(&r.attributes))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                received.push(ReceivedSpan {
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    kind: span.kind,
                    status: span.status.map_or(0, |s| s.code),
                    attributes: flatten(&span.attributes),
                    resource: resource.clone(),
                    duration_nanos: span
                        .end_time_unix_nano
                        .saturating_sub(span.start_time_unix_nano),
                });
            }
        }
    }
    received
}

fn flatten(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(text).unwrap_or_default(),
            )
        })
        .collect()
}

fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        other => format!("{other:?}"),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the receiver speaks OTLP/gRPC or OTLP/HTTP with protobuf bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Grpc,
    HttpProtobuf,
}

/// A running receiver; `stop` takes it down (the collector-down case).
pub struct Receiver {
    pub addr: SocketAddr,
    store: Store,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Starts an OTLP/gRPC receiver on a free loopback port, on the current (multi-thread)
    /// tokio runtime.
    pub async fn start() -> Receiver {
        Receiver::start_grpc(Store::keeping_spans())
    }

    /// The same, keeping no span: `span_count` only.
    pub async fn start_counting() -> Receiver {
        Receiver::start_grpc(Store::default())
    }

    fn start_grpc(store: Store) -> Receiver {
        let incoming = tonic::transport::server::TcpIncoming::bind(([127, 0, 0, 1], 0).into())
            .expect("bind the OTLP/gRPC receiver");
        let addr = incoming.local_addr().expect("receiver address");
        // Accepts gzip, as the OpenTelemetry Collector does.
        let service = TraceServiceServer::new(store.clone())
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
        Receiver::serve(addr, store, |stopped| async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, stopped)
                .await
                .expect("the OTLP/gRPC receiver runs");
        })
    }

    /// Starts an OTLP/HTTP receiver (`POST /v1/traces`, protobuf, gzip or not) on a free
    /// loopback port.
    pub async fn start_http() -> Receiver {
        use prost::Message;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the OTLP/HTTP receiver");
        let addr = listener.local_addr().expect("receiver address");
        let store = Store::keeping_spans();
        let sink = store.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(
                move |headers: http::HeaderMap, body: axum::body::Bytes| async move {
                    let gzipped = headers
                        .get(http::header::CONTENT_ENCODING)
                        .is_some_and(|e| e == "gzip");
                    *sink.last_headers.lock().unwrap() = headers;
                    let body = if gzipped {
                        use std::io::Read as _;
                        let mut plain = Vec::new();
                        if flate2::read::GzDecoder::new(&body[..])
                            .read_to_end(&mut plain)
                            .is_err()
                        {
                            return (axum::http::StatusCode::BAD_REQUEST, Vec::new());
                        }
                        axum::body::Bytes::from(plain)
                    } else {
                        body
                    };
                    match ExportTraceServiceRequest::decode(body) {
                        Ok(request) => {
                            sink.ingest(request);
                            let ok = ExportTraceServiceResponse::default().encode_to_vec();
                            (axum::http::StatusCode::OK, ok)
                        }
                        Err(_) => (axum::http::StatusCode::BAD_REQUEST, Vec::new()),
                    }
                },
            ),
        );
        Receiver::serve(addr, store, |stopped| async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
                .expect("the OTLP/HTTP receiver runs");
        })
    }

    /// Spawns `server`, given the future that completes when `stop` is called (or the
    /// receiver dropped).
    fn serve<F>(
        addr: SocketAddr,
        store: Store,
        server: impl FnOnce(Pin<Box<dyn Future<Output = ()> + Send>>) -> F,
    ) -> Receiver
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let stopped = Box::pin(async {
            let _ = stopped.await;
        });
        Receiver {
            addr,
            store,
            stop: Some(stop),
            server: Some(tokio::spawn(server(stopped))),
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store.spans.lock().unwrap().clone()
    }

    /// Spans received so far, kept or not.
    pub fn span_count(&self) -> u64 {
        self.store.span_count.load(Ordering::Relaxed)
    }

    /// The headers (gRPC: metadata) of the last export request.
    pub fn last_headers(&self) -> http::HeaderMap {
        self.store.last_headers.lock().unwrap().clone()
    }

    pub fn requests(&self) -> usize {
        *self.store.requests.lock().unwrap()
    }

    /// Waits until `done` holds for the spans received, or the timeout; returns them.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> Vec<ReceivedSpan> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if done(&spans) || tokio::time::Instant::now() >= deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Shuts the server down and waits until it no longer accepts connections.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

/// The process's receiver, on its own multi-thread runtime, and observe exporting to it
/// (only builds with the `otlp` feature can export).
#[cfg(feature = "otlp")]
pub struct Fixture {
    pub runtime: tokio::runtime::Runtime,
    pub receiver: Receiver,
    pub guard: observe::Guard,
}

#[cfg(feature = "otlp")]
impl Fixture {
    /// Starts the receiver, then observe with `configure` applied to a test builder
    /// (no listener, no logs, environment `test`, exporting to the receiver).
    pub fn start(configure: impl FnOnce(observe::Builder) -> observe::Builder) -> Fixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("receiver runtime");
        let receiver = runtime.block_on(Receiver::start());
        let builder = observe::builder()
            .environment("test")
            .without_metrics_listener()
            .logging(false)
            .otlp_endpoint(receiver.endpoint());
        let guard = configure(builder).init().expect("observe starts");
        Fixture {
            runtime,
            receiver,
            guard,
        }
    }

    /// Every span finished so far, once exported.
    pub fn flushed_spans(&self) -> Vec<ReceivedSpan> {
        assert!(self.guard.flush_spans(), "the spans are flushed in time");
        self.receiver.spans()
    }
}
