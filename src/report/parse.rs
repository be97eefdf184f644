//! Line formats `memdog report` reads, detected per line: memdog's own
//! logfmt lines, the same message inside a syslog wrapper (busybox logread,
//! RFC 3164 with or without a host, RFC 5424, with or without `<PRI>`), and
//! the shell loop's proc_memlog.txt (`VmRSS:  N kB` lines, with or without
//! `YYYY-mm-dd-HH:MM:SS` date lines). Pure functions over `&[u8]`.

use crate::num::{parse_u64, parse_u64_prefix};

/// A wall clock before 2001 was never set (a board without an RTC before NTP):
/// its times tell nothing about which boot a line belongs to.
pub const CLOCK_SET: i64 = 978_307_200;

/// A boot time in the first minutes of a 1 January: what an RFC 3164 stamp
/// (no year: the reader guesses this year) of an unset clock (1970-01-01
/// plus uptime) gives. Such a wrapper time says nothing about the boot.
pub fn new_year_boot(epoch: i64) -> bool {
    let (_, m, d, h, mi, _) = crate::line::utc(epoch);
    m == 1 && d == 1 && h == 0 && mi < 5
}

/// What one line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    /// a memdog message: its host (from a syslog wrapper, may be empty), the
    /// wall time of the line (memdog's own UTC stamp or the wrapper's), and
    /// the payload from `up=` on
    Memdog(Msg<'a>),
    /// a proc_memlog date line, as Unix seconds
    MemlogTime(i64),
    /// a proc_memlog `Field: N kB` line (index into FIELDS, kB)
    MemlogValue(usize, u64),
    /// blank, or a syslog message of another program: not ours, not damage
    Other,
    /// not a line of any format `report` reads, or one cut short
    Damaged,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg<'a> {
    pub host: &'a [u8],
    /// Unix seconds; `iso` when from memdog's own stamp (UTC), else from a
    /// syslog wrapper (the collector's local time)
    pub wall: Option<i64>,
    pub iso: bool,
    pub payload: &'a [u8],
}

/// Fields summarised per process target; the chart and verdict use the
/// first, the kind of growth RssAnon, RssFile, RssShmem, heap and VmSwap.
pub const FIELDS: [&str; NF] = [
    "VmRSS", "VmSize", "heap", "RssAnon", "VmSwap", "RssFile", "RssShmem",
];
/// How many: the per-field tables of the model.
pub const NF: usize = 7;
/// Indices into FIELDS.
pub const F_RSS: usize = 0;
pub const F_HEAP: usize = 2;
pub const F_ANON: usize = 3;
pub const F_SWAP: usize = 4;
pub const F_FILE: usize = 5;
pub const F_SHMEM: usize = 6;
/// The system target's fields (meminfo); the verdict uses the first.
pub const SYS_FIELDS: [&str; 2] = ["MemAvailable", "MemFree"];

/// Classify one line (without its newline). `year` is used for syslog
/// stamps that carry none (RFC 3164): the caller's current year.
pub fn classify(line: &[u8], now: i64) -> Kind<'_> {
    let line = strip_cr(line);
    if line.iter().all(|&b| b == b' ' || b == b'\t') {
        return Kind::Other;
    }
    // memdog's own line: `2026-11-24T10:00:00Z up=...`; or a syslog file
    // with RFC 3339 stamps (rsyslog's RSYSLOG_FileFormat, syslog-ng's ISO):
    // `2026-11-24T10:00:00.123456+01:00 router7 memdog[812]: up=...`
    if let Some((wall, rest)) = iso_stamp(line) {
        return match rest.strip_prefix(b" ") {
            Some(p) if p.starts_with(b"up=") => Kind::Memdog(Msg {
                host: b"",
                wall: Some(wall),
                iso: true,
                payload: p,
            }),
            Some(p) => match tagged(p, wall) {
                Some(Some(m)) => Kind::Memdog(m),
                Some(None) => Kind::Other,
                None => Kind::Damaged,
            },
            None => Kind::Damaged,
        };
    }
    if let Some(k) = memlog(line) {
        return k;
    }
    match syslog(line, now) {
        Some(Some(m)) => Kind::Memdog(m),
        Some(None) => Kind::Other,
        None => Kind::Damaged,
    }
}

