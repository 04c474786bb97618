//! The `metrics-exporter-prometheus` recorder, which holds the metrics recorded through the
//! `metrics` crate directly (observe's own series are in its storage), run on the exporter
//! thread with its upkeep task, and the `/metrics` listener.

use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusRecorder};

use super::auth::MetricsAuth;
use super::listener::{self, Limits};
use super::render::render_in;
use crate::error::Error;
use crate::names::{LABEL_ENVIRONMENT, LATENCY_BUCKETS};

/// How often samples are folded into histograms when nothing scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The recorder and its upkeep task, and the `/metrics` listener if `listener`, on
/// `io`. The recorder crate's own listener would serve only its render, without the
/// call sites'.
pub(crate) fn build_recorder(
    prometheus: PrometheusBuilder,
    listener: Option<std::net::TcpListener>,
    auth: MetricsAuth,
    io: &tokio::runtime::Runtime,
) -> Result<PrometheusRecorder, Error> {
    let _entered = io.enter();
    let recorder = prometheus.build_recorder();
    let handle = recorder.handle();
    io.spawn(async move {
        loop {
            tokio::time::sleep(UPKEEP_INTERVAL).await;
            handle.run_upkeep();
        }
    });
    if let Some(listener) = listener {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| Error::MetricsExporter(e.to_string()))?;
        io.spawn(listener::serve(
            listener,
            Limits::default(),
            auth,
            render_in,
        ));
    }
    Ok(recorder)
}

/// The recorder's configuration: the environment label, and the default latency buckets
/// for histograms recorded through the `metrics` crate directly, so that none is exported
/// as a summary. (Every observe histogram is in observe's own storage, with its buckets.)
pub(crate) fn prometheus_builder(environment: &str) -> Result<PrometheusBuilder, Error> {
    PrometheusBuilder::new()
        .add_global_label(LABEL_ENVIRONMENT, environment)
        .set_buckets(LATENCY_BUCKETS)
        .map_err(|e: BuildError| Error::MetricsExporter(e.to_string()))
}
