//! `rules/recording.yml`: per service and operation, the request rate and error ratio of
//! each SLI over every window the alerts need (Sloth's `slo:sli_error:ratio_rate<window>`
//! family), the SLO's objective and budget, the budget left over the period, and the
//! p50/p95/p99 latency and the rates by outcome and error class the dashboards show.
//!
//! A ratio is recorded only where its denominator is positive: no traffic gives no
//! sample rather than NaN, so nothing downstream can alert, or draw, on a NaN.

use super::Options;
use super::catalog::{Operation, Service};
use super::promql::{BY_OPERATION, le_matcher, number, quote, selector};
use super::rulefile::{Group, Rule};
use super::slo::{Window, sli_windows};

/// `slo` label of the availability SLI.
pub(crate) const AVAILABILITY: &str = "availability";
/// `slo` label of the latency SLI.
pub(crate) const LATENCY: &str = "latency";
/// The quantiles recorded for the dashboards.
pub(crate) const QUANTILES: [(&str, &str); 3] = [("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99")];
/// The window of the dashboards' rates and quantiles.
pub(crate) const DASHBOARD_WINDOW: Window = Window::seconds(300);

/// Calls per second of an operation over `window` (every outcome).
pub(crate) fn requests_record(window: Window) -> String {
    format!("slo:sli_requests:rate{window}")
}

/// The share of bad events over `window`, with an `slo` label (`availability`, `latency`).
pub(crate) fn error_ratio_record(window: Window) -> String {
    format!("slo:sli_error:ratio_rate{window}")
}

/// The SLO's target ratio (`0.99`), per service, operation and `slo`.
pub(crate) const OBJECTIVE_RECORD: &str = "slo:objective:ratio";
/// The SLO's error budget (`0.01`), per service, operation and `slo`.
pub(crate) const BUDGET_RECORD: &str = "slo:error_budget:ratio";
/// The share of the period's error budget left (1 = untouched, 0 = spent, < 0 = overspent).
pub(crate) const BUDGET_REMAINING_RECORD: &str = "slo:period_error_budget_remaining:ratio";

/// A quantile of a duration family over the dashboards' window.
pub(crate) fn quantile_record(duration: &str, quantile: &str) -> String {
    format!("operation:{duration}:{quantile}_rate{DASHBOARD_WINDOW}")
}

/// A counter's rate over the dashboards' window, by operation and its own label.
pub(crate) fn rate_record(counter: &str) -> String {
    format!("operation:{counter}:rate{DASHBOARD_WINDOW}")
}

/// The recording rule groups of one service.
pub(crate) fn service_groups(service: &Service, options: &Options) -> Vec<Group> {
    let mut sli = Vec::new();
    for window in sli_windows() {
        let range = window.scaled(options.window_scale);
        for op in &service.operations {
            sli.push(requests_rule(service, op, window, range));
            sli.push(availability_rule(service, op, window, range));
            if let Some(latency) = &op.latency {
                sli.push(latency_rule(
                    service,
                    op,
                    latency.threshold_seconds,
                    window,
                    range,
                ));
            }
        }
    }
    vec![
        Group {
            name: format!("observe-{}-sli", service.name),
            rules: sli,
        },
        Group {
            name: format!("observe-{}-slo", service.name),
            rules: objective_rules(service, options),
        },
        Group {
            name: format!("observe-{}-aggregations", service.name),
            rules: aggregation_rules(service, options),
        },
    ]
}

/// The distinct values of `key` over the service's operations, in order.
fn families(service: &Service, key: impl Fn(&Operation) -> String) -> Vec<String> {
    let mut names: Vec<String> = service.operations.iter().map(key).collect();
    names.sort();
    names.dedup();
    names
}

fn sum_rate(metric_selector: &str, range: Window) -> String {
    format!("sum by ({BY_OPERATION}) (rate({metric_selector}[{range}]))")
}

/// The operation's own series: `{service="parsing",operation="decode"}`.
fn of<'a>(service: &'a Service, op: &'a Operation) -> [(&'static str, &'a str); 2] {
    [
        ("service", service.name.as_str()),
        ("operation", op.name.as_str()),
    ]
}

/// A rule for one operation: its `operation` label is also static, so no two rules of a
/// file share a name and label set (promtool's duplicate-rules lint).
fn op_rule(service: &Service, op: &Operation, record: String, expr: String) -> Rule {
    Rule::record(record, expr)
        .label("service", &service.name)
        .label("operation", &op.name)
}

