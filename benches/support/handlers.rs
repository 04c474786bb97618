//! The realistic handler of the bench: the example service's parse path (decode a ~1 KB
//! JSON message, then validate it) as one handler, bare and with one `#[instrumented]`,
//! sync and async.

use observe::{ErrorLabel, instrumented};
use serde::Deserialize;

const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug, ErrorLabel)]
pub enum ParseError {
    InvalidJson(#[allow(dead_code)] serde_json::Error),
    EmptyBody,
    TooLarge,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub id: String,
    pub source: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A message of about 1 KB, as the example service receives.
pub fn message() -> String {
    let body = "lorem ipsum dolor sit amet, consectetur adipiscing elit ".repeat(15);
    let tags: Vec<String> = (0..8).map(|i| format!("\"tag-{i}\"")).collect();
    let message = format!(
        r#"{{"id": "m-12345", "source": "Email", "body": "{body}", "tags": [{}]}}"#,
        tags.join(", ")
    );
    assert!((900..1200).contains(&message.len()), "{}", message.len());
    message
}

fn decode(raw: &str) -> Result<Message, ParseError> {
    serde_json::from_str(raw).map_err(ParseError::InvalidJson)
}

fn validate(message: Message) -> Result<usize, ParseError> {
    let body = message.body.unwrap_or_default();
    if body.trim().is_empty() {
        Err(ParseError::EmptyBody)
    } else if body.len() > MAX_BODY_BYTES {
        Err(ParseError::TooLarge)
    } else {
        Ok(body.split_whitespace().count()
            + message.tags.len()
            + message.id.len()
            + message.source.len())
    }
}

/// The handler: decode, then validate.
pub fn handle_bare(raw: &str) -> Result<usize, ParseError> {
    validate(decode(raw)?)
}

/// The bare handler again, as a function of its own: the same source in another place
/// in the binary (the `black_box` only keeps the compiler from merging the two). Against
/// `handle_bare` it shows how far two copies of the same code differ in time, from where
/// their loops land alone: the resolution of any comparison between two functions.
pub fn handle_bare_copy(raw: &str) -> Result<usize, ParseError> {
    validate(decode(std::hint::black_box(raw))?)
}

/// The same handler, instrumented once as a whole.
#[instrumented(service = "bench", skip(raw))]
pub fn handle_observed(raw: &str) -> Result<usize, ParseError> {
    validate(decode(raw)?)
}

pub async fn handle_async_bare(raw: &str) -> Result<usize, ParseError> {
    validate(decode(raw)?)
}

#[instrumented(service = "bench", skip(raw))]
pub async fn handle_async_observed(raw: &str) -> Result<usize, ParseError> {
    validate(decode(raw)?)
}

/// The bare handler between two clock reads, as any per-call duration needs: the floor of
/// what timing a call costs, whatever records the duration.
#[inline(never)]
pub fn handle_between_two_clock_reads(raw: &str) -> Result<usize, ParseError> {
    let start = clock_ticks();
    let result = handle_bare(raw);
    std::hint::black_box(clock_ticks().wrapping_sub(start));
    result
}

/// The clock observe reads on this architecture: the TSC on x86-64.
#[inline(always)]
pub fn clock_ticks() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: RDTSC has no preconditions on x86-64.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        ORIGIN
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_nanos() as u64
    }
}
