//! A paired comparison of two variants of one handler, back to back, so that whatever
//! drifts on a shared machine (load, clock frequency, cache state) hits both alike.
//!
//! One observation is eight blocks of calls: bare, variant, variant, bare, then variant,
//! bare, bare, variant (ABBA then BAAB). Each variant then sits at every place of a round
//! once per observation, so a block's place (first, inner, last) favours neither: a bare/
//! bare control measured with ABBA rounds alone read up to 1.3% off. Each observation's
//! blocks get a pseudo-random length of 0.75–1.25× the nominal calls, so that a periodic
//! event (a timer tick every few milliseconds) does not fall on the same block every time.
//! The ratio of an observation's variant time to its bare time is one sample; the estimate
//! is their median, with a bootstrap 95% interval.

use std::time::{Duration, Instant};

/// The variant/bare time ratio: the median of `observations` observations, each of eight
/// blocks of about `calls` calls.
pub struct PairedRatio {
    pub median: f64,
    pub low: f64,
    pub high: f64,
    pub observations: usize,
    pub calls: u64,
}

/// Times eight blocks per observation, four of the bare handler and four of the variant,
/// each through `block(variant, calls)`, which returns the block's elapsed time.
pub fn measure(
    observations: usize,
    calls: u64,
    mut block: impl FnMut(bool, u64) -> Duration,
) -> PairedRatio {
    // Warm both, so the first round does not pay for cold caches or lazy set-up.
    block(false, calls);
    block(true, calls);
    let mut next = xorshift(0x2545_F491_4F6C_DD1D);
    let ratios: Vec<f64> = (0..observations)
        .map(|_| {
            let calls = calls * 3 / 4 + next() % (calls / 2 + 1);
            let (mut bare, mut variant) = (Duration::ZERO, Duration::ZERO);
            for is_variant in [false, true, true, false, true, false, false, true] {
                let elapsed = block(is_variant, calls);
                *(if is_variant { &mut variant } else { &mut bare }) += elapsed;
            }
            variant.as_secs_f64() / bare.as_secs_f64()
        })
        .collect();
    PairedRatio::of(ratios, calls)
}

/// One of the four blocks of [`measure_added`]: which function, and whether the cost being
/// compared is switched on (a subscriber that records spans) or off.
#[derive(Clone, Copy)]
pub struct Block {
    pub variant: bool,
    pub on: bool,
}

/// The ratio of what switching something on adds to the variant and to the bare function:
/// `(variant on − variant off) / (bare on − bare off)`, each observation's four sums over
/// blocks timed in a pseudo-random order and then in its reverse, so that every block sits
/// at every place alike. The estimate is the median, with a bootstrap 95% interval.
pub fn measure_added(
    observations: usize,
    calls: u64,
    mut block: impl FnMut(Block, u64) -> Duration,
) -> PairedRatio {
    let blocks = [(false, false), (false, true), (true, false), (true, true)]
        .map(|(variant, on)| Block { variant, on });
    for b in blocks {
        block(b, calls);
    }
    let mut next = xorshift(0x2545_F491_4F6C_DD1D);
    let ratios: Vec<f64> = (0..observations)
        .map(|_| {
            let calls = calls * 3 / 4 + next() % (calls / 2 + 1);
            let mut order = [0, 1, 2, 3];
            for i in (1..4).rev() {
                order.swap(i, (next() % (i as u64 + 1)) as usize);
            }
            let mut sums = [Duration::ZERO; 4];
            for &i in order.iter().chain(order.iter().rev()) {
                sums[i] += block(blocks[i], calls);
            }
            let added = |off: Duration, on: Duration| on.as_secs_f64() - off.as_secs_f64();
            added(sums[2], sums[3]) / added(sums[0], sums[1])
        })
        .collect();
    PairedRatio::of(ratios, calls)
}

/// Prints each ratio as `group/name: what, paired: …`, and writes them all to `path` as a
/// JSON array for `scripts/bench_report.py`.
pub fn report<const N: usize>(
    group: &str,
    what: &str,
    path: &str,
    ratios: [(&str, PairedRatio); N],
) {
    let mut lines = Vec::new();
    for (name, ratio) in ratios {
        println!(
            "{group}/{name}: {what}, paired: {:.4} [{:.4}, {:.4}] ({} observations of about {} calls a block)",
            ratio.median, ratio.low, ratio.high, ratio.observations, ratio.calls
        );
        lines.push(ratio.json(name));
    }
    std::fs::write(path, format!("[{}]\n", lines.join(", "))).expect("write the paired ratios");
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
/// replacement.
fn bootstrap_median_interval(sorted: &[f64], resamples: usize) -> (f64, f64) {
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
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

/// A fixed-seed xorshift: reproducible, and no dependency for a few lines.
fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

impl PairedRatio {
    /// The median of the per-observation ratios, with its bootstrap 95% interval.
    fn of(mut ratios: Vec<f64>, calls: u64) -> PairedRatio {
        ratios.sort_by(f64::total_cmp);
        let (low, high) = bootstrap_median_interval(&ratios, 10_000);
        PairedRatio {
            median: median(&ratios),
            low,
            high,
            observations: ratios.len(),
            calls,
        }
    }

    /// One JSON object, for `scripts/bench_report.py`.
    fn json(&self, name: &str) -> String {
        format!(
            r#"{{"name": "{name}", "median": {}, "low": {}, "high": {}, "observations": {}, "calls": {}}}"#,
            self.median, self.low, self.high, self.observations, self.calls
        )
    }
}
