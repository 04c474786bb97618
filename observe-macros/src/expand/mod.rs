//! Code generation, one module per macro kind. Never validates: it takes what `check`
//! produced and assumes it valid. Every runtime path is rooted in the one `crate` path.

pub(crate) mod error_label;
pub(crate) mod instrumented;
pub(crate) mod metric;
mod span;
