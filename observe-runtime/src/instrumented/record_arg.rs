//! An argument is recorded on the call's span when its type implements `Debug`, and left
//! off otherwise, with no error and no bound added to the function: autoref
//! specialisation at the call site (`(&&&RecordArg(&arg)).__observe_arg()`) picks, in
//! order, the typed value of a number or `bool` (as `tracing::instrument` records them),
//! the `Debug` form when the type is known to implement it (a generic parameter without a
//! `Debug` bound is not), else nothing.
//!
//! Numbers and `bool`s are recorded as themselves rather than formatted: observe's own
//! call spans keep them by copy on every call, so a failure in an unsampled trace is still
//! exported with them (`traces::call_export`), while `Debug` forms are formatted only for
//! a span that is sampled.

use std::fmt::Debug;

use tracing::field::{DebugValue, Value};

use super::call_args::CopiedArg;

/// Wraps a reference to an argument; see the module docs.
#[doc(hidden)]
pub struct RecordArg<'a, T>(pub &'a T);

/// A number or `bool`, recorded as a typed span value, and copied as observe's own span
/// keeps it.
#[doc(hidden)]
pub trait RecordPrimitiveArg {
    type Recorded: Value;
    fn __observe_arg(&self) -> Self::Recorded;
    fn __observe_copy(&self) -> Option<CopiedArg>;
}

impl<T: PrimitiveArg> RecordPrimitiveArg for &&RecordArg<'_, T> {
    type Recorded = T::Recorded;
    #[inline(always)]
    fn __observe_arg(&self) -> T::Recorded {
        self.0.recorded()
    }
    #[inline(always)]
    fn __observe_copy(&self) -> Option<CopiedArg> {
        Some(self.0.copied())
    }
}

/// The argument's `Debug` form, as a span field value (formatted only for a sampled
/// span: nothing is copied).
#[doc(hidden)]
pub trait RecordDebugArg<'a> {
    fn __observe_arg(&self) -> Option<DebugValue<&'a dyn Debug>>;
    fn __observe_copy(&self) -> Option<CopiedArg>;
}

impl<'a, T: Debug> RecordDebugArg<'a> for &RecordArg<'a, T> {
    #[inline(always)]
    fn __observe_arg(&self) -> Option<DebugValue<&'a dyn Debug>> {
        Some(tracing::field::debug(self.0 as &dyn Debug))
    }
    #[inline(always)]
    fn __observe_copy(&self) -> Option<CopiedArg> {
        None
    }
}

/// Nothing: an empty span field (`Option::None` records no value).
#[doc(hidden)]
pub trait RecordNoArg<'a> {
    fn __observe_arg(&self) -> Option<DebugValue<&'a dyn Debug>>;
    fn __observe_copy(&self) -> Option<CopiedArg>;
}

impl<'a, T> RecordNoArg<'a> for RecordArg<'a, T> {
    #[inline(always)]
    fn __observe_arg(&self) -> Option<DebugValue<&'a dyn Debug>> {
        None
    }
    #[inline(always)]
    fn __observe_copy(&self) -> Option<CopiedArg> {
        None
    }
}

/// The types recorded as typed values: what `tracing` records natively as a number or a
/// `bool` (widened as its `Value` impls widen them), and copied alike.
#[doc(hidden)]
pub trait PrimitiveArg {
    type Recorded: Value;
    fn recorded(&self) -> Self::Recorded;
    fn copied(&self) -> CopiedArg;
}

macro_rules! primitive_args {
    ($($ty:ty => $recorded:ty, $copied:ident),* $(,)?) => {$(
        impl PrimitiveArg for $ty {
            type Recorded = $recorded;
            #[inline(always)]
            fn recorded(&self) -> $recorded {
                *self as $recorded
            }
            #[inline(always)]
            fn copied(&self) -> CopiedArg {
                CopiedArg::$copied(self.recorded())
            }
        }
    )*};
}

