//! Small number helpers for parsing kernel text without allocation or panics.

/// Parse a leading unsigned decimal (after optional blanks). Returns the value
/// and the rest of the input; None when there is no digit or it overflows.
#[inline(never)]
pub fn parse_u64_prefix(s: &[u8]) -> Option<(u64, &[u8])> {
    let s = trim_start(s);
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s.get(..digits)? {
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
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
}