fn strip_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}

#[inline]
fn digits(s: &[u8], a: usize, b: usize) -> Option<i64> {
    let d = s.get(a..b)?;
    if d.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &c in d {
        let v = c.wrapping_sub(b'0');
        if v > 9 {
            return None;
        }
        n = n * 10 + i64::from(v);
    }
    Some(n)
}

/// Days from 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// `2026-11-24T10:00:00` + optional `.frac` + `Z` or `+hh:mm`/`-hh:mm`
/// (RFC 3339, as memdog and RFC 5424 write it); returns UTC seconds and the rest.
fn iso_stamp(s: &[u8]) -> Option<(i64, &[u8])> {
    if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') || s.get(10) != Some(&b'T') {
        return None;
    }
    if s.get(13) != Some(&b':') || s.get(16) != Some(&b':') {
        return None;
    }
    let t = civil(
        digits(s, 0, 4)?,
        digits(s, 5, 7)?,
        digits(s, 8, 10)?,
        digits(s, 11, 13)?,
        digits(s, 14, 16)?,
        digits(s, 17, 19)?,
    )?;
    let mut i = 19;
    if s.get(i) == Some(&b'.') {
        i += 1;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    match s.get(i) {
        Some(b'Z') => Some((t, s.get(i + 1..)?)),
        Some(&c) if c == b'+' || c == b'-' => {
            let off = digits(s, i + 1, i + 3)? * 3600 + digits(s, i + 4, i + 6)? * 60;
            if s.get(i + 3) != Some(&b':') {
                return None;
            }
            let off = if c == b'+' { -off } else { off };
            Some((t + off, s.get(i + 6..)?))
        }
        _ => None,
    }
}

/// memdog's own line `2026-11-24T10:00:00Z up=...`, checked as
/// [`classify`] would but without computing its time: the payload.
pub fn own_line(l: &[u8]) -> Option<&[u8]> {
    // a serial console captured on a PC ends lines in CR LF
    let l = strip_cr(l);
    let st = l.get(..21)?;
    let d2 = |a: usize| -> Option<u32> {
        let (x, y) = (
            st.get(a)?.wrapping_sub(b'0'),
            st.get(a + 1)?.wrapping_sub(b'0'),
        );
        (x <= 9 && y <= 9).then_some(u32::from(x) * 10 + u32::from(y))
    };
    let sep = st.get(4) == Some(&b'-')
        && st.get(7) == Some(&b'-')
        && st.get(10) == Some(&b'T')
        && st.get(13) == Some(&b':')
        && st.get(16) == Some(&b':')
        && st.get(19) == Some(&b'Z')
        && st.get(20) == Some(&b' ');
    if !sep {
        return None;
    }
    let (_, mo, d, h, mi, se) = (
        d2(0)? * 100 + d2(2)?,
        d2(5)?,
        d2(8)?,
        d2(11)?,
        d2(14)?,
        d2(17)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let p = l.get(21..)?;
    p.starts_with(b"up=").then_some(p)
}

/// The UTC seconds of memdog's own stamp (a line [`own_line`] accepted).
pub fn own_wall(l: &[u8]) -> Option<i64> {
    iso_stamp(l).map(|(t, _)| t)
}

/// `2026-11-24-10:00:00` (the shell loop's `date +%F-%T`) to Unix seconds.
pub fn parse_time(s: &[u8]) -> Option<i64> {
    if let Some((t, rest)) = iso_stamp(s) {
        return rest.is_empty().then_some(t);
    }
    if s.len() != 19 || s.get(10) != Some(&b'-') || s.get(4) != Some(&b'-') {
        return None;
    }
    if s.get(13) != Some(&b':') || s.get(16) != Some(&b':') || s.get(7) != Some(&b'-') {
        return None;
    }
    civil(
        digits(s, 0, 4)?,
        digits(s, 5, 7)?,
        digits(s, 8, 10)?,
        digits(s, 11, 13)?,
        digits(s, 14, 16)?,
        digits(s, 17, 19)?,
    )
}

/// proc_memlog: a date line or a `Field:  N kB` line of a field we chart.
fn memlog(line: &[u8]) -> Option<Kind<'static>> {
    if let Some(t) = parse_time(crate::num::trim(line)) {
        return Some(Kind::MemlogTime(t));
    }
    let colon = line.iter().position(|&b| b == b':')?;
    let key = line.get(..colon)?;
    let f = FIELDS.iter().position(|x| x.as_bytes() == key)?;
    let (v, rest) = parse_u64_prefix(line.get(colon + 1..)?)?;
    match crate::num::trim(rest) {
        b"kB" => Some(Kind::MemlogValue(f, v)),
        _ => Some(Kind::Damaged),
    }
}

