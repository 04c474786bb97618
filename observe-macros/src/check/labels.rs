//! Label sets against the convention, for the attribute and the function-like macros
//! alike: one `check_*` per rule, each reported at the offending token, then the
//! cardinality arithmetic of a metric against the series budget.

use std::collections::BTreeSet;

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Ident, LitStr};

use crate::convention::{Convention, LabelRule, Preset};
use crate::ctxt::Ctxt;
use crate::rules;
use crate::text::{closest, one_of};
use crate::vocab::{
    LABEL_ENVIRONMENT, LABEL_ERROR_TYPE, LABEL_OPERATION, LABEL_OUTCOME, LABEL_SERVICE,
};

/// The labels observe sets itself on one macro's series, each with the help to give when a
/// user sets it anyway.
pub(crate) type SetByObserve = [(&'static str, &'static str)];

/// Labels `#[instrumented]` sets on its series, and where each comes from.
pub(crate) const SET_BY_INSTRUMENTED: &SetByObserve = &[
    (LABEL_SERVICE, "set it with the `service` argument"),
    (LABEL_OPERATION, "set it with the `operation` argument"),
    (
        LABEL_ENVIRONMENT,
        "it comes from `OBSERVE_ENVIRONMENT` at runtime",
    ),
    (
        LABEL_OUTCOME,
        "remove `outcome`: observe computes it per call",
    ),
    (
        LABEL_ERROR_TYPE,
        "remove `error_type`: observe computes it per call",
    ),
];

/// Labels observe sets on every series of `counter!`, `gauge!` and `histogram!`.
pub(crate) const SET_BY_METRIC_MACROS: &SetByObserve = &[
    (
        LABEL_SERVICE,
        "it is the metric's service, from its name or `service = \"…\"`",
    ),
    (
        LABEL_ENVIRONMENT,
        "it comes from `OBSERVE_ENVIRONMENT` at runtime",
    ),
];

/// A label as written: `queue = "parsing"` (checked now) or `queue = name` (at runtime).
pub(crate) struct LabelUse<'a> {
    pub(crate) key: &'a Ident,
    pub(crate) value: LabelValue<'a>,
}

pub(crate) enum LabelValue<'a> {
    Literal(&'a LitStr),
    Runtime,
}

/// A label that passed every rule, with what it may hold.
#[derive(Debug, Clone)]
pub(crate) struct CheckedLabel {
    pub(crate) name: String,
    pub(crate) domain: Domain,
    /// The key as written, where a budget overrun it causes is reported.
    pub(crate) span: Span,
}

#[derive(Debug, Clone)]
pub(crate) enum Domain {
    /// A literal value: one value at this site, whatever the label's bound (the sites of
    /// a family together are checked against the budget at `init`).
    Const { value: String },
    /// A runtime value from a declared set; others become `_OTHER`.
    Set(Vec<String>),
    /// A runtime value; the first `max` distinct ones are kept, others become `_OTHER`.
    Bounded(u64),
}

impl CheckedLabel {
    /// Distinct values this label can give the metric at this site.
    pub(crate) fn bound(&self) -> u64 {
        match &self.domain {
            Domain::Const { .. } => 1,
            // Plus `_OTHER`.
            Domain::Set(values) => values.len() as u64 + 1,
            Domain::Bounded(max) => max + 1,
        }
    }
}

