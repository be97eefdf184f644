//! The value words the command line and the config file both take: field
//! names, durations, sizes, signal names, IP:PORT addresses. One place, so
//! `--log-size 64k` and `log_size = 64k` can never mean different things.

use crate::num::{is, parse_u32, parse_u64_prefix};
use crate::proc::status::{vm_index, NFIELDS, VM_FIELDS};

/// Fields besides the Vm*/Rss* ones: Threads from status, then six from
/// /proc/PID/maps; with the `fields-extra` feature `fds` (entries of
/// /proc/PID/fd), four from /proc/PID/smaps_rollup, and three system ones
/// from /proc/pressure/memory (logged on the meminfo line, for [system]).
#[cfg(not(feature = "fields-extra"))]
pub const EXTRA_FIELDS: [&str; 7] = [
    "Threads",
    "heap",
    "stack",
    "stacks",
    "nthreadstacks",
    "anon",
    "file",
];
#[cfg(feature = "fields-extra")]
pub const EXTRA_FIELDS: [&str; 15] = [
    "Threads",
    "heap",
    "stack",
    "stacks",
    "nthreadstacks",
    "anon",
    "file",
    "fds",
    "Pss",
    "Pss_Anon",
    "Uss",
    "SwapPss",
    "psi_some_avg10",
    "psi_full_avg10",
    "psi_some_total",
];
pub const THREADS: usize = NFIELDS;
pub const HEAP: usize = NFIELDS + 1;
pub const STACK: usize = NFIELDS + 2;
pub const STACKS: usize = NFIELDS + 3;
pub const NTHREADSTACKS: usize = NFIELDS + 4;
pub const ANON: usize = NFIELDS + 5;
pub const FILE: usize = NFIELDS + 6;
/// The `fields-extra` process fields, in [`crate::proc::status::Status`]'s
/// `extra` order: fds, then the smaps_rollup ones.
pub const FDS: usize = NFIELDS + 7;
pub const PSS: usize = NFIELDS + 8;
pub const PSS_ANON: usize = NFIELDS + 9;
pub const USS: usize = NFIELDS + 10;
pub const SWAP_PSS: usize = NFIELDS + 11;
/// The system fields of /proc/pressure/memory: avg10 in hundredths of a
/// percent, the total in microseconds.
pub const PSI_SOME_AVG10: usize = NFIELDS + 12;
pub const PSI_FULL_AVG10: usize = NFIELDS + 13;
pub const PSI_SOME_TOTAL: usize = NFIELDS + 14;

/// A set of fields, as bits: index < NFIELDS is a Vm*/Rss* field, then EXTRA_FIELDS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields(pub u32);

impl Fields {
    pub fn default_set() -> Fields {
        let mut f = Fields(0);
        for n in [
            "VmRSS", "VmSize", "VmHWM", "RssAnon", "RssFile", "VmData", "VmSwap", "Threads", "heap",
        ] {
            if let Some(i) = field_index(n.as_bytes()) {
                f.0 |= 1 << i;
            }
        }
        f
    }
    pub fn has(self, i: usize) -> bool {
        i < 32 && self.0 & (1 << i) != 0
    }
    /// True when a field needs /proc/PID/maps.
    pub fn needs_maps(self) -> bool {
        (HEAP..=FILE).any(|i| self.has(i))
    }
    /// A field of /proc/PID/smaps_rollup: read only then (it takes the
    /// target's mmap lock).
    pub fn needs_rollup(self) -> bool {
        (PSS..=SWAP_PSS).any(|i| self.has(i))
    }
    /// A field of /proc/pressure/memory.
    pub fn needs_psi(self) -> bool {
        (PSI_SOME_AVG10..=PSI_SOME_TOTAL).any(|i| self.has(i))
    }
    pub fn name(i: usize) -> &'static str {
        VM_FIELDS
            .get(i)
            .or_else(|| EXTRA_FIELDS.get(i.wrapping_sub(NFIELDS)))
            .copied()
            .unwrap_or("?")
    }
}

/// Is field `i` one of the system's (pressure), not a process's?
pub fn is_system_field(i: usize) -> bool {
    cfg!(feature = "fields-extra") && (PSI_SOME_AVG10..=PSI_SOME_TOTAL).contains(&i)
}

/// Is field `i` one that is read only when named (fds, smaps_rollup)?
pub fn is_on_demand(i: usize) -> bool {
    cfg!(feature = "fields-extra") && (FDS..=SWAP_PSS).contains(&i)
}

pub fn field_index(name: &[u8]) -> Option<usize> {
    vm_index(name).or_else(|| {
        EXTRA_FIELDS
            .iter()
            .position(|f| f.as_bytes() == name)
            .map(|i| i + NFIELDS)
    })
}

