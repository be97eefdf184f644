//! /proc/PID/smaps_rollup (Linux 4.14+): the process's smaps summed by the
//! kernel into one block, for the PSS/USS fields.
//!
//! Reading it walks every mapping under the target's mmap lock (seconds
//! on a huge process, process-exporter#246), so memdog reads it only when
//! a field or rule names Pss, Pss_Anon, Uss or SwapPss. Lines a kernel does
//! not print are `None`, never 0: Pss_Anon came with 5.7 (and
//! Private_Clean/Private_Dirty, SwapPss were there from 4.14).

use super::split_key;
use crate::num::{is, parse_u64_prefix};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rollup {
    pub rss: Option<u64>,
    pub pss: Option<u64>,
    pub pss_anon: Option<u64>,
    pub private_clean: Option<u64>,
    pub private_dirty: Option<u64>,
    pub swap_pss: Option<u64>,
    /// `Key: N kB` lines seen (the `[rollup]` header is not one): 0 means
    /// the text was no smaps_rollup
    pub lines: u32,
}

impl Rollup {
    /// Parse a whole file held in memory.
    pub fn parse(buf: &[u8]) -> Rollup {
        let mut r = Rollup::default();
        for line in buf.split(|&b| b == b'\n') {
            r.feed_line(line);
        }
        r
    }

    /// USS, the memory only this process maps: Private_Clean +
    /// Private_Dirty, None unless both lines are there.
    pub fn uss(&self) -> Option<u64> {
        self.private_clean?.checked_add(self.private_dirty?)
    }

    /// Take one line; the header, unknown keys and garbage are ignored.
    pub fn feed_line(&mut self, line: &[u8]) {
        let Some((key, val)) = split_key(line) else {
            return;
        };
        // "%8lu kB": a number, then the unit, nothing else
        let Some((v, rest)) = parse_u64_prefix(val) else {
            return;
        };
        if crate::num::trim(rest) != b"kB" {
            return;
        }
        let slot = match key {
            kw if is(kw, b"Rss") => &mut self.rss,
            kw if is(kw, b"Pss") => &mut self.pss,
            kw if is(kw, b"Pss_Anon") => &mut self.pss_anon,
            kw if is(kw, b"Private_Clean") => &mut self.private_clean,
            kw if is(kw, b"Private_Dirty") => &mut self.private_dirty,
            kw if is(kw, b"SwapPss") => &mut self.swap_pss,
            _ => {
                self.lines += 1;
                return;
            }
        };
        self.lines += 1;
        // first one wins: a rollup has one block
        if slot.is_none() {
            *slot = Some(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's /proc/self/smaps_rollup on 6.18 (x86_64), captured.
    const LINUX_6_18: &[u8] =
        b"5650adb10000-7ffe5a74e000 ---p 00000000 00:00 0                          [rollup]
Rss:                1768 kB
Pss:                 575 kB
Pss_Dirty:           116 kB
Pss_Anon:            116 kB
Pss_File:            459 kB
Pss_Shmem:             0 kB
Shared_Clean:       1564 kB
Shared_Dirty:          0 kB
Private_Clean:        88 kB
Private_Dirty:       116 kB
Referenced:         1768 kB
Anonymous:           116 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
";

    /// The 4.14-5.6 layout (fs/proc/task_mmu.c of 4.19): no Pss_Anon,
    /// Pss_File, Pss_Shmem, Pss_Dirty.
    const LINUX_4_19: &[u8] =
        b"00400000-7ffc8a5d1000 ---p 00000000 00:00 0                          [rollup]
Rss:                 884 kB
Pss:                 151 kB
Shared_Clean:        788 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:        96 kB
Referenced:          884 kB
Anonymous:            96 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
";

    #[test]
    fn a_6_18_rollup() {
        let r = Rollup::parse(LINUX_6_18);
        assert_eq!(
            (r.rss, r.pss, r.pss_anon, r.uss(), r.swap_pss),
            (Some(1768), Some(575), Some(116), Some(88 + 116), Some(0))
        );
        assert_eq!(r.lines, 22);
    }

    #[test]
    fn before_5_7_pss_anon_is_absent_not_zero() {
        let r = Rollup::parse(LINUX_4_19);
        assert_eq!(r.pss_anon, None);
        assert_eq!((r.pss, r.uss(), r.swap_pss), (Some(151), Some(96), Some(0)));
    }

    #[test]
    fn uss_needs_both_private_lines() {
        let r = Rollup::parse(b"Private_Dirty: 5 kB\n");
        assert_eq!(r.uss(), None);
        let r = Rollup::parse(b"Private_Clean: 7 kB\n");
        assert_eq!(r.uss(), None);
    }

    #[test]
    fn not_a_rollup_and_garbage() {
        // a status file, a maps line, junk: nothing is taken
        let r = Rollup::parse(
            b"Name:\tx\nVmRSS:\t5 kB\n00400000-00452000 r-xp 0 08:02 173521 /bin/x\n",
        );
        assert_eq!((r.pss, r.uss()), (None, None));
        let r =
            Rollup::parse(b"Pss: lots kB\nPss: 12 MB\nPss:\nSwapPss: 99999999999999999999999 kB\n");
        assert_eq!((r.pss, r.swap_pss, r.lines), (None, None, 0));
        assert_eq!(Rollup::parse(b"").lines, 0);
    }

    /// The live file of this test process (4.14+): every field there, and
    /// the sums hold (Pss <= Rss, Uss <= Rss).
    #[test]
    fn this_process_live() {
        let Ok(text) = std::fs::read("/proc/self/smaps_rollup") else {
            eprintln!("SKIP this_process_live: no /proc/self/smaps_rollup (kernel before 4.14)");
            return;
        };
        let r = Rollup::parse(&text);
        let rss = r.rss.unwrap();
        assert!(r.pss.unwrap() <= rss && r.uss().unwrap() <= rss, "{r:?}");
        assert!(r.swap_pss.is_some() && r.lines >= 15, "{r:?}");
    }

    /// Every line of a capture, fed in any order of cut points through the
    /// streaming reader with a small buffer, gives the same values.
    #[test]
    fn streams_through_a_small_buffer() {
        struct Chunks<'a>(&'a [u8], usize);
        impl embedded_io::ErrorType for Chunks<'_> {
            type Error = core::convert::Infallible;
        }
        impl embedded_io::Read for Chunks<'_> {
            fn read(&mut self, b: &mut [u8]) -> Result<usize, Self::Error> {
                let n = self.0.len().min(b.len()).min(self.1);
                b[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let want = Rollup::parse(LINUX_6_18);
        for chunk in [1, 7, 64, 4096] {
            let mut r = Rollup::default();
            let mut buf = [0u8; 96];
            crate::proc::for_each_line(&mut Chunks(LINUX_6_18, chunk), &mut buf, |l| {
                r.feed_line(l)
            })
            .unwrap();
            assert_eq!(r, want, "chunk {chunk}");
        }
    }
}
