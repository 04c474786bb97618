//! The arguments a call span keeps ([`Args`]): its kind, its number and `bool`
//! arguments copied on every call (so that a failure in an unsampled trace is exported
//! with them), and for a sampled span its strings and `Debug` forms formatted too.

use std::sync::Arc;

use opentelemetry::KeyValue;
use tracing::field::{Field, Value, Visit};

use crate::names::{CALL_SPAN_FIELDS, SPAN_KINDS, SPAN_OTEL_KIND};

/// What the call's span records besides its constant attributes: its kind, and the
/// arguments: the numbers and `bool`s copied, and for a sampled span the strings and
/// `Debug` forms formatted too. Starts as [`Args::EMPTY`]. 48 bytes: it lives in every
/// instrumented future for as long as the call runs.
#[derive(Debug, Clone)]
pub(crate) struct Args {
    /// 1 + the index of `kind = ..` in `SPAN_KINDS`; 0 when not set.
    kind: u8,
    /// How many of `copied` and `bits` are set.
    copied_len: u8,
    /// Each copied value's field (its index among the extra values) and type, packed:
    /// `field << 2 | type`.
    copied: [u8; MAX_COPIED],
    bits: [u64; MAX_COPIED],
    /// A sampled span's string and `Debug` arguments, `None` when it has none (then
    /// nothing is allocated). Shared, so that handing a finished span to the exporter
    /// copies no attribute; an `Arc` of a `Vec` rather than of a slice, so that the
    /// pointer is one word.
    formatted: Option<Arc<Vec<KeyValue>>>,
}

/// At most as many extra values as `CallSpan::start` takes.
const MAX_COPIED: usize = crate::names::MAX_CALL_SPAN_FIELDS - CALL_SPAN_FIELDS.len();
// A copied value's field index takes the packed slot's upper six bits.
const _: () = assert!(MAX_COPIED <= 64);

/// The type of a copied value, the low two bits of its slot.
const COPIED_U64: u8 = 0;
const COPIED_I64: u8 = 1;
const COPIED_F64: u8 = 2;
const COPIED_BOOL: u8 = 3;

/// A copied argument's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Copied {
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
}

/// A number or `bool` argument as observe's own span keeps it, made at the call site
/// (`RecordPrimitiveArg::__observe_copy`): an unsampled call copies these as they are,
/// where going through `tracing`'s `Value` and `Visit` cost a dynamic call, a field
/// lookup and a visitor per argument (about 110 instructions for one `u64`,
/// `scripts/call_instructions.sh`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct CopiedArg {
    ty: CopiedType,
    bits: u64,
}

/// The type of a [`CopiedArg`], its packed slot's low two bits; an enum, so that
/// `Option<CopiedArg>` takes no more room.
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
enum CopiedType {
    U64 = COPIED_U64,
    I64 = COPIED_I64,
    F64 = COPIED_F64,
    Bool = COPIED_BOOL,
}
const _: () = assert!(size_of::<Option<CopiedArg>>() == size_of::<CopiedArg>());

impl CopiedArg {
    #[inline(always)]
    pub fn unsigned(value: u64) -> Self {
        CopiedArg {
            ty: CopiedType::U64,
            bits: value,
        }
    }
    #[inline(always)]
    pub fn signed(value: i64) -> Self {
        CopiedArg {
            ty: CopiedType::I64,
            bits: value as u64,
        }
    }
    #[inline(always)]
    pub fn float(value: f64) -> Self {
        CopiedArg {
            ty: CopiedType::F64,
            bits: value.to_bits(),
        }
    }
    #[inline(always)]
    pub fn boolean(value: bool) -> Self {
        CopiedArg {
            ty: CopiedType::Bool,
            bits: u64::from(value),
        }
    }
}

impl Args {
    /// No kind and no argument: where a call's arguments start.
    pub(crate) const EMPTY: Args = Args {
        kind: 0,
        copied_len: 0,
        copied: [0; MAX_COPIED],
        bits: [0; MAX_COPIED],
        formatted: None,
    };

