//! The SLO the macro resolved for one `#[instrumented]` function (its attribute's
//! `slo(…)`, else `observe.toml`'s), checked at compile time; every `None` takes the RFC's
//! default in `observe::ops`.

/// What was declared for one function and its service.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct SloMeta {
    /// The service's compliance window, in seconds.
    pub window_secs: Option<u64>,
    /// The share of calls that must succeed, in parts per million.
    pub availability_per_million: Option<u32>,
    /// `(threshold in seconds, parts per million within it)`; the threshold is a bucket
    /// bound of the function's histogram.
    pub latency: Option<(f64, u32)>,
    /// The service's throughput floor.
    pub min_calls_per_minute: Option<u32>,
    /// The alerts' `component` label.
    pub component: Option<&'static str>,
    /// The operations `observe.toml` declares SLOs for, in the function's service.
    pub declared_operations: &'static [&'static str],
}

impl SloMeta {
    /// Nothing declared.
    pub const NONE: SloMeta = SloMeta {
        window_secs: None,
        availability_per_million: None,
        latency: None,
        min_calls_per_minute: None,
        component: None,
        declared_operations: &[],
    };
}
