//! One call site's metric state, pre-aggregated at record time: calls in flight, per
//! outcome a histogram in the preset's buckets whose count is also the processed counter,
//! and failures per cached `error_type`. Memory is fixed at registration whatever the call
//! rate.
//!
//! The state is split into cache-line-aligned stripes, one per thread (see `stripe`): a
//! warm call does two TSC reads and four uncontended word updates (in flight up, then a
//! bucket, the sum and in flight down), with no allocation, lock or lookup.
//!
//! In flight is a word of its own, up at entry and down at exit in the stripe of the thread
//! doing each, rather than derived as started minus finished: a render reads the stripes
//! one word at a time, and while it reads, a busy thread finishes many calls, so a
//! difference of two words read apart can be far off; each thread's in-flight word is
//! always its own calls in flight.
//!
//! Durations stay raw clock ticks on the hot path: bucket bounds are converted to ticks at
//! registration and sums to seconds at render, so no call scales.
//!
//! A sampled call also keeps its trace id as its bucket's exemplar ([`Storage::finish_sampled`],
//! see `exemplars`); any other call ([`Storage::finish`]) does exactly what it did before
//! exemplars existed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use super::exemplars::{Exemplar, Exemplars, RawExemplar, latest};
use super::stripe;
use crate::clock::Ticks;
use crate::names::{
    OUTCOME_COUNT, OUTCOME_INDEX_CANCELLED, OUTCOME_INDEX_FAILURE, OUTCOME_INDEX_SUCCESS,
};
use crate::outcome::Outcome;

/// Words of one cache line pair: adjacent-line prefetch pulls lines in pairs.
const LINE_WORDS: usize = 16;

/// Gives the words their alignment: they are accessed as one run through
/// [`Storage::words`], never through the field.
#[repr(C, align(128))]
struct Line(#[allow(dead_code)] [AtomicU64; LINE_WORDS]);

/// Outcomes with a histogram: success, failure, cancelled, in the order of
/// `CallSiteMeta::outcomes`, which holds their label values (`OUTCOME_INDEX_*`).
pub(crate) const OUTCOMES: usize = OUTCOME_COUNT;

/// Distinct `error_type` values counted in the stripes; more than this (far above a sane
/// enum) are still counted, behind a lock.
pub(crate) const FAILURE_SLOTS: usize = 16;

/// Word offsets inside one stripe: calls in flight, then per outcome its buckets and sum,
/// then the failure slots.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Finite bucket bounds; the outcome block holds these, `+Inf`, then the sum.
    finite: usize,
    failures: usize,
    /// Words per stripe, whole line pairs.
    stride: usize,
}

impl Layout {
    fn new(finite: usize) -> Self {
        let per_outcome = finite + 2;
        let failures = Self::OUTCOMES_AT + OUTCOMES * per_outcome;
        let words = failures + FAILURE_SLOTS;
        Layout {
            finite,
            failures,
            stride: words.div_ceil(LINE_WORDS) * LINE_WORDS,
        }
    }

    const IN_FLIGHT: usize = 0;
    const OUTCOMES_AT: usize = 1;

    fn bucket(&self, outcome: usize, bucket: usize) -> usize {
        Self::OUTCOMES_AT + outcome * (self.finite + 2) + bucket
    }

    fn sum(&self, outcome: usize) -> usize {
        Self::OUTCOMES_AT + outcome * (self.finite + 2) + self.finite + 1
    }
}

