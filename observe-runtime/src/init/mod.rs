//! Start-up and shutdown: the [`Builder`] (from code or from the environment), [`init`],
//! and the init [`Guard`] that keeps the exporter thread running. The top room: it may
//! use every other room and `global`, and nothing uses it back (the error type it returns
//! lives in `crate::error`).

mod builder;
mod compiled_out;
mod env;
mod guard;
#[cfg(all(test, feature = "otlp", feature = "pushgateway"))]
mod parser_properties;
mod start;

pub use builder::{Builder, builder};
pub use guard::Guard;
pub use start::init;
