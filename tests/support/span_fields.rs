//! Reading a span's or an event's fields as text, for the capturing subscribers of the
//! span tests.

use std::collections::BTreeMap;

use tracing::field::{Field, Visit};

/// Records each visited field into the map: strings as they are, the rest in `Debug` form.
pub struct FieldMap<'a>(pub &'a mut BTreeMap<String, String>);

impl Visit for FieldMap<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}
