//! Problems of `observe.toml` located: each message names the file, line, column and key.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use super::model::FILE_NAME;
use crate::rules;
use crate::text::{snake_case_violation, to_snake_case};

/// Collects the file's problems as `path:line:column: key `k`: message`.
pub(super) struct Errors<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
    pub(super) messages: Vec<String>,
}

impl Errors<'_> {
    pub(super) fn at(&mut self, span: Option<Range<usize>>, key: &str, message: String) {
        let location = match span {
            Some(span) => {
                let before = &self.text[..span.start.min(self.text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{}:{line}:{column}", self.path.display())
            }
            None => self.path.display().to_string(),
        };
        let key = if key.is_empty() {
            String::new()
        } else {
            format!(" key `{key}`:")
        };
        self.messages.push(format!(
            "invalid `{FILE_NAME}` at {location}:{key} {message}"
        ));
    }

    pub(super) fn snake_case(&mut self, value: &Spanned<String>, key: &str, what: &str) {
        if let Some(reason) = snake_case_violation(value.get_ref()) {
            self.at(
                Some(value.span()),
                key,
                format!(
                    "{what} `{}` {reason}; write `{}`",
                    value.get_ref(),
                    to_snake_case(value.get_ref())
                ),
            );
        }
    }

    pub(super) fn label_name(&mut self, value: &Spanned<String>, key: &str) {
        if let Some(v) = rules::label_name_shape(value.get_ref()) {
            self.at(
                Some(value.span()),
                key,
                format!("{}; {}", v.message, v.help),
            );
        }
    }
}
