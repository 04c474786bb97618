//! The hook `observe::testing` captures metric sites through: a per-thread capture scope,
//! consulted only on the path a `counter!`, `gauge!` or `histogram!` call takes while
//! observe is not initialised. A warm call after `init` finds its site's state and never
//! looks here, so the hot path is unchanged.
//!
//! A scope gives each metric site it sees a state of its own (handle slots, interned
//! label values) whose handles are registered with the scope's recorder, so the values
//! of one test are kept apart from every other test's, `_OTHER` overflow included. Those
//! states live as long as the program (handles are `&'static`): tests only.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use metrics::Recorder;

use super::metric_site::{Handle, MetricSite, State};

/// One capture: the recorder its metric sites register with, and their states.
pub(crate) struct MetricCapture {
    recorder: Arc<dyn Recorder + Send + Sync>,
    states: Mutex<Vec<(&'static MetricSite, &'static State)>>,
}

impl MetricCapture {
    /// A capture whose sites register their series with `recorder`.
    pub(crate) fn new(recorder: Arc<dyn Recorder + Send + Sync>) -> Arc<MetricCapture> {
        Arc::new(MetricCapture {
            recorder,
            states: Mutex::new(Vec::new()),
        })
    }

    /// The site's state in this capture, built (and its HELP described) on first use.
    /// Called with the capture's recorder current.
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

/// The handle `site` records these label values with on this thread while observe is
/// not initialised: the current capture's, or none.
#[cold]
pub(super) fn handle_for(site: &'static MetricSite, values: &[&str]) -> Option<&'static Handle> {
    let capture = CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()?;
    // The recorder is current only for the registration, on this thread: a real `init`
    // elsewhere in the process, and the site's global state, are left alone.
    metrics::with_local_recorder(&*capture.recorder, || {
        let state = capture.state(site);
        Some(site.handle_in(state, values))
    })
}
