//! Text helpers on plain strings (pure, unit-tested, serde's `case.rs`): case checks and
//! conversion, nearest-match suggestions for typos, and "`a`, `b` or `c`" lists. The
//! bottom of the pipeline: every other module may use it, it uses none.

/// Why `s` is not lowercase snake_case (`[a-z][a-z0-9_]*`, no `__`, no trailing `_`).
pub(crate) fn snake_case_violation(s: &str) -> Option<&'static str> {
    let first = s.chars().next()?;
    if !first.is_ascii_lowercase() {
        return Some("must start with a lowercase ASCII letter");
    }
    if s.chars()
        .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    {
        return Some("must be lowercase snake_case (`a-z`, `0-9`, `_`)");
    }
    if s.contains("__") {
        return Some("must not contain `__`");
    }
    if s.ends_with('_') {
        return Some("must not end in `_`");
    }
    None
}

/// `ParseMessage` / `parse-message` / `Parse Message` → `parse_message`.
pub(crate) fn to_snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev_lower_or_digit = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower_or_digit {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower_or_digit = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower_or_digit = true;
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower_or_digit = false;
        }
    }
    let trimmed = out.trim_matches('_');
    let mut collapsed = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        if !(c == '_' && collapsed.ends_with('_')) {
            collapsed.push(c);
        }
    }
    match collapsed.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("n{collapsed}"),
        Some(_) => collapsed,
        None => "name".to_owned(),
    }
}

/// Why `s` is not an error class name (`ConnectionError`: ASCII UpperCamelCase).
pub(crate) fn class_name_violation(s: &str) -> Option<&'static str> {
    let Some(first) = s.chars().next() else {
        return Some("must not be empty");
    };
    if !first.is_ascii_uppercase() {
        return Some("must start with an uppercase ASCII letter");
    }
    if s.chars().any(|c| !c.is_ascii_alphanumeric()) {
        return Some("must be UpperCamelCase (`A-Z`, `a-z`, `0-9`)");
    }
    None
}

/// `connection_error` → `ConnectionError`.
pub(crate) fn to_upper_camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper_next = true;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            if upper_next {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper_next = false;
        } else {
            upper_next = true;
        }
    }
    match out.chars().next() {
        Some(c) if c.is_ascii_uppercase() => out,
        _ => format!("E{out}"),
    }
}

/// The candidate closest to `input`, if it is close enough to be a typo.
pub(crate) fn closest<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(input, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "`a`, `b` or `c`".
pub(crate) fn one_of<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| format!("`{i}`")).collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_rules() {
        assert_eq!(snake_case_violation("parsing"), None);
        assert_eq!(snake_case_violation("embedding_v2"), None);
        assert!(snake_case_violation("Parsing").is_some());
        assert!(snake_case_violation("parse-message").is_some());
        assert!(snake_case_violation("a__b").is_some());
        assert!(snake_case_violation("trailing_").is_some());
        assert!(snake_case_violation("2fast").is_some());
    }

    #[test]
    fn snake_case_suggestions() {
        assert_eq!(to_snake_case("ParseMessage"), "parse_message");
        assert_eq!(to_snake_case("parse-message"), "parse_message");
        assert_eq!(to_snake_case("a__b_"), "a_b");
        assert_eq!(to_snake_case("HTTPServer"), "httpserver");
    }

    #[test]
    fn class_names() {
        assert_eq!(class_name_violation("ConnectionError"), None);
        assert!(class_name_violation("connection_error").is_some());
        assert!(class_name_violation("Connection Error").is_some());
        assert!(class_name_violation("").is_some());
        assert_eq!(to_upper_camel_case("connection_error"), "ConnectionError");
    }

    #[test]
    fn typo_suggestions() {
        let keys = ["service", "histogram", "name"];
        assert_eq!(closest("servce", keys), Some("service"));
        assert_eq!(closest("histgram", keys), Some("histogram"));
        assert_eq!(closest("zzzzzzzz", keys), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn one_of_lists() {
        assert_eq!(one_of(["a"]), "`a`");
        assert_eq!(one_of(["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
