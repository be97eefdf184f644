//! /proc/pressure/memory (Linux 4.20+, CONFIG_PSI; `psi=0` on the kernel
//! command line makes reads fail with EOPNOTSUPP): the share of time tasks
//! stalled on memory. Kept in hundredths of a percent (the kernel prints
//! `avg10=12.34`), totals in microseconds.
//!
//!     some avg10=0.00 avg60=0.00 avg300=0.00 total=4379241
//!     full avg10=0.00 avg60=0.00 avg300=0.00 total=2455823
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
/// anything else is None.
pub fn parse_centi(s: &[u8]) -> Option<u64> {
    let (int, frac) = match s.iter().position(|&b| b == b'.') {
        Some(i) => (s.get(..i)?, s.get(i + 1..)?),
        None => (s, &b"00"[..]),
    };
    if frac.is_empty() || frac.len() > 2 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let f = crate::num::parse_u64(frac)? * if frac.len() == 1 { 10 } else { 1 };
    crate::num::parse_u64(int)?.checked_mul(100)?.checked_add(f)
}

/// Write hundredths as `12.34` into `buf`.
pub fn fmt_centi(v: u64, buf: &mut [u8; 24]) -> &[u8] {
    let mut b = [0u8; 20];
    let int = crate::num::fmt_u64(v / 100, &mut b);
    let n = int.len();
    if let Some(d) = buf.get_mut(..n) {
        d.copy_from_slice(int);
    }
    let f = (v % 100) as u8;
    if let Some(d) = buf.get_mut(n..n + 3) {
        d.copy_from_slice(&[b'.', b'0' + f / 10, b'0' + f % 10]);
    }
    buf.get(..n + 3).unwrap_or(&[])
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
        for t in ["", ".", "1.", ".5", "1.234", "-1", "1,5", "1.x"] {
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
