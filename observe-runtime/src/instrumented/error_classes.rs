//! The `error_type` values a function can report, known at compile time where its error
//! type derives `ErrorLabel`: the catalogue lists them, and the failures counter's series
//! count is exact. Chosen by autoref specialization on the function's return type, as
//! outcomes are on its value: a `Result` whose error derives `ErrorLabel` (without
//! transparent variants) gives the derive's list; another `Result` gives `None`
//! (unknown: a type name, or an `io::ErrorKind`); any other type gives no class (it can
//! only fail by panicking).

use std::marker::PhantomData;

/// The classes of a derived `ErrorLabel`: `None` when a transparent variant asks a
/// wrapped error, whose classes are not known here. Implemented by the derive.
#[doc(hidden)]
pub trait ErrorClasses {
    const CLASSES: Option<&'static [&'static str]>;
}

/// The return type `R` of an instrumented function, as a value to specialize on.
#[doc(hidden)]
pub struct ClassesOf<R>(PhantomData<fn() -> R>);

impl<R> ClassesOf<R> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        ClassesOf(PhantomData)
    }
}

/// `Result<T, E>` with `E` deriving `ErrorLabel`.
#[doc(hidden)]
pub trait ClassesViaDerive {
    fn __observe_error_classes(&self) -> Option<&'static [&'static str]>;
}

impl<T, E: ErrorClasses> ClassesViaDerive for &&ClassesOf<Result<T, E>> {
    fn __observe_error_classes(&self) -> Option<&'static [&'static str]> {
        E::CLASSES
    }
}

/// Any other `Result<T, E>`: its classes are not known at compile time.
#[doc(hidden)]
pub trait ClassesViaResult {
    fn __observe_error_classes(&self) -> Option<&'static [&'static str]>;
}

impl<T, E> ClassesViaResult for &ClassesOf<Result<T, E>> {
    fn __observe_error_classes(&self) -> Option<&'static [&'static str]> {
        None
    }
}

/// Not a `Result`: no error class besides a panic's.
#[doc(hidden)]
pub trait ClassesViaAny {
    fn __observe_error_classes(&self) -> Option<&'static [&'static str]>;
}

impl<R> ClassesViaAny for ClassesOf<R> {
    fn __observe_error_classes(&self) -> Option<&'static [&'static str]> {
        Some(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Derived {}
    impl ErrorClasses for Derived {
        const CLASSES: Option<&'static [&'static str]> = Some(&["InvalidJson", "TooLarge"]);
    }

    // The three borrows are the specialization, as the expansion writes them.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn specialization_picks_the_most_specific() {
        assert_eq!(
            (&&&ClassesOf::<Result<u8, Derived>>::new()).__observe_error_classes(),
            Some(&["InvalidJson", "TooLarge"][..])
        );
        assert_eq!(
            (&&&ClassesOf::<Result<u8, std::io::Error>>::new()).__observe_error_classes(),
            None
        );
        assert_eq!(
            (&&&ClassesOf::<String>::new()).__observe_error_classes(),
            Some(&[][..])
        );
        assert_eq!(
            (&&&ClassesOf::<std::io::Result<()>>::new()).__observe_error_classes(),
            None
        );
    }
}