const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";

fn month(s: &[u8]) -> Option<i64> {
    let s = s.get(..3)?;
    MONTHS.chunks(3).position(|m| m == s).map(|i| i as i64 + 1)
}

/// A syslog line. `None`: not syslog at all (damage); `Some(None)`: syslog,
/// but another program's message; `Some(Some(msg))`: memdog's.
fn syslog(line: &[u8], now: i64) -> Option<Option<Msg<'_>>> {
    let mut s = line;
    // <PRI>
    if s.first() == Some(&b'<') {
        let end = s.iter().position(|&b| b == b'>')?;
        if !(2..=4).contains(&end) || !s.get(1..end)?.iter().all(u8::is_ascii_digit) {
            return None;
        }
        s = s.get(end + 1..)?;
    }
    // RFC 5424: `1 TIMESTAMP HOST APP PROCID MSGID SD MSG`
    if let Some(r) = s.strip_prefix(b"1 ") {
        let (ts, r) = crate::num::next_token(r);
        let (wall, rest) = if ts == b"-" {
            (None, &b""[..])
        } else {
            let (w, rest) = iso_stamp(ts)?;
            (Some(w), rest)
        };
        if !rest.is_empty() {
            return None;
        }
        let r = r.strip_prefix(b" ")?;
        let (host, r) = field5424(r)?;
        let (app, r) = field5424(r)?;
        let (_procid, r) = field5424(r)?;
        let (_msgid, r) = field5424(r)?;
        // structured data: `-` or `[...]...`
        let r = if let Some(r) = r.strip_prefix(b"- ") {
            r
        } else if r == b"-" {
            b""
        } else if r.first() == Some(&b'[') {
            let end = r.windows(2).position(|w| w == b"] ")?;
            r.get(end + 2..)?
        } else {
            return None;
        };
        let r = r.strip_prefix("\u{feff}".as_bytes()).unwrap_or(r);
        if app != b"memdog" {
            return Some(None);
        }
        return Some(payload(r).map(|p| Msg {
            host: if host == b"-" { b"" } else { host },
            wall,
            iso: false,
            payload: p,
        }));
    }
    // RFC 3164 / busybox: [Www ]Mmm dd hh:mm:ss[ yyyy] [HOST] [fac.lvl] TAG[PID]: MSG
    if s.get(3) == Some(&b' ')
        && s.get(..3)
            .is_some_and(|w| WEEKDAYS.chunks(3).any(|d| d == w))
    {
        s = s.get(4..)?;
    }
    let mo = month(s)?;
    if s.get(3) != Some(&b' ') {
        return None;
    }
    let mut r = s.get(4..)?;
    if r.first() == Some(&b' ') {
        r = r.get(1..)?;
    }
    let (day, r2) = parse_u64_prefix(r)?;
    let r2 = r2.strip_prefix(b" ")?;
    if r2.get(2) != Some(&b':') || r2.get(5) != Some(&b':') {
        return None;
    }
    let (hh, mm, ss) = (digits(r2, 0, 2)?, digits(r2, 3, 5)?, digits(r2, 6, 8)?);
    let mut r = r2.get(8..)?;
    if r.first() == Some(&b'.') {
        // busybox syslogd -t / rsyslog high-precision: fractional seconds
        let n = r.iter().skip(1).take_while(|b| b.is_ascii_digit()).count();
        r = r.get(n + 1..)?;
    }
    let mut year = None;
    if r.get(5) == Some(&b' ') && r.first() == Some(&b' ') {
        if let Some(y) = digits(r, 1, 5) {
            year = Some(y);
            r = r.get(5..)?;
        }
    }
    let r = r.strip_prefix(b" ")?;
    // a year-less stamp is in the last 12 months (as syslog readers assume)
    let y = match year {
        Some(y) => y,
        None => {
            let (cy, ..) = crate::line::utc(now);
            let y = i64::from(cy);
            match civil(y, mo, day as i64, hh, mm, ss) {
                Some(t) if t > now + 2 * 86_400 => y - 1,
                _ => y,
            }
        }
    };
    let wall = civil(y, mo, day as i64, hh, mm, ss)?;
    tagged(r, wall)
}

