//! A catalogue shaped like the example service's, for the generators' tests.

use super::build::{InstrumentedSite, MacroSite, SiteSlo, build};
use super::catalog::{Catalog, LabelValues, MetricType, SourceSite};
use super::slo::Objective;

pub(crate) const LATENCY: [f64; 10] = [0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

fn site(line: u32, what: &str) -> SourceSite {
    SourceSite {
        file: "examples/parsing_service.rs".to_owned(),
        line,
        module_path: "parsing_service".to_owned(),
        what: what.to_owned(),
    }
}

pub(crate) fn instrumented(
    service: &str,
    name: Option<&str>,
    operation: &str,
    line: u32,
    classes: Option<&[&str]>,
) -> InstrumentedSite {
    let prefix = match name {
        Some(name) => format!("copilot_{service}_{name}"),
        None => format!("copilot_{service}"),
    };
    let metric = |suffix: &str, help: &str| {
        (
            format!("{prefix}_{suffix}"),
            format!("{help} of the {service} service's operations."),
        )
    };
    InstrumentedSite {
        service: service.to_owned(),
        operation: operation.to_owned(),
        site: site(line, &format!("#[instrumented] fn {operation}")),
        labels: Vec::new(),
        metrics: [
            metric("duration_seconds", "Duration"),
            metric("messages_processed_total", "Number"),
            metric("failures_total", "Failures"),
            metric("active_workers_current", "In flight"),
        ],
        buckets: LATENCY.to_vec(),
        outcomes: ["success", "failure", "cancelled"].map(str::to_owned),
        error_classes: classes.map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
        slo: SiteSlo::default(),
    }
}

pub(crate) fn catalog() -> Catalog {
    let parse_errors: &[&str] = &["EmptyBody", "InvalidJson", "TooLarge"];
    let mut parse = instrumented("parsing", Some("request"), "parse", 190, Some(parse_errors));
    parse.slo = SiteSlo {
        availability: Some(Objective::parse("99.9%").unwrap()),
        declared_operations: vec!["parse".to_owned()],
        ..SiteSlo::default()
    };
    let sites = vec![
        instrumented("parsing", None, "decode", 120, Some(parse_errors)),
        instrumented("parsing", None, "validate", 126, Some(parse_errors)),
        instrumented("parsing", None, "normalise", 210, None),
        parse,
        instrumented(
            "parsing",
            Some("notify"),
            "notify",
            145,
            Some(&["Rejected", "Unreachable"]),
        ),
    ];
    let queue = || {
        vec![(
            "queue".to_owned(),
            LabelValues::Set(vec![
                "chunking".into(),
                "chunking.failed".into(),
                "parsing".into(),
            ]),
        )]
    };
    let macros = vec![MacroSite {
        kind: MetricType::Counter,
        name: "copilot_parsing_messages_received_total".to_owned(),
        help: "Messages received on POST /parse, by the queue they came from.".to_owned(),
        service: "parsing".to_owned(),
        site: site(238, "counter!"),
        labels: queue(),
        buckets: Vec::new(),
    }];
    build(&sites, &macros)
}
