//! Migrating from `#[tracing::instrument]` (issue 16): the shapes and argument forms of
//! tracing-attributes' own tests, written with `#[instrumented]`, keep what the function
//! does (return values, mutation through `&mut`, `?` returns) and record what tracing
//! would (span names, targets, levels, empty fields, `ret` / `err` events), with exact
//! counts per operation in a real render, one line per label set.

mod support;

use std::collections::BTreeMap;
use std::num::ParseIntError;
use std::sync::{Arc, Mutex};

use observe::instrumented;
use support::exposition::{expected, observe, scrape};
use support::span_fields::FieldMap;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

const PROCESSED: &str = "copilot_compat_messages_processed_total";
const FAILURES: &str = "copilot_compat_failures_total";

#[derive(Debug, Default)]
struct Account {
    balance: i64,
}

impl Account {
    #[instrumented(service = "compat", skip(self))]
    fn deposit(&mut self, amount: i64) -> i64 {
        self.balance += amount;
        self.balance
    }

    #[instrumented(service = "compat", skip(self), err)]
    async fn withdraw(&mut self, amount: &str) -> Result<i64, ParseIntError> {
        let amount: i64 = amount.parse()?;
        self.balance -= amount;
        Ok(self.balance)
    }
}

#[instrumented(service = "compat", ret, err(Debug))]
fn parse_sum(a: &str, b: &str) -> Result<i64, ParseIntError> {
    #![allow(clippy::needless_question_mark)]
    Ok(a.parse::<i64>()? + b.parse::<i64>()?)
}

#[instrumented(service = "compat", fields(peer = "alpha", late), level = 2)]
fn record_later(value: u32) -> u32 {
    tracing::Span::current().record("late", value);
    value * 2
}

#[instrumented(service = "compat", target = "compat::io", span_name = "fetch_peer", level = Level::WARN, ret(Display))]
fn fetch(id: u32) -> String {
    format!("peer-{id}")
}

#[instrumented(service = "compat", skip_all)]
fn push_into(items: &mut Vec<u32>, item: u32) -> usize {
    #![allow(unused_mut)]
    items.push(item);
    items.len()
}

/// A span or event as a subscriber sees it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    kind: &'static str,
    name: String,
    target: String,
    level: Level,
    /// For an event: the name of the span it happened in.
    parent: Option<String>,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<Seen>>>);

