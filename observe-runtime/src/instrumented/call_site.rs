//! A call site: the static description the macro generates for one instrumented function,
//! and the metric storage it allocates once the runtime is up, so a warm call does no
//! registry lookup, no hashing and no allocation.

use std::sync::OnceLock;

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
    pub outcomes: [&'static str; 3],
}

/// Name and HELP text of one metric.
#[doc(hidden)]
#[derive(Debug)]
pub struct FamilyMeta {
    pub name: &'static str,
    pub help: &'static str,
}

/// One instrumented function's static state. Generated as a `static` inside the function.
#[doc(hidden)]
pub struct CallSite {
    meta: CallSiteMeta,
    storage: OnceLock<Storage>,
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
        }
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

    #[cold]
    fn register(&'static self) -> Option<&'static Storage> {
        let clock = crate::global::clock()?;
        Some(
            self.storage
                .get_or_init(|| Storage::new(self.meta.buckets, clock.clone())),
        )
    }
}

/// Every call site linked into this program.
pub(crate) fn all_call_sites() -> impl Iterator<Item = &'static CallSite> {
    inventory::iter::<CallSiteRegistration>
        .into_iter()
        .map(|registration| registration.0)
}