/// A site's striped counters, its clock, and its failure classes.
// What every call reads comes first, in this order, 57 bytes: one cache line where the
// storage starts on one (`CallSite`'s first field, aligned to 64), where by Rust's field
// order they spread over 88 bytes from offset 40, two or three lines, each a miss when a
// request's other work has evicted them (`scripts/load_profile.sh`'s inlined-code table:
// the guard's start and finish).
#[repr(C)]
pub(crate) struct Storage {
    /// Owned stripes, then the shared one.
    lines: Box<[Line]>,
    /// Largest duration in ticks of each finite bucket.
    bounds_ticks: Box<[u64]>,
    layout: Layout,
    /// Its `tsc` flag first.
    clock: Ticks,
    shared_stripe: usize,
    failure_labels: [OnceLock<&'static str>; FAILURE_SLOTS],
    /// Classes beyond the slots: a bounded fallback, never a lost count.
    failure_overflow: Mutex<Vec<(&'static str, u64)>>,
    /// The latest sampled call of each outcome and bucket.
    exemplars: Exemplars,
}
// Its per-call fields, `tsc` (`Ticks`' first byte) the last, within the first 64 bytes.
const _: () = assert!(core::mem::offset_of!(Storage, clock) < 64);

/// What one render reads back from a site.
#[derive(Clone)]
pub(crate) struct Snapshot {
    /// Per outcome: non-cumulative bucket counts (finite bounds then `+Inf`) and the sum
    /// in seconds.
    pub(crate) histograms: [(Vec<u64>, f64); 3],
    pub(crate) in_flight: u64,
    pub(crate) failures: Vec<(&'static str, u64)>,
    /// Per outcome, per bucket (as `histograms`): the latest sampled call's exemplar.
    pub(crate) exemplars: [Vec<Option<Exemplar>>; 3],
}

impl Snapshot {
    pub(crate) fn count(&self, outcome: usize) -> u64 {
        self.histograms[outcome].0.iter().sum()
    }

    /// The processed counter's exemplar of `outcome`: the latest of its buckets'.
    pub(crate) fn latest_exemplar(&self, outcome: usize) -> Option<Exemplar> {
        self.exemplars[outcome].iter().copied().fold(None, latest)
    }

    /// Adds `other`'s counts to these: two sites whose series carry the same labels are
    /// one series (their buckets are the same: `init` refuses a family with two bucket
    /// sets).
    pub(crate) fn absorb(&mut self, other: &Snapshot) {
        for ((buckets, sum), (more, more_sum)) in self.histograms.iter_mut().zip(&other.histograms)
        {
            for (bucket, more) in buckets.iter_mut().zip(more) {
                *bucket += more;
            }
            *sum += more_sum;
        }
        for (exemplars, more) in self.exemplars.iter_mut().zip(&other.exemplars) {
            for (exemplar, more) in exemplars.iter_mut().zip(more) {
                *exemplar = latest(*exemplar, *more);
            }
        }
        self.in_flight += other.in_flight;
        for &(error_type, count) in &other.failures {
            match self
                .failures
                .iter_mut()
                .find(|(known, _)| *known == error_type)
            {
                Some((_, total)) => *total += count,
                None => self.failures.push((error_type, count)),
            }
        }
    }
}

impl Storage {
    pub(crate) fn new(buckets_seconds: &[f64], clock: Ticks) -> Self {
        let layout = Layout::new(buckets_seconds.len());
        let owned = stripe::owned_count();
        let line_count = (owned + 1) * layout.stride / LINE_WORDS;
        Storage {
            bounds_ticks: buckets_seconds
                .iter()
                .map(|&s| ticks_within(&clock, seconds_to_nanos(s)))
                .collect(),
            layout,
            lines: (0..line_count)
                .map(|_| Line([const { AtomicU64::new(0) }; LINE_WORDS]))
                .collect(),
            shared_stripe: owned,
            failure_labels: [const { OnceLock::new() }; FAILURE_SLOTS],
            failure_overflow: Mutex::new(Vec::new()),
            exemplars: Exemplars::new(OUTCOMES, buckets_seconds.len() + 1),
            clock,
        }
    }

    /// The raw clock reading a call's duration starts from.
    #[inline(always)]
    pub(crate) fn now(&self) -> u64 {
        self.clock.now()
    }

    /// Every word of every stripe.
    #[inline(always)]
    fn words(&self) -> &[AtomicU64] {
        // SAFETY: a `Line` is exactly `LINE_WORDS` atomics with no padding (size 128, align
        // 128: checked by a test), so the lines are one run of words, inside the box.
        unsafe {
            core::slice::from_raw_parts(
                self.lines.as_ptr().cast::<AtomicU64>(),
                self.lines.len() * LINE_WORDS,
            )
        }
    }

    /// Stripe `index` (an owned one, or the shared one).
    #[inline(always)]
    fn stripe_at(&self, index: usize, owned: bool) -> Stripe<'_> {
        let stride = self.layout.stride;
        debug_assert!(index <= self.shared_stripe);
        // SAFETY: `lines` holds `shared_stripe + 1` stripes of `stride` words, and `index`
        // is at most `shared_stripe`: the shared one, or an owned one, which is below
        // `stripe::owned_count()`, the `shared_stripe` of every storage (fixed once).
        // Unchecked: with the index checks in `Stripe::add`, the checks were about a tenth
        // of a call's instructions (`scripts/call_instructions.sh`).
        let words = unsafe {
            self.words()
                .get_unchecked(index * stride..(index + 1) * stride)
        };
        Stripe { words, owned }
    }

    /// This thread's stripe.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn stripe(&self) -> Stripe<'_> {
        match stripe::current() {
            Some(owned) => self.stripe_at(owned, true),
            None => self.stripe_at(self.shared_stripe, false),
        }
    }

    /// A call started: in flight, in this thread's stripe, which it returns for the call's
    /// end if that runs on the same thread.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn start(&self) -> Stripe<'_> {
        let stripe = self.stripe();
        stripe.add(Layout::IN_FLIGHT, 1);
        stripe
    }

