//! /proc/PID/maps: classify each mapping and sum sizes per class.
//!
//! `start-end perms offset dev inode   path`; the path may be empty (anonymous),
//! a `[label]`, or a file name that can hold spaces and end in ` (deleted)`.
//! Thread stacks are `[stack:TID]` on 3.4..4.4 kernels; elsewhere the only
//! sign is an anonymous rw mapping directly above a small `---p` guard mapping
//! (glibc and musl put the guard below the stack). glibc malloc arenas look the
//! other way round (rw, then a large `---p` reserve above), and their reserve is
//! MBs, which is why the guard must be small to count. Guard-page allocators
//! (electric fence, hardened mallocs, JITs) make the same shape, so a guarded
//! region is a thread stack only where the thread count agrees: when no
//! `[stack:TID]` label is seen and there are at most Threads - 1 guarded
//! regions ([`MapsSummary::resolve`]); otherwise they are all `guarded-anon`.
//!
//! Shared anonymous memory (`mmap(MAP_SHARED|MAP_ANONYMOUS)`) shows as
//! `/dev/zero (deleted)`, `rw-s`: it is shm, not a file; SysV segments are
//! `/SYSV...`, memfds `/memfd:...`, POSIX shm `/dev/shm/...`.

use crate::num::is;
use crate::num::{next_token, parse_hex, parse_u64};

/// Guards are one page (glibc) to 64 KiB (large-page kernels); arena reserves are MBs.
pub const MAX_GUARD_KB: u64 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Heap,
    Stack,
    ThreadStack,
    /// anonymous rw above a small guard: a thread stack or a guard-page
    /// allocator's region, until [`MapsSummary::resolve`] decides
    Guarded,
    Anon,
    File,
    Shm,
    Special,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping<'a> {
    pub start: u64,
    pub end: u64,
    pub perms: [u8; 4],
    pub inode: u64,
    pub path: &'a [u8],
}

impl Mapping<'_> {
    pub fn kb(&self) -> u64 {
        self.end.saturating_sub(self.start) / 1024
    }
    pub fn is_anon(&self) -> bool {
        self.path.is_empty()
    }
}

/// Parse one maps line; None for a malformed one.
pub fn parse_line(line: &[u8]) -> Option<Mapping<'_>> {
    let (range, rest) = next_token(line);
    let dash = range.iter().position(|&b| b == b'-')?;
    let start = parse_hex(range.get(..dash)?)?;
    let end = parse_hex(range.get(dash + 1..)?)?;
    let (perms_tok, rest) = next_token(rest);
    let perms: [u8; 4] = perms_tok.try_into().ok()?;
    let (_offset, rest) = next_token(rest);
    let (_dev, rest) = next_token(rest);
    let (inode, rest) = next_token(rest);
    let inode = parse_u64(inode)?;
    let path = crate::num::trim(rest);
    if end < start {
        return None;
    }
    Some(Mapping {
        start,
        end,
        perms,
        inode,
        path,
    })
}

fn is_shm(path: &[u8], perms: [u8; 4]) -> bool {
    path.starts_with(b"/SYSV")
        || path.starts_with(b"/dev/shm/")
        || path.starts_with(b"/memfd:")
        || (perms[3] == b's' && path.starts_with(b"/dev/zero"))
}

/// Per-class totals of one maps file, in kB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapsSummary {
    pub heap_kb: u64,
    pub stack_kb: u64,
    /// after [`MapsSummary::resolve`]: labelled stacks, plus guarded regions
    /// when the thread count agrees
    pub thread_stacks: u32,
    pub thread_stack_kb: u64,
    /// anonymous rw regions above a guard; before `resolve` not in any other
    /// class, after it the ones that are not thread stacks (counted in anon_kb too)
    pub guarded: u32,
    pub guarded_kb: u64,
    /// whether `resolve` decided the guarded regions are thread stacks
    pub guarded_are_stacks: bool,
    resolved: bool,
    /// labelled `[stack:TID]` regions seen
    pub labelled_stacks: u32,
    pub anon_kb: u64,
    pub file_kb: u64,
    pub shm_kb: u64,
    pub special_kb: u64,
    pub total_kb: u64,
    pub mappings: u32,
    pub malformed: u32,
}

