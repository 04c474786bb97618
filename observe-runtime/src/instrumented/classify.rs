//! How a return value is classified as an [`Outcome`] without looking at how its
//! type is spelled (aliases such as `io::Result` work): autoref specialisation picks the
//! most specific of three impls at the call site.

use super::error_label::{ErrorLabel, short_type_name};
use crate::outcome::Outcome;

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
