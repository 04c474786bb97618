//! `rules/alerts.yml`: for each operation, multi-window multi-burn-rate alerts on its
//! availability and latency SLOs (the SRE workbook's four tiers: two that page, two that
//! open a ticket), and a "throughput stopped" alert per service the RFC gives a floor.
//! Every alert follows the RFC's template: `severity`, `service`, `component` labels; a
//! `summary` with `{{ $value }}`; a `description` with Impact and Actions; `runbook` and
//! `dashboard` links.

use super::Options;
use super::catalog::{Operation, Service};
use super::promql::{BY_OPERATION, camel, quote, selector};
use super::rulefile::{Group, Rule};
use super::rules::{AVAILABILITY, LATENCY, error_ratio_record, requests_record, seconds};
use super::slo::{BurnTier, Objective, THROUGHPUT_FOR, TIERS, Urgency, Window};

/// What kind of alert: it names the alert and its runbook.
///
/// ```
/// use observe::ops::AlertKind;
///
/// let runbooks: Vec<String> = [AlertKind::ErrorBudgetBurn, AlertKind::ThroughputStopped]
///     .map(|kind| format!("runbooks/{}.md", kind.alert_name("parsing")))
///     .into();
/// assert_eq!(runbooks[1], "runbooks/ParsingThroughputStopped.md");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// The availability SLO's budget burns too fast.
    ErrorBudgetBurn,
    /// The latency SLO's budget burns too fast.
    LatencyBudgetBurn,
    /// The service's throughput fell under the RFC's floor.
    ThroughputStopped,
}

impl AlertKind {
    /// The alert's name for a service: `ParsingErrorBudgetBurn`.
    ///
    /// ```
    /// use observe::ops::AlertKind;
    ///
    /// assert_eq!(AlertKind::LatencyBudgetBurn.alert_name("parsing"), "ParsingLatencyBudgetBurn");
    /// ```
    pub fn alert_name(self, service: &str) -> String {
        let suffix = match self {
            AlertKind::ErrorBudgetBurn => "ErrorBudgetBurn",
            AlertKind::LatencyBudgetBurn => "LatencyBudgetBurn",
            AlertKind::ThroughputStopped => "ThroughputStopped",
        };
        format!("{}{suffix}", camel(service))
    }
}

/// The alerts of one service, and the kinds present (one runbook each).
pub(crate) fn service_alerts(service: &Service, options: &Options) -> (Group, Vec<AlertKind>) {
    let mut rules = Vec::new();
    let mut kinds = Vec::new();
    for op in &service.operations {
        for urgency in [Urgency::Page, Urgency::Ticket] {
            rules.push(burn_alert(
                service,
                op,
                &Sli::availability(op),
                urgency,
                options,
            ));
            if let Some(latency) = Sli::latency(op) {
                rules.push(burn_alert(service, op, &latency, urgency, options));
            }
        }
    }
    if !rules.is_empty() {
        kinds.push(AlertKind::ErrorBudgetBurn);
    }
    if service.operations.iter().any(|op| op.latency.is_some()) {
        kinds.push(AlertKind::LatencyBudgetBurn);
    }
    if let Some(floor) = service.slo.min_calls_per_minute {
        rules.push(throughput_alert(service, floor, options));
        kinds.push(AlertKind::ThroughputStopped);
    }
    let group = Group {
        name: format!("observe-{}-alerts", service.name),
        rules,
    };
    (group, kinds)
}

/// One SLI of an operation, as the alerts need it.
pub(crate) struct Sli {
    pub(crate) kind: AlertKind,
    pub(crate) slo: &'static str,
    pub(crate) objective: Objective,
    /// `failing`, `slower than 5s`.
    pub(crate) bad: String,
}

impl Sli {
    pub(crate) fn availability(op: &Operation) -> Sli {
        Sli {
            kind: AlertKind::ErrorBudgetBurn,
            slo: AVAILABILITY,
            objective: op.availability,
            bad: "failing".to_owned(),
        }
    }

    pub(crate) fn availability_kind() -> AlertKind {
        AlertKind::ErrorBudgetBurn
    }

    pub(crate) fn latency_kind() -> AlertKind {
        AlertKind::LatencyBudgetBurn
    }

    pub(crate) fn latency(op: &Operation) -> Option<Sli> {
        op.latency.as_ref().map(|latency| Sli {
            kind: AlertKind::LatencyBudgetBurn,
            slo: LATENCY,
            objective: latency.target,
            bad: format!("slower than {}", seconds(latency.threshold_seconds)),
        })
    }
}

/// The tiers of one urgency.
pub(crate) fn tiers(urgency: Urgency) -> impl Iterator<Item = &'static BurnTier> {
    TIERS.iter().filter(move |t| t.urgency == urgency)
}

/// `(long > t and short > t and enough calls) or (...)`, one clause per tier.
fn burn_expr(
    service: &Service,
    op: &Operation,
    sli: &Sli,
    urgency: Urgency,
    options: &Options,
) -> String {
    let period = service.slo.window;
    let ratio_matchers = [
        ("service", service.name.as_str()),
        ("operation", op.name.as_str()),
        ("slo", sli.slo),
    ];
    let clauses: Vec<String> = tiers(urgency)
        .map(|tier| {
            let threshold = tier.threshold(period, sli.objective);
            let long = selector(&error_ratio_record(tier.long), &ratio_matchers);
            let short = selector(&error_ratio_record(tier.short), &ratio_matchers);
            let requests = selector(&requests_record(tier.long), &ratio_matchers[..2]);
            let seconds = tier.long.scaled(options.window_scale).as_secs();
            format!(
                "(\n    {long} > {threshold}\n  and on ({BY_OPERATION})\n    {short} > {threshold}\n  and on ({BY_OPERATION})\n    {requests} * {seconds} >= {}\n)",
                tier.min_calls(period, sli.objective)
            )
        })
        .collect();
    clauses.join("\nor\n")
}

