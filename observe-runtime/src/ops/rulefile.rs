//! Prometheus rule files: groups of recording and alerting rules, written as YAML.

use std::fmt::Write as _;

use super::promql::{yaml_block, yaml_str};
use super::slo::Window;

/// One rule group.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) rules: Vec<Rule>,
}

/// A recording or alerting rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    /// `record:` or `alert:` name.
    pub(crate) name: String,
    pub(crate) alert: bool,
    pub(crate) expr: String,
    pub(crate) pending: Option<Window>,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) annotations: Vec<(String, String)>,
}

impl Rule {
    pub(crate) fn record(name: impl Into<String>, expr: impl Into<String>) -> Rule {
        Rule {
            name: name.into(),
            alert: false,
            expr: expr.into(),
            pending: None,
            labels: Vec::new(),
            annotations: Vec::new(),
        }
    }

    pub(crate) fn label(mut self, name: &str, value: &str) -> Rule {
        self.labels.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// The rule file: `groups:` with each group's rules, in order.
pub(crate) fn render(header: &str, groups: &[Group]) -> String {
    let mut out = String::new();
    for line in header.lines() {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("groups:\n");
    for group in groups {
        let _ = writeln!(out, "  - name: {}", yaml_str(&group.name));
        out.push_str("    rules:\n");
        for rule in &group.rules {
            render_rule(&mut out, rule);
        }
    }
    out
}

fn render_rule(out: &mut String, rule: &Rule) {
    let key = if rule.alert { "alert" } else { "record" };
    let _ = writeln!(out, "      - {key}: {}", rule.name);
    // A block scalar keeps PromQL's quotes and backslashes as written.
    if rule.expr.contains(['\n', '"']) {
        let _ = writeln!(out, "        expr: {}", yaml_block(&rule.expr, 10));
    } else {
        let _ = writeln!(out, "        expr: {}", yaml_str(&rule.expr));
    }
    if let Some(pending) = rule.pending {
        let _ = writeln!(out, "        for: {pending}");
    }
    for (section, pairs) in [("labels", &rule.labels), ("annotations", &rule.annotations)] {
        if pairs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "        {section}:");
        for (name, value) in pairs {
            if value.contains('\n') {
                let _ = writeln!(out, "          {name}: {}", yaml_block(value, 12));
            } else {
                let _ = writeln!(out, "          {name}: {}", yaml_str(value));
            }
        }
    }
}
