use observe::instrumented;

#[derive(Debug, PartialEq)]
enum AppError {
    Parse,
}

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        AppError::Parse
    }
}

/// `?` converts through `From` into the declared error type.
#[instrumented(service = "shapes")]
fn parse_sum(a: &str, b: &str) -> Result<i64, AppError> {
    let a: i64 = a.parse()?;
    if a < 0 {
        return Ok(0);
    }
    let b: i64 = b.parse()?;
    Ok(a + b)
}

#[instrumented(service = "shapes")]
async fn async_parse(a: &str) -> Result<i64, AppError> {
    let a: i64 = a.parse()?;
    if a == 0 {
        return Err(AppError::Parse);
    }
    Ok(a)
}

type IoResult<T> = std::io::Result<T>;

#[instrumented(service = "shapes")]
fn aliased(ok: bool) -> IoResult<u8> {
    if ok { Ok(1) } else { Err(std::io::ErrorKind::Other.into()) }
}

#[instrumented(service = "shapes")]
fn option_question(v: Option<u32>) -> Option<u32> {
    let v = v?;
    Some(v + 1)
}

fn main() {
    let _exposition = exposition::Dump::start(file!());
    assert_eq!(parse_sum("1", "2"), Ok(3));
    assert_eq!(parse_sum("-1", "x"), Ok(0));
    assert_eq!(parse_sum("1", "x"), Err(AppError::Parse));
    assert_eq!(futures::executor::block_on(async_parse("x")), Err(AppError::Parse));
    assert_eq!(futures::executor::block_on(async_parse("0")), Err(AppError::Parse));
    assert_eq!(futures::executor::block_on(async_parse("4")), Ok(4));
    assert!(aliased(false).is_err());
    assert_eq!(option_question(None), None);
    assert_eq!(option_question(Some(1)), Some(2));
}

#[path = "support/exposition.rs"]
mod exposition;
