//! An argument is recorded on the call's span when its type implements `Debug`, and left
//! off otherwise, with no error and no bound added to the function: autoref
//! specialisation at the call site (`(&&RecordArg(&arg)).__observe_arg()`) picks the
//! `Debug` impl when the type is known to implement it (a generic parameter without a
//! `Debug` bound is not), else the one that records nothing.

use std::fmt::Debug;

use tracing::field::DebugValue;

/// Wraps a reference to an argument; see the module docs.
#[doc(hidden)]
pub struct RecordArg<'a, T>(pub &'a T);

/// The argument's `Debug` form, as a span field value.
#[doc(hidden)]
pub trait RecordDebugArg<'a> {
    fn __observe_arg(&self) -> Option<DebugValue<&'a dyn Debug>>;
}

impl<'a, T: Debug> RecordDebugArg<'a> for &&RecordArg<'a, T> {
    #[inline(always)]
    fn __observe_arg(&self) -> Option<DebugValue<&'a dyn Debug>> {
        Some(tracing::field::debug(self.0 as &dyn Debug))
    }
}

/// Nothing: an empty span field (`Option::None` records no value).
#[doc(hidden)]
pub trait RecordNoArg<'a> {
    fn __observe_arg(&self) -> Option<DebugValue<&'a dyn Debug>>;
}

impl<'a, T> RecordNoArg<'a> for RecordArg<'a, T> {
    #[inline(always)]
    fn __observe_arg(&self) -> Option<DebugValue<&'a dyn Debug>> {
        None
    }
}
