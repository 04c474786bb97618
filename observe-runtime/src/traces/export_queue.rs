//! The span processor between the SDK and the OTLP exporter: it keeps the spans to export
//! (the sampled ones plus every span that ended with an error), queues them without ever
//! blocking the thread that ended the span, and exports them in batches from a task on
//! observe's own runtime. Every span it cannot deliver is counted.
//!
//! The queue is a fixed ring of slots allocated once at start-up (`crossbeam-queue`'s
//! `ArrayQueue`): queueing a span is one compare-and-swap and a copy into its slot, with
//! no allocation and no lock. `tokio::sync::mpsc`, used before, took a semaphore permit
//! and appended to a list of 32-slot blocks, allocating one on the sending thread
//! whenever the receiver had not handed one back. The ring is not faster: a queued span
//! costs about 75 ns on the calling thread either way, most of it one cache miss on a
//! slot last written a capacity's worth of spans earlier. It costs its capacity up front
//! (`Builder::span_queue_capacity`, 2048 slots of 152 bytes by default: about 300 KB),
//! the bound the old queue reached under a backlog anyway.
//!
//! The task does not wait on the queue itself: a waiting receiver would be woken by every
//! span sent, a futex wake per span on the thread ending it. It waits for a full batch
//! (one notification per batch), the schedule tick, or a flush.
//!
//! Why not the SDK's `BatchSpanProcessor`: it discards unsampled spans before any other
//! rule can keep them, and its count of dropped spans is private. Why not the SDK's OTLP
//! exporter: see `otlp_encode`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use metrics::Counter;
use opentelemetry::Context;
use opentelemetry::trace::Status;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use tokio::sync::{Notify, mpsc};

use super::otlp_client::{Delivered, OtlpClient};
use super::otlp_encode::BatchEncoder;
use crate::instrumented::FinishedCall;
use crate::names::SPANS_DROPPED;
use crate::warn_limit::WarnLimit;

/// Spans sent in one export request at most.
const MAX_BATCH: usize = 512;
/// How long a span may wait for a batch to fill before it is sent anyway.
const SCHEDULE_DELAY: Duration = Duration::from_millis(500);

/// Where batches go: the collector (`OtlpExporter`), or a test's.
pub(crate) trait ExportBatch: Send + 'static {
    /// Sends `batch`; `Err` when it was not delivered.
    fn export(
        &mut self,
        batch: &[Queued],
    ) -> impl Future<Output = Result<Delivered, String>> + Send;

    /// How long an export may take, retries included; past it the batch is lost.
    fn deadline(&self) -> Duration;
}

/// Batches encoded here, sent to the collector.
pub(crate) struct OtlpExporter {
    pub(crate) encoder: BatchEncoder,
    pub(crate) client: OtlpClient,
}

impl ExportBatch for OtlpExporter {
    async fn export(&mut self, batch: &[Queued]) -> Result<Delivered, String> {
        let body = self.encoder.encode(batch);
        self.client.send(body).await
    }

    fn deadline(&self) -> Duration {
        self.client.timeout()
    }
}

/// Counters of the spans lost, one per reason, created once at start-up, and the warnings
/// that say so in the log.
#[derive(Clone)]
pub(crate) struct DroppedSpans {
    queue_full: Counter,
    export_failed: Counter,
    shutdown: Counter,
    warnings: Arc<Warnings>,
}

/// The log lines about lost spans, rate-limited (the first, then a summary a minute).
pub(crate) struct Warnings {
    export_failed: WarnLimit,
    queue_full: WarnLimit,
    /// Spans lost to a full queue not yet reported: counted where they are lost (the
    /// thread ending a span, which must not log), reported by the export task.
    queue_full_unreported: AtomicU64,
}

impl Warnings {
    pub(crate) fn new(endpoint: &str) -> Self {
        Warnings {
            export_failed: WarnLimit::new(format!(
                "observe: cannot export spans to {endpoint}, they are dropped"
            )),
            queue_full: WarnLimit::new(format!(
                "observe: spans dropped, the queue of spans waiting for {endpoint} is full"
            )),
            queue_full_unreported: AtomicU64::new(0),
        }
    }

    /// Logs the spans lost to a full queue since the last report.
    fn report_queue_full(&self) {
        let lost = self.queue_full_unreported.swap(0, Ordering::Relaxed);
        if lost > 0 {
            self.queue_full.failed(
                lost,
                &format_args!("{lost} spans (the collector is slow or unreachable)"),
            );
        }
    }
}

