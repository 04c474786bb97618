//! Grafana dashboards.

use std::collections::BTreeMap;

use super::Options;
use super::catalog::Catalog;

pub(crate) fn service_uid(service: &str) -> String {
    format!("observe-{service}")
}

pub(crate) fn service_file_stem(service: &str) -> String {
    format!("{service}-service")
}

pub(crate) fn render(_catalog: &Catalog, _options: &Options) -> BTreeMap<String, String> {
    BTreeMap::new()
}
