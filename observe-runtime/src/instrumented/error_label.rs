//! `error_type` values: bounded error class names, never messages.

use std::error::Error as StdError;

/// Gives an error its `error_type` label: a class name such as `ConnectionError`, from a
/// bounded set. Derive it for error enums with `#[derive(ErrorLabel)]` (the variant name,
/// or `#[error_label(rename = "…")]`, or `#[error_label(transparent)]` to ask the wrapped
/// error). Errors without it are labelled with their type's name.
///
/// ```
/// use observe::ErrorLabel;
///
/// #[derive(Debug, ErrorLabel)]
/// enum FetchError {
///     Timeout,
///     #[error_label(rename = "HttpError")]
///     Status(u16),
///     #[error_label(transparent)]
///     Io(std::io::Error),
/// }
///
/// /// By hand, for a type the derive does not fit.
/// struct Rejected;
/// impl ErrorLabel for Rejected {
///     fn error_label(&self) -> &'static str {
///         "Rejected"
///     }
/// }
///
/// assert_eq!(FetchError::Status(503).error_label(), "HttpError");
/// assert_eq!(FetchError::Io(std::io::ErrorKind::TimedOut.into()).error_label(), "TimedOut");
/// assert_eq!(Rejected.error_label(), "Rejected");
/// ```
pub trait ErrorLabel {
    /// The bounded class name of this error.
    ///
    /// ```
    /// use observe::ErrorLabel;
    ///
    /// #[derive(Debug, ErrorLabel)]
    /// enum ParseError {
    ///     InvalidJson,
    ///     MissingField,
    /// }
    ///
    /// // What `#[instrumented]` puts in `error_type` when a call returns `Err(ParseError::…)`.
    /// assert_eq!(ParseError::MissingField.error_label(), "MissingField");
    /// ```
    fn error_label(&self) -> &'static str;
}

impl<E: ErrorLabel + ?Sized> ErrorLabel for &E {
    fn error_label(&self) -> &'static str {
        (**self).error_label()
    }
}

impl<E: ErrorLabel + ?Sized> ErrorLabel for Box<E> {
    fn error_label(&self) -> &'static str {
        (**self).error_label()
    }
}

impl<E: ErrorLabel + ?Sized> ErrorLabel for std::sync::Arc<E> {
    fn error_label(&self) -> &'static str {
        (**self).error_label()
    }
}

impl ErrorLabel for std::io::Error {
    /// The error's [`std::io::ErrorKind`], e.g. `NotFound`, `TimedOut`.
    fn error_label(&self) -> &'static str {
        self.kind().error_label()
    }
}

impl ErrorLabel for std::io::ErrorKind {
    fn error_label(&self) -> &'static str {
        use std::io::ErrorKind as K;
        match self {
            K::NotFound => "NotFound",
            K::PermissionDenied => "PermissionDenied",
            K::ConnectionRefused => "ConnectionRefused",
            K::ConnectionReset => "ConnectionReset",
            K::HostUnreachable => "HostUnreachable",
            K::NetworkUnreachable => "NetworkUnreachable",
            K::ConnectionAborted => "ConnectionAborted",
            K::NotConnected => "NotConnected",
            K::AddrInUse => "AddrInUse",
            K::AddrNotAvailable => "AddrNotAvailable",
            K::NetworkDown => "NetworkDown",
            K::BrokenPipe => "BrokenPipe",
            K::AlreadyExists => "AlreadyExists",
            K::WouldBlock => "WouldBlock",
            K::NotADirectory => "NotADirectory",
            K::IsADirectory => "IsADirectory",
            K::DirectoryNotEmpty => "DirectoryNotEmpty",
            K::ReadOnlyFilesystem => "ReadOnlyFilesystem",
            K::StaleNetworkFileHandle => "StaleNetworkFileHandle",
            K::InvalidInput => "InvalidInput",
            K::InvalidData => "InvalidData",
            K::TimedOut => "TimedOut",
            K::WriteZero => "WriteZero",
            K::StorageFull => "StorageFull",
            K::NotSeekable => "NotSeekable",
            K::FileTooLarge => "FileTooLarge",
            K::ResourceBusy => "ResourceBusy",
            K::ExecutableFileBusy => "ExecutableFileBusy",
            K::Deadlock => "Deadlock",
            K::CrossesDevices => "CrossesDevices",
            K::TooManyLinks => "TooManyLinks",
            K::ArgumentListTooLong => "ArgumentListTooLong",
            K::Interrupted => "Interrupted",
            K::Unsupported => "Unsupported",
            K::UnexpectedEof => "UnexpectedEof",
            K::OutOfMemory => "OutOfMemory",
            K::Other => "Other",
            // `ErrorKind` is non-exhaustive: kinds added later share one bounded value.
            _ => "IoError",
        }
    }
}

