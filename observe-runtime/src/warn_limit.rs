//! Warnings about a failure that may repeat thousands of times a second (a collector that
//! refuses every export, a Pushgateway that is down): the first is logged at once, the
//! repeats are counted and summarised once per interval with the last error, so the log
//! says what is wrong without flooding.

use std::fmt::Display;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often repeats of one failure are summarised.
pub(crate) const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

/// One kind of failure (say "exporting spans to http://collector:4317"), rate-limited.
#[derive(Debug)]
pub(crate) struct WarnLimit {
    /// What failed, as the log line says it: "cannot export spans to http://…".
    what: String,
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// When the last line was logged; `None` before the first failure.
    logged_at: Option<Instant>,
    /// Failures since that line, not logged yet.
    suppressed: u64,
    last_error: String,
}

/// What [`WarnLimit::failed`] decided to log.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    First,
    Summary { count: u64, last_error: String },
}

impl WarnLimit {
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Self::with_interval(what, SUMMARY_INTERVAL)
    }

    pub(crate) fn with_interval(what: impl Into<String>, interval: Duration) -> Self {
        WarnLimit {
            what: what.into(),
            interval,
            state: Mutex::new(State::default()),
        }
    }

    /// Records one failure (`count` lost items) and logs it if it is the first, or if the
    /// interval since the last line has passed.
    pub(crate) fn failed(&self, count: u64, error: &dyn Display) {
        match self.note(count, error, Instant::now()) {
            Some(Line::First) => tracing::warn!(
                target: "observe",
                "{}: {error} (repeats are summarised every {}s)",
                self.what,
                self.interval.as_secs()
            ),
            Some(Line::Summary { count, last_error }) => tracing::warn!(
                target: "observe",
                "{}: {count} more in the last {}s; the last: {last_error}",
                self.what,
                self.interval.as_secs()
            ),
            None => {}
        }
    }

    /// The decision alone, at `now`: what to log, if anything.
    pub(crate) fn note(&self, count: u64, error: &dyn Display, now: Instant) -> Option<Line> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(logged_at) = state.logged_at else {
            state.logged_at = Some(now);
            return Some(Line::First);
        };
        state.suppressed += count.max(1);
        state.last_error.clear();
        use std::fmt::Write as _;
        let _ = write!(state.last_error, "{error}");
        if now.duration_since(logged_at) < self.interval {
            return None;
        }
        state.logged_at = Some(now);
        Some(Line::Summary {
            count: std::mem::take(&mut state.suppressed),
            last_error: std::mem::take(&mut state.last_error),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_failure_then_one_summary_per_interval() {
        let limit = WarnLimit::with_interval("cannot export", Duration::from_secs(10));
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        assert_eq!(limit.note(1, &"refused", at(0)), Some(Line::First));
        for s in 1..10 {
            assert_eq!(limit.note(1, &"refused", at(s)), None, "at {s}s");
        }
        assert_eq!(
            limit.note(1, &"timed out", at(10)),
            Some(Line::Summary {
                count: 10,
                last_error: "timed out".into()
            })
        );
        assert_eq!(limit.note(5, &"500", at(11)), None);
        assert_eq!(
            limit.note(1, &"429", at(25)),
            Some(Line::Summary {
                count: 6,
                last_error: "429".into()
            })
        );
    }
}