impl DroppedSpans {
    /// Registers the series at zero, so an alert on them works before the first loss.
    pub(crate) fn register(service: &str, endpoint: &str) -> Self {
        metrics::describe_counter!(
            SPANS_DROPPED,
            "Number of finished spans observe could not export to the OTLP collector, by reason."
        );
        let counter = |reason: &'static str| {
            let counter = metrics::counter!(SPANS_DROPPED, "service" => service.to_owned(), "reason" => reason);
            counter.increment(0);
            counter
        };
        DroppedSpans {
            queue_full: counter("queue_full"),
            export_failed: counter("export_failed"),
            shutdown: counter("shutdown"),
            warnings: Arc::new(Warnings::new(endpoint)),
        }
    }
}

enum Control {
    /// Export everything queued, then answer.
    Flush(std::sync::mpsc::SyncSender<()>),
    /// Export everything queued, answer, and stop: later spans are counted as lost.
    Shutdown(std::sync::mpsc::SyncSender<()>),
}

/// Forwards the spans worth exporting to the export task through a bounded queue.
pub(crate) struct SpanExportQueue {
    sender: SpanSender,
    control: mpsc::UnboundedSender<Control>,
    flush_timeout: Duration,
}

/// A span waiting for export: the SDK's, or one of observe's own call spans, which the
/// export task turns into an OTLP span (`super::call_export`), off the calling thread.
/// The SDK's span is boxed: it is twice the size of a call span, and every slot of the
/// queue is as large as its largest kind.
pub(crate) enum Queued {
    Sdk(Box<SpanData>),
    Call(FinishedCall),
}

/// The queue, shared by every sender and the export task.
struct Shared {
    spans: ArrayQueue<Queued>,
    /// Spans queued at which the task is told a batch is waiting.
    batch: usize,
    /// Tells the task a batch is waiting.
    batch_ready: Notify,
    /// Set when the task stops: later spans are counted as lost to shutdown.
    closed: AtomicBool,
}

/// The sending side of the queue: the SDK's spans (through [`SpanExportQueue`]) and
/// observe's own call spans (`super::call_export`) go through it.
#[derive(Clone)]
pub(crate) struct SpanSender {
    shared: Arc<Shared>,
    dropped: DroppedSpans,
}

