//! `#[derive(ErrorLabel)]`'s rules: each label an error class name, `transparent` only on a
//! single field, and the type's labels within the convention's `error_type` label.

use std::collections::BTreeSet;

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident};

use crate::args::{ErrorLabelArgs, LabelChoice};
use crate::convention::Convention;
use crate::ctxt::Ctxt;
use crate::text::{class_name_violation, closest, one_of, to_upper_camel_case};
use crate::vocab::LABEL_ERROR_TYPE;

/// What `expand` needs to write the impl, validated.
pub(crate) struct CheckedErrorLabel {
    /// One arm per variant; a struct's single arm has no variant.
    pub(crate) arms: Vec<Arm>,
    /// An enum (possibly without variants) rather than a struct.
    pub(crate) is_enum: bool,
}

pub(crate) struct Arm {
    pub(crate) variant: Option<Ident>,
    pub(crate) fields: Fields,
    pub(crate) label: Label,
}

pub(crate) enum Label {
    /// The class name, checked.
    Literal(String),
    /// The single field's own label.
    Transparent,
}

/// The checked arms of `input`'s impl; `None` for a union, which is reported.
pub(crate) fn checked(
    cx: &Ctxt,
    input: &DeriveInput,
    type_args: &ErrorLabelArgs,
    convention: &Convention,
) -> Option<CheckedErrorLabel> {
    let mut labels = Vec::new();
    let mut arm =
        |args: &ErrorLabelArgs, at: &Ident, variant: Option<&Ident>, fields: &Fields| Arm {
            variant: variant.cloned(),
            fields: fields.clone(),
            label: check_label(cx, args.choice(), at, fields, &mut labels),
        };
    let checked = match &input.data {
        Data::Enum(data) => {
            let arms = data
                .variants
                .iter()
                .map(|variant| {
                    let args = ErrorLabelArgs::from_attrs(cx, &variant.attrs, false);
                    arm(&args, &variant.ident, Some(&variant.ident), &variant.fields)
                })
                .collect();
            CheckedErrorLabel {
                arms,
                is_enum: true,
            }
        }
        Data::Struct(data) => CheckedErrorLabel {
            arms: vec![arm(type_args, &input.ident, None, &data.fields)],
            is_enum: false,
        },
        Data::Union(data) => {
            cx.error_spanned_by(
                data.union_token,
                "`ErrorLabel` cannot be derived for a union",
                Some("implement `observe::ErrorLabel` by hand".to_owned()),
            );
            return None;
        }
    };
    check_against_convention(cx, convention, &input.ident, &labels);
    Some(checked)
}

/// One variant's label: its name, `rename`, or (with exactly one field) `transparent`.
fn check_label(
    cx: &Ctxt,
    choice: LabelChoice,
    at: &Ident,
    fields: &Fields,
    labels: &mut Vec<(String, Span)>,
) -> Label {
    match choice {
        LabelChoice::Name => {
            let name = at.to_string();
            check_class_name(cx, &name, at);
            labels.push((name.clone(), at.span()));
            Label::Literal(name)
        }
        LabelChoice::Rename(lit) => {
            check_class_name(cx, &lit.value(), &lit);
            labels.push((lit.value(), lit.span()));
            Label::Literal(lit.value())
        }
        LabelChoice::Transparent(span) => {
            check_transparent(cx, span, fields);
            Label::Transparent
        }
    }
}

/// D002: `transparent` delegates to the one field it wraps.
/// Valid: `#[error_label(transparent)] Io(std::io::Error)`.
fn check_transparent(cx: &Ctxt, span: Span, fields: &Fields) {
    if fields.len() != 1 {
        cx.error_at(
            span,
            "`#[error_label(transparent)]` needs exactly one field, the wrapped error",
            Some("wrap a single error, or use `rename = \"ClassName\"`".to_owned()),
        );
    }
}

/// D001: error class names are UpperCamelCase. Valid: `ConnectionError`.
fn check_class_name<T: quote::ToTokens>(cx: &Ctxt, label: &str, at: T) {
    if let Some(reason) = class_name_violation(label) {
        cx.error_spanned_by(
            at,
            format!("error label `{label}` {reason}: `error_type` values are error class names"),
            Some(format!(
                "use `#[error_label(rename = \"{}\")]`",
                to_upper_camel_case(label)
            )),
        );
    }
}

/// D003/D004: the labels fit the convention's `error_type` label: at most its bound of
/// distinct values per type, each in its declared set if it has one. (A `transparent`
/// variant's labels are its inner type's, checked where that type is derived.)
fn check_against_convention(
    cx: &Ctxt,
    convention: &Convention,
    ident: &Ident,
    labels: &[(String, Span)],
) {
    let Some(rule) = convention.label(LABEL_ERROR_TYPE) else {
        return;
    };
    if let Some(values) = &rule.values {
        for (label, span) in labels.iter().filter(|(label, _)| !values.contains(label)) {
            let listed = one_of(values.iter().map(String::as_str));
            let help = match closest(label, values.iter().map(String::as_str)) {
                Some(near) => format!(
                    "use `#[error_label(rename = \"{near}\")]`; the declared values are {listed}"
                ),
                None => format!(
                    "the declared values are {listed}; rename it to one of them or add it to `[labels.error_type] values` in `observe.toml`"
                ),
            };
            cx.error_at(
                *span,
                format!("`{label}` is not a declared `error_type` value"),
                Some(help),
            );
        }
    }
    let distinct: BTreeSet<&str> = labels.iter().map(|(l, _)| l.as_str()).collect();
    if distinct.len() as u64 > rule.max {
        cx.error_spanned_by(
            ident,
            format!(
                "`{ident}` has {} distinct error labels, over the `error_type` bound of {}",
                distinct.len(),
                rule.max
            ),
            Some("give related variants one class with `#[error_label(rename = \"…\")]`, or raise `[labels.error_type] max` in `observe.toml`".to_owned()),
        );
    }
}
