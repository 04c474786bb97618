//! A protobuf writer: the wire format's few encodings (varints, fixed-width numbers,
//! length-delimited fields), written into one growing buffer. It writes what prost writes
//! for the same message: fields in the order the caller gives (the encoder gives them by
//! field number), proto3 defaults left out, minimal varints, so the output can be
//! compared byte for byte with the SDK's.
//!
//! A nested message's length is only known once it is written: [`ProtoWriter::begin`]
//! reserves one byte for it, and [`ProtoWriter::end`] widens the prefix in place when the
//! message came out longer than 127 bytes (a move of the message, once).

/// Wire types of the encodings used here.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// Where a nested message began: the offset of its one-byte length placeholder.
#[must_use = "a nested message must be closed with `end`"]
pub(crate) struct Nested(usize);

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

    /// Opens a nested message (always written, even if it stays empty).
    pub(crate) fn begin(&mut self, field: u32) -> Nested {
        self.tag(field, LEN);
        self.buf.push(0);
        Nested(self.buf.len() - 1)
    }

    /// Closes a nested message: writes its length into the placeholder, widening it when
    /// the length takes more than one byte.
    pub(crate) fn end(&mut self, nested: Nested) {
        let at = nested.0;
        let len = self.buf.len() - at - 1;
        if len < 0x80 {
            self.buf[at] = len as u8;
            return;
        }
        let mut prefix = [0u8; 10];
        let mut width = 0;
        let mut value = len as u64;
        while value >= 0x80 {
            prefix[width] = (value as u8) | 0x80;
            value >>= 7;
            width += 1;
        }
        prefix[width] = value as u8;
        width += 1;
        // Make room for the wider prefix, then move the message after it.
        let extra = width - 1;
        self.buf.resize(self.buf.len() + extra, 0);
        self.buf.copy_within(at + 1..at + 1 + len, at + width);
        self.buf[at..at + width].copy_from_slice(&prefix[..width]);
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
    fn long_nested_messages_get_a_wider_length() {
        for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            let mut w = ProtoWriter::default();
            w.uint(1, 7);
            let nested = w.begin(2);
            w.buf.extend(std::iter::repeat_n(0xab, len));
            w.end(nested);
            w.uint(3, 1);
            let mut expected = ProtoWriter::default();
            expected.uint(1, 7);
            expected.bytes_always(2, &vec![0xab; len]);
            expected.uint(3, 1);
            assert_eq!(w.into_vec(), expected.into_vec(), "length {len}");
        }
    }
}