fn requests_rule(service: &Service, op: &Operation, window: Window, range: Window) -> Rule {
    let all = selector(&op.processed, &of(service, op));
    op_rule(service, op, requests_record(window), sum_rate(&all, range))
}

fn availability_rule(service: &Service, op: &Operation, window: Window, range: Window) -> Rule {
    let [s, o] = of(service, op);
    let failed = selector(&op.processed, &[s, o, ("outcome", op.failure_outcome())]);
    let all = selector(&op.processed, &[s, o]);
    let expr = format!(
        "{}\n  / on ({BY_OPERATION})\n({} > 0)",
        sum_rate(&failed, range),
        sum_rate(&all, range)
    );
    op_rule(service, op, error_ratio_record(window), expr).label("slo", AVAILABILITY)
}

fn latency_rule(
    service: &Service,
    op: &Operation,
    threshold: f64,
    window: Window,
    range: Window,
) -> Rule {
    let [s, o] = of(service, op);
    let count = selector(&format!("{}_count", op.duration), &[s, o]);
    let le = le_matcher(threshold);
    let fast = selector(&format!("{}_bucket", op.duration), &[s, o, ("le", &le)]);
    let expr = format!(
        "(\n  {}\n    - on ({BY_OPERATION})\n  {}\n)\n  / on ({BY_OPERATION})\n({} > 0)",
        sum_rate(&count, range),
        sum_rate(&fast, range),
        sum_rate(&count, range)
    );
    op_rule(service, op, error_ratio_record(window), expr).label("slo", LATENCY)
}

/// Objective and budget per operation and SLI (static), and the budget left over the
/// period, from the 5-minute ratio averaged over the period as Sloth does.
fn objective_rules(service: &Service, options: &Options) -> Vec<Rule> {
    let mut rules = Vec::new();
    for op in &service.operations {
        let mut objectives = vec![(AVAILABILITY, op.availability)];
        if let Some(latency) = &op.latency {
            objectives.push((LATENCY, latency.target));
        }
        for (slo, objective) in objectives {
            for (record, value) in [
                (OBJECTIVE_RECORD, objective.ratio()),
                (BUDGET_RECORD, objective.budget()),
            ] {
                rules.push(
                    Rule::record(record, format!("vector({value})"))
                        .label("service", &service.name)
                        .label("operation", &op.name)
                        .label("slo", slo),
                );
            }
        }
    }
    let period = service.slo.window;
    let five = error_ratio_record(sli_windows()[0]);
    let this = quote(&service.name);
    rules.push(
        Rule::record(
            error_ratio_record(period),
            format!(
                "avg_over_time({five}{{service={this}}}[{}])",
                period.scaled(options.window_scale)
            ),
        )
        .label("service", &service.name),
    );
    rules.push(
        Rule::record(
            BUDGET_REMAINING_RECORD,
            format!(
                "1 - {}{{service={this}}}\n  / ignoring (environment) group_left\n{BUDGET_RECORD}{{service={this}}}",
                error_ratio_record(period)
            ),
        )
        .label("service", &service.name),
    );
    rules
}

/// Rates by outcome and error class, and p50/p95/p99, for the dashboards.
fn aggregation_rules(service: &Service, options: &Options) -> Vec<Rule> {
    let range = DASHBOARD_WINDOW.scaled(options.window_scale);
    let this = [("service", service.name.as_str())];
    let mut rules = Vec::new();
    for processed in families(service, |op| op.processed.clone()) {
        rules.push(Rule::record(
            rate_record(&processed),
            format!(
                "sum by ({BY_OPERATION}, outcome) (rate({}[{range}]))",
                selector(&processed, &this)
            ),
        ));
    }
    for failures in families(service, |op| op.failures.clone()) {
        rules.push(Rule::record(
            rate_record(&failures),
            format!(
                "sum by ({BY_OPERATION}, error_type) (rate({}[{range}]))",
                selector(&failures, &this)
            ),
        ));
    }
    for duration in families(service, |op| op.duration.clone()) {
        let buckets = selector(&format!("{duration}_bucket"), &this);
        let count = selector(&format!("{duration}_count"), &this);
        for (name, q) in QUANTILES {
            rules.push(Rule::record(
                quantile_record(&duration, name),
                format!(
                    "histogram_quantile({q}, sum by ({BY_OPERATION}, le) (rate({buckets}[{range}])))\n  and on ({BY_OPERATION})\n({} > 0)",
                    sum_rate(&count, range)
                ),
            ));
        }
    }
    rules
}

/// The threshold as the dashboards and runbooks print it.
pub(crate) fn seconds(threshold: f64) -> String {
    format!("{}s", number(threshold))
}
