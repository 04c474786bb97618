//! The convention applied to what the user wrote: one `check_*` fn per rule, each
//! reporting into the `Ctxt` at the offending token, each preceded by the rule and a valid
//! example. The rules both macro kinds share are here; `instrumented`, `metric` and
//! `error_label` add their own and build the checked description `expand` trusts.

pub(crate) mod error_label;
pub(crate) mod instrumented;
mod labels;
pub(crate) mod metric;

pub(crate) use error_label::CheckedErrorLabel;
pub(crate) use instrumented::Site;
pub(crate) use labels::Domain;
pub(crate) use metric::MetricSite;

use syn::LitStr;

use crate::convention::{Convention, Preset, Unit};
use crate::ctxt::Ctxt;
use crate::text::{closest, one_of, snake_case_violation, to_snake_case};

/// S001/S002: a service written out is snake_case (it is the metric subsystem and the
/// `service` label) and, with a `services` list in `observe.toml`, one of them.
/// Valid: `service = "parsing"` with `services = ["parsing"]`.
pub(crate) fn check_service(cx: &Ctxt, lit: &LitStr, convention: &Convention) -> String {
    let service = lit.value();
    if let Some(reason) = snake_case_violation(&service) {
        cx.error_spanned_by(
            lit,
            format!("service `{service}` {reason}"),
            Some(format!("write `service = \"{}\"`", to_snake_case(&service))),
        );
        return service;
    }
    let Some(services) = &convention.services else {
        return service;
    };
    if !services.contains(&service) {
        let listed = one_of(services.iter().map(String::as_str));
        let help = match closest(&service, services.iter().map(String::as_str)) {
            Some(near) => format!("did you mean `{near}`? the services are {listed}"),
            None => format!("the services are {listed}; add it to `services` in `observe.toml`"),
        };
        cx.error_spanned_by(lit, format!("unknown service `{service}`"), Some(help));
    }
    service
}

/// What a histogram preset's buckets are for.
#[derive(Clone, Copy)]
pub(crate) enum PresetUse<'a> {
    /// `#[instrumented]`'s duration histogram.
    CallDurations,
    /// The histogram of `histogram!("<name>", …)`.
    Metric { name: &'a str },
}

/// H001/H002: `preset = "…"` names a preset of the convention, and it measures the unit
/// of what the histogram observes. Valid: `histogram = "latency"` on `#[instrumented]`,
/// `preset = "size"` on `histogram!("copilot_parsing_body_bytes", …)`.
pub(crate) fn check_preset(
    cx: &Ctxt,
    lit: &LitStr,
    unit: Unit,
    used_for: PresetUse<'_>,
    convention: &Convention,
) -> Option<Preset> {
    let wanted = lit.value();
    let Some(preset) = convention.presets.iter().find(|p| p.name == wanted) else {
        let names = || convention.presets.iter().map(|p| p.name.as_str());
        let help = match closest(&wanted, names()) {
            Some(near) => format!("did you mean `{near}`? the presets are {}", one_of(names())),
            None => format!("the presets are {}", one_of(names())),
        };
        cx.error_spanned_by(
            lit,
            format!("unknown histogram preset `{wanted}`"),
            Some(help),
        );
        return None;
    };
    if preset.unit == unit {
        return Some(preset.clone());
    }
    let matching: Vec<&str> = convention
        .presets
        .iter()
        .filter(|p| p.unit == unit)
        .map(|p| p.name.as_str())
        .collect();
    let (measured, unit) = (preset.unit.suffix(), unit.suffix());
    let (message, help) = match used_for {
        PresetUse::CallDurations => (
            format!(
                "preset `{wanted}` measures {measured}, but `#[instrumented]` records call durations in seconds"
            ),
            format!(
                "use a seconds preset ({}); record {measured} with a histogram of its own",
                one_of(matching)
            ),
        ),
        PresetUse::Metric { name } => (
            format!("preset `{wanted}` measures {measured}, but `{name}` is in {unit}"),
            if matching.is_empty() {
                format!("declare a preset with `unit = \"{unit}\"` in `observe.toml`")
            } else {
                format!("use a preset in {unit}: {}", one_of(matching))
            },
        ),
    };
    cx.error_spanned_by(lit, message, Some(help));
    None
}
