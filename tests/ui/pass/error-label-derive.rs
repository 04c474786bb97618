use observe::ErrorLabel;

#[derive(Debug, ErrorLabel)]
enum StoreError {
    ConnectionError,
    #[error_label(rename = "TimeoutError")]
    Timeout(u64),
    Query { statement: String },
    #[error_label(transparent)]
    Io(std::io::Error),
    #[error_label(transparent)]
    Inner(InnerError),
    #[error_label(transparent)]
    Unlabelled(PlainError),
}

#[derive(Debug, ErrorLabel)]
enum InnerError {
    RateLimited,
}

#[derive(Debug)]
struct PlainError;

#[derive(Debug, ErrorLabel)]
struct SchemaError;

#[derive(Debug, ErrorLabel)]
#[error_label(transparent)]
struct Wrapper(StoreError);

#[derive(Debug, ErrorLabel)]
enum Generic<E: std::fmt::Debug> {
    #[error_label(transparent)]
    Source(E),
    Other,
}

#[derive(Debug, ErrorLabel)]
enum Never {}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(StoreError::ConnectionError.error_label(), "ConnectionError");
    assert_eq!(StoreError::Timeout(1).error_label(), "TimeoutError");
    assert_eq!(StoreError::Query { statement: String::new() }.error_label(), "Query");
    assert_eq!(StoreError::Io(std::io::ErrorKind::NotFound.into()).error_label(), "NotFound");
    assert_eq!(StoreError::Inner(InnerError::RateLimited).error_label(), "RateLimited");
    assert_eq!(StoreError::Unlabelled(PlainError).error_label(), "PlainError");
    assert_eq!(SchemaError.error_label(), "SchemaError");
    assert_eq!(Wrapper(StoreError::ConnectionError).error_label(), "ConnectionError");
    assert_eq!(Generic::<std::io::Error>::Other.error_label(), "Other");
    let _ = std::marker::PhantomData::<Never>;
}

#[path = "support/exposition.rs"]
mod exposition;
