//! /proc/pressure/memory (Linux 4.20+, CONFIG_PSI; `psi=0` on the kernel
//! command line makes reads fail with EOPNOTSUPP): the share of time tasks
//! stalled on memory. Kept in hundredths of a percent (the kernel prints
//! `avg10=12.34`), totals in microseconds.
//!
//! ```text
//! some avg10=0.00 avg60=0.00 avg300=0.00 total=4379241
//! full avg10=0.00 avg60=0.00 avg300=0.00 total=2455823
//! ```
//!
//! A value not printed is `None`, never 0.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Psi {
    /// hundredths of a percent
    pub some_avg10: Option<u64>,
    pub full_avg10: Option<u64>,
    /// microseconds
    pub some_total: Option<u64>,
}

/// `12.34` -> 1234, `5` -> 500, `0.5` -> 50; more than two decimals or
/// anything else is None. (One pass in 32-bit arithmetic: the general
/// split-and-parse was 490 bytes of a MIPS build.)
pub fn parse_centi(s: &[u8]) -> Option<u64> {
    let (mut v, mut int_digits, mut dec) = (0u32, 0u32, None::<u32>);
    for &c in s {
        match (c, dec) {
            (b'.', None) if int_digits > 0 => dec = Some(0),
            (b'0'..=b'9', Some(2)) => return None,
            (b'0'..=b'9', d) => {
                v = v.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
                int_digits += 1;
                dec = d.map(|d| d + 1);
            }
            _ => return None,
        }
    }
    let scale = match dec {
        None if int_digits > 0 => 100,
        Some(1) => 10,
        Some(2) => 1,
        _ => return None,
    };
    Some(u64::from(v) * scale)
}

/// Write hundredths as `12.34` into `buf`.
pub fn fmt_centi(v: u64, buf: &mut [u8; 24]) -> &[u8] {
    let mut b = [0u8; 20];
    let d = crate::num::fmt_u64(v, &mut b);
    // at least three digits ("7" is 0.07), a dot before the last two
    let pad = 3usize.saturating_sub(d.len());
    let total = pad + d.len();
    let mut n = 0;
    for (i, &c) in core::iter::repeat_n(&b'0', pad).chain(d).enumerate() {
        if i + 2 == total {
            if let Some(o) = buf.get_mut(n) {
                *o = b'.';
            }
            n += 1;
        }
        if let Some(o) = buf.get_mut(n) {
            *o = c;
        }
        n += 1;
    }
    buf.get(..n).unwrap_or(&[])
}

impl Psi {
    pub fn parse(buf: &[u8]) -> Psi {
        let mut p = Psi::default();
        for line in buf.split(|&b| b == b'\n') {
            p.feed_line(line);
        }
        p
    }

    pub fn feed_line(&mut self, line: &[u8]) {
        let (kind, rest) = crate::num::next_token(line);
        let some = match kind {
            b"some" => true,
            b"full" => false,
            _ => return,
        };
        for word in rest.split(|&b| b == b' ') {
            if let Some(v) = word.strip_prefix(b"avg10=") {
                let slot = if some {
                    &mut self.some_avg10
                } else {
                    &mut self.full_avg10
                };
                *slot = parse_centi(v);
            } else if let (true, Some(v)) = (some, word.strip_prefix(b"total=")) {
                self.some_total = crate::num::parse_u64(crate::num::trim(v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machines_format() {
        let p = Psi::parse(
            b"some avg10=1.25 avg60=0.40 avg300=0.08 total=4379241\nfull avg10=0.07 avg60=0.00 avg300=0.00 total=2455823\n",
        );
        assert_eq!(
            p,
            Psi {
                some_avg10: Some(125),
                full_avg10: Some(7),
                some_total: Some(4379241)
            }
        );
    }

    #[test]
    fn a_missing_full_line_is_absent() {
        let p = Psi::parse(b"some avg10=100.00 avg60=0.00 avg300=0.00 total=1\n");
        assert_eq!(
            (p.some_avg10, p.full_avg10, p.some_total),
            (Some(10000), None, Some(1))
        );
    }

    #[test]
    fn garbage_is_absent_not_zero() {
        for t in [
            &b""[..],
            b"some avg10=x avg60=0.00 total=\n",
            b"some avg10=1.234 total=12a\n",
            b"Some avg10=1.00 total=5\n",
            b"MemTotal: 1 kB\n",
        ] {
            assert_eq!(
                Psi::parse(t),
                Psi::default(),
                "{:?}",
                String::from_utf8_lossy(t)
            );
        }
    }

    proptest::proptest! {
        // against the obvious reference: the digits with the dot removed
        #[test]
        fn centi_matches_reference(int in 0u64..10_000_000, frac in 0u64..100, form in 0u8..3) {
            let t = match form {
                0 => format!("{int}"),
                1 => format!("{int}.{}", frac / 10),
                _ => format!("{int}.{frac:02}"),
            };
            let want = match form {
                0 => int * 100,
                1 => int * 100 + frac / 10 * 10,
                _ => int * 100 + frac,
            };
            proptest::prop_assert_eq!(parse_centi(t.as_bytes()), Some(want), "{}", t);
            let mut b = [0u8; 24];
            let back = fmt_centi(want, &mut b).to_vec();
            proptest::prop_assert_eq!(parse_centi(&back), Some(want));
        }
    }

    #[test]
    fn centi_round_trips() {
        for (t, v) in [
            ("0.00", 0),
            ("12.34", 1234),
            ("5", 500),
            ("0.5", 50),
            ("100.00", 10000),
        ] {
            assert_eq!(parse_centi(t.as_bytes()), Some(v), "{t}");
        }
        for t in [
            "",
            ".",
            "1.",
            ".5",
            "1.234",
            "-1",
            "1,5",
            "1.x",
            "1..5",
            "99999999999",
        ] {
            assert_eq!(parse_centi(t.as_bytes()), None, "{t}");
        }
        let mut b = [0u8; 24];
        for v in [0u64, 7, 50, 1234, 10000, u64::MAX] {
            let t = fmt_centi(v, &mut b).to_vec();
            assert_eq!(
                String::from_utf8(t).unwrap(),
                format!("{}.{:02}", v / 100, v % 100)
            );
        }
    }
}
