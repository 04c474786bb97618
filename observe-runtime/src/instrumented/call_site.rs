//! A call site: the static description the macro generates for one instrumented function,
//! and the metric storage it allocates once the runtime is up, so a warm call does no
//! registry lookup, no hashing and no allocation.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use super::capture;

use crate::names::OUTCOME_COUNT;
use crate::storage::Storage;

/// Everything the macro knows at compile time about one instrumented function.
#[doc(hidden)]
#[derive(Debug)]
pub struct CallSiteMeta {
    pub service: &'static str,
    pub operation: &'static str,
    pub module_path: &'static str,
    /// Where the function is (`file!()`, `line!()`), to tell apart sites that share a
    /// series.
    pub file: &'static str,
    pub line: u32,
    /// Extra constant labels from `labels(..)`.
    pub labels: &'static [(&'static str, &'static str)],
    pub duration: FamilyMeta,
    pub processed: FamilyMeta,
    pub failures: FamilyMeta,
    pub active: FamilyMeta,
    /// Bucket bounds of the duration histogram (the preset's).
    pub buckets: &'static [f64],
    /// The convention's `outcome` values: success, failure, cancelled.
    pub outcomes: [&'static str; OUTCOME_COUNT],
    /// The `error_type` values it can report, where known at compile time.
    pub error_classes: fn() -> Option<&'static [&'static str]>,
    /// Its declared SLO.
    pub slo: super::SloMeta,
    /// The convention's `series_budget`: the most series each of its families may have
    /// over all of its sites, checked at `init`.
    pub series_budget: u64,
}

/// Name and HELP text of one metric.
#[doc(hidden)]
#[derive(Debug)]
pub struct FamilyMeta {
    pub name: &'static str,
    pub help: &'static str,
    /// The most series this site can give the family (counted at compile time).
    pub series: u64,
}

/// One instrumented function's static state. Generated as a `static` inside the function.
#[doc(hidden)]
// The storage first, on a cache line of its own: its fields that every call reads then
// share one line (see `Storage`).
#[repr(C, align(64))]
pub struct CallSite {
    storage: OnceLock<Storage>,
    meta: CallSiteMeta,
    /// Set once a call before `init` has been reported (debug builds).
    warned_before_init: AtomicBool,
    /// Its call spans' constant attributes as the OTLP encoder writes them, encoded on
    /// the first export (`traces::otlp_encode`): written once, then copied.
    #[cfg(feature = "otlp")]
    span_attributes: OnceLock<Box<[u8]>>,
}

/// Registers a call site for the runtime's start-up (histogram buckets per metric).
#[doc(hidden)]
pub struct CallSiteRegistration(pub &'static CallSite);

inventory::collect!(CallSiteRegistration);

impl CallSite {
    pub const fn new(meta: CallSiteMeta) -> Self {
        CallSite {
            meta,
            storage: OnceLock::new(),
            warned_before_init: AtomicBool::new(false),
            #[cfg(feature = "otlp")]
            span_attributes: OnceLock::new(),
        }
    }

    /// The encoded constant attributes of its call spans, `encode`d on first use.
    #[cfg(feature = "otlp")]
    pub(crate) fn span_attributes(&self, encode: impl FnOnce() -> Box<[u8]>) -> &[u8] {
        self.span_attributes.get_or_init(encode)
    }

    pub fn meta(&self) -> &CallSiteMeta {
        &self.meta
    }

    /// The site's metric storage, allocated on first use after [`crate::init`]. Before
    /// `init` there is nowhere to export to, so `None`, and nothing is allocated: the first
    /// call after `init` registers.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn storage(&'static self) -> Option<&'static Storage> {
        match self.storage.get() {
            Some(storage) => Some(storage),
            None => self.register(),
        }
    }

    /// The storage if the site is registered; never registers.
    pub(crate) fn registered(&self) -> Option<&Storage> {
        self.storage.get()
    }

    /// Registers this site now (at `init`), so its series exist before the first call.
    pub(crate) fn register_now(&'static self) {
        let _ = self.storage();
    }

    /// Before `init`: the storage of the thread's `observe::testing` capture, if any,
    /// else nothing (and, in debug builds, a warning on the site's first such call).
    #[cold]
    fn register(&'static self) -> Option<&'static Storage> {
        let Some(clock) = crate::global::clock() else {
            let captured = capture::storage_for(self);
            if captured.is_none() {
                self.warn_before_init();
            }
            return captured;
        };
        Some(
            self.storage
                .get_or_init(|| Storage::new(self.meta.buckets, clock.clone())),
        )
    }

    /// A call before `init` is not recorded, by design; in debug builds say so, once per
    /// function, so that a forgotten `init` does not look like a function never called.
    #[cold]
    fn warn_before_init(&self) {
        if cfg!(debug_assertions) && !self.warned_before_init.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "observe",
                operation = self.meta.operation,
                module = self.meta.module_path,
                "`{}` was called before `observe::init`: calls before `init` are not recorded",
                self.meta.operation,
            );
        }
    }
}

/// Every call site linked into this program.
pub(crate) fn all_call_sites() -> impl Iterator<Item = &'static CallSite> {
    inventory::iter::<CallSiteRegistration>
        .into_iter()
        .map(|registration| registration.0)
}

/// A call site's constants for unit tests: the `parsing` service's `decode`.
#[cfg(test)]
pub(crate) const TEST_META: CallSiteMeta = CallSiteMeta {
    service: "parsing",
    operation: "decode",
    module_path: "app",
    file: "src/app.rs",
    line: 1,
    labels: &[],
    duration: FamilyMeta {
        name: "app_parsing_duration_seconds",
        help: "Duration.",
        series: 1,
    },
    processed: FamilyMeta {
        name: "app_parsing_messages_processed_total",
        help: "Processed.",
        series: 1,
    },
    failures: FamilyMeta {
        name: "app_parsing_failures_total",
        help: "Failures.",
        series: 1,
    },
    active: FamilyMeta {
        name: "app_parsing_active_workers_current",
        help: "In flight.",
        series: 1,
    },
    buckets: &[0.1, 1.0],
    outcomes: crate::names::DEFAULT_OUTCOMES,
    error_classes: || None,
    slo: super::SloMeta::NONE,
    series_budget: 100,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The storage's per-call fields share the site's first cache line only if `OnceLock`
    /// keeps its value first, as it does: were that to change, each call would miss one
    /// line more, and this says so.
    #[test]
    fn a_sites_storage_starts_on_its_first_cache_line() {
        static SITE: CallSite = CallSite::new(TEST_META);
        let storage = SITE
            .storage
            .get_or_init(|| Storage::new(TEST_META.buckets, crate::clock::Ticks::new()));
        let site = std::ptr::from_ref(&SITE) as usize;
        assert_eq!(site % 64, 0);
        assert_eq!(std::ptr::from_ref(storage) as usize, site);
    }
}