    /// A call that started at `start` (a [`Storage::now`] reading) finished with
    /// `outcome`, recorded in `stripe`, which must be the stripe of the current thread.
    /// Returns the clock reading it ended at: the end of the call's span, if it has one.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn finish(&self, stripe: Stripe<'_>, start: u64, outcome: Outcome) -> u64 {
        self.record(stripe, start, outcome).ended
    }

    /// [`Storage::finish`] for a call of a *sampled* trace: the same record, and
    /// `trace_id` (a valid, so non-zero, W3C trace id) becomes the exemplar of the bucket
    /// the call landed in, with the same duration; the processed counter's exemplar of
    /// `outcome` is the latest of its buckets. No allocation and no lock: one slot write
    /// behind a sequence counter, skipped if another thread is writing that slot at that
    /// instant (see `exemplars`). Returns the clock reading it ended at.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn finish_sampled(
        &self,
        stripe: Stripe<'_>,
        start: u64,
        outcome: Outcome,
        trace_id: u128,
    ) -> u64 {
        let recorded = self.record(stripe, start, outcome);
        self.exemplars.record(
            recorded.outcome,
            recorded.bucket,
            RawExemplar {
                trace_id,
                duration: recorded.ticks,
                ended: recorded.ended,
            },
        );
        recorded.ended
    }

    /// Records one call in `stripe`; what it recorded, for an exemplar.
    #[cfg_attr(debug_assertions, inline)]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn record(&self, stripe: Stripe<'_>, start: u64, outcome: Outcome) -> Recorded {
        let ended = self.clock.now();
        // A TSC read on another core may be a little behind: a zero duration, not a wrap.
        let ticks = ended.saturating_sub(start);
        let index = match outcome {
            Outcome::Success => OUTCOME_INDEX_SUCCESS,
            Outcome::Failure { error_type } => {
                self.count_failure(&stripe, error_type);
                OUTCOME_INDEX_FAILURE
            }
            Outcome::Cancelled => OUTCOME_INDEX_CANCELLED,
        };
        let bucket = self
            .bounds_ticks
            .iter()
            .position(|&bound| ticks <= bound)
            .unwrap_or(self.layout.finite);
        stripe.add(self.layout.bucket(index, bucket), 1);
        stripe.add(self.layout.sum(index), ticks);
        // Wrapping: an async call may finish on another thread's stripe than it started on.
        stripe.add(Layout::IN_FLIGHT, u64::MAX);
        Recorded {
            outcome: index,
            bucket,
            ticks,
            ended,
        }
    }

    /// Counts a failure of `error_type` in its slot, found by a scan of a few slots compared
    /// by pointer first (labels are `&'static str`s, usually the same literal).
    fn count_failure(&self, stripe: &Stripe<'_>, error_type: &'static str) {
        for (slot, label) in self.failure_labels.iter().enumerate() {
            let label = label.get_or_init(|| error_type);
            if core::ptr::eq(*label, error_type) || *label == error_type {
                stripe.add(self.layout.failures + slot, 1);
                return;
            }
        }
        self.count_overflowing_failure(error_type);
    }

    #[cold]
    fn count_overflowing_failure(&self, error_type: &'static str) {
        let mut overflow = self
            .failure_overflow
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match overflow.iter_mut().find(|(label, _)| *label == error_type) {
            Some((_, count)) => *count += 1,
            None => overflow.push((error_type, 1)),
        }
    }

    /// Sums every stripe; each word is read whole, so counts are exact at some moment of
    /// the read.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let stripes = self.shared_stripe + 1;
        let total = |offset: usize| -> u64 {
            (0..stripes)
                .map(|s| self.words()[s * self.layout.stride + offset].load(Ordering::Acquire))
                .fold(0u64, u64::wrapping_add)
        };
        let histogram = |outcome: usize| {
            let buckets: Vec<u64> = (0..=self.layout.finite)
                .map(|b| total(self.layout.bucket(outcome, b)))
                .collect();
            let sum_nanos = self.clock.nanos(total(self.layout.sum(outcome)));
            (buckets, sum_nanos as f64 / 1e9)
        };
        let histograms = [histogram(0), histogram(1), histogram(2)];
        let exemplars = self.exemplars.read_all(&self.clock);
        let mut failures: Vec<(&'static str, u64)> = self
            .failure_labels
            .iter()
            .enumerate()
            .filter_map(|(slot, label)| Some((*label.get()?, total(self.layout.failures + slot))))
            .collect();
        failures.extend(
            self.failure_overflow
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .iter()
                .copied(),
        );
        // Each stripe is read at a slightly different moment, so the sum is a gauge's
        // usual approximation (bounded by the calls in flight during the read), clamped.
        let in_flight = total(Layout::IN_FLIGHT) as i64;
        Snapshot {
            histograms,
            in_flight: in_flight.max(0) as u64,
            failures,
            exemplars,
        }
    }
}

