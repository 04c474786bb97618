//! The init guard `init` returns: it owns the exporter thread and stops it when dropped.
//! (The per-call guard is `instrumented::CallGuard`.)

use std::net::SocketAddr;
use std::thread::JoinHandle;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::oneshot;

use crate::serve::push::Pusher;
use crate::serve::render::render_with;
use crate::traces::otlp::OtlpPipeline;

/// The init guard: keeps the runtime running; dropping it exports the pending spans (waiting at most the
/// span flush timeout), pushes to the Pushgateway one last time (if one is configured),
/// and stops the `/metrics` listener.
///
/// ```no_run
/// fn main() -> Result<(), observe::Error> {
///     let _guard = observe::init()?; // dropped when `main` returns, after the server
///     serve_until_shutdown();
///     Ok(())
/// }
/// # fn serve_until_shutdown() {}
/// ```
#[must_use = "dropping the guard stops the /metrics listener"]
#[derive(Debug)]
pub struct Guard {
    pub(super) recorder: PrometheusHandle,
    pub(super) metrics_addr: Option<SocketAddr>,
    /// Span export, if an endpoint is configured; its task runs on the exporter thread.
    pub(super) traces: Option<OtlpPipeline>,
    /// Pushes to a Pushgateway, if one is configured; also on the exporter thread.
    pub(super) pusher: Option<Pusher>,
    pub(super) shutdown: Option<oneshot::Sender<()>>,
    pub(super) thread: Option<JoinHandle<()>>,
}

impl Guard {
    /// The Prometheus text exposition of everything recorded so far.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let guard = observe::builder().without_metrics_listener().init()?;
    /// assert!(guard.render().contains("# TYPE"));
    /// # Ok(()) }
    /// ```
    pub fn render(&self) -> String {
        render_with(&self.recorder)
    }

    /// Where `/metrics` is served, if it is: the address bound, so with port 0 the port the
    /// system chose.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let guard = observe::builder().metrics_addr("127.0.0.1:0".parse().unwrap()).init()?;
    /// let addr = guard.metrics_addr().expect("a listener"); // the port the system chose
    /// println!("scrape http://{addr}/metrics");
    /// # Ok(()) }
    /// ```
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Exports the spans finished so far, waiting at most the span flush timeout. `false`
    /// if spans are not exported (no endpoint) or the wait timed out; spans the collector
    /// refused are counted in [`SPANS_DROPPED`](crate::SPANS_DROPPED).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), observe::Error> {
    /// let guard = observe::builder().otlp_endpoint("http://127.0.0.1:4317").init()?;
    /// // … a batch job's work, then before a step that may take the process down:
    /// if !guard.flush_spans() {
    ///     eprintln!("some spans may not have reached the collector");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn flush_spans(&self) -> bool {
        self.traces.as_ref().is_some_and(OtlpPipeline::flush)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // Before the runtime stops: the export task runs on it.
        if let Some(traces) = self.traces.take() {
            traces.shutdown();
        }
        // After the spans: the last push then includes the final dropped-span counts.
        if let Some(pusher) = self.pusher.take() {
            pusher.shutdown();
        }
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
