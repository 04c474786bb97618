//! A paired comparison of two variants of one handler: rounds of four blocks of calls,
//! bare, variant, variant, bare (an ABBA design), back to back, so that whatever drifts on
//! a shared machine (load, clock frequency, cache state) hits both alike, and a block's
//! place in the round (first or second of a pair) favours neither. The ratio of each
//! round's variant time to its bare time is one observation; the estimate is their median,
//! with a bootstrap 95% interval.

use std::time::{Duration, Instant};

/// The instrumented/bare time ratio over `rounds` rounds of `calls` calls each.
pub struct PairedRatio {
    pub median: f64,
    pub low: f64,
    pub high: f64,
    pub rounds: usize,
    pub calls: u64,
}

/// Times two blocks of `calls` calls of the bare handler and two of the variant per round,
/// each through `block(variant, calls)`, which returns the block's elapsed time.
pub fn measure(
    rounds: usize,
    calls: u64,
    mut block: impl FnMut(bool, u64) -> Duration,
) -> PairedRatio {
    // Warm both, so the first round does not pay for cold caches or lazy set-up.
    block(false, calls);
    block(true, calls);
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|_| {
            let bare = block(false, calls);
            let variant = block(true, calls) + block(true, calls);
            let bare = bare + block(false, calls);
            variant.as_secs_f64() / bare.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let (low, high) = bootstrap_median_interval(&ratios, 10_000);
    PairedRatio {
        median: median(&ratios),
        low,
        high,
        rounds,
        calls,
    }
}

/// Times `calls` calls of `f`.
pub fn time(calls: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..calls {
        f();
    }
    start.elapsed()
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The 2.5th and 97.5th percentiles of the median of `resamples` resamples with
/// replacement. A fixed-seed xorshift: reproducible, and no dependency for 10 lines.
fn bootstrap_median_interval(sorted: &[f64], resamples: usize) -> (f64, f64) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut medians: Vec<f64> = (0..resamples)
        .map(|_| {
            let mut sample: Vec<f64> = (0..sorted.len())
                .map(|_| sorted[(next() % sorted.len() as u64) as usize])
                .collect();
            sample.sort_by(f64::total_cmp);
            median(&sample)
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    let at = |q: f64| medians[((resamples as f64 - 1.0) * q).round() as usize];
    (at(0.025), at(0.975))
}

impl PairedRatio {
    /// One JSON object, for `scripts/bench_report.py`.
    pub fn json(&self, name: &str) -> String {
        format!(
            r#"{{"name": "{name}", "median": {}, "low": {}, "high": {}, "rounds": {}, "calls": {}}}"#,
            self.median, self.low, self.high, self.rounds, self.calls
        )
    }
}