    /// The span kind, if the attribute set one.
    pub(crate) fn kind(&self) -> Option<&'static str> {
        SPAN_KINDS
            .get(usize::from(self.kind).checked_sub(1)?)
            .copied()
    }

    /// Arguments holding `formatted` as a sampled span's.
    #[cfg(test)]
    pub(crate) fn with_formatted(formatted: Arc<Vec<KeyValue>>) -> Self {
        Args {
            formatted: Some(formatted),
            ..Args::EMPTY
        }
    }

    /// Whether a sampled span's arguments were formatted (then they are shared, and
    /// dropping them releases their count).
    #[inline(always)]
    pub(crate) fn holds_formatted(&self) -> bool {
        self.formatted.is_some()
    }

    /// Keeps the argument at `index` among the extra values (below `MAX_COPIED`, which
    /// the macro's field limit ensures; one past it is left off).
    #[inline(always)]
    fn push_copied(&mut self, index: usize, arg: CopiedArg) {
        let i = usize::from(self.copied_len);
        if i < MAX_COPIED {
            self.copied[i] = ((index as u8) << 2) | arg.ty as u8;
            self.bits[i] = arg.bits;
            self.copied_len += 1;
        }
    }

    /// The formatted arguments of a sampled span: its strings and `Debug` forms.
    pub(crate) fn formatted(&self) -> &[KeyValue] {
        self.formatted.as_deref().map_or(&[], Vec::as_slice)
    }

    /// The copied arguments, numbers and `bool`s, with their field names.
    pub(crate) fn copied(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> impl Iterator<Item = (&'static str, Copied)> + '_ {
        (0..usize::from(self.copied_len)).filter_map(move |i| {
            let slot = self.copied[i];
            let index = CALL_SPAN_FIELDS.len() + usize::from(slot >> 2);
            let name = meta.fields().iter().nth(index)?.name();
            let bits = self.bits[i];
            Some((
                name,
                match slot & 3 {
                    COPIED_U64 => Copied::U64(bits),
                    COPIED_I64 => Copied::I64(bits as i64),
                    COPIED_F64 => Copied::F64(f64::from_bits(bits)),
                    _ => Copied::Bool(bits != 0),
                },
            ))
        })
    }

    /// Records the call's kind and arguments, `sampled` or not: the numbers and `bool`s
    /// copied (`copied`, made at the call site, in the order of `extra`), and for a
    /// sampled span the strings and `Debug` forms formatted too. In place, where they
    /// will stay: stored a byte or a word at a time, a span moved right after that is
    /// read back in wider loads, which stall until those stores land (store-to-load
    /// forwarding fails); that showed as a third of an unsampled call in `perf annotate`.
    #[inline]
    pub(crate) fn record(
        &mut self,
        sampled: bool,
        meta: &'static tracing::Metadata<'static>,
        kind: u8,
        extra: &[Option<&dyn Value>],
        copied: &[Option<CopiedArg>],
    ) {
        self.kind = kind;
        for (index, arg) in copied.iter().enumerate() {
            if let Some(arg) = arg {
                self.push_copied(index, *arg);
            }
        }
        if sampled && !extra.is_empty() {
            format_args(meta, extra, self);
        }
    }
}

/// The extra values after the call fields, each with its field and index.
fn extra_fields<'a>(
    meta: &'static tracing::Metadata<'static>,
    extra: &'a [Option<&'a dyn Value>],
) -> impl Iterator<Item = (Field, &'a dyn Value)> + 'a {
    meta.fields()
        .iter()
        .skip(CALL_SPAN_FIELDS.len())
        .zip(extra)
        .filter_map(|(field, value)| Some((field, (*value)?)))
}

#[cold]
#[inline(never)]
fn format_args(
    meta: &'static tracing::Metadata<'static>,
    extra: &[Option<&dyn Value>],
    args: &mut Args,
) {
    let mut visitor = FormatArgs(Vec::new());
    for (field, value) in extra_fields(meta, extra) {
        value.record(&field, &mut visitor);
    }
    // Numbers, `bool`s and the kind alone allocate nothing: a sampled call's
    // allocations are freed on the exporter thread, and glibc's per-thread caches serve
    // neither thread well when one allocates what the other frees.
    if !visitor.0.is_empty() {
        args.formatted = Some(Arc::new(visitor.0));
    }
}

/// A sampled span's strings and `Debug` forms, as the attributes `tracing-opentelemetry`
/// made of them. Its numbers and `bool`s are the copies every call keeps, and the kind
/// the call site's constant: the visitor leaves those alone.
struct FormatArgs(Vec<KeyValue>);

impl Visit for FormatArgs {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push(KeyValue::new(field.name(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() != SPAN_OTEL_KIND {
            self.0.push(KeyValue::new(field.name(), value.to_owned()));
        }
    }
    // Copied already (`Args::record`); by default they would be formatted as `Debug`.
    fn record_u64(&mut self, _: &Field, _: u64) {}
    fn record_i64(&mut self, _: &Field, _: i64) {}
    fn record_f64(&mut self, _: &Field, _: f64) {}
    fn record_bool(&mut self, _: &Field, _: bool) {}
}
