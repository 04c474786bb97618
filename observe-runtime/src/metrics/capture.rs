//! The hook `observe::testing` captures metric sites through: a per-thread capture scope,
//! consulted only on the path a `counter!`, `gauge!` or `histogram!` call takes while
//! observe is not initialised. A warm call after `init` finds its site's state and never
//! looks here, so the hot path is unchanged.
//!
//! A scope gives each metric site it sees a state of its own (series slots, interned
//! label values) whose series are registered in the scope's registry, so the values of
//! one test are kept apart from every other test's, `_OTHER` overflow included. Those
//! states and series live as long as the program (series are `&'static`): tests only.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use super::metric_site::{MetricSite, State};
use super::series::{Registry, SeriesRead};

/// One capture: the registry its metric sites register their series in, and their states.
#[derive(Default)]
pub(crate) struct MetricCapture {
    registry: Registry,
    states: Mutex<Vec<(&'static MetricSite, &'static State)>>,
}

impl MetricCapture {
    pub(crate) fn new() -> Arc<MetricCapture> {
        Arc::new(MetricCapture::default())
    }

    /// Every series recorded in this capture, as a render reads them.
    pub(crate) fn read(&self) -> Vec<SeriesRead> {
        self.registry.read()
    }

    /// The site's state in this capture, built on first use.
    fn state(&self, site: &'static MetricSite) -> &'static State {
        // A poisoned lock only means a captured call panicked; the list is still whole.
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, state)) = states.iter().find(|(s, _)| std::ptr::eq(*s, site)) {
            return state;
        }
        let state: &'static State = Box::leak(Box::new(site.build()));
        states.push((site, state));
        state
    }
}

thread_local! {
    /// The capture metric sites on this thread register with, if any.
    static CURRENT: RefCell<Option<Arc<MetricCapture>>> = const { RefCell::new(None) };
}

/// Makes `capture` this thread's until the returned value drops (also on unwind), then
/// restores the previous one: captures nest.
pub(crate) fn enter(capture: &Arc<MetricCapture>) -> Entered {
    let previous = CURRENT.with(|current| current.replace(Some(Arc::clone(capture))));
    Entered { previous }
}

/// Restores the capture that was current before `enter`.
pub(crate) struct Entered {
    previous: Option<Arc<MetricCapture>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// `f` of the site's state and registry in this thread's capture, if there is one: where
/// a metric site records while observe is not initialised. The site's global state, and
/// a real `init` elsewhere in the process, are left alone.
#[cold]
pub(super) fn with_state<R>(
    site: &'static MetricSite,
    f: impl FnOnce(&'static State, &Registry) -> R,
) -> Option<R> {
    let capture = CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()?;
    Some(f(capture.state(site), &capture.registry))
}
