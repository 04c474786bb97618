//! PromQL and YAML text helpers shared by the generators.

use std::fmt::Write as _;

/// The labels every SLO series is grouped by.
pub(crate) const BY_OPERATION: &str = "environment, service, operation";

/// A float the way Prometheus's exposition and PromQL print it: `5`, `0.5`, `2.5`.
pub(crate) fn number(value: f64) -> String {
    format!("{value}")
}

/// A PromQL string literal.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `le` matcher of one bucket bound, for Prometheus 2 (`le="5"`, as the exposition
/// writes it) and 3 (which normalises classic buckets to `le="5.0"`).
pub(crate) fn le_matcher(bound: f64) -> String {
    let text = number(bound);
    let escaped = text.replace('.', "\\\\.");
    if text.contains(['.', 'e']) {
        format!("le=~\"{escaped}\"")
    } else {
        format!("le=~\"{escaped}(\\\\.0)?\"")
    }
}

/// `name{a="x",b="y"}`; a matcher value starting with `~` is a regex match.
pub(crate) fn selector(name: &str, matchers: &[(&str, &str)]) -> String {
    let mut out = String::from(name);
    if matchers.is_empty() {
        return out;
    }
    out.push('{');
    for (i, (label, value)) in matchers.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match value.strip_prefix('~') {
            Some(regex) => {
                let _ = write!(out, "{label}=~{}", quote(regex));
            }
            None if value.starts_with("le=") => out.push_str(value),
            None => {
                let _ = write!(out, "{label}={}", quote(value));
            }
        }
    }
    out.push('}');
    out
}

/// A YAML scalar: a JSON string is a valid YAML double-quoted scalar.
pub(crate) fn yaml_str(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A YAML block scalar (`|-`) of `text`, indented by `indent` spaces.
pub(crate) fn yaml_block(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::from("|-\n");
    for line in text.trim_end().lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{pad}{line}");
        }
    }
    out.pop();
    out
}

/// `ParsingService` from `parsing_service`: the alert names' prefix.
pub(crate) fn camel(name: &str) -> String {
    name.split(['_', '-', '.'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn le_matches_both_prometheus_spellings() {
        assert_eq!(le_matcher(5.0), r#"le=~"5(\\.0)?""#);
        assert_eq!(le_matcher(0.5), r#"le=~"0\\.5""#);
        assert_eq!(
            selector(
                "d_bucket",
                &[
                    ("service", "parsing"),
                    ("le", &le_matcher(60.0)),
                    ("operation", "~a|b")
                ]
            ),
            r#"d_bucket{service="parsing",le=~"60(\\.0)?",operation=~"a|b"}"#
        );
    }

    #[test]
    fn names_and_scalars() {
        assert_eq!(camel("parsing_service"), "ParsingService");
        assert_eq!(yaml_str("a \"b\"\n"), r#""a \"b\"\n""#);
        assert_eq!(yaml_block("a\n  b\n", 4), "|-\n    a\n      b");
    }
}