/// After a syslog stamp: up to two words before the tag (a host and/or
/// busybox's `facility.level`), then `memdog[PID]: MSG`.
fn tagged(mut r: &[u8], wall: i64) -> Option<Option<Msg<'_>>> {
    let mut host: &[u8] = b"";
    for _ in 0..3 {
        let (w, rest) = crate::num::next_token(r);
        if w.is_empty() {
            return None;
        }
        if let Some(t) = tag(w) {
            if t != b"memdog" {
                return Some(None);
            }
            let msg = rest.strip_prefix(b" ").unwrap_or(rest);
            return Some(payload(msg).map(|p| Msg {
                host,
                wall: Some(wall),
                iso: false,
                payload: p,
            }));
        }
        if !is_facility_level(w) {
            if !host.is_empty() {
                // two words that are no tag: a message of some other form
                return Some(None);
            }
            host = w;
        }
        r = rest.strip_prefix(b" ").unwrap_or(rest);
    }
    Some(None)
}

const WEEKDAYS: &[u8; 21] = b"MonTueWedThuFriSatSun";

/// `memdog[812]:` or `memdog:` -> `memdog`
fn tag(w: &[u8]) -> Option<&[u8]> {
    let w = w.strip_suffix(b":")?;
    match w.iter().position(|&b| b == b'[') {
        Some(i) => {
            let pid = w.get(i + 1..)?.strip_suffix(b"]")?;
            parse_u64(pid)?;
            w.get(..i)
        }
        None => Some(w),
    }
}

fn is_facility_level(w: &[u8]) -> bool {
    const LEVELS: [&[u8]; 9] = [
        b"emerg", b"alert", b"crit", b"err", b"warn", b"warning", b"notice", b"info", b"debug",
    ];
    match w.iter().position(|&b| b == b'.') {
        Some(i) => {
            let lvl = w.get(i + 1..).unwrap_or(&[]);
            LEVELS.contains(&lvl)
        }
        None => false,
    }
}

fn field5424(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == b' ')?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The memdog payload of a syslog message: memdog's syslog output drops its
/// own stamp (the wrapper has one); a relay may keep it.
fn payload(m: &[u8]) -> Option<&[u8]> {
    if m.starts_with(b"up=") {
        return Some(m);
    }
    let (_, rest) = iso_stamp(m)?;
    rest.strip_prefix(b" ").filter(|p| p.starts_with(b"up="))
}

/// The order key of a memdog payload: uptime in tenths of a second, seq.
/// `None` when the payload does not start `up=S.D seq=N ` (damaged).
pub fn key(p: &[u8]) -> Option<(u64, u64)> {
    key_rest(p).map(|(k, _)| k)
}

/// The order key and what follows `up=S.D seq=N` in a payload.
pub fn key_rest(p: &[u8]) -> Option<((u64, u64), &[u8])> {
    if p.get(..3)? != b"up=" {
        return None;
    }
    let (s, r) = lead_u64(p.get(3..)?)?;
    if r.first() != Some(&b'.') {
        return None;
    }
    let d = r.get(1)?.wrapping_sub(b'0');
    if d > 9 || r.get(2..7)? != b" seq=" {
        return None;
    }
    let (seq, r) = lead_u64(r.get(7..)?)?;
    if !(r.is_empty() || r.first() == Some(&b' ')) {
        return None;
    }
    let up = s.checked_mul(10)?.checked_add(u64::from(d))?;
    Some(((up, seq), r))
}

/// One logfmt token: key and raw value (quotes stripped, escapes kept).
/// Returns false when the line is not well-formed logfmt (a field cut
/// short, an unclosed quote, a key without `=` other than a bare word).
/// The bytes of a logfmt key: letters, digits, `_ ~ - .`
static KEY_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'~' || b == b'-' || b == b'.';
        c += 1;
    }
    t
};

