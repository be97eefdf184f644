//! Syslog outputs: RFC 3164 datagrams to the local /dev/log (as busybox
//! syslogd and logread expect) and to a remote collector over UDP at a
//! numeric IPv4 address (no DNS on a board that is running out of memory).

use crate::line::{push_timestamp, Line};
use crate::num::parse_u32;
use crate::sys::{self, Fd, PathBuf};

/// facility daemon (3) << 3
const DAEMON: u8 = 3 << 3;

pub struct Syslog {
    fd: Fd,
    /// remote messages carry a HOSTNAME field; local ones do not
    host: Option<heapless::Vec<u8, 64>>,
    tag: &'static [u8],
    pid: u32,
    pub failed: u64,
}

impl Syslog {
    /// The local syslog socket, e.g. /dev/log.
    pub fn local(path: &[u8]) -> Result<Syslog, sys::Errno> {
        let fd = sys::unix_dgram_connect(&PathBuf::from(path))?;
        Ok(Syslog {
            fd,
            host: None,
            tag: b"memdog",
            pid: sys::getpid(),
            failed: 0,
        })
    }

    /// A remote collector over UDP.
    pub fn remote(ip: [u8; 4], port: u16) -> Result<Syslog, sys::Errno> {
        let fd = sys::udp_connect(ip, port)?;
        Ok(Syslog {
            fd,
            host: Some(sys::hostname()),
            tag: b"memdog",
            pid: sys::getpid(),
            failed: 0,
        })
    }

    /// Send one memdog log line (`TIMESTAMP up=... rest`) as one datagram.
    pub fn send(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let sev: u8 = if contains(line, b" event=crit ") {
            2
        } else if contains(line, b" event=warn ") {
            4
        } else if contains(line, b" event=") {
            5
        } else {
            6
        };
        let (ts, msg) = match line.iter().position(|&b| b == b' ') {
            Some(i) => (
                line.get(..i).unwrap_or(&[]),
                line.get(i + 1..).unwrap_or(&[]),
            ),
            None => (&[][..], line),
        };
        let mut l = Line::new();
        l.push(b"<");
        l.push_u64(u64::from(DAEMON | sev));
        l.push(b">");
        push_rfc3164_time(&mut l, ts);
        l.push(b" ");
        if let Some(h) = &self.host {
            l.push(h);
            l.push(b" ");
        }
        l.push(self.tag);
        l.push(b"[");
        l.push_u64(u64::from(self.pid));
        l.push(b"]: ");
        l.push(msg);
        if sys::send(&self.fd, l.as_bytes()).is_err() {
            // syslogd restarting, or no network: the file log still has it
            self.failed += 1;
        }
    }
}

fn contains(h: &[u8], n: &[u8]) -> bool {
    h.windows(n.len()).any(|w| w == n)
}

/// RFC 3164 TIMESTAMP `Mmm dd hh:mm:ss`, cut from a log line's own UTC time
/// (`2026-11-24T10:00:00Z`), or from the clock's when the line has none.
fn push_rfc3164_time(l: &mut Line, ts: &[u8]) {
    let mut own = Line::new();
    let ts = if is_iso(ts) {
        ts
    } else {
        push_timestamp(&mut own, sys::realtime().0);
        own.as_bytes()
    };
    const MON: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
    let mo = ts.get(5..7).and_then(parse_u32).unwrap_or(1).clamp(1, 12) as usize;
    l.push(MON.get(3 * mo - 3..3 * mo).unwrap_or(b"Jan"));
    l.push(if ts.get(8) == Some(&b'0') {
        b"  "
    } else {
        b" "
    });
    l.push(
        ts.get(8..10)
            .map(|d| d.strip_prefix(b"0").unwrap_or(d))
            .unwrap_or(b"1"),
    );
    l.push(b" ");
    l.push(ts.get(11..19).unwrap_or(b"00:00:00"));
}

/// `YYYY-MM-DDThh:mm:ss`: the shape of a log line's timestamp.
fn is_iso(ts: &[u8]) -> bool {
    ts.len() >= 19
        && ts.iter().take(19).enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::parse_ipv4_port;

    // the fields cut from the ISO text are those utc() computes, for every
    // month, one- and two-digit days and times
    #[test]
    fn timestamp_from_the_line() {
        for secs in (0..400).map(|i| 1_700_000_000 + i * 97_003 + i * i * 13) {
            let mut iso = Line::new();
            push_timestamp(&mut iso, secs);
            let mut got = Line::new();
            push_rfc3164_time(&mut got, iso.as_bytes());
            let (_, mo, d, h, mi, s) = crate::line::utc(secs);
            let mon = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            let want = format!("{} {d:>2} {h:02}:{mi:02}:{s:02}", mon[mo as usize - 1]);
            assert_eq!(std::str::from_utf8(got.as_bytes()).unwrap(), want);
        }
        // no timestamp on the line: the clock's, in the same shape
        let mut got = Line::new();
        push_rfc3164_time(&mut got, b"garbage");
        assert_eq!(got.as_bytes().len(), 15);
        assert_eq!(got.as_bytes()[9], b':');
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse_ipv4_port(b"192.168.1.10:514"),
            Some(([192, 168, 1, 10], 514))
        );
        assert_eq!(parse_ipv4_port(b"10.0.0.1"), None);
        assert_eq!(parse_ipv4_port(b"host.example:514"), None);
        assert_eq!(parse_ipv4_port(b"1.2.3.256:514"), None);
        assert_eq!(parse_ipv4_port(b"1.2.3.4:0"), None);
    }
}
