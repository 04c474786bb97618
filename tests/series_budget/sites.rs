//! Three functions of one service: each site fits the budget of `observe.toml` here, the
//! service's shared families do not.

use observe::instrumented;

#[instrumented(service = "budget")]
pub fn plan() -> u32 {
    1
}

#[instrumented(service = "budget")]
pub fn fetch() -> u32 {
    2
}

#[instrumented(service = "budget")]
pub fn merge() -> u32 {
    3
}
