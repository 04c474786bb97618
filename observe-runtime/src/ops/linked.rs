//! The catalogue of this program: every `#[instrumented]` and `counter!`/`gauge!`/
//! `histogram!` site linked into it, collected the way `init` collects them.

use std::io;
use std::path::Path;

use super::Options;
use super::build::{InstrumentedSite, MacroSite, SiteSlo, build, unknown_operations};
use super::catalog::{Catalog, LabelValues, MetricType, SourceSite};
use super::slo::{Objective, Window};
use super::write::{CheckError, check_catalog, write_catalog};
use crate::instrumented::{
    CallSite, CallSiteMeta as SiteMeta, FamilyMeta, SloMeta, all_call_sites,
};
use crate::metrics::{LabelDomain, MetricKind, MetricSiteMeta, all_metric_sites};
use crate::names::{LABEL_OVERFLOW_METRIC, OTHER_LABEL_VALUE};

/// Every metric family and instrumented operation linked into this program, deduplicated
/// and in a stable order. Needs no `init`.
///
/// ```
/// #[observe::instrumented(service = "parsing")]
/// fn parse(raw: &str) -> Result<u32, std::num::ParseIntError> {
///     raw.parse()
/// }
///
/// let catalog = observe::ops::catalog(); // no `init` needed
/// assert!(catalog.family("copilot_parsing_duration_seconds").is_some());
/// ```
pub fn catalog() -> Catalog {
    let instrumented: Vec<InstrumentedSite> = all_call_sites()
        .map(|s| instrumented(CallSite::meta(s)))
        .collect();
    catalog_of(&instrumented)
}

/// The catalogue, or the SLOs `observe.toml` declares for operations that do not exist.
fn checked_catalog() -> Result<Catalog, Vec<String>> {
    let instrumented: Vec<InstrumentedSite> = all_call_sites()
        .map(|s| instrumented(CallSite::meta(s)))
        .collect();
    let unknown = unknown_operations(&instrumented);
    if unknown.is_empty() {
        Ok(catalog_of(&instrumented))
    } else {
        Err(unknown)
    }
}

fn catalog_of(instrumented: &[InstrumentedSite]) -> Catalog {
    let mut macros: Vec<MacroSite> = all_metric_sites().map(|s| macro_site(s.meta())).collect();
    let overflows: Vec<MacroSite> = all_metric_sites()
        .flat_map(|s| overflow_sites(s.meta()))
        .collect();
    macros.extend(overflows);
    build(instrumented, &macros)
}

/// Writes every artefact of this program under `dir`: `METRICS.md`, `rules/`, `runbooks/`,
/// `dashboards/`, `metrics.lock`.
/// Fails if `observe.toml` declares an SLO for an operation no linked function has.
///
/// ```no_run
/// // A build step or a small binary: `cargo run --bin ops` regenerates `ops/`.
/// fn main() -> std::io::Result<()> {
///     observe::ops::write("ops")
/// }
/// ```
pub fn write(dir: impl AsRef<Path>) -> io::Result<()> {
    write_with(dir, &Options::default())
}

/// [`write()`] with options (the test profile's compressed windows, link prefixes).
///
/// ```no_run
/// // A test profile: every window divided by 60, the dashboards' links to this Grafana.
/// let options = observe::ops::Options {
///     grafana_url: "https://grafana.example.com".into(),
///     ..observe::ops::Options::scaled(60)
/// };
/// observe::ops::write_with("target/ops-test-profile", &options)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_with(dir: impl AsRef<Path>, options: &Options) -> io::Result<()> {
    let catalog = checked_catalog().map_err(|problems| io::Error::other(problems.join("\n")))?;
    write_catalog(dir.as_ref(), &catalog, options)
}

/// For a `#[test]`: regenerates everything and fails with a readable diff when a file in
/// `dir` is stale, or on a breaking change against `dir/metrics.lock`. With
/// `OBSERVE_OPS_UPDATE=1` it rewrites `dir` instead.
///
/// ```no_run
/// // In a test: `#[test] fn operations_artefacts_are_fresh() { … }`
/// observe::ops::check("ops").unwrap();
/// ```
pub fn check(dir: impl AsRef<Path>) -> Result<(), CheckError> {
    match checked_catalog() {
        Ok(catalog) => check_catalog(dir.as_ref(), &catalog, &Options::default()),
        Err(problems) => Err(CheckError {
            dir: dir.as_ref().to_owned(),
            breaking: Vec::new(),
            stale: Vec::new(),
            problems,
        }),
    }
}

