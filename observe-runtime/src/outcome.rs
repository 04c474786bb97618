//! What a call ended as, and how a return value is classified without looking at how its
//! type is spelled (aliases such as `io::Result` work): autoref specialisation picks the
//! most specific of three impls at the call site.

use crate::error_label::{ErrorLabel, short_type_name};
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

/// Wraps a reference to a return value for classification; see the module docs.
#[doc(hidden)]
pub struct Classify<'a, T: ?Sized>(pub &'a T);

/// `Result<T, E>` whose error type implements [`ErrorLabel`]: the error labels itself.
#[doc(hidden)]
pub trait ClassifyLabelledResult {
    fn __observe_outcome(&self) -> Outcome;
}

impl<T, E: ErrorLabel> ClassifyLabelledResult for &&Classify<'_, Result<T, E>> {
    #[inline]
    fn __observe_outcome(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(e) => Outcome::Failure {
                error_type: e.error_label(),
            },
        }
    }
}

/// Any other `Result<T, E>`: labelled with the error's type name, a static and bounded value.
#[doc(hidden)]
pub trait ClassifyOtherResult {
    fn __observe_outcome(&self) -> Outcome;
}

impl<T, E> ClassifyOtherResult for &Classify<'_, Result<T, E>> {
    #[inline]
    fn __observe_outcome(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure {
                error_type: short_type_name(core::any::type_name::<E>()),
            },
        }
    }
}

/// Every other return type is a success.
#[doc(hidden)]
pub trait ClassifyAnyValue {
    fn __observe_outcome(&self) -> Outcome;
}

impl<T: ?Sized> ClassifyAnyValue for Classify<'_, T> {
    #[inline]
    fn __observe_outcome(&self) -> Outcome {
        Outcome::Success
    }
}
