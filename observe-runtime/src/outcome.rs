//! What a call ended as: the one value the per-call guard records, shared by the span and
//! every metric of the call, and by the storage that counts it.

use crate::names::{OUTCOME_CANCELLED, OUTCOME_FAILURE, OUTCOME_SUCCESS};

/// How one call of an instrumented function ended. Computed once per call and shared by
/// the span and every metric of that call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Returned normally (`Ok(_)` for a `Result`, any value otherwise).
    Success,
    /// Returned `Err(_)` or panicked; carries the bounded error class.
    Failure {
        /// The `error_type` label and `error.type` span attribute.
        error_type: &'static str,
    },
    /// An async call whose future was dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// The value of the `outcome` label.
    pub const fn label(self) -> &'static str {
        match self {
            Outcome::Success => OUTCOME_SUCCESS,
            Outcome::Failure { .. } => OUTCOME_FAILURE,
            Outcome::Cancelled => OUTCOME_CANCELLED,
        }
    }
}
