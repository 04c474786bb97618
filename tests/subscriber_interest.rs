//! Under observe's subscriber with spans exported and JSON logs (production's), `tracing`
//! decides each call site once: an enabled log event is `always` (not asked of every
//! layer's filter on each event, as it was while one layer's filter said `never`), an
//! instrumented function's span `never` (observe records it itself), a disabled event
//! `never`, and another library's span is still seen. (Own binary: the process's
//! subscriber.)

#![cfg(feature = "otlp")]

mod support;

use support::otlp::Fixture;
use tracing::callsite::{DefaultCallsite, Identifier};
use tracing::field::FieldSet;
use tracing::metadata::Kind;
use tracing::subscriber::Interest;
use tracing::{Level, Metadata};

/// A call site declared as `tracing`'s macros declare theirs.
macro_rules! callsite {
    ($name:ident, $target:literal, $level:expr, $kind:expr, [$($field:literal),*]) => {
        static $name: DefaultCallsite = {
            static META: Metadata<'static> = Metadata::new(
                concat!(stringify!($name), " callsite"),
                $target,
                $level,
                Some(file!()),
                Some(line!()),
                Some(module_path!()),
                FieldSet::new(&[$($field),*], Identifier(&$name)),
                $kind,
            );
            DefaultCallsite::new(&META)
        };
    };
}

callsite!(
    INFO_EVENT,
    "subscriber_interest",
    Level::INFO,
    Kind::EVENT,
    ["message"]
);
callsite!(
    DEBUG_EVENT,
    "subscriber_interest",
    Level::DEBUG,
    Kind::EVENT,
    ["message"]
);
callsite!(
    CALL_SPAN,
    "subscriber_interest",
    Level::INFO,
    Kind::SPAN,
    [
        "service.name",
        "code.function",
        "code.namespace",
        "error.type",
        "otel.status_code"
    ]
);
callsite!(
    LIBRARY_SPAN,
    "some_driver::query",
    Level::INFO,
    Kind::SPAN,
    ["db.statement"]
);

fn describe(interest: &Interest) -> &'static str {
    if interest.is_always() {
        "always"
    } else if interest.is_never() {
        "never"
    } else {
        "sometimes"
    }
}

#[test]
fn call_sites_are_decided_once_under_the_production_subscriber() {
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe { std::env::set_var("RUST_LOG", "info") };
    let _fx = Fixture::start(|b| {
        b.logging(true)
            .log_format(observe::LogFormat::Json)
            .trace_sample_ratio(0.1)
    });
    let interest = |callsite: &'static DefaultCallsite| {
        // Registers the call site with the subscriber, as its first use would.
        describe(&callsite.interest())
    };
    assert_eq!(interest(&INFO_EVENT), "always", "an enabled log event");
    assert_eq!(
        interest(&DEBUG_EVENT),
        "never",
        "an event RUST_LOG disables"
    );
    assert_eq!(
        interest(&CALL_SPAN),
        "never",
        "an instrumented function's span"
    );
    assert_ne!(
        interest(&LIBRARY_SPAN),
        "never",
        "another library's span is exported"
    );
}
