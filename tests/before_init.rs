//! Calls made before `init` are not recorded, and do not leave their call site
//! unrecorded: every call after `init` is. An `observe::testing` capture before `init`
//! sees its calls without leaking them into the real storage; after `init` it sees
//! nothing, and the real storage counts them (documented). (Its own test binary: `init`
//! is once per process.)

mod support;

use observe::instrumented;
use support::exposition;

#[instrumented(service = "early")]
fn early(n: u32) -> Result<u32, std::fmt::Error> {
    if n == 0 { Err(std::fmt::Error) } else { Ok(n) }
}

fn started() {
    observe::counter!("copilot_early_starts_total", help = "Starts.").increment(1);
}

#[test]
fn calls_after_init_are_recorded_even_if_the_site_ran_before() {
    assert_eq!(observe::render(), None, "nothing is initialised yet");
    assert_eq!(early(1), Ok(1));
    assert_eq!(early(0), Err(std::fmt::Error));
    started();
    let (_, before) = observe::testing::capture(|| {
        started();
        early(7)
    });
    assert_eq!(before.calls("early").success, 1);
    assert_eq!(before.value("copilot_early_starts_total", &[]), 1.0);

    exposition::observe();
    assert_eq!(early(2), Ok(2));
    assert_eq!(early(3), Ok(3));
    assert_eq!(early(0), Err(std::fmt::Error));

    let m = exposition::scrape();
    let op = |k, v| [("operation", "early"), (k, v)];
    assert_eq!(
        m.count(
            "copilot_early_messages_processed_total",
            &op("outcome", "success")
        ),
        2.0
    );
    assert_eq!(
        m.count(
            "copilot_early_messages_processed_total",
            &op("outcome", "failure")
        ),
        1.0
    );
    assert_eq!(
        m.count(
            "copilot_early_failures_total",
            &op("error_type", "FmtError")
        ),
        1.0
    );
    assert_eq!(
        m.value(
            "copilot_early_active_workers_current",
            &[("operation", "early")]
        ),
        Some(0.0)
    );
    assert_eq!(m.value("copilot_early_starts_total", &[]), Some(0.0));

    let (_, after) = observe::testing::capture(|| {
        started();
        early(8)
    });
    assert_eq!(after.calls("early"), observe::testing::Calls::default());
    assert_eq!(
        after.exposition(),
        "",
        "after `init`, a capture sees nothing"
    );
    let m = exposition::scrape();
    assert_eq!(
        m.count(
            "copilot_early_messages_processed_total",
            &op("outcome", "success")
        ),
        3.0
    );
    assert_eq!(m.value("copilot_early_starts_total", &[]), Some(1.0));
}
