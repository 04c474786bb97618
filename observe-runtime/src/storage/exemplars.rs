//! Exemplars of one call site: per outcome and per bucket of its duration histogram, the
//! trace id of the latest *sampled* call that landed there, with its duration and the
//! moment it ended, so that a slow bucket on a dashboard links to a trace that was
//! exported. The processed counter's exemplar of an outcome is the latest of that
//! outcome's buckets (picked at render), so a sampled call writes one slot, not two.
//!
//! **Why a seqlock.** A slot is five words (sequence, trace id high and low, duration,
//! end), and a render must never pair half of one trace id with half of another, nor one
//! call's trace id with another's duration. A lock would put the recording thread at the
//! mercy of a render; a seqlock never makes it wait: the writer moves the sequence from
//! even to odd with one compare-exchange, stores the words, and moves it to the next even.
//! If another writer holds the slot at that moment, this call's exemplar is simply skipped:
//! the other one is just as recent, and "latest wins" needs no more. A reader reads the
//! sequence, the words, then the sequence again, and keeps the words only if it was even
//! and unchanged; after [`READ_TRIES`] failed tries the slot is left out of that render
//! rather than read torn. Every word is an atomic, so there is no data race to reason
//! about, only ordering (the fences below, as in Boehm's "Can seqlocks get along with
//! programming language memory models?").
//!
//! **Memory bound.** One slot of 40 bytes per bucket (finite bounds and `+Inf`) per
//! outcome, allocated with the site's storage and never grown: 11 buckets × 3 outcomes ×
//! 40 B = 1 320 bytes for the `latency` preset. Slots are shared by every thread rather
//! than striped, since only sampled calls write them.

use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::clock::Ticks;
use crate::names::OUTCOME_COUNT;

/// Reads of a slot a render tries before leaving it out (a writer held it every time).
const READ_TRIES: usize = 16;

/// One exemplar as recorded: raw clock ticks, scaled only at render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawExemplar {
    pub(crate) trace_id: u128,
    /// The call's duration, in ticks.
    pub(crate) duration: u64,
    /// The clock reading when the call ended.
    pub(crate) ended: u64,
}

/// An exemplar as a render shows it: the trace id, the call's duration in seconds, and
/// when it ended, in nanoseconds since the Unix epoch (fine enough that the latest of two
/// calls is never a tie).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) trace_id: u128,
    pub(crate) seconds: f64,
    pub(crate) unix_nanos: u64,
}