/// `600s`, `10m`, `500ms`, `1h`, `2d` or bare seconds, 1 ms to 7 days.
/// (Boards want seconds to minutes; milliseconds are for tests and soak runs.)
pub fn parse_duration_ms(s: &[u8]) -> Option<u64> {
    let (v, unit) = parse_u64_prefix(s)?;
    if s.first().is_some_and(|b| !b.is_ascii_digit()) {
        return None;
    }
    let mul = match unit {
        kw if is(kw, b"ms") => 1,
        kw if is(kw, b"") || is(kw, b"s") => 1000,
        kw if is(kw, b"m") || is(kw, b"min") => 60_000,
        kw if is(kw, b"h") => 3_600_000,
        kw if is(kw, b"d") => 86_400_000,
        _ => return None,
    };
    let ms = v.checked_mul(mul)?;
    (1..=7 * 86_400_000).contains(&ms).then_some(ms)
}

/// `64k`, `1M`, `1G`, or bytes.
pub fn parse_size(v: &[u8]) -> Option<u64> {
    let (n, unit) = parse_u64_prefix(v)?;
    let mul = match unit {
        kw if is(kw, b"") => 1,
        kw if is(kw, b"k") || is(kw, b"K") || is(kw, b"kB") || is(kw, b"KiB") => 1024,
        kw if is(kw, b"M") || is(kw, b"MB") || is(kw, b"MiB") => 1024 * 1024,
        kw if is(kw, b"G") || is(kw, b"GB") || is(kw, b"GiB") => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mul)
}

/// A log file's size limit, the same for `--log-size` and `log_size =`:
/// at least 1 KiB (a few lines), at most 1 GiB (a board's flash).
pub const LOG_SIZE_WORDS: &str = "log size needs a size from 1k to 1G, like 64k or 1M";

pub fn parse_log_size(v: &[u8]) -> Option<u64> {
    parse_size(v).filter(|s| (1024..=1 << 30).contains(s))
}

pub fn signal_number(name: &[u8]) -> Option<i32> {
    let n = name.strip_prefix(b"SIG").unwrap_or(name);
    Some(match n {
        kw if is(kw, b"TERM") => libc::SIGTERM,
        kw if is(kw, b"KILL") => libc::SIGKILL,
        kw if is(kw, b"HUP") => libc::SIGHUP,
        kw if is(kw, b"INT") => libc::SIGINT,
        kw if is(kw, b"QUIT") => libc::SIGQUIT,
        kw if is(kw, b"ABRT") => libc::SIGABRT,
        kw if is(kw, b"USR1") => libc::SIGUSR1,
        kw if is(kw, b"USR2") => libc::SIGUSR2,
        _ => {
            return parse_u32(n)
                .and_then(|v| i32::try_from(v).ok())
                .filter(|&v| v > 0 && v < 65)
        }
    })
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
#[cfg(feature = "metrics-endpoint")]
/// `ADDR:PORT` with a numeric address: `0.0.0.0:9101`, `[::1]:9101`.
pub fn parse_listen(s: &[u8]) -> Option<crate::sys::net::Addr> {
    if let Some((ip, port)) = parse_ipv4_port(s) {
        return (port > 0).then_some(crate::sys::net::Addr::V4(ip, port));
    }
    let rest = s.strip_prefix(b"[")?;
    let end = rest.iter().position(|&c| c == b']')?;
    let port = parse_u32(rest.get(end + 1..)?.strip_prefix(b":")?)?;
    let port = u16::try_from(port).ok().filter(|&p| p > 0)?;
    Some(crate::sys::net::Addr::V6(
        parse_ipv6(rest.get(..end)?)?,
        port,
    ))
}

#[cfg(feature = "metrics-endpoint")]
/// The 16 bytes of a textual IPv6 address (hex groups, one `::`; no
/// dotted IPv4 tail, no scope).
fn parse_ipv6(s: &[u8]) -> Option<[u8; 16]> {
    fn groups(s: &[u8], out: &mut [u16; 8]) -> Option<usize> {
        if s.is_empty() {
            return Some(0);
        }
        let mut n = 0;
        for g in s.split(|&c| c == b':') {
            if g.is_empty() || g.len() > 4 {
                return None;
            }
            let mut v = 0u16;
            for &c in g {
                v = v << 4 | (c as char).to_digit(16)? as u16;
            }
            *out.get_mut(n)? = v;
            n += 1;
        }
        Some(n)
    }
    let (mut head, mut tail) = ([0u16; 8], [0u16; 8]);
    let gap = s.windows(2).position(|w| w == b"::");
    let (nh, nt) = match gap {
        None => (groups(s, &mut head)?, 0),
        Some(i) => {
            let b = s.get(i + 2..)?;
            if b.windows(2).any(|w| w == b"::") {
                return None;
            }
            (groups(s.get(..i)?, &mut head)?, groups(b, &mut tail)?)
        }
    };
    if (gap.is_none() && nh != 8) || (gap.is_some() && nh + nt > 7) {
        return None;
    }
    let mut w = head;
    for k in 0..nt {
        *w.get_mut(8 - nt + k)? = *tail.get(k)?;
    }
    let mut out = [0u8; 16];
    for (o, g) in out.chunks_exact_mut(2).zip(w) {
        o.copy_from_slice(&g.to_be_bytes());
    }
    Some(out)
}