/// The rule, for callers that count themselves (`maps`): no `[stack:TID]`
/// label, the thread count known, and at most Threads - 1 guarded regions.
pub fn guarded_are_thread_stacks(labelled: u32, guarded: u32, threads: Option<u32>) -> bool {
    match threads {
        Some(t) => labelled == 0 && guarded < t.max(1),
        None => false,
    }
}

impl MapsSummary {
    /// Whether guarded regions are thread stacks: no `[stack:TID]` label
    /// (kernels that label, label every thread stack) and no more of them
    /// than threads other than the main one.
    pub fn guarded_are_thread_stacks(&self, threads: Option<u32>) -> bool {
        guarded_are_thread_stacks(self.labelled_stacks, self.guarded, threads)
    }

    /// Decide the guarded regions with the process's thread count (status
    /// `Threads:`; None when unknown, and then they are not stacks).
    pub fn resolve(mut self, threads: Option<u32>) -> MapsSummary {
        if self.resolved {
            return self;
        }
        self.resolved = true;
        if self.guarded_are_thread_stacks(threads) {
            self.guarded_are_stacks = true;
            self.thread_stacks += self.guarded;
            self.thread_stack_kb += self.guarded_kb;
        } else {
            self.anon_kb += self.guarded_kb;
        }
        self
    }
}

/// Streaming classifier: feed lines in file order.
#[derive(Clone, Debug, Default)]
pub struct MapsParser {
    pub sum: MapsSummary,
    /// end address of the previous mapping if it was a small anonymous `---p` guard
    guard_end: Option<u64>,
}

impl MapsParser {
    /// Classify `m`, given the mapping just before it in address order.
    pub fn classify(&mut self, m: &Mapping) -> Class {
        let guarded = self.guard_end == Some(m.start);
        self.guard_end = None;
        match m.path {
            kw if is(kw, b"[heap]") => Class::Heap,
            kw if is(kw, b"[stack]") => Class::Stack,
            p if p.starts_with(b"[stack:") => Class::ThreadStack,
            p if p.starts_with(b"[") => Class::Special,
            p if is_shm(p, m.perms)
                || (m.perms[3] == b's' && m.inode != 0 && !p.starts_with(b"/")) =>
            {
                Class::Shm
            }
            // a private mapping of /dev/zero is plain anonymous memory
            p if p.starts_with(b"/dev/zero") => Class::Anon,
            kw if is(kw, b"") && m.inode == 0 => {
                if &m.perms == b"---p" && m.kb() <= MAX_GUARD_KB {
                    self.guard_end = Some(m.end);
                    Class::Anon
                } else if guarded && &m.perms[..2] == b"rw" {
                    Class::Guarded
                } else {
                    Class::Anon
                }
            }
            _ => Class::File,
        }
    }

    pub fn feed_line(&mut self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        let Some(m) = parse_line(line) else {
            self.sum.malformed += 1;
            return;
        };
        let class = self.classify(&m);
        let kb = m.kb();
        let s = &mut self.sum;
        s.mappings += 1;
        s.total_kb += kb;
        match class {
            Class::Heap => s.heap_kb += kb,
            Class::Stack => s.stack_kb += kb,
            Class::ThreadStack => {
                s.labelled_stacks += 1;
                s.thread_stacks += 1;
                s.thread_stack_kb += kb
            }
            Class::Guarded => {
                s.guarded += 1;
                s.guarded_kb += kb
            }
            Class::Anon => s.anon_kb += kb,
            Class::File => s.file_kb += kb,
            Class::Shm => s.shm_kb += kb,
            Class::Special => s.special_kb += kb,
        }
    }

    /// Parse a whole maps file; guarded regions are decided with `threads`.
    pub fn parse_with(buf: &[u8], threads: Option<u32>) -> MapsSummary {
        let mut p = MapsParser::default();
        for line in buf.split(|&b| b == b'\n') {
            p.feed_line(line);
        }
        p.sum.resolve(threads)
    }