/// The later of two exemplars (by when their calls ended).
pub(crate) fn latest(a: Option<Exemplar>, b: Option<Exemplar>) -> Option<Exemplar> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.unix_nanos > a.unix_nanos { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The latest exemplar of one bucket, behind a sequence counter.
#[derive(Debug, Default)]
struct Slot {
    /// Even: stable (0: never written); odd: a writer is storing the words.
    sequence: AtomicU64,
    trace_high: AtomicU64,
    trace_low: AtomicU64,
    duration: AtomicU64,
    ended: AtomicU64,
}

impl Slot {
    /// Stores `exemplar` unless another writer holds the slot right now. Never waits.
    #[inline]
    fn write(&self, exemplar: RawExemplar) {
        let sequence = self.sequence.load(Ordering::Relaxed);
        if sequence & 1 == 1
            || self
                .sequence
                .compare_exchange(sequence, sequence + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        // The odd sequence is ordered before the words: a reader that sees any of them sees
        // the sequence change when it reads it again.
        fence(Ordering::Release);
        self.trace_high
            .store((exemplar.trace_id >> 64) as u64, Ordering::Relaxed);
        self.trace_low
            .store(exemplar.trace_id as u64, Ordering::Relaxed);
        self.duration.store(exemplar.duration, Ordering::Relaxed);
        self.ended.store(exemplar.ended, Ordering::Relaxed);
        self.sequence.store(sequence + 2, Ordering::Release);
    }

    /// The slot's exemplar, whole, or `None` if never written (or a writer held it on
    /// every try).
    fn read(&self) -> Option<RawExemplar> {
        for _ in 0..READ_TRIES {
            let before = self.sequence.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let high = self.trace_high.load(Ordering::Relaxed);
            let low = self.trace_low.load(Ordering::Relaxed);
            let duration = self.duration.load(Ordering::Relaxed);
            let ended = self.ended.load(Ordering::Relaxed);
            // The words are read before the sequence is read again.
            fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) == before {
                return Some(RawExemplar {
                    trace_id: (u128::from(high) << 64) | u128::from(low),
                    duration,
                    ended,
                });
            }
        }
        None
    }
}

/// A site's exemplar slots: `outcomes × buckets`, fixed at registration.
#[derive(Debug)]
pub(crate) struct Exemplars {
    slots: Box<[Slot]>,
    /// Buckets per outcome: the finite bounds and `+Inf`.
    buckets: usize,
}

impl Exemplars {
    pub(crate) fn new(outcomes: usize, buckets: usize) -> Self {
        Exemplars {
            slots: (0..outcomes * buckets).map(|_| Slot::default()).collect(),
            buckets,
        }
    }

    /// Keeps `exemplar` as the latest of `bucket` of `outcome`.
    #[inline]
    pub(crate) fn record(&self, outcome: usize, bucket: usize, exemplar: RawExemplar) {
        self.slots[outcome * self.buckets + bucket].write(exemplar);
    }

    /// Per outcome, every bucket's exemplar, its ticks scaled by `clock` and its end turned
    /// into wall-clock time through one reading of both clocks.
    pub(crate) fn read_all(&self, clock: &Ticks) -> [Vec<Option<Exemplar>>; OUTCOME_COUNT] {
        let now_ticks = clock.now();
        let now_nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let resolve = |raw: RawExemplar| Exemplar {
            trace_id: raw.trace_id,
            seconds: clock.nanos(raw.duration) as f64 / 1e9,
            unix_nanos: now_nanos.saturating_sub(clock.nanos(now_ticks.saturating_sub(raw.ended))),
        };
        std::array::from_fn(|outcome| self.read(outcome).map(|e| e.map(resolve)).collect())
    }

    /// The latest exemplar of each bucket of `outcome`, in bucket order.
    fn read(&self, outcome: usize) -> impl Iterator<Item = Option<RawExemplar>> + '_ {
        self.slots[outcome * self.buckets..][..self.buckets]
            .iter()
            .map(Slot::read)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    /// Every word of the `n`th exemplar is derived from `n`, so a torn read shows as words
    /// that disagree.
    fn exemplar(n: u64) -> RawExemplar {
        RawExemplar {
            trace_id: (u128::from(n) << 64) | u128::from(!n),
            duration: n.wrapping_mul(3),
            ended: n.wrapping_mul(7),
        }
    }

    fn is_whole(read: RawExemplar) -> bool {
        let n = (read.trace_id >> 64) as u64;
        read == exemplar(n)
    }

    #[test]
    fn an_empty_slot_reads_nothing_and_the_latest_write_wins() {
        let exemplars = Exemplars::new(3, 4);
        assert!(exemplars.read(1).all(|e| e.is_none()));
        exemplars.record(1, 2, exemplar(5));
        exemplars.record(1, 2, exemplar(9));
        let read: Vec<_> = exemplars.read(1).collect();
        assert_eq!(read, [None, None, Some(exemplar(9)), None]);
        assert!(
            exemplars
                .read(0)
                .chain(exemplars.read(2))
                .all(|e| e.is_none())
        );
    }

    #[test]
    fn a_writer_never_waits_for_another() {
        let slot = Slot::default();
        // A writer in the middle of its stores (odd sequence): a second one skips.
        slot.sequence.store(1, Ordering::Relaxed);
        slot.write(exemplar(3));
        assert_eq!(slot.sequence.load(Ordering::Relaxed), 1);
        assert_eq!(slot.read(), None, "an odd sequence is never read");
        slot.sequence.store(2, Ordering::Relaxed);
        slot.write(exemplar(3));
        assert_eq!(slot.read(), Some(exemplar(3)));
    }

    /// Four writers and two readers hammer one slot: every read is one writer's exemplar,
    /// whole, and reads do succeed.
    #[test]
    fn concurrent_writers_and_readers_never_see_a_torn_exemplar() {
        let exemplars = Exemplars::new(1, 1);
        let stop = AtomicBool::new(false);
        let (whole, torn) = std::thread::scope(|s| {
            for writer in 0..4u64 {
                let (exemplars, stop) = (&exemplars, &stop);
                s.spawn(move || {
                    let mut n = writer << 40;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        exemplars.record(0, 0, exemplar(n));
                    }
                });
            }
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let (mut whole, mut torn) = (0u64, 0u64);
                        for _ in 0..200_000 {
                            match exemplars.read(0).next().flatten() {
                                Some(read) if is_whole(read) => whole += 1,
                                Some(_) => torn += 1,
                                None => {}
                            }
                        }
                        (whole, torn)
                    })
                })
                .collect();
            let counts = readers.into_iter().map(|r| r.join().unwrap());
            let total = counts.fold((0, 0), |(w, t), (w2, t2)| (w + w2, t + t2));
            stop.store(true, Ordering::Relaxed);
            total
        });
        assert_eq!(torn, 0, "{torn} torn reads of {whole}");
        assert!(whole > 1_000, "only {whole} reads succeeded");
    }
}
