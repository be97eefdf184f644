//! One log line in logfmt, built in a fixed buffer and written with one
//! write(2) so lines from several writers never interleave.
//!
//! Values that came from outside (process names) are escaped: a name such as
//! `a\nb=c "x"` becomes `"a\nb=c \"x\""` and cannot forge a line or a field.

use ufmt::uWrite;

/// A sample line with every field is about 300 bytes; 1 KiB leaves room for
/// escaped names (4x worst case) and event details. A longer line is cut and
/// marked with `truncated=1` before its newline, never split.
pub const LINE_CAP: usize = 1024;
const TAIL: &[u8] = b" truncated=1\n";

pub struct Line {
    buf: [u8; LINE_CAP],
    len: usize,
    truncated: bool,
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Line {
    pub const fn new() -> Line {
        Line {
            buf: [0; LINE_CAP],
            len: 0,
            truncated: false,
        }
    }

    #[inline(never)]
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }

    #[inline(never)]
    pub fn push(&mut self, s: &[u8]) {
        let room = LINE_CAP - TAIL.len() - self.len;
        if s.len() > room {
            self.truncated = true;
        }
        let n = s.len().min(room);
        if let (Some(dst), Some(src)) = (self.buf.get_mut(self.len..self.len + n), s.get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
    }

    #[inline(never)]
    pub fn push_u64(&mut self, v: u64) {
        let mut b = [0u8; 20];
        let d = crate::num::fmt_u64(v, &mut b);
        self.push(d);
    }

    /// A table cell: `s` right-aligned in `width` columns.
    pub fn push_right(&mut self, s: &[u8], width: usize) {
        for _ in s.len()..width {
            self.push(b" ");
        }
        self.push(s);
    }

    /// A number right-aligned in `width` columns; `-` for a value that is absent.
    pub fn cell(&mut self, v: Option<u64>, width: usize) {
        let mut b = [0u8; 20];
        let d: &[u8] = match v {
            Some(v) => crate::num::fmt_u64(v, &mut b),
            None => b"-",
        };
        self.push_right(d, width);
    }

    /// ` key=value`
    #[inline(never)]
    /// ` key=V` for a rate kept per day, written per hour: whole kB/h from
    /// 100/h up, two decimals below (20/d is 0.83, not 0).
    pub fn kv_per_hour(&mut self, key: &[u8], per_day: u64) {
        self.push(b" ");
        self.push(key);
        self.push(b"=");
        self.push_per_hour(per_day);
    }

    pub fn push_per_hour(&mut self, per_day: u64) {
        if per_day >= 2400 {
            self.push_u64(per_day / 24);
            return;
        }
        let centi = per_day * 100 / 24;
        self.push_u64(centi / 100);
        if !centi.is_multiple_of(100) {
            self.push(b".");
            self.push(&[b'0' + (centi % 100 / 10) as u8, b'0' + (centi % 10) as u8]);
        }
    }

    pub fn kv(&mut self, key: &[u8], v: u64) {
        self.push(b" ");
        self.push(key);
        self.push(b"=");
        self.push_u64(v);
    }

    /// ` key=value` with the value escaped and quoted if needed.
    #[inline(never)]
    pub fn kv_str(&mut self, key: &[u8], v: &[u8]) {
        self.push(b" ");
        self.push(key);
        self.push(b"=");
        self.push_escaped(v);
    }

    /// Quote when the value is empty or holds anything but plain printable
    /// ASCII without space, `=` or `"`; inside quotes `"` and `\` are
    /// backslash-escaped, \n \t \r spelled out, other bytes as \xNN.
    #[inline(never)]
    pub fn push_escaped(&mut self, v: &[u8]) {
        let plain = !v.is_empty()
            && v.iter()
                .all(|&b| b > b' ' && b < 0x7f && b != b'=' && b != b'"' && b != b'\\');
        if plain {
            self.push(v);
            return;
        }
        self.push(b"\"");
        for &b in v {
            match b {
                b'"' => self.push(b"\\\""),
                b'\\' => self.push(b"\\\\"),
                b'\n' => self.push(b"\\n"),
                b'\t' => self.push(b"\\t"),
                b'\r' => self.push(b"\\r"),
                b' '..=b'~' => self.push(&[b]),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let h = [b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]];
                    self.push(&h);
                }
            }
        }
        self.push(b"\"");
    }

    /// Seconds with one decimal from nanoseconds: ` up=86400.2`
    #[inline(never)]
    pub fn kv_secs(&mut self, key: &[u8], ns: u64) {
        self.kv(key, ns / 1_000_000_000);
        self.push(b".");
        self.push_u64((ns / 100_000_000) % 10);
    }

    /// The finished line, always ending in exactly one newline.
    #[inline(never)]
    pub fn finish(&mut self) -> &[u8] {
        if self.truncated {
            self.push_raw_tail(TAIL);
        } else {
            self.push_raw_tail(b"\n");
        }
        self.buf.get(..self.len).unwrap_or(&[])
    }

    fn push_raw_tail(&mut self, t: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.len..self.len + t.len()) {
            dst.copy_from_slice(t);
            self.len += t.len();
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl uWrite for Line {
    type Error = core::convert::Infallible;
    fn write_str(&mut self, s: &str) -> Result<(), Self::Error> {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// Civil UTC date from a Unix time (Howard Hinnant's civil_from_days), so
/// no libc time zone code (and its allocations) is linked. For 1970-01-01
/// to 9999-12-31 (a clock outside reads as the nearer end), in 32-bit
/// arithmetic after one division: every log line pays for this on 32-bit
/// boards.
pub fn utc(secs: i64) -> (u32, u32, u32, u32, u32, u32) {
    let secs = secs.clamp(0, 253_402_300_799) as u64;
    let days = (secs / 86_400) as u32;
    let sod = (secs % 86_400) as u32;
    let z = days + 719_468;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u32::from(m <= 2);
    (y, m, d, sod / 3600, (sod / 60) % 60, sod % 60)
}

/// `2026-11-24T10:00:00Z`
pub fn push_timestamp(l: &mut Line, secs: i64) {
    let (y, mo, d, h, mi, s) = utc(secs);
    l.push_u64(u64::from(y));
    l.push(b"-");
    for (v, sep) in [(mo, b"-"), (d, b"T"), (h, b":"), (mi, b":"), (s, b"Z")] {
        if v < 10 {
            l.push(b"0");
        }
        l.push_u64(u64::from(v));
        l.push(sep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(v: &[u8]) -> String {
        let mut l = Line::new();
        l.push_escaped(v);
        String::from_utf8(l.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn escaping() {
        assert_eq!(esc(b"hostapd"), "hostapd");
        assert_eq!(esc(b"a\nb=c \"x\""), r#""a\nb=c \"x\"""#);
        assert_eq!(esc(b""), r#""""#);
        assert_eq!(esc(b"\xff\\"), r#""\xff\\""#);
    }

    #[test]
    fn timestamps() {
        let mut l = Line::new();
        push_timestamp(&mut l, 0);
        assert_eq!(l.as_bytes(), b"1970-01-01T00:00:00Z");
        l.clear();
        push_timestamp(&mut l, 1_795_514_400); // 2026-11-24T10:00:00Z
        assert_eq!(l.as_bytes(), b"2026-11-24T10:00:00Z");
        l.clear();
        push_timestamp(&mut l, 951_782_400); // leap day 2000
        assert_eq!(l.as_bytes(), b"2000-02-29T00:00:00Z");
        // a clock outside 1970..9999 reads as the nearer end
        l.clear();
        push_timestamp(&mut l, -5);
        assert_eq!(l.as_bytes(), b"1970-01-01T00:00:00Z");
        l.clear();
        push_timestamp(&mut l, i64::MAX);
        assert_eq!(l.as_bytes(), b"9999-12-31T23:59:59Z");
    }

    // the 32-bit civil date round-trips through report's parser (days from
    // civil) across the whole range, leap years and century rules included
    #[test]
    fn timestamps_round_trip() {
        let mut secs = 0i64;
        while secs <= 253_402_300_799 {
            let mut l = Line::new();
            push_timestamp(&mut l, secs);
            assert_eq!(
                crate::report::parse_time(l.as_bytes()),
                Some(secs),
                "{secs}"
            );
            secs += 7_776_013; // ~90 days and a few seconds: every month and hour over time
        }
    }

    #[test]
    fn overlong_line_is_cut_and_marked_but_one_line() {
        let mut l = Line::new();
        for _ in 0..200 {
            l.kv_str(b"name", b"a\nb c");
        }
        let out = l.finish();
        assert_eq!(out.len(), LINE_CAP);
        assert!(out.ends_with(b" truncated=1\n"));
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
    }

    #[test]
    fn seconds() {
        let mut l = Line::new();
        l.kv_secs(b"up", 86_400_250_000_000);
        assert_eq!(l.as_bytes(), b" up=86400.2");
    }
}
