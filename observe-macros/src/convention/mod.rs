//! The convention in force for the annotated crate, split by job: `model` (the types and
//! `CONVENTION.md`'s defaults), `file` (`observe.toml` as serde reads it), `validate` (one
//! `check_*` per section of the file, every problem reported at once with its line), and
//! `load` (finding and reading the file, cached per process).

mod file;
mod load;
mod located;
mod model;
mod validate;

pub(crate) use load::{CONFIG_VAR, Loaded, load};
pub(crate) use model::{Convention, FILE_NAME, LabelRule, MetricNames, Preset, Unit};
/// The file parser alone, for the property tests that feed it arbitrary bytes.
#[cfg(test)]
pub(crate) use validate::parse;