/// Type-erased errors: an `io::Error` inside still reports its kind.
macro_rules! impl_for_dyn_error {
    ($($ty:ty),*) => {$(
        impl ErrorLabel for $ty {
            fn error_label(&self) -> &'static str {
                match self.downcast_ref::<std::io::Error>() {
                    Some(io) => io.error_label(),
                    None => "DynError",
                }
            }
        }
    )*};
}
impl_for_dyn_error!(
    dyn StdError,
    dyn StdError + Send,
    dyn StdError + Send + Sync
);

/// Std errors whose type name is already a good class name.
macro_rules! impl_by_type_name {
    ($($ty:ty => $label:literal),* $(,)?) => {$(
        impl ErrorLabel for $ty {
            fn error_label(&self) -> &'static str {
                $label
            }
        }
    )*};
}
impl_by_type_name!(
    std::fmt::Error => "FmtError",
    std::num::ParseIntError => "ParseIntError",
    std::num::ParseFloatError => "ParseFloatError",
    std::num::TryFromIntError => "TryFromIntError",
    std::str::ParseBoolError => "ParseBoolError",
    std::str::Utf8Error => "Utf8Error",
    std::string::FromUtf8Error => "FromUtf8Error",
    std::net::AddrParseError => "AddrParseError",
    std::time::SystemTimeError => "SystemTimeError",
    std::sync::mpsc::RecvError => "RecvError",
    std::convert::Infallible => "Infallible",
);

/// Last path segment of a type name with generics dropped:
/// `serde_json::error::Error` → `Error`, `my::Wrapper<u8>` → `Wrapper`.
pub(crate) fn short_type_name(full: &'static str) -> &'static str {
    let base = match full.find('<') {
        Some(generics) => &full[..generics],
        None => full,
    };
    match base.rfind("::") {
        Some(sep) => &base[sep + 2..],
        None => base,
    }
}

/// Wraps an error for labelling by autoref specialisation: its own [`ErrorLabel`] if it
/// has one, else its type name. Used by `#[error_label(transparent)]`.
#[doc(hidden)]
pub struct LabelOf<'a, E: ?Sized>(pub &'a E);

#[doc(hidden)]
pub trait LabelViaTrait {
    fn __observe_error_label(&self) -> &'static str;
}

impl<E: ErrorLabel + ?Sized> LabelViaTrait for &LabelOf<'_, E> {
    #[inline]
    fn __observe_error_label(&self) -> &'static str {
        self.0.error_label()
    }
}

#[doc(hidden)]
pub trait LabelViaTypeName {
    fn __observe_error_label(&self) -> &'static str;
}

impl<E: ?Sized> LabelViaTypeName for LabelOf<'_, E> {
    #[inline]
    fn __observe_error_label(&self) -> &'static str {
        short_type_name(core::any::type_name::<E>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_type_name_drops_path_and_generics() {
        assert_eq!(short_type_name("serde_json::error::Error"), "Error");
        assert_eq!(
            short_type_name("my::Wrapper<alloc::string::String>"),
            "Wrapper"
        );
        assert_eq!(short_type_name("Plain"), "Plain");
    }

    #[test]
    fn io_errors_are_labelled_by_kind() {
        let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow");
        assert_eq!(e.error_label(), "TimedOut");
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(e);
        assert_eq!(boxed.error_label(), "TimedOut");
    }
}
