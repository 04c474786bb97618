//! An OTLP/gRPC trace receiver that counts the spans it receives and keeps none, so a
//! bench can export millions of spans to a real collector endpoint in bounded memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

#[derive(Clone, Default)]
pub struct SpanCount(Arc<AtomicU64>);

impl SpanCount {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[tonic::async_trait]
impl TraceService for SpanCount {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let spans: usize = request
            .into_inner()
            .resource_spans
            .iter()
            .flat_map(|resource| &resource.scope_spans)
            .map(|scope| scope.spans.len())
            .sum();
        self.0.fetch_add(spans as u64, Ordering::Relaxed);
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Serves on a free loopback port from `runtime`; returns the address and the count.
pub fn start(runtime: &tokio::runtime::Runtime) -> (SocketAddr, SpanCount) {
    let _entered = runtime.enter();
    let incoming = tonic::transport::server::TcpIncoming::bind(([127, 0, 0, 1], 0).into())
        .expect("bind the OTLP sink");
    let addr = incoming.local_addr().expect("sink address");
    let count = SpanCount::default();
    let service = TraceServiceServer::new(count.clone());
    runtime.spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming)
            .await
            .expect("the OTLP sink runs");
    });
    (addr, count)
}