impl SpanSender {
    /// Queues `span` for export without waiting; a span that finds the queue full (or
    /// the task stopped) is dropped and counted.
    pub(crate) fn send(&self, span: Queued) {
        let shared = &*self.shared;
        if shared.closed.load(Ordering::Relaxed) {
            self.dropped.shutdown.increment(1);
            return;
        }
        match shared.spans.push(span) {
            Ok(()) => {
                if shared.spans.len() >= shared.batch {
                    // Without a waiting task this only stores a permit: no wake, no syscall.
                    shared.batch_ready.notify_one();
                }
            }
            Err(_) => {
                self.dropped.queue_full.increment(1);
                self.dropped
                    .warnings
                    .queue_full_unreported
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl fmt::Debug for SpanExportQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanExportQueue").finish_non_exhaustive()
    }
}

impl SpanExportQueue {
    /// Spawns the export task on `io` and returns the processor feeding it.
    pub(crate) fn start<E>(
        exporter: E,
        io: &tokio::runtime::Handle,
        capacity: usize,
        flush_timeout: Duration,
        dropped: DroppedSpans,
    ) -> Self
    where
        E: ExportBatch,
    {
        let capacity = capacity.max(1);
        let shared = Arc::new(Shared {
            spans: ArrayQueue::new(capacity),
            batch: MAX_BATCH.min(capacity),
            batch_ready: Notify::new(),
            closed: AtomicBool::new(false),
        });
        let (control, control_rx) = mpsc::unbounded_channel();
        io.spawn(export_loop(
            exporter,
            shared.clone(),
            control_rx,
            dropped.clone(),
        ));
        SpanExportQueue {
            sender: SpanSender { shared, dropped },
            control,
            flush_timeout,
        }
    }

    /// The queue's sending side, for spans that do not come through the SDK.
    pub(crate) fn sender(&self) -> SpanSender {
        self.sender.clone()
    }
}

/// Whether a finished span is exported: the head sampler chose it, or it failed.
pub(crate) fn worth_exporting(span: &SpanData) -> bool {
    span.span_context.is_sampled() || matches!(span.status, Status::Error { .. })
}

impl SpanProcessor for SpanExportQueue {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        if worth_exporting(&span) {
            self.sender.send(Queued::Sdk(Box::new(span)));
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.ask(Control::Flush, self.flush_timeout)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.ask(Control::Shutdown, timeout)
    }
}

impl SpanExportQueue {
    /// Asks the task to export everything queued (and, for `Shutdown`, to stop); waits at
    /// most `timeout` (a blocking wait is safe here: the task runs on observe's runtime
    /// thread, never the caller's).
    fn ask(
        &self,
        request: fn(std::sync::mpsc::SyncSender<()>) -> Control,
        timeout: Duration,
    ) -> OTelSdkResult {
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        self.control
            .send(request(done))
            .map_err(|_| OTelSdkError::AlreadyShutdown)?;
        wait.recv_timeout(timeout)
            .map_err(|_| OTelSdkError::Timeout(timeout))
    }
}

async fn export_loop<E: ExportBatch>(
    mut exporter: E,
    shared: Arc<Shared>,
    mut control: mpsc::UnboundedReceiver<Control>,
    dropped: DroppedSpans,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut tick = tokio::time::interval(SCHEDULE_DELAY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shared.batch_ready.notified() => {
                drain(&mut exporter, &shared.spans, &mut batch, &dropped).await;
            }
            _ = tick.tick() => {
                dropped.warnings.report_queue_full();
                drain(&mut exporter, &shared.spans, &mut batch, &dropped).await;
            }
            control = control.recv() => {
                let stop = !matches!(control, Some(Control::Flush(_)));
                if stop {
                    // Closed before the last drain: a span sent after it is counted. One
                    // that races with this store can still land after the drain, lost
                    // uncounted, as the channel's receiver used to drop what it held.
                    shared.closed.store(true, Ordering::SeqCst);
                }
                drain(&mut exporter, &shared.spans, &mut batch, &dropped).await;
                match control {
                    Some(Control::Flush(done)) => {
                        let _ = done.send(());
                    }
                    Some(Control::Shutdown(done)) => {
                        let _ = done.send(());
                        return;
                    }
                    // The processor is gone: nothing more can arrive.
                    None => return,
                }
            }
        }
    }
}

/// Exports everything queued, in batches of at most `MAX_BATCH`.
async fn drain<E: ExportBatch>(
    exporter: &mut E,
    spans: &ArrayQueue<Queued>,
    batch: &mut Vec<Queued>,
    dropped: &DroppedSpans,
) {
    while let Some(span) = spans.pop() {
        batch.push(span);
        if batch.len() >= MAX_BATCH {
            export(exporter, batch, dropped).await;
        }
    }
    export(exporter, batch, dropped).await;
}

/// Sends the batch and empties it; a failure, a timeout or spans the collector rejected
/// lose spans, and are counted.
async fn export<E: ExportBatch>(exporter: &mut E, batch: &mut Vec<Queued>, dropped: &DroppedSpans) {
    if batch.is_empty() {
        return;
    }
    let count = batch.len() as u64;
    let deadline = exporter.deadline() + Duration::from_secs(1);
    let result = tokio::time::timeout(deadline, exporter.export(batch)).await;
    batch.clear();
    let failed = |lost: u64, error: &dyn fmt::Display| {
        dropped.export_failed.increment(lost);
        dropped.warnings.export_failed.failed(1, error);
    };
    match result {
        Ok(Ok(Delivered { rejected: 0, .. })) => {}
        Ok(Ok(Delivered { rejected, message })) => failed(
            rejected.min(count),
            &format_args!("the collector rejected {rejected} of {count} spans: {message}"),
        ),
        Ok(Err(error)) => failed(count, &format_args!("{error} ({count} spans)")),
        Err(_) => failed(
            count,
            &format_args!("no answer within {}s ({count} spans)", deadline.as_secs()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

    use super::*;
    use crate::traces::sampling::RecordEverything;

    /// Keeps the names of the spans it is asked to export; or, `stalled`, never
    /// finishes an export (a collector that accepts the connection and never answers).
    #[derive(Debug, Clone, Default)]
    struct Collector {
        spans: Arc<Mutex<Vec<(String, bool)>>>,
        stalled: bool,
        /// Rejects this many spans of each batch (an OTLP partial success)...
        rejects: u64,
        /// ...and counts them here.
        rejected: Arc<AtomicU64>,
    }

    impl ExportBatch for Collector {
        async fn export(&mut self, batch: &[Queued]) -> Result<Delivered, String> {
            if self.stalled {
                std::future::pending::<()>().await;
            }
            let mut spans = self.spans.lock().unwrap();
            for queued in batch {
                if let Queued::Sdk(span) = queued {
                    spans.push((span.name.to_string(), span.span_context.is_sampled()));
                }
            }
            let rejected = self.rejects.min(batch.len() as u64);
            self.rejected.fetch_add(rejected, Ordering::Relaxed);
            Ok(Delivered {
                rejected,
                message: "attribute value too long".into(),
            })
        }

        fn deadline(&self) -> Duration {
            Duration::from_secs(60)
        }
    }

    struct Counts {
        queue_full: Arc<AtomicU64>,
        export_failed: Arc<AtomicU64>,
    }

    fn dropped() -> (DroppedSpans, Counts) {
        let queue_full = Arc::new(AtomicU64::new(0));
        let export_failed = Arc::new(AtomicU64::new(0));
        let dropped = DroppedSpans {
            queue_full: Counter::from_arc(queue_full.clone()),
            export_failed: Counter::from_arc(export_failed.clone()),
            shutdown: Counter::noop(),
            warnings: Arc::new(Warnings::new("http://collector.test:4317")),
        };
        (
            dropped,
            Counts {
                queue_full,
                export_failed,
            },
        )
    }

    fn provider(
        collector: Collector,
        sampler: Sampler,
        capacity: usize,
        flush_timeout: Duration,
        io: &tokio::runtime::Runtime,
    ) -> (SdkTracerProvider, Counts) {
        let (dropped, counts) = dropped();
        let processor =
            SpanExportQueue::start(collector, io.handle(), capacity, flush_timeout, dropped);
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(RecordEverything(sampler))
            .build();
        (provider, counts)
    }

    fn io() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    /// The head sampler said no to both; only the one that failed is exported.
    #[test]
    fn unsampled_spans_are_exported_only_when_they_fail() {
        let io = io();
        let collector = Collector::default();
        let (provider, counts) = provider(
            collector.clone(),
            Sampler::AlwaysOff,
            16,
            Duration::from_secs(5),
            &io,
        );
        let tracer = provider.tracer("test");
        tracer.start("succeeded").end();
        let mut failed = tracer.start("failed");
        failed.set_status(Status::error("ConnectionError"));
        failed.end();
        provider.force_flush().unwrap();
        let spans = collector.spans.lock().unwrap();
        assert_eq!(*spans, [("failed".to_owned(), false)]);
        assert_eq!(counts.queue_full.load(Ordering::Relaxed), 0);
    }

    /// Spans the collector says it rejected are counted as lost.
    #[test]
    fn spans_a_collector_rejects_are_counted() {
        let io = io();
        let collector = Collector {
            rejects: 2,
            ..Collector::default()
        };
        let (provider, counts) = provider(
            collector.clone(),
            Sampler::AlwaysOn,
            16,
            Duration::from_secs(5),
            &io,
        );
        let tracer = provider.tracer("test");
        for _ in 0..3 {
            tracer.start("work").end();
        }
        provider.force_flush().unwrap();
        assert_eq!(collector.spans.lock().unwrap().len(), 3);
        let rejected = collector.rejected.load(Ordering::Relaxed);
        assert!(rejected >= 2, "{rejected}");
        assert_eq!(counts.export_failed.load(Ordering::Relaxed), rejected);
    }

    /// A collector that never answers: ending spans never waits, and what does not fit
    /// in the queue is counted.
    #[test]
    fn a_stalled_collector_fills_the_queue_and_drops_are_counted() {
        let io = io();
        let collector = Collector {
            stalled: true,
            ..Collector::default()
        };
        let flush_timeout = Duration::from_millis(200);
        let (provider, counts) = provider(collector, Sampler::AlwaysOn, 4, flush_timeout, &io);
        let tracer = provider.tracer("test");
        const SPANS: u64 = 2000;
        for _ in 0..SPANS {
            tracer.start("work").end();
        }
        // The task holds at most one batch besides the queue's 4.
        let dropped = counts.queue_full.load(Ordering::Relaxed);
        assert!(
            dropped >= SPANS - 4 - MAX_BATCH as u64,
            "dropped {dropped} of {SPANS}"
        );
        assert_eq!(counts.export_failed.load(Ordering::Relaxed), 0);
        // Flushing gives up after its timeout instead of hanging.
        let started = std::time::Instant::now();
        assert!(provider.force_flush().is_err());
        assert!(
            started.elapsed() < flush_timeout * 5,
            "{:?}",
            started.elapsed()
        );
        io.shutdown_background();
    }
}
