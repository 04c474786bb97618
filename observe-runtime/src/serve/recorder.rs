//! The `metrics-exporter-prometheus` recorder, which holds every metric that is not a call
//! site's: configured with every histogram's buckets (so none is exported as a summary),
//! run on the exporter thread with its upkeep task and the `/metrics` listener.

use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusRecorder};

use super::auth::MetricsAuth;
use super::listener::{self, Limits};
use super::render::render_in;
use crate::error::Error;
use crate::instrumented::{CallSite, CallSiteMeta, all_call_sites};
use crate::metrics::{MetricKind, MetricSite, MetricSiteMeta, all_metric_sites};
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

/// The recorder's configuration: the environment label and every call site's buckets, so
/// that each histogram is exported as a histogram, never as a summary.
pub(crate) fn prometheus_builder(environment: &str) -> Result<PrometheusBuilder, Error> {
    let build_error = |e: BuildError| Error::MetricsExporter(e.to_string());
    let mut builder = PrometheusBuilder::new()
        .add_global_label(LABEL_ENVIRONMENT, environment)
        .set_buckets(LATENCY_BUCKETS)
        .map_err(build_error)?;
    let mut claimed: Vec<&'static CallSiteMeta> = Vec::new();
    for meta in all_call_sites().map(CallSite::meta) {
        match claimed
            .iter()
            .find(|m| m.duration.name == meta.duration.name)
        {
            Some(first) if first.buckets != meta.buckets => {
                return Err(Error::ConflictingBuckets {
                    metric: meta.duration.name,
                    first: first.operation,
                    second: meta.operation,
                });
            }
            Some(_) => {}
            None => {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(meta.duration.name.into()), meta.buckets)
                    .map_err(build_error)?;
                claimed.push(meta);
            }
        }
    }
    let histograms = all_metric_sites()
        .map(MetricSite::meta)
        .filter(|m| m.kind == MetricKind::Histogram);
    let mut claimed: Vec<&'static MetricSiteMeta> = Vec::new();
    for meta in histograms {
        match claimed.iter().find(|m| m.name == meta.name) {
            Some(first) if first.buckets != meta.buckets => {
                return Err(Error::ConflictingBuckets {
                    metric: meta.name,
                    first: first.module_path,
                    second: meta.module_path,
                });
            }
            Some(_) => {}
            None => {
                builder = builder
                    .set_buckets_for_metric(Matcher::Full(meta.name.into()), meta.buckets)
                    .map_err(build_error)?;
                claimed.push(meta);
            }
        }
    }
    Ok(builder)
}
