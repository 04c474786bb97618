//! The hook `observe::testing` captures through: a per-thread capture scope, consulted
//! only on the cold path a call takes while observe is not initialised (a call site
//! without storage asks to register on every call until `init`). A warm call after `init`
//! never looks at it, so the hot path is unchanged: no extra load, branch or lookup.
//!
//! A scope gives each call site it sees a storage of its own, so the calls of one test
//! (one thread, or one future however many threads poll it) are counted apart from every
//! other test's. Those storages live as long as the program (the per-call guard holds a
//! `&'static Storage`): a few kilobytes per site per capture, acceptable in tests, which
//! are the only users.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use super::call_site::{CallSite, CallSiteMeta};
use crate::clock::Ticks;
use crate::storage::{Snapshot, Storage};

/// One capture: the storages of the sites called within it.
pub(crate) struct Capture {
    clock: Ticks,
    sites: Mutex<Vec<(&'static CallSite, &'static Storage)>>,
}

impl Capture {
    pub(crate) fn new() -> Arc<Capture> {
        Arc::new(Capture {
            clock: Ticks::new(),
            sites: Mutex::new(Vec::new()),
        })
    }

    /// What each site called within the capture holds now, in first-call order.
    pub(crate) fn snapshots(&self) -> Vec<(&'static CallSiteMeta, Snapshot)> {
        self.lock()
            .iter()
            .map(|(site, storage)| (site.meta(), storage.snapshot()))
            .collect()
    }

    fn storage(&self, site: &'static CallSite) -> &'static Storage {
        let mut sites = self.lock();
        if let Some((_, storage)) = sites.iter().find(|(s, _)| std::ptr::eq(*s, site)) {
            return storage;
        }
        let storage: &'static Storage = Box::leak(Box::new(Storage::new(
            site.meta().buckets,
            self.clock.clone(),
        )));
        sites.push((site, storage));
        storage
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(&'static CallSite, &'static Storage)>> {
        // A poisoned lock only means a captured call panicked; the list is still whole.
        self.sites
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

thread_local! {
    /// The capture calls on this thread record into, if any.
    static CURRENT: RefCell<Option<Arc<Capture>>> = const { RefCell::new(None) };
}

/// Makes `capture` this thread's until the returned value drops (also on unwind), then
/// restores the previous one: captures nest.
pub(crate) fn enter(capture: &Arc<Capture>) -> Entered {
    let previous = CURRENT.with(|current| current.replace(Some(Arc::clone(capture))));
    Entered { previous }
}

/// Restores the capture that was current before `enter`.
pub(crate) struct Entered {
    previous: Option<Arc<Capture>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// The storage `site` records into on this thread while observe is not initialised: the
/// current capture's, or none.
#[cold]
pub(crate) fn storage_for(site: &'static CallSite) -> Option<&'static Storage> {
    CURRENT
        .try_with(|current| current.borrow().as_ref().map(|c| c.storage(site)))
        .ok()
        .flatten()
}