pub(crate) fn burn_alert(
    service: &Service,
    op: &Operation,
    sli: &Sli,
    urgency: Urgency,
    options: &Options,
) -> Rule {
    let period = service.slo.window;
    let burns: Vec<String> = tiers(urgency)
        .map(|t| format!("{}×", t.burn(period)))
        .collect();
    let windows: Vec<String> = tiers(urgency)
        .map(|t| format!("{} and {}", t.long, t.short))
        .collect();
    let alert = sli.kind.alert_name(&service.name);
    let summary = format!(
        "{} {}: {{{{ $value | humanizePercentage }}}} of calls {} in {{{{ $labels.environment }}}}, burning the {} {} budget {} or faster",
        service.name,
        op.name,
        sli.bad,
        sli.objective,
        sli.slo,
        burns.last().map_or("", String::as_str),
    );
    let budget_days = period;
    let impact = match urgency {
        Urgency::Page => format!(
            "At this rate the {period} error budget of {} `{}` is gone within days: far more than the {} of calls the SLO allows are {}.",
            service.name,
            op.name,
            sli.objective.budget_percent(),
            sli.bad
        ),
        Urgency::Ticket => format!(
            "The {budget_days} error budget of {} `{}` is being spent faster than it is earned; without action the SLO ({} {}) is missed this period.",
            service.name, op.name, sli.objective, sli.slo
        ),
    };
    let description = format!(
        "The share of {} `{}` calls {} exceeds {} the budget of the {} {} SLO over both windows ({}).\n\n\
         Impact: {impact}\n\n\
         Actions:\n  1. Open the dashboard and find the error_type or the latency bucket that grew.\n  2. Check recent deploys and the dependencies of `{}`.\n  3. Follow the runbook; escalate if the burn continues after mitigation.\n\n\
         Runbook: {}\nDashboard: {}",
        service.name,
        op.name,
        sli.bad,
        burns.join(" / "),
        sli.objective,
        sli.slo,
        windows.join("; "),
        op.name,
        options.runbook_link(&alert),
        options.dashboard_link(&service.name),
    );
    Rule {
        name: alert.clone(),
        alert: true,
        expr: burn_expr(service, op, sli, urgency, options),
        pending: Some(urgency.pending().scaled(options.window_scale)),
        labels: alert_labels(service, op, sli.slo, urgency),
        annotations: annotations(summary, description, &alert, service, options),
    }
}

/// The RFC's `severity`, `component`, `service`; and `operation` (also on the series) so
/// no two rules share a name and label set (promtool's duplicate-rules lint).
fn alert_labels(
    service: &Service,
    op: &Operation,
    slo: &str,
    urgency: Urgency,
) -> Vec<(String, String)> {
    let severity = urgency.severity();
    let urgency = match urgency {
        Urgency::Page => "page",
        Urgency::Ticket => "ticket",
    };
    [
        ("severity", severity),
        ("component", service.component.as_str()),
        ("service", service.name.as_str()),
        ("operation", op.name.as_str()),
        ("slo", slo),
        ("urgency", urgency),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn annotations(
    summary: String,
    description: String,
    alert: &str,
    service: &Service,
    options: &Options,
) -> Vec<(String, String)> {
    vec![
        ("summary".to_owned(), summary),
        ("description".to_owned(), description),
        ("runbook".to_owned(), options.runbook_link(alert)),
        (
            "dashboard".to_owned(),
            options.dashboard_link(&service.name),
        ),
    ]
}

/// The busiest operation's calls per minute under the floor for 10 minutes.
pub(crate) fn throughput_alert(service: &Service, floor: u32, options: &Options) -> Rule {
    let alert = AlertKind::ThroughputStopped.alert_name(&service.name);
    let rate = selector(
        &requests_record(Window::seconds(300)),
        &[("service", &service.name)],
    );
    let expr = format!("max by (environment, service) ({rate}) * 60 < {floor}");
    let summary = format!(
        "{} handles {{{{ $value | printf \"%.2f\" }}}} calls a minute in {{{{ $labels.environment }}}}, under its floor of {floor}",
        service.name
    );
    let description = format!(
        "The busiest operation of {} has handled fewer than {floor} calls a minute for {}.\n\n\
         Impact: work for {} is not being processed; its queue grows and everything downstream waits.\n\n\
         Actions:\n  1. Check that the service is up and its target is scraped (`up{{service={}}}`).\n  2. Check its input queue and consumers.\n  3. Restart or scale the service; escalate if input is arriving and not processed.\n\n\
         Runbook: {}\nDashboard: {}",
        service.name,
        THROUGHPUT_FOR,
        service.name,
        quote(&service.name),
        options.runbook_link(&alert),
        options.dashboard_link(&service.name),
    );
    Rule {
        name: alert.clone(),
        alert: true,
        expr,
        pending: Some(THROUGHPUT_FOR.scaled(options.window_scale)),
        labels: vec![
            ("severity".to_owned(), "critical".to_owned()),
            ("component".to_owned(), service.component.clone()),
            ("service".to_owned(), service.name.clone()),
        ],
        annotations: annotations(summary, description, &alert, service, options),
    }
}