impl<S> Layer<S> for Captured
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldMap(&mut fields));
        let meta = attrs.metadata();
        self.0.lock().unwrap().push(Seen {
            kind: "span",
            name: meta.name().to_owned(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            parent: None,
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, cx: Context<'_, S>) {
        let Some(span) = cx.span(id) else { return };
        let mut seen = self.0.lock().unwrap();
        if let Some(last) = seen
            .iter_mut()
            .rev()
            .find(|s| s.kind == "span" && s.name == span.name())
        {
            values.record(&mut FieldMap(&mut last.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, cx: Context<'_, S>) {
        // observe's own diagnostics (in debug builds, a call before `init`) are not what
        // the instrumented functions emit.
        if event.metadata().target() == "observe" {
            return;
        }
        let mut fields = BTreeMap::new();
        event.record(&mut FieldMap(&mut fields));
        let meta = event.metadata();
        let parent = cx.event_span(event).map(|s| s.name().to_owned());
        self.0.lock().unwrap().push(Seen {
            kind: "event",
            name: String::new(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            parent,
            fields,
        });
    }
}

fn captured(run: impl FnOnce()) -> Vec<Seen> {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    tracing::subscriber::with_default(subscriber, run);
    captured.0.lock().unwrap().clone()
}

/// An event: the span it happened in, its level and its fields.
type EventView<'a> = (Option<&'a str>, Level, Vec<(&'a str, &'a str)>);

fn events(seen: &[Seen]) -> Vec<EventView<'_>> {
    seen.iter()
        .filter(|s| s.kind == "event")
        .map(|s| {
            let fields = s
                .fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            (s.parent.as_deref(), s.level, fields)
        })
        .collect()
}

#[test]
fn values_mutation_and_question_mark_are_unchanged_and_counted_exactly() {
    observe();
    let mut account = Account::default();
    assert_eq!(account.deposit(10), 10);
    assert_eq!(account.deposit(5), 15);
    assert_eq!(futures::executor::block_on(account.withdraw("4")), Ok(11));
    assert!(
        futures::executor::block_on(account.withdraw("four")).is_err(),
        "`?` returns the error"
    );
    assert_eq!(account.balance, 11, "a failed withdrawal changed nothing");
    assert_eq!(parse_sum("2", "3"), Ok(5));
    assert!(parse_sum("2", "x").is_err());
    let mut items = vec![1];
    assert_eq!(push_into(&mut items, 2), 2);
    assert_eq!(items, [1, 2]);
    assert_eq!(record_later(21), 42);
    assert_eq!(fetch(7), "peer-7");

    let m = scrape();
    let by = m.values_by(PROCESSED, &["operation", "outcome"]);
    let want = expected(&[
        (&["deposit", "success"], 2.0),
        (&["deposit", "failure"], 0.0),
        (&["withdraw", "success"], 1.0),
        (&["withdraw", "failure"], 1.0),
        (&["parse_sum", "success"], 1.0),
        (&["parse_sum", "failure"], 1.0),
        (&["push_into", "success"], 1.0),
        (&["push_into", "failure"], 0.0),
        (&["record_later", "success"], 1.0),
        (&["record_later", "failure"], 0.0),
        (&["fetch", "success"], 1.0),
        (&["fetch", "failure"], 0.0),
    ]);
    // Only this file's operations: the pass-case functions never run here.
    let ours: BTreeMap<_, _> = by
        .into_iter()
        .filter(|(k, _)| want.contains_key(k))
        .collect();
    assert_eq!(ours, want);
    assert_eq!(
        m.values_by(FAILURES, &["operation", "error_type"]),
        expected(&[
            (&["parse_sum", "ParseIntError"], 1.0),
            (&["withdraw", "ParseIntError"], 1.0)
        ])
    );
    let lines: Vec<&str> = m
        .raw
        .lines()
        .filter(|l| l.starts_with("copilot_compat_"))
        .collect();
    let mut series: Vec<&str> = lines
        .iter()
        .map(|l| l.rsplit_once(' ').unwrap().0)
        .collect();
    series.sort_unstable();
    series.dedup();
    assert_eq!(
        series.len(),
        lines.len(),
        "one line per label set:\n{}",
        m.raw
    );
}

#[test]
fn ret_and_err_emit_tracing_events_in_the_span() {
    let seen = captured(|| {
        parse_sum("2", "3").unwrap();
        parse_sum("2", "x").unwrap_err();
        fetch(1);
    });
    let error = "ParseIntError { kind: InvalidDigit }";
    assert_eq!(
        events(&seen),
        [
            // With `err`, `ret` records the `Ok` value only, as in tracing.
            (Some("parse_sum"), Level::INFO, vec![("return", "5")]),
            (Some("parse_sum"), Level::ERROR, vec![("error", error)]),
            (Some("fetch_peer"), Level::WARN, vec![("return", "peer-1")]),
        ]
    );
    let event_targets: Vec<&str> = seen
        .iter()
        .filter(|s| s.kind == "event")
        .map(|s| s.target.as_str())
        .collect();
    assert_eq!(event_targets, ["compat", "compat", "compat::io"]);
}

#[test]
fn span_name_target_level_and_empty_fields_follow_tracing() {
    let seen = captured(|| {
        fetch(3);
        record_later(5);
        let mut account = Account::default();
        futures::executor::block_on(account.withdraw("x")).unwrap_err();
    });
    let spans: Vec<&Seen> = seen.iter().filter(|s| s.kind == "span").collect();
    let fetch = spans[0];
    assert_eq!(
        (fetch.name.as_str(), fetch.target.as_str(), fetch.level),
        ("fetch_peer", "compat::io", Level::WARN)
    );
    assert_eq!(
        fetch.fields["code.function"], "fetch",
        "the function's name stays"
    );
    let later = spans[1];
    assert_eq!(
        (later.name.as_str(), later.level),
        ("record_later", Level::DEBUG)
    );
    assert_eq!(later.fields["peer"], "alpha");
    assert_eq!(
        later.fields["late"], "5",
        "declared empty, recorded by the body"
    );
    let withdraw = spans[2];
    assert!(!withdraw.fields.contains_key("self"), "skip(self)");
    assert_eq!(withdraw.fields["amount"], "\"x\"");
    assert_eq!(
        events(&seen),
        [
            (Some("fetch_peer"), Level::WARN, vec![("return", "peer-3")]),
            (
                Some("withdraw"),
                Level::ERROR,
                vec![("error", "invalid digit found in string")]
            ),
        ]
    );
}