primitive_args!(
    u8 => u64, unsigned, u16 => u64, unsigned, u32 => u64, unsigned, u64 => u64, unsigned,
    usize => u64, unsigned,
    i8 => i64, signed, i16 => i64, signed, i32 => i64, signed, i64 => i64, signed,
    isize => i64, signed,
    f32 => f64, float, f64 => f64, float, bool => bool, boolean,
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write;

    /// What each tier hands the span, as a visitor sees it.
    fn seen(value: &dyn Value) -> String {
        struct Seen(String);
        impl tracing::field::Visit for Seen {
            fn record_debug(&mut self, _: &tracing::field::Field, value: &dyn Debug) {
                write!(self.0, "debug:{value:?}").unwrap();
            }
            fn record_u64(&mut self, _: &tracing::field::Field, value: u64) {
                write!(self.0, "u64:{value}").unwrap();
            }
            fn record_i64(&mut self, _: &tracing::field::Field, value: i64) {
                write!(self.0, "i64:{value}").unwrap();
            }
            fn record_bool(&mut self, _: &tracing::field::Field, value: bool) {
                write!(self.0, "bool:{value}").unwrap();
            }
        }
        static CALLSITE: tracing::callsite::DefaultCallsite =
            tracing::callsite::DefaultCallsite::new(&META);
        static META: tracing::Metadata<'static> = tracing::Metadata::new(
            "t",
            "t",
            tracing::Level::INFO,
            None,
            None,
            None,
            tracing::field::FieldSet::new(&["x"], tracing::callsite::Identifier(&CALLSITE)),
            tracing::metadata::Kind::SPAN,
        );
        let field = META.fields().field("x").unwrap();
        let mut seen = Seen(String::new());
        value.record(&field, &mut seen);
        seen.0
    }

    // The macro's receiver is always `&&&RecordArg`, whichever tier answers.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn numbers_and_bools_are_typed_debug_types_formatted_others_left_off() {
        struct Opaque;
        #[allow(unused_imports)]
        use super::{RecordDebugArg as _, RecordNoArg as _, RecordPrimitiveArg as _};
        assert_eq!(seen(&(&&&RecordArg(&7u32)).__observe_arg()), "u64:7");
        assert_eq!(seen(&(&&&RecordArg(&-3i16)).__observe_arg()), "i64:-3");
        assert_eq!(seen(&(&&&RecordArg(&true)).__observe_arg()), "bool:true");
        assert_eq!(seen(&(&&&RecordArg(&"a")).__observe_arg()), "debug:\"a\"");
        assert_eq!(seen(&(&&&RecordArg(&Opaque)).__observe_arg()), "");
    }

    /// The copies an unsampled call keeps: numbers and `bool`s, as `tracing` widens them;
    /// nothing for the others.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn numbers_and_bools_are_copied_others_not() {
        struct Opaque;
        #[allow(unused_imports)]
        use super::{RecordDebugArg as _, RecordNoArg as _, RecordPrimitiveArg as _};
        let copied = |copy: Option<CopiedArg>| copy.map(|copy| format!("{copy:?}"));
        let expected = |copy: CopiedArg| Some(format!("{copy:?}"));
        assert_eq!(
            copied((&&&RecordArg(&7u32)).__observe_copy()),
            expected(CopiedArg::unsigned(7))
        );
        assert_eq!(
            copied((&&&RecordArg(&usize::MAX)).__observe_copy()),
            expected(CopiedArg::unsigned(u64::MAX))
        );
        assert_eq!(
            copied((&&&RecordArg(&-3i16)).__observe_copy()),
            expected(CopiedArg::signed(-3))
        );
        assert_eq!(
            copied((&&&RecordArg(&0.5f32)).__observe_copy()),
            expected(CopiedArg::float(0.5))
        );
        assert_eq!(
            copied((&&&RecordArg(&true)).__observe_copy()),
            expected(CopiedArg::boolean(true))
        );
        assert_eq!(copied((&&&RecordArg(&"a")).__observe_copy()), None);
        assert_eq!(copied((&&&RecordArg(&Opaque)).__observe_copy()), None);
    }
}
