//! Small number helpers for parsing kernel text without allocation or panics.

/// Parse a leading unsigned decimal (after optional blanks). Returns the value
/// and the rest of the input; None when there is no digit or it overflows.
#[inline(never)]
pub fn parse_u64_prefix(s: &[u8]) -> Option<(u64, &[u8])> {
    // one pass over the digits (every number of every /proc line comes here)
    let s = trim_start(s);
    let mut v: u64 = 0;
    let mut digits = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        digits += 1;
    }
    if digits == 0 {
        return None;
    }
    Some((v, s.get(digits..)?))
}

/// A whole token that must be a decimal number.
#[inline(never)]
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    match parse_u64_prefix(s)? {
        (v, rest) if trim(rest).is_empty() => Some(v),
        _ => None,
    }
}

#[inline(never)]
pub fn parse_u32(s: &[u8]) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// Parse a hexadecimal number (no 0x), as in /proc/PID/maps addresses.
#[inline(never)]
pub fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u64::from(d);
    }
    Some(v)
}

pub fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r' || b == b'\n'
}

/// `word == lit`, out of line on purpose: rustc lowers a `match` arm with a
/// byte-string pattern to one compare-and-branch per byte, inlined at every
/// arm (16 bytes of MIPS code per character); a call is about 24 bytes per
/// keyword. Used as `kw if is(kw, b"interval") =>` in keyword matches.
#[inline(never)]
pub fn is(word: &[u8], lit: &[u8]) -> bool {
    word == lit
}

#[inline(never)]
pub fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| is_blank(b)).count();
    s.get(n..).unwrap_or(&[])
}

#[inline(never)]
pub fn trim(s: &[u8]) -> &[u8] {
    let s = trim_start(s);
    let n = s.iter().rev().take_while(|&&b| is_blank(b)).count();
    s.get(..s.len() - n).unwrap_or(&[])
}

/// Split off the first blank-separated token.
#[inline(never)]
pub fn next_token(s: &[u8]) -> (&[u8], &[u8]) {
    let s = trim_start(s);
    let n = s.iter().take_while(|&&b| !is_blank(b)).count();
    (s.get(..n).unwrap_or(&[]), s.get(n..).unwrap_or(&[]))
}

/// Format `v` in decimal into `buf`, returning the digits.
#[inline(never)]
pub fn fmt_u64(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    &buf[i..]
}

/// `(n / d, n % d)` by shift and subtract, for the board binaries' 64-bit
/// division helpers on 32-bit targets (`__udivdi3` & co in main.rs): a
/// few dozen instructions in place of compiler_builtins' 780-byte MIPS
/// (394-byte ARM) `u64_div_rem`. Slower (a step per significant bit), and
/// memdog divides a handful of times per sample. Values that fit in 32
/// bits take the CPU's own divide. `d` must not be 0 (Rust checks that
/// before it calls a division helper); 0 gives `(u64::MAX, n)`.
#[inline(never)]
pub fn udivmod64(n: u64, d: u64) -> (u64, u64) {
    if d == 0 {
        return (u64::MAX, n);
    }
    if (n | d) >> 32 == 0 {
        let (n, d) = (n as u32, d as u32);
        return (u64::from(n / d), u64::from(n % d));
    }
    let (mut q, mut r) = (0u64, 0u64);
    let mut i = 64 - n.leading_zeros();
    while i > 0 {
        i -= 1;
        r = (r << 1) | ((n >> i) & 1);
        q <<= 1;
        if r >= d {
            r -= d;
            q |= 1;
        }
    }
    (q, r)
}

/// Signed `(a / b, a % b)` on top of [`udivmod64`], truncating toward zero
/// like Rust's `/` and `%`.
#[inline(never)]
pub fn divmod64(a: i64, b: i64) -> (i64, i64) {
    let (q, r) = udivmod64(a.unsigned_abs(), b.unsigned_abs());
    let q = if (a < 0) != (b < 0) {
        (q as i64).wrapping_neg()
    } else {
        q as i64
    };
    let r = if a < 0 {
        (r as i64).wrapping_neg()
    } else {
        r as i64
    };
    (q, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal() {
        assert_eq!(parse_u64(b"  1234 "), Some(1234));
        assert_eq!(parse_u64(b"12x"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64_prefix(b"\t 56 kB"), Some((56, &b" kB"[..])));
    }

    #[test]
    fn hex() {
        assert_eq!(parse_hex(b"02316000"), Some(0x0231_6000));
        assert_eq!(parse_hex(b"ffffffffff600000"), Some(0xffff_ffff_ff60_0000));
        assert_eq!(parse_hex(b"x1"), None);
        assert_eq!(parse_hex(b"11112222333344445"), None);
    }

    #[test]
    fn format() {
        let mut b = [0u8; 20];
        assert_eq!(fmt_u64(0, &mut b), b"0");
        assert_eq!(fmt_u64(u64::MAX, &mut b), b"18446744073709551615");
    }

    #[test]
    fn division_helpers_match_the_cpu() {
        let edge = [
            0u64,
            1,
            2,
            3,
            7,
            9,
            10,
            0xffff_ffff,
            0x1_0000_0000,
            0x1_0000_0001,
            1_000_000_000,
            86_400_000_000_000,
            u64::MAX / 3,
            u64::MAX - 1,
            u64::MAX,
        ];
        for &n in &edge {
            for &d in edge.iter().filter(|&&d| d != 0) {
                assert_eq!(udivmod64(n, d), (n / d, n % d), "{n} / {d}");
                for (a, b) in [
                    (n as i64, d as i64),
                    (-(n as i64), d as i64),
                    (n as i64, -(d as i64)),
                ] {
                    if b != 0 && !(a == i64::MIN && b == -1) {
                        assert_eq!(divmod64(a, b), (a / b, a % b), "{a} / {b}");
                    }
                }
            }
        }
        assert_eq!(udivmod64(5, 0), (u64::MAX, 5));
    }

    proptest::proptest! {
        #[test]
        fn udivmod64_is_division(n: u64, d in 1u64..) {
            proptest::prop_assert_eq!(udivmod64(n, d), (n / d, n % d));
            // divisors of every width, not just the wide ones a uniform d gives
            let small = (d >> (d % 64)) | 1;
            proptest::prop_assert_eq!(udivmod64(n, small), (n / small, n % small));
        }

        #[test]
        fn divmod64_is_division(a: i64, b: i64) {
            proptest::prop_assume!(b != 0 && !(a == i64::MIN && b == -1));
            proptest::prop_assert_eq!(divmod64(a, b), (a / b, a % b));
        }
    }
}