/// Applies every label rule; `set_by_observe` are the labels observe adds itself on this
/// metric, each with the help to give when a user sets it anyway.
pub(crate) fn check_labels(
    cx: &Ctxt,
    convention: &Convention,
    uses: &[LabelUse<'_>],
    set_by_observe: &SetByObserve,
    required_at: Span,
) -> Vec<CheckedLabel> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for LabelUse { key, value } in uses {
        let name = key.unraw().to_string();
        if !check_unique(cx, key, &name, &mut seen)
            || !check_shape(cx, key, &name)
            || !check_not_set_by_observe(cx, key, &name, set_by_observe)
            || !check_not_forbidden(cx, key, &name, convention)
        {
            continue;
        }
        let Some(rule) = check_declared(cx, key, &name, convention) else {
            continue;
        };
        let domain = match value {
            LabelValue::Literal(lit) => match check_value(cx, lit, &name, rule) {
                Some(value) => Domain::Const { value },
                None => continue,
            },
            LabelValue::Runtime => match &rule.values {
                Some(values) => Domain::Set(values.clone()),
                None => Domain::Bounded(rule.max),
            },
        };
        out.push(CheckedLabel {
            name,
            domain,
            span: key.span(),
        });
    }
    check_required(cx, convention, &seen, set_by_observe, required_at);
    out
}

/// L005: a label appears once per metric. Valid: `labels(queue = "a", vhost = "b")`.
fn check_unique(cx: &Ctxt, key: &Ident, name: &str, seen: &mut BTreeSet<String>) -> bool {
    if seen.insert(name.to_owned()) {
        return true;
    }
    cx.error_spanned_by(
        key,
        format!("duplicate label `{name}`"),
        Some(format!("remove one of the `{name}` labels")),
    );
    false
}

/// L001/L002: snake_case, not `le`/`quantile`/`__…`. Valid: `queue`.
fn check_shape(cx: &Ctxt, key: &Ident, name: &str) -> bool {
    match rules::label_name_shape(name) {
        None => true,
        Some(v) => {
            cx.error_spanned_by(key, v.message, Some(v.help));
            false
        }
    }
}

/// L004: observe sets `service`, `environment` (and on `#[instrumented]` `operation`,
/// `outcome`, `error_type`) itself.
fn check_not_set_by_observe(
    cx: &Ctxt,
    key: &Ident,
    name: &str,
    set_by_observe: &SetByObserve,
) -> bool {
    match set_by_observe.iter().find(|(label, _)| *label == name) {
        None => true,
        Some((_, help)) => {
            cx.error_spanned_by(
                key,
                format!("label `{name}` is set by observe on every series"),
                Some((*help).to_owned()),
            );
            false
        }
    }
}

/// L003: the RFC's unbounded identifiers (and `forbidden_labels`) are never labels.
fn check_not_forbidden(cx: &Ctxt, key: &Ident, name: &str, convention: &Convention) -> bool {
    if !convention.forbidden_labels.iter().any(|f| f == name) {
        return true;
    }
    cx.error_spanned_by(
        key,
        format!("label `{name}` is forbidden: its values are unbounded, and every value would be a new series"),
        Some(format!("record it on the span instead: `fields({name} = …)`")),
    );
    false
}

/// L008: every label has a declared bound (`CONVENTION.md`'s table or `[labels.<name>]`),
/// or the series count cannot be bounded.
fn check_declared<'c>(
    cx: &Ctxt,
    key: &Ident,
    name: &str,
    convention: &'c Convention,
) -> Option<&'c LabelRule> {
    if let Some(rule) = convention.label(name) {
        return Some(rule);
    }
    let near = closest(name, convention.labels.keys().map(String::as_str))
        .map(|n| format!("did you mean `{n}`? or "))
        .unwrap_or_default();
    cx.error_spanned_by(
        key,
        format!("label `{name}` has no declared bound, so the series it creates cannot be counted"),
        Some(format!(
            "{near}declare it in `observe.toml`: `[labels.{name}]` with `values = [..]` or `max = N`"
        )),
    );
    None
}

