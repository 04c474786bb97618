//! A protobuf writer: the wire format's few encodings (varints, fixed-width numbers,
//! length-delimited fields), written into one growing buffer. It writes what prost writes
//! for the same message: fields in the order the caller gives (the encoder gives them by
//! field number), proto3 defaults left out, minimal varints, so the output can be
//! compared byte for byte with the SDK's.
//!
//! A nested message's length is only known once it is written: [`ProtoWriter::begin`]
//! reserves one byte for it ([`ProtoWriter::begin_sized`] as many as the caller expects
//! its length to take), and [`ProtoWriter::end`] writes the length into the reserved
//! bytes, moving the message once when the length took another width than reserved:
//! the prefix stays the minimal varint prost writes.

/// Wire types of the encodings used here.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// Where a nested message began: the offset of its length placeholder, and its width.
#[must_use = "a nested message must be closed with `end`"]
pub(crate) struct Nested {
    at: usize,
    reserved: usize,
}

/// The bytes a varint of `value` takes.
fn varint_width(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

#[derive(Debug, Default)]
pub(crate) struct ProtoWriter {
    buf: Vec<u8>,
}

impl ProtoWriter {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        ProtoWriter {
            buf: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.buf
    }

    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.buf.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.buf.push(value as u8);
    }

    fn tag(&mut self, field: u32, wire_type: u32) {
        self.varint(u64::from(field << 3 | wire_type));
    }

    /// A `uint32`, `uint64`, `int64` or enum field; left out when 0.
    pub(crate) fn uint(&mut self, field: u32, value: u64) {
        if value != 0 {
            self.tag(field, VARINT);
            self.varint(value);
        }
    }

    /// A varint member of a `oneof`: written even when 0 (its presence is its value).
    pub(crate) fn uint_always(&mut self, field: u32, value: u64) {
        self.tag(field, VARINT);
        self.varint(value);
    }

    /// A `double` member of a `oneof`: written even when 0.
    pub(crate) fn double_always(&mut self, field: u32, value: f64) {
        self.tag(field, FIXED64);
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    /// A `fixed64` field; left out when 0.
    pub(crate) fn fixed64(&mut self, field: u32, value: u64) {
        if value != 0 {
            self.tag(field, FIXED64);
            self.buf.extend_from_slice(&value.to_le_bytes());
        }
    }

    /// A `fixed32` field; left out when 0.
    pub(crate) fn fixed32(&mut self, field: u32, value: u32) {
        if value != 0 {
            self.tag(field, FIXED32);
            self.buf.extend_from_slice(&value.to_le_bytes());
        }
    }

    /// A `string` or `bytes` field; left out when empty.
    pub(crate) fn bytes(&mut self, field: u32, value: &[u8]) {
        if !value.is_empty() {
            self.bytes_always(field, value);
        }
    }

    pub(crate) fn string(&mut self, field: u32, value: &str) {
        self.bytes(field, value.as_bytes());
    }

    /// A length-delimited field written even when empty: a member of a `oneof` (whose
    /// presence is its value) or a message that is present but empty.
    pub(crate) fn bytes_always(&mut self, field: u32, value: &[u8]) {
        self.tag(field, LEN);
        self.varint(value.len() as u64);
        self.buf.extend_from_slice(value);
    }

    /// Fields encoded earlier, by another writer, copied as they are.
    pub(crate) fn raw(&mut self, encoded: &[u8]) {
        self.buf.extend_from_slice(encoded);
    }

    /// Opens a nested message (always written, even if it stays empty).
    pub(crate) fn begin(&mut self, field: u32) -> Nested {
        self.begin_sized(field, 1)
    }

    /// Opens a nested message whose length is expected to take `width` bytes (2: 128 to
    /// 16 383 bytes, 3: up to 2 MiB): when it does, closing it moves nothing.
    pub(crate) fn begin_sized(&mut self, field: u32, width: usize) -> Nested {
        self.tag(field, LEN);
        let at = self.buf.len();
        self.buf.resize(at + width, 0);
        Nested {
            at,
            reserved: width,
        }
    }

    /// Closes a nested message: writes its length into the placeholder, moving the
    /// message when the length takes another width than was reserved.
    pub(crate) fn end(&mut self, nested: Nested) {
        let Nested { at, reserved } = nested;
        let start = at + reserved;
        let len = self.buf.len() - start;
        let width = varint_width(len as u64);
        if width > reserved {
            self.buf.resize(self.buf.len() + width - reserved, 0);
            self.buf.copy_within(start..start + len, at + width);
        } else if width < reserved {
            self.buf.copy_within(start..start + len, at + width);
            self.buf.truncate(at + width + len);
        }
        let mut value = len as u64;
        for byte in &mut self.buf[at..at + width - 1] {
            *byte = (value as u8) | 0x80;
            value >>= 7;
        }
        self.buf[at + width - 1] = value as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_defaults_follow_the_wire_format() {
        let mut w = ProtoWriter::default();
        w.uint(1, 0);
        w.uint(1, 300);
        w.uint_always(2, -1i64 as u64);
        w.fixed64(3, 1);
        w.string(4, "");
        w.string(4, "hi");
        assert_eq!(
            w.into_vec(),
            [
                &[0x08, 0xac, 0x02][..],
                &[
                    0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
                ],
                &[0x19, 1, 0, 0, 0, 0, 0, 0, 0],
                &[0x22, 2, b'h', b'i'],
            ]
            .concat()
        );
    }

    #[test]
    fn nested_lengths_are_minimal_varints_whatever_was_reserved() {
        for reserved in 1..=4 {
            for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 70_000, 2_097_152] {
                let mut w = ProtoWriter::default();
                w.uint(1, 7);
                let nested = w.begin_sized(2, reserved);
                w.buf.extend(std::iter::repeat_n(0xab, len));
                w.end(nested);
                w.uint(3, 1);
                let mut expected = ProtoWriter::default();
                expected.uint(1, 7);
                expected.bytes_always(2, &vec![0xab; len]);
                expected.uint(3, 1);
                assert_eq!(
                    w.into_vec(),
                    expected.into_vec(),
                    "length {len}, {reserved} reserved"
                );
            }
        }
    }

    #[test]
    fn varint_widths() {
        for (value, width) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::MAX, 10),
        ] {
            assert_eq!(varint_width(value), width, "{value}");
        }
    }
}
