//! Every piece of process-wide state, in one place: what `init` sets once, the flag it
//! claims, whether spans are exported, and the table of owned storage stripes. Rooms read
//! it through the accessors below; nothing here imports a room, so no room imports the
//! init code back. Per-thread state (a thread's stripe index) stays with its room, and so
//! does the registry of `counter!`/`gauge!`/`histogram!` series (`metrics/series.rs`),
//! whose type is that room's.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use metrics_exporter_prometheus::PrometheusHandle;

use crate::clock::Ticks;

/// The handle of the `metrics-exporter-prometheus` recorder, which holds the metrics
/// recorded through the `metrics` crate directly (the runtime's own, and a program's),
/// once `init` installed it. Metric sites register their series only after this is set.
pub(crate) static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// What call sites' own storage needs, set by `init` just before [`RECORDER`].
pub(crate) static CALL_SITE_CONFIG: OnceLock<CallSiteConfig> = OnceLock::new();

/// Claimed by the first `init` that gets past configuration; released if it fails.
pub(crate) static INITIALISING: AtomicBool = AtomicBool::new(false);

/// Set once spans are exported over OTLP: until then there is no trace context to carry,
/// and continuing one would be wasted work on every call.
pub(crate) static TRACES_EXPORTED: AtomicBool = AtomicBool::new(false);

/// Upper bound of storage stripes that threads own, whatever the machine.
pub(crate) const MAX_OWNED_STRIPES: usize = 64;

/// Which owned stripes a live thread holds (see `storage::stripe`).
pub(crate) static STRIPE_CLAIMS: [AtomicBool; MAX_OWNED_STRIPES] =
    [const { AtomicBool::new(false) }; MAX_OWNED_STRIPES];

/// How many stripes threads may own, computed once.
pub(crate) static OWNED_STRIPES: OnceLock<usize> = OnceLock::new();

/// The runtime configuration every call site's storage shares.
#[derive(Debug)]
pub(crate) struct CallSiteConfig {
    /// The `environment` label of the call sites' series.
    pub(crate) environment: String,
    /// Calibrated once: every site's durations are TSC deltas scaled by it.
    pub(crate) clock: Ticks,
}

/// Whether the recorder is installed, so metric sites may register.
#[inline]
pub(crate) fn is_initialised() -> bool {
    RECORDER.get().is_some()
}

/// The clock call sites time with, once `init` has started.
#[inline]
pub(crate) fn clock() -> Option<&'static Ticks> {
    CALL_SITE_CONFIG.get().map(|config| &config.clock)
}

/// Whether spans are exported, so trace context is worth carrying.
#[inline]
pub(crate) fn traces_exported() -> bool {
    TRACES_EXPORTED.load(Ordering::Acquire)
}