    /// Parse a whole maps file, thread count unknown (guarded regions are anon).
    pub fn parse(buf: &[u8]) -> MapsSummary {
        Self::parse_with(buf, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let maps = b"\
00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon
00e03000-00e24000 rw-p 00000000 00:00 0           [heap]
7f0000000000-7f0000021000 rw-p 00000000 00:00 0 
7f0000021000-7f0004000000 ---p 00000000 00:00 0 
7f1000000000-7f1000001000 ---p 00000000 00:00 0 
7f1000001000-7f1000801000 rw-p 00000000 00:00 0 
7f2000000000-7f2000100000 rw-s 00000000 00:05 32768 /SYSV00000000 (deleted)
7f3000000000-7f3000001000 r--p 00000000 08:02 99 /lib/my lib.so (deleted)
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0  [stack]
7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0  [vdso]
";
        let s = MapsParser::parse_with(maps, Some(2));
        assert_eq!(s.heap_kb, 132);
        assert_eq!(s.stack_kb, 132);
        assert_eq!((s.thread_stacks, s.thread_stack_kb), (1, 8192));
        // arena (132) + its reserve + the 4 kB guard
        assert_eq!(s.anon_kb, 132 + (0x4000000 - 0x21000) / 1024 + 4);
        assert_eq!(s.file_kb, 0x52000 / 1024 + 4);
        assert_eq!(s.shm_kb, 1024);
        assert_eq!(s.special_kb, 8);
        assert_eq!(s.mappings, 10);
        assert_eq!(s.malformed, 0);
    }

    const GUARDED: &[u8] = b"\
7f1000000000-7f1000001000 ---p 00000000 00:00 0 
7f1000001000-7f1000801000 rw-p 00000000 00:00 0 
7f2000000000-7f2000001000 ---p 00000000 00:00 0 
7f2000001000-7f2000801000 rw-p 00000000 00:00 0 
";

    #[test]
    fn guarded_regions_are_stacks_only_when_threads_agree() {
        for (threads, stacks) in [
            (Some(3), true),
            (Some(9), true),
            (Some(2), false),
            (Some(1), false),
            (None, false),
        ] {
            let s = MapsParser::parse_with(GUARDED, threads);
            assert_eq!(s.guarded, 2);
            assert_eq!(s.guarded_are_stacks, stacks, "Threads {threads:?}");
            if stacks {
                assert_eq!(
                    (s.thread_stacks, s.thread_stack_kb, s.anon_kb),
                    (2, 16384, 8)
                );
            } else {
                assert_eq!(
                    (s.thread_stacks, s.thread_stack_kb, s.anon_kb),
                    (0, 0, 16384 + 8)
                );
            }
            // resolve is idempotent
            assert_eq!(s.resolve(threads), s);
        }
        // a kernel that labels thread stacks labels them all: the guarded ones are not
        let mut both = GUARDED.to_vec();
        both.extend_from_slice(b"7e000000-7e800000 rw-p 00000000 00:00 0 [stack:812]\n");
        let s = MapsParser::parse_with(&both, Some(8));
        assert_eq!(
            (s.thread_stacks, s.labelled_stacks, s.guarded_are_stacks),
            (1, 1, false)
        );
    }

    #[test]
    fn shared_anonymous_memory_is_shm_and_private_dev_zero_anon() {
        let maps = b"\
7f2000000000-7f2000100000 rw-s 00000000 00:01 1043 /dev/zero (deleted)
7f3000000000-7f3000001000 rw-p 00000000 00:05 6 /dev/zero
7f4000000000-7f4000002000 rw-s 00000000 00:01 77 /memfd:pool (deleted)
7f5000000000-7f5000004000 rw-s 00000000 08:01 99 /var/lib/data.bin (deleted)
";
        let s = MapsParser::parse(maps);
        assert_eq!((s.shm_kb, s.anon_kb, s.file_kb), (1024 + 8, 4, 16));
    }

    #[test]
    fn labelled_thread_stacks_and_old_single_space_format() {
        let maps = b"7e000000-7e800000 rw-p 00000000 00:00 0 [stack:812]\n08048000-0804c000 r-xp 00000000 03:05 1 /bin/tcsh\n0808c000-080a0000 rwxp 00000000 00:00 0\n";
        let s = MapsParser::parse(maps);
        assert_eq!((s.thread_stacks, s.thread_stack_kb), (1, 8192));
        assert_eq!(s.file_kb, 16);
        assert_eq!(s.anon_kb, 80);
    }

    #[test]
    fn malformed_lines_are_counted() {
        let s = MapsParser::parse(
            b"zzzz\n1000-0fff rw-p 0 0 0\n00001000-00002000 rw-p 00000000 00:00 x\n",
        );
        assert_eq!(s.malformed, 3);
        assert_eq!(s.mappings, 0);
    }
}