pub fn tokens<'a>(line: &'a [u8], f: &mut dyn FnMut(&'a [u8], &'a [u8], bool)) -> bool {
    let mut rest = line;
    loop {
        while rest.first() == Some(&b' ') {
            rest = rest.get(1..).unwrap_or(&[]);
        }
        if rest.is_empty() {
            return true;
        }
        let end = memchr(b' ', rest).unwrap_or(rest.len());
        let tok = rest.get(..end).unwrap_or(&[]);
        let eq = tok.iter().position(|&c| c == b'=');
        let key = tok.get(..eq.unwrap_or(tok.len())).unwrap_or(&[]);
        if key.is_empty() || !key.iter().all(|&c| KEY_BYTE.get(c as usize) == Some(&true)) {
            return false;
        }
        let Some(eq) = eq else {
            f(key, b"", false);
            rest = rest.get(end..).unwrap_or(&[]);
            continue;
        };
        let after = rest.get(eq + 1..).unwrap_or(&[]);
        if after.first() == Some(&b'"') {
            // a quoted value may hold spaces: find its closing quote
            let mut i = 1;
            loop {
                match after.get(i) {
                    None => return false,
                    Some(b'\\') => i += 2,
                    Some(b'"') => break,
                    Some(_) => i += 1,
                }
            }
            let v = after.get(1..i).unwrap_or(&[]);
            rest = after.get(i + 1..).unwrap_or(&[]);
            if !matches!(rest.first(), None | Some(b' ')) {
                return false;
            }
            f(key, v, true);
        } else {
            let v = tok.get(eq + 1..).unwrap_or(&[]);
            if v.is_empty() || v.contains(&b'"') {
                return false;
            }
            f(key, v, false);
            rest = rest.get(end..).unwrap_or(&[]);
        }
    }
}

/// Undo logfmt quoting (`\"` `\\` `\n` `\t` `\r` `\xNN`) into `out`.
pub fn unescape<const N: usize>(v: &[u8], quoted: bool, out: &mut heapless::Vec<u8, N>) {
    out.clear();
    if !quoted {
        let _ = out.extend_from_slice(v.get(..v.len().min(N)).unwrap_or(&[]));
        return;
    }
    let mut i = 0;
    while let Some(&c) = v.get(i) {
        let (b, step) = if c == b'\\' {
            match v.get(i + 1) {
                Some(b'n') => (b'\n', 2),
                Some(b't') => (b'\t', 2),
                Some(b'r') => (b'\r', 2),
                Some(b'x') => {
                    let h = v.get(i + 2..i + 4).and_then(crate::num::parse_hex);
                    (h.unwrap_or(b'?' as u64) as u8, 4)
                }
                Some(&o) => (o, 2),
                None => (b'\\', 1),
            }
        } else {
            (c, 1)
        };
        if out.push(b).is_err() {
            return;
        }
        i += step;
    }
}

/// The identity of a line for dropping exact duplicates: 64 bits mixed
/// eight bytes at a time (a collision of two different lines of one sample
/// is a 2^-64 event).
pub fn hash(b: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let mut w = [0u8; 8];
    let rest = chunks.remainder();
    if let Some(d) = w.get_mut(..rest.len()) {
        d.copy_from_slice(rest);
    }
    h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K);
    h ^ (h >> 32)
}