/// What [`Storage::record`] did with one call.
#[derive(Clone, Copy)]
struct Recorded {
    outcome: usize,
    bucket: usize,
    ticks: u64,
    ended: u64,
}

/// One thread's stripe of a site.
#[derive(Clone, Copy)]
pub(crate) struct Stripe<'a> {
    words: &'a [AtomicU64],
    /// Only this thread writes it.
    owned: bool,
}

impl Stripe<'_> {
    /// Adds `n` to word `offset` of the stripe. Release pairs with the render's Acquire
    /// (see [`Storage::snapshot`]).
    #[inline(always)]
    fn add(&self, offset: usize, n: u64) {
        debug_assert!(offset < self.words.len());
        // SAFETY: every offset comes from the storage's `Layout`, whose offsets (in
        // flight, a bucket or sum of an outcome below `OUTCOMES`, a failure slot below
        // `FAILURE_SLOTS`) are all below its stride, the stripe's length.
        let word = unsafe { self.words.get_unchecked(offset) };
        if self.owned {
            // The only writer: a plain load and store, no locked read-modify-write.
            word.store(
                word.load(Ordering::Relaxed).wrapping_add(n),
                Ordering::Release,
            );
        } else {
            word.fetch_add(n, Ordering::Release);
        }
    }
}

/// The largest tick count that scales to at most `nanos`, so that `ticks <= bound` is
/// exactly `nanos(ticks) <= bound`: a binary search, as the clock's scaling is monotonic.
fn ticks_within(clock: &Ticks, nanos: u64) -> u64 {
    let mut above = nanos.max(1);
    while clock.nanos(above) <= nanos {
        if above >= u64::MAX / 4 {
            return u64::MAX;
        }
        above *= 2;
    }
    let mut within = 0;
    while above - within > 1 {
        let mid = within + (above - within) / 2;
        if clock.nanos(mid) <= nanos {
            within = mid;
        } else {
            above = mid;
        }
    }
    within
}