fn source(file: &str, line: u32, module_path: &str, what: String) -> SourceSite {
    SourceSite {
        file: file.to_owned(),
        line,
        module_path: module_path.to_owned(),
        what,
    }
}

fn instrumented(meta: &SiteMeta) -> InstrumentedSite {
    let metric = |m: &FamilyMeta| (m.name.to_owned(), m.help.to_owned());
    InstrumentedSite {
        service: meta.service.to_owned(),
        operation: meta.operation.to_owned(),
        site: source(
            meta.file,
            meta.line,
            meta.module_path,
            format!("#[instrumented] operation `{}`", meta.operation),
        ),
        labels: meta
            .labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        metrics: [
            metric(&meta.duration),
            metric(&meta.processed),
            metric(&meta.failures),
            metric(&meta.active),
        ],
        buckets: meta.buckets.to_vec(),
        outcomes: meta.outcomes.map(str::to_owned),
        error_classes: (meta.error_classes)()
            .map(|classes| classes.iter().map(|c| (*c).to_owned()).collect()),
        slo: site_slo(&meta.slo),
    }
}

fn site_slo(meta: &SloMeta) -> SiteSlo {
    SiteSlo {
        window: meta.window_secs.map(Window::seconds),
        availability: meta
            .availability_per_million
            .map(Objective::from_per_million),
        latency: meta
            .latency
            .map(|(threshold, ppm)| (threshold, Objective::from_per_million(ppm))),
        min_calls_per_minute: meta.min_calls_per_minute,
        component: meta.component.map(str::to_owned),
        declared_operations: meta
            .declared_operations
            .iter()
            .map(|o| (*o).to_owned())
            .collect(),
    }
}

fn macro_site(meta: &MetricSiteMeta) -> MacroSite {
    let (kind, what) = match meta.kind {
        MetricKind::Counter => (MetricType::Counter, "counter!"),
        MetricKind::Gauge => (MetricType::Gauge, "gauge!"),
        MetricKind::Histogram => (MetricType::Histogram, "histogram!"),
    };
    let labels = meta
        .labels
        .iter()
        .map(|(name, domain)| {
            let values = match domain {
                LabelDomain::Const(value) => LabelValues::Set(vec![(*value).to_owned()]),
                LabelDomain::Set(values) => {
                    let mut all: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
                    all.push(OTHER_LABEL_VALUE.to_owned());
                    LabelValues::Set(all)
                }
                LabelDomain::Bounded(max) => LabelValues::Bounded(*max),
            };
            ((*name).to_owned(), values)
        })
        .collect();
    MacroSite {
        kind,
        name: meta.name.to_owned(),
        help: meta.help.to_owned(),
        service: meta.service.to_owned(),
        site: source(meta.file, meta.line, meta.module_path, what.to_owned()),
        labels,
        buckets: meta.buckets.to_vec(),
    }
}

/// observe's own counter of runtime label values recorded as `_OTHER`: one series per
/// runtime label of each site (it appears at the first overflow).
fn overflow_sites(meta: &MetricSiteMeta) -> impl Iterator<Item = MacroSite> + '_ {
    meta.labels
        .iter()
        .filter(|(_, domain)| !matches!(domain, LabelDomain::Const(_)))
        .map(move |(label, _)| MacroSite {
            kind: MetricType::Counter,
            name: LABEL_OVERFLOW_METRIC.to_owned(),
            help: crate::metrics::OVERFLOW_HELP.to_owned(),
            service: meta.service.to_owned(),
            site: source(
                meta.file,
                meta.line,
                meta.module_path,
                format!("runtime label `{label}` of `{}`", meta.name),
            ),
            labels: vec![
                (
                    "metric".to_owned(),
                    LabelValues::Set(vec![meta.name.to_owned()]),
                ),
                (
                    "label".to_owned(),
                    LabelValues::Set(vec![(*label).to_owned()]),
                ),
            ],
            buckets: Vec::new(),
        })
}
