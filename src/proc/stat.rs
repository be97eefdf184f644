//! /proc/PID/stat: comm, state, ppid, threads, starttime, vsize, rss.
//!
//! comm is printed raw by the kernel and may hold spaces, parentheses and
//! newlines, so it is found between the first `(` and the LAST `)`.

use crate::num::{next_token, parse_u64};

/// comm is at most 15 bytes (TASK_COMM_LEN 16) on every kernel memdog targets;
/// 64 leaves room for kernels that print longer thread names.
pub const COMM_CAP: usize = 64;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub pid: u32,
    /// raw bytes, not escaped
    pub comm: heapless::Vec<u8, COMM_CAP>,
    pub state: u8,
    pub ppid: u32,
    /// user and system CPU time in clock ticks
    pub utime: u64,
    pub stime: u64,
    pub threads: u32,
    /// start time after boot in clock ticks: (pid, starttime) names a process
    /// uniquely, so pid reuse shows as a new starttime.
    pub starttime: u64,
    pub vsize_bytes: u64,
    pub rss_pages: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadStat;

impl Stat {
    pub fn parse(buf: &[u8]) -> Result<Stat, BadStat> {
        let open = buf.iter().position(|&b| b == b'(').ok_or(BadStat)?;
        let close = buf.iter().rposition(|&b| b == b')').ok_or(BadStat)?;
        if close < open {
            return Err(BadStat);
        }
        let pid = parse_u64(buf.get(..open).ok_or(BadStat)?).ok_or(BadStat)?;
        let comm = buf.get(open + 1..close).ok_or(BadStat)?;
        let mut st = Stat {
            pid: u32::try_from(pid).map_err(|_| BadStat)?,
            ..Stat::default()
        };
        let n = comm.len().min(COMM_CAP);
        let _ = st.comm.extend_from_slice(comm.get(..n).unwrap_or(&[]));

        // fields after ')': index 0 is field 3 (state) of proc(5)
        let mut rest = buf.get(close + 1..).ok_or(BadStat)?;
        let mut got = 0;
        for i in 0..22 {
            let (tok, r) = next_token(rest);
            rest = r;
            if tok.is_empty() {
                break;
            }
            got = i + 1;
            let num = || parse_u64(tok);
            match i {
                0 => st.state = tok.first().copied().ok_or(BadStat)?,
                1 => st.ppid = num().and_then(|v| u32::try_from(v).ok()).ok_or(BadStat)?,
                11 => st.utime = num().ok_or(BadStat)?,
                12 => st.stime = num().ok_or(BadStat)?,
                17 => st.threads = num().and_then(|v| u32::try_from(v).ok()).ok_or(BadStat)?,
                19 => st.starttime = num().ok_or(BadStat)?,
                20 => st.vsize_bytes = num().ok_or(BadStat)?,
                21 => st.rss_pages = num().ok_or(BadStat)?,
                _ => {}
            }
        }
        // 2.6.0 prints 41 fields; everything up to rss (field 24) is always there
        if got < 22 {
            return Err(BadStat);
        }
        Ok(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain() {
        let s = Stat::parse(b"3158 (hostapd) S 1 3158 3158 0 -1 4210944 200 0 0 0 12 34 0 0 20 0 1 0 5000 5814272 308 4294967295 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0\n").unwrap();
        assert_eq!(s.pid, 3158);
        assert_eq!(&s.comm[..], b"hostapd");
        assert_eq!((s.state, s.ppid, s.threads), (b'S', 1, 1));
        assert_eq!((s.utime, s.stime), (12, 34));
        assert_eq!(s.starttime, 5000);
        assert_eq!(s.vsize_bytes, 5814272);
        assert_eq!(s.rss_pages, 308);
    }

    #[test]
    fn hostile_comm_with_parens_spaces_and_newline() {
        let s = Stat::parse(
            b"1020 (a) R 1 (\nb) S 7 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 3 0 99 4096 2 0\n",
        )
        .unwrap();
        assert_eq!(&s.comm[..], b"a) R 1 (\nb");
        assert_eq!((s.state, s.ppid, s.threads, s.starttime), (b'S', 7, 3, 99));
    }

    #[test]
    fn short_or_garbage_is_an_error() {
        assert_eq!(Stat::parse(b""), Err(BadStat));
        assert_eq!(Stat::parse(b"12 (x) S 1 2 3"), Err(BadStat));
        assert_eq!(Stat::parse(b"x (y) S"), Err(BadStat));
        assert_eq!(Stat::parse(b")12 ("), Err(BadStat));
    }
}