fn seconds_to_nanos(seconds: f64) -> u64 {
    // `as` saturates: an enormous bound is simply never exceeded.
    (seconds * 1e9).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn storage() -> Storage {
        Storage::new(&[0.01, 0.05, 1.0], Ticks::new())
    }

    #[test]
    fn stripes_are_whole_line_pairs() {
        let layout = Layout::new(10);
        assert_eq!(layout.stride % LINE_WORDS, 0);
        assert!(layout.failures + FAILURE_SLOTS <= layout.stride);
        assert_eq!(std::mem::align_of::<Line>(), 128);
        assert_eq!(std::mem::size_of::<Line>(), 128);
    }

    #[test]
    fn bounds_convert_exactly() {
        assert_eq!(seconds_to_nanos(0.01), 10_000_000);
        assert_eq!(seconds_to_nanos(2.5), 2_500_000_000);
        assert_eq!(seconds_to_nanos(60.0), 60_000_000_000);
        let clock = Ticks::new();
        for nanos in [1, 1_000, 10_000_000, 60_000_000_000] {
            let ticks = ticks_within(&clock, nanos);
            assert!(clock.nanos(ticks) <= nanos);
            assert!(clock.nanos(ticks + 1) > nanos);
        }
        assert_eq!(ticks_within(&clock, u64::MAX), u64::MAX);
    }

    #[test]
    fn records_outcomes_failures_and_in_flight() {
        let storage = storage();
        storage.start();
        let stripe = storage.start();
        storage.finish(stripe, storage.now(), Outcome::Success);
        let in_flight = storage.snapshot();
        assert_eq!(in_flight.in_flight, 1);
        let stripe = storage.start();
        storage.finish(stripe, storage.now(), Outcome::Failure { error_type: "Io" });
        storage.finish(stripe, storage.now(), Outcome::Failure { error_type: "Io" });
        let snapshot = storage.snapshot();
        assert_eq!(snapshot.count(0), 1);
        assert_eq!(snapshot.count(1), 2);
        assert_eq!(snapshot.count(2), 0);
        assert_eq!(snapshot.histograms[0].0.len(), 4, "3 bounds and +Inf");
        assert_eq!(snapshot.failures, [("Io", 2)]);
        assert_eq!(snapshot.in_flight, 0);
    }

    #[test]
    fn a_sampled_call_keeps_its_trace_id_in_its_bucket_and_counts_as_any_call() {
        let storage = storage();
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        storage.finish(storage.start(), storage.now(), Outcome::Success);
        storage.finish_sampled(storage.start(), storage.now(), Outcome::Success, 0xab);
        // 20 ms: the second bucket (0.01 < d <= 0.05) of the failures.
        let start = storage.now();
        let stripe = storage.start();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let failure = Outcome::Failure { error_type: "Io" };
        storage.finish_sampled(stripe, start, failure, 0xcd);
        storage.finish_sampled(storage.start(), storage.now(), Outcome::Success, 0xef);
        let snapshot = storage.snapshot();
        assert_eq!(snapshot.count(0), 3);
        assert_eq!(snapshot.count(1), 1);
        assert_eq!(snapshot.failures, [("Io", 1)]);
        assert_eq!(snapshot.in_flight, 0);
        let trace_ids = |outcome: usize| -> Vec<Option<u128>> {
            snapshot.exemplars[outcome]
                .iter()
                .map(|e| e.map(|e| e.trace_id))
                .collect()
        };
        assert_eq!(trace_ids(0), [Some(0xef), None, None, None], "latest wins");
        assert_eq!(trace_ids(1), [None, Some(0xcd), None, None]);
        assert_eq!(trace_ids(2), [None; 4]);
        let slow = snapshot.exemplars[1][1].unwrap();
        assert!((0.02..0.05).contains(&slow.seconds), "{slow:?}");
        let after = before + 5_000_000_000;
        assert!(
            (before..after).contains(&slow.unix_nanos),
            "{slow:?}, {before}"
        );
        assert_eq!(snapshot.latest_exemplar(0).unwrap().trace_id, 0xef);
        assert_eq!(snapshot.latest_exemplar(2), None);
    }

    #[test]
    fn failure_classes_past_the_slots_are_still_counted() {
        let storage = storage();
        let labels: Vec<&'static str> = (0..FAILURE_SLOTS + 3)
            .map(|i| &*Box::leak(format!("E{i}").into_boxed_str()))
            .collect();
        for label in &labels {
            let stripe = storage.start();
            storage.finish(
                stripe,
                storage.now(),
                Outcome::Failure { error_type: label },
            );
        }
        storage.finish(
            storage.start(),
            storage.now(),
            Outcome::Failure {
                error_type: labels[FAILURE_SLOTS + 1],
            },
        );
        let failures = storage.snapshot().failures;
        assert_eq!(failures.len(), FAILURE_SLOTS + 3);
        assert!(failures.contains(&(labels[FAILURE_SLOTS + 1], 2)));
        assert!(failures.contains(&(labels[0], 1)));
    }

    #[test]
    fn threads_beyond_the_owned_stripes_share_one_exactly() {
        let _claims = stripe::TEST_CLAIMS
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let storage = storage();
        let threads = stripe::owned_count() + 4;
        // Every thread holds its claim until all have one: some must share.
        let all_claimed = std::sync::Barrier::new(threads);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    stripe::current();
                    all_claimed.wait();
                    for _ in 0..1000 {
                        let stripe = storage.start();
                        storage.finish(stripe, storage.now(), Outcome::Success);
                    }
                });
            }
        });
        let snapshot = storage.snapshot();
        assert_eq!(snapshot.count(0), threads as u64 * 1000);
        assert_eq!(snapshot.in_flight, 0);
    }
}
