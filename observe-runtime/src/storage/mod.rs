//! Observe's own metric storage for call sites: per-site counters and histograms split
//! into cache-line stripes, one owned by each thread, so a warm call updates a few words
//! with no lock, and each bucket's exemplar (the latest sampled call's trace id, behind a
//! seqlock: `exemplars`). It may use `global` (the stripe claims), `clock`, `outcome` and nothing
//! else of the crate.

mod exemplars;
mod stripe;
mod striped;

pub(crate) use exemplars::Exemplar;
pub(crate) use striped::{Snapshot, Storage, Stripe};
