//! Syslog outputs: RFC 3164 datagrams to the local /dev/log (as busybox
//! syslogd and logread expect) and to a remote collector over UDP at a
//! numeric IPv4 address (no DNS on a board that is running out of memory).

use crate::line::{utc, Line};
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

/// `192.168.1.10:514` -> (address bytes, port)
pub fn parse_ipv4_port(s: &[u8]) -> Option<([u8; 4], u16)> {
    let colon = s.iter().rposition(|&b| b == b':')?;
    let port = crate::num::parse_u32(s.get(colon + 1..)?).filter(|&p| p > 0 && p < 65536)? as u16;
    let mut ip = [0u8; 4];
    let mut n = 0;
    for part in s.get(..colon)?.split(|&b| b == b'.') {
        let v = crate::num::parse_u32(part).filter(|&v| v < 256)?;
        *ip.get_mut(n)? = v as u8;
        n += 1;
    }
    (n == 4).then_some((ip, port))
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
        // RFC 3164 TIMESTAMP "Mmm dd hh:mm:ss", from the line's own UTC time
        let secs = crate::report::parse_time(ts).unwrap_or(sys::realtime().0);
        let (_, mo, d, h, mi, s) = utc(secs);
        const MON: [&[u8]; 12] = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        l.push(
            MON.get(mo.saturating_sub(1) as usize)
                .copied()
                .unwrap_or(b"Jan"),
        );
        l.push(if d < 10 { b"  " } else { b" " });
        l.push_u64(u64::from(d));
        for (v, sep) in [(h, b" "), (mi, b":"), (s, b":")] {
            l.push(sep);
            if v < 10 {
                l.push(b"0");
            }
            l.push_u64(u64::from(v));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
