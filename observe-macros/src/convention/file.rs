//! `observe.toml` as written: the serde structs, every value kept with its byte span so a
//! problem is reported at its line and column. Unknown keys are rejected by serde.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConventionFile {
    pub(super) namespace: Option<Spanned<String>>,
    pub(super) service: Option<Spanned<String>>,
    pub(super) services: Option<Vec<Spanned<String>>>,
    pub(super) required_labels: Option<Vec<Spanned<String>>>,
    pub(super) forbidden_labels: Option<Vec<Spanned<String>>>,
    pub(super) series_budget: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) labels: BTreeMap<String, Spanned<LabelFile>>,
    #[serde(default)]
    pub(super) presets: BTreeMap<String, Spanned<PresetFile>>,
    pub(super) names: Option<NamesFile>,
    pub(super) outcomes: Option<OutcomesFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LabelFile {
    pub(super) values: Option<Vec<Spanned<String>>>,
    pub(super) max: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PresetFile {
    pub(super) unit: Spanned<String>,
    pub(super) buckets: Spanned<Vec<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NamesFile {
    pub(super) duration: Option<Spanned<String>>,
    pub(super) processed: Option<Spanned<String>>,
    pub(super) failures: Option<Spanned<String>>,
    pub(super) active: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OutcomesFile {
    pub(super) success: Option<Spanned<String>>,
    pub(super) failure: Option<Spanned<String>>,
    pub(super) cancelled: Option<Spanned<String>>,
}
