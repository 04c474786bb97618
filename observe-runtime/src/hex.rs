//! Lower-case hex of trace and span ids, as W3C trace context and OTLP/JSON write them, a
//! word at a time: the JSON log line writes a trace id and a span id on every event inside
//! a call. A digit at a time through a table, with three appends, the ids made the line's
//! formatting (`format_line`) 352 instructions longer than a compiled-out build's; this
//! way, with one append, 188 (`COST_KEEP=dir scripts/request_cost.sh`, (c), by function).

/// The 16 hex digits of `value`, most significant first.
#[inline]
pub(crate) fn lower_hex_u64(value: u64) -> [u8; 16] {
    // Spread the 16 nibbles over the 16 bytes of a `u128`, each in its byte's low half,
    // halving the groups at each step: a group's upper half moves to the upper lane, so
    // the big-endian bytes come out in the digits' order.
    let mut x = u128::from(value);
    x = ((x & 0xffff_ffff_0000_0000) << 32) | (x & 0xffff_ffff);
    x = ((x & 0x0000_0000_ffff_0000_0000_0000_ffff_0000) << 16)
        | (x & 0x0000_0000_0000_ffff_0000_0000_0000_ffff);
    x = ((x & 0x0000_ff00_0000_ff00_0000_ff00_0000_ff00) << 8)
        | (x & 0x0000_00ff_0000_00ff_0000_00ff_0000_00ff);
    x = ((x & 0x00f0_00f0_00f0_00f0_00f0_00f0_00f0_00f0) << 4)
        | (x & 0x000f_000f_000f_000f_000f_000f_000f_000f);
    // Each byte is now a digit's value n < 16: '0' + n, plus 'a' - '0' - 10 where n > 9
    // (n + 6 carries into bit 4 exactly then; no byte overflows into the next).
    const ONES: u128 = u128::from_ne_bytes([1; 16]);
    let letters = ((x + 6 * ONES) >> 4) & ONES;
    (x + b'0' as u128 * ONES + letters * u128::from(b'a' - b'0' - 10)).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_lower_case_hex_most_significant_first() {
        for value in [
            0,
            1,
            9,
            10,
            15,
            16,
            0x00f0_67aa_0ba9_02b7,
            0x0123_4567_89ab_cdef,
            0xfedc_ba98_7654_3210,
            u64::MAX,
        ] {
            let expected = format!("{value:016x}");
            assert_eq!(lower_hex_u64(value), expected.as_bytes(), "{value:#x}");
        }
        // Every digit in every position.
        let mut value = 0x0123_4567_89ab_cdef_u64;
        for _ in 0..16 {
            assert_eq!(lower_hex_u64(value), format!("{value:016x}").as_bytes());
            value = value.rotate_left(4);
        }
    }
}