/// The first `x` in `s`, eight bytes at a time.
pub fn memchr(x: u8, s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pat = LO.wrapping_mul(u64::from(x));
    let mut i = 0;
    while let Some(c) = s.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = u64::from_le_bytes(w) ^ pat;
        let z = v.wrapping_sub(LO) & !v & HI;
        if z != 0 {
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s.get(i..)?.iter().position(|&b| b == x).map(|k| i + k)
}

/// Leading decimal digits of `s` as a number, and the rest.
#[inline]
pub fn lead_u64(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut n: u64 = 0;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
        i += 1;
    }
    if i == 0 {
        return None;
    }
    Some((n, s.get(i..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000; // 2026-12-01

    fn msg(l: &[u8]) -> Msg<'_> {
        match classify(l, NOW) {
            Kind::Memdog(m) => m,
            k => panic!("{k:?} for {}", String::from_utf8_lossy(l)),
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_time(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time(b"2026-11-24T10:00:00Z"), Some(1_795_514_400));
        assert_eq!(parse_time(b"2026-11-24-10:00:00"), Some(1_795_514_400));
        assert_eq!(
            parse_time(b"2026-11-24T11:00:00+01:00"),
            Some(1_795_514_400)
        );
        assert_eq!(parse_time(b"garbage"), None);
        assert_eq!(parse_time(b"2026-13-24-10:00:00"), None);
    }

    #[test]
    fn formats() {
        let own = msg(b"2026-11-24T10:00:00Z up=5.0 seq=1 pid=3 name=a VmRSS=1");
        assert_eq!(
            (own.host, own.wall, own.iso),
            (&b""[..], Some(1_795_514_400), true)
        );
        assert_eq!(own.payload, b"up=5.0 seq=1 pid=3 name=a VmRSS=1");
        let p: &[u8] = b"up=5.0 seq=1 pid=3 name=a VmRSS=1";
        for (l, host) in [
            (&b"Tue Nov 24 10:00:00 2026 daemon.info memdog[812]: up=5.0 seq=1 pid=3 name=a VmRSS=1"[..], &b""[..]),
            (b"Nov 24 10:00:00 router7 memdog[812]: up=5.0 seq=1 pid=3 name=a VmRSS=1", b"router7"),
            (b"<30>Nov 24 10:00:00 memdog[812]: up=5.0 seq=1 pid=3 name=a VmRSS=1", b""),
            (b"<30>Nov 24 10:00:00 router7 memdog[812]: up=5.0 seq=1 pid=3 name=a VmRSS=1", b"router7"),
            (b"Nov 24 10:00:00 router7 daemon.info memdog[812]: up=5.0 seq=1 pid=3 name=a VmRSS=1", b"router7"),
            (b"<30>1 2026-11-24T10:00:00.123Z router7 memdog 812 - - up=5.0 seq=1 pid=3 name=a VmRSS=1", b"router7"),
            (b"2026-11-24T11:00:00.123456+01:00 router7 memdog[812]: up=5.0 seq=1 pid=3 name=a VmRSS=1", b"router7"),
            (b"1 2026-11-24T11:00:00+01:00 - memdog - - [x@1 a=\"b\"] up=5.0 seq=1 pid=3 name=a VmRSS=1", b""),
        ] {
            let m = msg(l);
            assert_eq!((m.host, m.payload, m.wall), (host, p, Some(1_795_514_400)), "{}", String::from_utf8_lossy(l));
        }
        assert_eq!(
            classify(b"Nov 24 10:00:00 router7 dnsmasq[9]: query", NOW),
            Kind::Other
        );
        assert_eq!(classify(b"", NOW), Kind::Other);
        assert_eq!(
            classify(b"2026-11-24T10:00:00Z up=", NOW),
            Kind::Memdog(Msg {
                host: b"",
                wall: Some(1_795_514_400),
                iso: true,
                payload: b"up="
            })
        );
        assert_eq!(classify(b"2026-11-24T10:00", NOW), Kind::Damaged);
        assert_eq!(classify(b"\x00\x01garbage", NOW), Kind::Damaged);
        assert_eq!(
            classify(b"VmRSS:\t  1234 kB", NOW),
            Kind::MemlogValue(0, 1234)
        );
        assert_eq!(classify(b"VmRSS:\t  12", NOW), Kind::Damaged);
        assert_eq!(
            classify(b"2026-11-24-10:00:00", NOW),
            Kind::MemlogTime(1_795_514_400)
        );
        // a year-less stamp later than now is last year's
        let m = msg(b"Dec 25 10:00:00 memdog[1]: up=1.0 seq=1 meminfo MemFree=1");
        assert_eq!(m.wall, parse_time(b"2025-12-25T10:00:00Z"));
    }

    #[test]
    fn own_lines_as_classify_sees_them() {
        for l in [
            &b"2026-11-24T10:00:00Z up=5.0 seq=1 pid=3 name=a VmRSS=1"[..],
            b"2026-13-24T10:00:00Z up=5.0 seq=1",
            b"2026-11-24T10:00:61Z up=5.0 seq=1",
            b"2026-11-24T10:00:00Z seq=1",
            b"2026-11-24T10:00:00.5Z up=5.0 seq=1",
            b"2026-11-24T1x:00:00Z up=5.0 seq=1",
        ] {
            let slow = match classify(l, NOW) {
                Kind::Memdog(m) if m.iso => Some((m.payload, m.wall)),
                _ => None,
            };
            let fast = own_line(l).map(|p| (p, own_wall(l)));
            // the fast check may leave a line to the slow one, never disagree with it
            assert!(
                fast.is_none() || fast == slow,
                "{}",
                String::from_utf8_lossy(l)
            );
        }
        assert!(own_line(b"2026-11-24T10:00:00Z up=5.0 seq=1").is_some());
        assert_eq!(
            own_line(b"2026-11-24T10:00:00Z up=5.0 seq=1\r"),
            Some(&b"up=5.0 seq=1"[..])
        );
    }

    #[test]
    fn memchr_and_fields() {
        for s in [
            &b""[..],
            b"a",
            b"abcdefghij\n",
            b"\n",
            b"0123456789abcdef\nx",
        ] {
            assert_eq!(memchr(b'\n', s), s.iter().position(|&b| b == b'\n'));
        }
        assert_eq!(
            key_rest(b"up=1.0 seq=1 host=r7 x=1"),
            Some(((10, 1), &b" host=r7 x=1"[..]))
        );
        assert_ne!(hash(b"abcdefgh1"), hash(b"abcdefgh2"));
        assert_ne!(hash(b"a"), hash(b"a\0"));
    }

    #[test]
    fn keys_and_tokens() {
        assert_eq!(key(b"up=86400.2 seq=17 pid=1"), Some((864_002, 17)));
        assert_eq!(key(b"up=86400.2 seq=1"), Some((864_002, 1)));
        assert_eq!(key(b"up=86400. seq=1"), None);
        assert_eq!(key(b"up=86400.2 seq="), None);
        assert_eq!(key(b"up=86400.2 seq=1x"), None);
        let mut seen = Vec::new();
        assert!(tokens(
            b"a=1 name=\"x \\\" y\" meminfo b=2",
            &mut |k, v, q| seen.push((k.to_vec(), v.to_vec(), q))
        ));
        assert_eq!(seen[1], (b"name".to_vec(), b"x \\\" y".to_vec(), true));
        assert_eq!(seen[2], (b"meminfo".to_vec(), b"".to_vec(), false));
        for bad in [
            &b"a=1 name=\"x"[..],
            b"a=",
            b"a=1 b=",
            b"a=1 =3",
            b"a=\"x\"y",
        ] {
            assert!(
                !tokens(bad, &mut |_, _, _| {}),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut out: heapless::Vec<u8, 64> = heapless::Vec::new();
        unescape(b"a\\nb=c \\\"x\\\"\\x01", true, &mut out);
        assert_eq!(&out[..], b"a\nb=c \"x\"\x01");
    }

    proptest::proptest! {
        /// The word-at-a-time memchr against the naive scan.
        #[test]
        fn memchr_is_position(v in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80), x in proptest::prelude::any::<u8>()) {
            proptest::prop_assert_eq!(memchr(x, &v), v.iter().position(|&b| b == x));
        }

        /// The fast check of memdog's own lines never disagrees with classify,
        /// on a real line with any one byte changed or cut anywhere.
        #[test]
        fn own_line_agrees_with_classify(at in 0usize..60, b in proptest::prelude::any::<u8>(), cut in 0usize..70) {
            let mut l = b"2026-11-24T10:00:00Z up=86400.2 seq=17 pid=3158 name=hostapd VmRSS=1234".to_vec();
            if let Some(c) = l.get_mut(at) {
                *c = b;
            }
            l.truncate(cut.max(1));
            let slow = match classify(&l, NOW) {
                Kind::Memdog(m) if m.iso => Some((m.payload.to_vec(), m.wall)),
                _ => None,
            };
            if let Some(p) = own_line(&l) {
                proptest::prop_assert_eq!(Some((p.to_vec(), own_wall(&l))), slow);
            }
        }
    }
}