/// L007/L009: a literal value is non-empty and inside the label's declared set.
/// Valid: `status = "pending"`.
fn check_value(cx: &Ctxt, lit: &LitStr, name: &str, rule: &LabelRule) -> Option<String> {
    let value = lit.value();
    if value.is_empty() {
        cx.error_spanned_by(
            lit,
            format!("label `{name}` has an empty value"),
            Some("give it a value or remove it".to_owned()),
        );
        return None;
    }
    let Some(values) = &rule.values else {
        return Some(value);
    };
    if values.contains(&value) {
        return Some(value);
    }
    let listed = one_of(values.iter().map(String::as_str));
    let help = match closest(&value, values.iter().map(String::as_str)) {
        Some(near) => format!("did you mean `{near}`? the values are {listed}"),
        None => {
            format!("the values are {listed}; add it to `[labels.{name}] values` in `observe.toml`")
        }
    };
    cx.error_spanned_by(
        lit,
        format!("`{value}` is not a declared value of label `{name}`"),
        Some(help),
    );
    None
}

/// L006: every label `required_labels` names is present.
fn check_required(
    cx: &Ctxt,
    convention: &Convention,
    present: &BTreeSet<String>,
    set_by_observe: &SetByObserve,
    at: Span,
) {
    for required in &convention.required_labels {
        let by_observe = set_by_observe.iter().any(|(l, _)| l == required)
            || required == LABEL_SERVICE
            || required == LABEL_ENVIRONMENT;
        if !by_observe && !present.contains(required) {
            cx.error_at(
                at,
                format!("missing required label `{required}`"),
                Some(format!(
                    "`observe.toml` requires it on every metric: add `labels({required} = \"…\")`"
                )),
            );
        }
    }
}

/// One factor of a metric's series count.
pub(crate) struct Factor {
    pub(crate) what: String,
    pub(crate) bound: u64,
    /// A label the user wrote: the error points at the largest of them.
    pub(crate) span: Option<Span>,
    /// A label (whose bound `observe.toml` can lower), not a histogram's bucket series.
    pub(crate) is_label: bool,
}

impl Factor {
    pub(crate) fn new(what: impl Into<String>, bound: u64) -> Self {
        Factor {
            what: what.into(),
            bound,
            span: None,
            is_label: true,
        }
    }

    /// A histogram's series per label set: each bucket, `+Inf`, `_sum` and `_count`.
    pub(crate) fn bucket_series(preset: &Preset) -> Self {
        Factor {
            what: "bucket series: buckets, `+Inf`, `_sum`, `_count`".to_owned(),
            bound: preset.buckets.len() as u64 + 3,
            span: None,
            is_label: false,
        }
    }

    pub(crate) fn of(label: &CheckedLabel) -> Self {
        Factor {
            what: label.name.clone(),
            bound: label.bound(),
            span: Some(label.span),
            is_label: true,
        }
    }
}

/// C001: the series one site can produce (the product of the bounds of its runtime
/// labels, a literal counting 1, times a histogram's bucket series) stay within
/// `series_budget`. The error prints the product. Returns the product, which the site
/// carries so that `init` can check each family's total over all of its sites.
pub(crate) fn check_budget(
    cx: &Ctxt,
    at: Span,
    metric: &str,
    factors: &[Factor],
    convention: &Convention,
) -> u64 {
    let product = factors
        .iter()
        .fold(1u64, |acc, f| acc.saturating_mul(f.bound.max(1)));
    if product <= convention.series_budget {
        return product;
    }
    let terms: Vec<String> = factors
        .iter()
        .map(|f| format!("{} ({})", f.bound, f.what))
        .collect();
    let largest = factors
        .iter()
        .filter(|f| f.is_label)
        .max_by_key(|f| f.bound)
        .map(|f| format!("lower `[labels.{}] max` in `observe.toml`, ", f.what))
        .unwrap_or_default();
    let written = factors
        .iter()
        .filter(|f| f.span.is_some())
        .max_by_key(|f| f.bound)
        .and_then(|f| f.span);
    cx.error_at(
        written.unwrap_or(at),
        format!(
            "metric `{metric}` may have up to {} = {product} series at this site, over the series budget of {}",
            terms.join(" × "),
            convention.series_budget
        ),
        Some(format!(
            "{largest}drop a label, or raise `series_budget` in `observe.toml`"
        )),
    );
    product
}
