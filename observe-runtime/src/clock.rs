//! The clock durations are measured with: quanta's calibrated TSC clock, read inline.
//!
//! `quanta::Clock::raw` is not inlinable across crates and matches on the clock's kind at
//! every read. When quanta's clock is the TSC (checked once: its reading falls between
//! two direct TSC reads), the hot path reads the TSC itself; quanta still scales ticks
//! to nanoseconds, off the hot path.

/// A tick source and its scaling.
// `tsc`, read by every call, first: `Storage` keeps it in the cache line of its other
// per-call fields.
#[repr(C)]
#[derive(Debug, Clone)]
pub(crate) struct Ticks {
    /// quanta reads the TSC: read it directly.
    tsc: bool,
    clock: quanta::Clock,
}
const _: () = assert!(core::mem::offset_of!(Ticks, tsc) == 0);

impl Ticks {
    pub(crate) fn new() -> Self {
        let clock = quanta::Clock::new();
        let tsc = reads_the_tsc(&clock);
        Ticks { clock, tsc }
    }

    /// Now, in ticks.
    #[inline(always)]
    pub(crate) fn now(&self) -> u64 {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        if self.tsc {
            #[allow(unused_unsafe)]
            // SAFETY: RDTSC has no preconditions; SSE2 (checked above) implies it exists.
            return unsafe { core::arch::x86_64::_rdtsc() };
        }
        self.clock.raw()
    }

    /// A duration in ticks, in nanoseconds.
    pub(crate) fn nanos(&self, ticks: u64) -> u64 {
        if ticks == 0 {
            0
        } else {
            self.clock.delta_as_nanos(0, ticks)
        }
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn reads_the_tsc(clock: &quanta::Clock) -> bool {
    #[allow(unused_unsafe)]
    // SAFETY: as in `Ticks::now`.
    let tsc = || unsafe { core::arch::x86_64::_rdtsc() };
    (0..3).all(|_| {
        let before = tsc();
        let reading = clock.raw();
        let after = tsc();
        before <= reading && reading <= after
    })
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn reads_the_tsc(_: &quanta::Clock) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_advance_and_scale_to_elapsed_time() {
        let ticks = Ticks::new();
        let start = ticks.now();
        let wall = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let nanos = ticks.nanos(ticks.now() - start);
        let wall = wall.elapsed().as_nanos() as u64;
        // Same interval, two clocks: within 5 ms of each other (scheduling).
        assert!(nanos.abs_diff(wall) < 5_000_000, "{nanos} vs {wall}");
        assert_eq!(ticks.nanos(0), 0);
    }
}
