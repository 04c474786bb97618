//! The tiny handler both benches wrap: about as small as a handler gets, bare, with
//! observe's `#[instrumented]` and with `#[tracing::instrument]`.

use observe::instrumented;

#[derive(Debug)]
pub struct Odd;

/// The work every variant wraps; `u64::MAX` is the failing input.
#[inline(never)]
pub fn work(n: u64) -> Result<u64, Odd> {
    if n == u64::MAX {
        Err(Odd)
    } else {
        Ok(n.wrapping_mul(31).rotate_left(7))
    }
}

pub fn bare(n: u64) -> Result<u64, Odd> {
    work(n)
}

#[instrumented(service = "bench")]
pub fn observed(n: u64) -> Result<u64, Odd> {
    work(n)
}

#[tracing::instrument]
pub fn traced(n: u64) -> Result<u64, Odd> {
    work(n)
}

/// `#[tracing::instrument]` with the constant fields observe's span carries, to tell the
/// cost of those fields under a span-recording subscriber from the cost of observe.
#[allow(dead_code)] // measured by `overhead.rs` only
#[tracing::instrument(fields(service.name = "bench", code.function = "traced_with_call_fields", code.namespace = module_path!(), error.type = tracing::field::Empty, otel.status_code = tracing::field::Empty))]
pub fn traced_with_call_fields(n: u64) -> Result<u64, Odd> {
    work(n)
}

/// `#[tracing::instrument]` with observe's span shape under a subscriber that records
/// spans: the call fields declared and left empty, as observe's span leaves them.
#[allow(dead_code)] // measured by `overhead.rs` only
#[tracing::instrument(fields(service.name = tracing::field::Empty, code.function = tracing::field::Empty, code.namespace = tracing::field::Empty, error.type = tracing::field::Empty, otel.status_code = tracing::field::Empty))]
pub fn traced_with_empty_call_fields(n: u64) -> Result<u64, Odd> {
    work(n)
}
