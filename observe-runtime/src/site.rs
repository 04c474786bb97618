//! A call site: the static description the macro generates for one instrumented function,
//! and the metric handles it caches once the runtime is up, so a warm call does no
//! registry lookup, no hashing and no allocation.

use std::sync::OnceLock;

use metrics::{
    Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, SharedString, Unit,
};

use crate::names::{LABEL_ERROR_TYPE, LABEL_OPERATION, LABEL_OUTCOME, LABEL_SERVICE};
use crate::outcome::Outcome;

/// Everything the macro knows at compile time about one instrumented function.
#[doc(hidden)]
#[derive(Debug)]
pub struct SiteMeta {
    pub service: &'static str,
    pub operation: &'static str,
    pub module_path: &'static str,
    /// Extra constant labels from `labels(..)`.
    pub labels: &'static [(&'static str, &'static str)],
    pub duration: MetricMeta,
    pub processed: MetricMeta,
    pub failures: MetricMeta,
    pub active: MetricMeta,
    /// Bucket bounds of the duration histogram (the preset's).
    pub buckets: &'static [f64],
    /// The convention's `outcome` values: success, failure, cancelled.
    pub outcomes: [&'static str; 3],
}

/// Name and HELP text of one metric.
#[doc(hidden)]
#[derive(Debug)]
pub struct MetricMeta {
    pub name: &'static str,
    pub help: &'static str,
}

/// Distinct `error_type` values cached per site; more than this (far above a sane enum)
/// still get counted, through the registry's lookup.
const CACHED_ERROR_TYPES: usize = 16;

/// One instrumented function's static state. Generated as a `static` inside the function.
#[doc(hidden)]
pub struct CallSite {
    meta: SiteMeta,
    handles: OnceLock<Handles>,
}

/// Registers a call site for the runtime's start-up (histogram buckets per metric).
#[doc(hidden)]
pub struct SiteRegistration(pub &'static CallSite);

inventory::collect!(SiteRegistration);

pub(crate) struct Handles {
    duration: [Histogram; 2],
    processed: [Counter; 2],
    cancelled: OnceLock<(Histogram, Counter)>,
    pub(crate) active: Gauge,
    failures: [OnceLock<(&'static str, Counter)>; CACHED_ERROR_TYPES],
}

impl CallSite {
    pub const fn new(meta: SiteMeta) -> Self {
        CallSite {
            meta,
            handles: OnceLock::new(),
        }
    }

    pub fn meta(&self) -> &SiteMeta {
        &self.meta
    }

    /// The cached handles, registered on first use after [`crate::init`]. Before `init`
    /// there is nowhere to record to, so `None`, and nothing is cached: the first call
    /// after `init` registers.
    #[inline]
    pub(crate) fn handles(&'static self) -> Option<&'static Handles> {
        match self.handles.get() {
            Some(handles) => Some(handles),
            None => self.register(),
        }
    }

    /// Registers this site's series now (at `init`), so they exist before the first call.
    pub(crate) fn register_now(&'static self) {
        let _ = self.handles();
    }

    #[cold]
    fn register(&'static self) -> Option<&'static Handles> {
        if !crate::runtime::is_initialised() {
            return None;
        }
        Some(self.handles.get_or_init(|| Handles::register(&self.meta)))
    }

    /// Records one finished call.
    #[inline]
    pub(crate) fn record(&'static self, handles: &Handles, outcome: Outcome, seconds: f64) {
        let index = match outcome {
            Outcome::Success => 0,
            Outcome::Failure { error_type } => {
                self.count_failure(handles, error_type);
                1
            }
            Outcome::Cancelled => {
                let (duration, processed) = handles
                    .cancelled
                    .get_or_init(|| self.meta.register_outcome(self.meta.outcomes[2]));
                duration.record(seconds);
                processed.increment(1);
                return;
            }
        };
        handles.duration[index].record(seconds);
        handles.processed[index].increment(1);
    }

    /// Bumps the failures counter of `error_type`, found by a scan of a few cached slots
    /// compared by pointer first (labels are `&'static str`s, usually the same literal).
    fn count_failure(&'static self, handles: &Handles, error_type: &'static str) {
        for slot in &handles.failures {
            let (label, counter) =
                slot.get_or_init(|| (error_type, self.meta.register_failure_counter(error_type)));
            if core::ptr::eq(*label, error_type) || *label == error_type {
                counter.increment(1);
                return;
            }
        }
        // Every slot holds another class: still count it, through the registry.
        self.meta.register_failure_counter(error_type).increment(1);
    }
}

impl Handles {
    fn register(meta: &SiteMeta) -> Handles {
        meta.describe();
        // `success` and `failure` exist from registration on, so `rate()` starts from zero;
        // `cancelled` is registered on first use: most functions can never be cancelled.
        let success = meta.register_outcome(meta.outcomes[0]);
        let failure = meta.register_outcome(meta.outcomes[1]);
        let active = Key::from_parts(meta.active.name, meta.key_labels(None));
        Handles {
            duration: [success.0, failure.0],
            processed: [success.1, failure.1],
            cancelled: OnceLock::new(),
            active: metrics::with_recorder(|r| r.register_gauge(&active, &meta.metadata())),
            failures: [const { OnceLock::new() }; CACHED_ERROR_TYPES],
        }
    }
}

impl SiteMeta {
    fn metadata(&self) -> Metadata<'_> {
        Metadata::new(self.module_path, Level::INFO, Some(self.module_path))
    }

    fn key_labels(&self, extra: Option<(&'static str, &'static str)>) -> Vec<Label> {
        let mut labels = vec![
            Label::from_static_parts(LABEL_SERVICE, self.service),
            Label::from_static_parts(LABEL_OPERATION, self.operation),
        ];
        labels.extend(extra.map(|(k, v)| Label::from_static_parts(k, v)));
        labels.extend(
            self.labels
                .iter()
                .map(|&(k, v)| Label::from_static_parts(k, v)),
        );
        labels
    }

    /// The duration histogram and processed counter of one outcome.
    fn register_outcome(&self, outcome: &'static str) -> (Histogram, Counter) {
        let labels = self.key_labels(Some((LABEL_OUTCOME, outcome)));
        let duration = Key::from_parts(self.duration.name, labels.clone());
        let processed = Key::from_parts(self.processed.name, labels);
        metrics::with_recorder(|r| {
            let md = self.metadata();
            (
                r.register_histogram(&duration, &md),
                r.register_counter(&processed, &md),
            )
        })
    }

    fn register_failure_counter(&self, error_type: &'static str) -> Counter {
        let key = Key::from_parts(
            self.failures.name,
            self.key_labels(Some((LABEL_ERROR_TYPE, error_type))),
        );
        metrics::with_recorder(|recorder| recorder.register_counter(&key, &self.metadata()))
    }

    /// HELP text for the four metrics; repeating it for every site of a service is harmless.
    fn describe(&self) {
        let name = |m: &MetricMeta| KeyName::from_const_str(m.name);
        let help = |m: &MetricMeta| SharedString::const_str(m.help);
        metrics::with_recorder(|r| {
            r.describe_histogram(
                name(&self.duration),
                Some(Unit::Seconds),
                help(&self.duration),
            );
            r.describe_counter(
                name(&self.processed),
                Some(Unit::Count),
                help(&self.processed),
            );
            r.describe_counter(
                name(&self.failures),
                Some(Unit::Count),
                help(&self.failures),
            );
            r.describe_gauge(name(&self.active), Some(Unit::Count), help(&self.active));
        });
    }
}

/// Every call site linked into this program.
pub(crate) fn all_sites() -> impl Iterator<Item = &'static CallSite> {
    inventory::iter::<SiteRegistration>
        .into_iter()
        .map(|registration| registration.0)
}
