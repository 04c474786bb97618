//! Stands in for `push.rs` when the `pushgateway` feature is off: no push configuration
//! can be made (the builder has no `pushgateway` method and `OBSERVE_PUSHGATEWAY_URL` is
//! reported by `init::compiled_out`), so `init` compiles unchanged and never pushes.

use std::convert::Infallible;
use std::time::Duration;

use crate::error::Error;

/// Where to push: no value exists in this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PushConfig {
    pub(crate) interval: Duration,
    never: Infallible,
}

impl PushConfig {
    pub(crate) fn check_interval(&self) -> Result<(), Error> {
        match self.never {}
    }

    pub(crate) fn target(&self, _: &str) -> Result<String, Error> {
        match self.never {}
    }
}

/// A pusher that pushes nothing; `init` starts one only from a [`PushConfig`], which
/// this build cannot make.
#[derive(Debug)]
pub(crate) struct Pusher;

impl Pusher {
    pub(crate) fn start(
        _: String,
        _: Duration,
        _: fn() -> Option<String>,
        _: &tokio::runtime::Handle,
    ) -> Self {
        Pusher
    }

    pub(crate) fn shutdown(&self) {}
}
