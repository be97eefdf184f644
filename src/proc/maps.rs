//! /proc/PID/maps: classify each mapping and sum sizes per class.
//!
//! `start-end perms offset dev inode   path`; the path may be empty (anonymous),
//! a `[label]`, or a file name that can hold spaces and end in ` (deleted)`.
//! Thread stacks are `[stack:TID]` on 3.4..4.4 kernels; elsewhere they are an
//! anonymous rw mapping directly above a small `---p` guard mapping (glibc and
//! musl put the guard below the stack). glibc malloc arenas look the other way
//! round (rw, then a large `---p` reserve above), and their reserve is MBs,
//! which is why the guard must be small to count.

use crate::num::is;
use crate::num::{next_token, parse_hex, parse_u64};

/// Guards are one page (glibc) to 64 KiB (large-page kernels); arena reserves are MBs.
pub const MAX_GUARD_KB: u64 = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Heap,
    Stack,
    ThreadStack,
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

fn is_shm(path: &[u8]) -> bool {
    path.starts_with(b"/SYSV") || path.starts_with(b"/dev/shm/") || path.starts_with(b"/memfd:")
}

/// Per-class totals of one maps file, in kB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapsSummary {
    pub heap_kb: u64,
    pub stack_kb: u64,
    pub thread_stacks: u32,
    pub thread_stack_kb: u64,
    pub anon_kb: u64,
    pub file_kb: u64,
    pub shm_kb: u64,
    pub special_kb: u64,
    pub total_kb: u64,
    pub mappings: u32,
    pub malformed: u32,
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
            p if is_shm(p) || (m.perms[3] == b's' && m.inode != 0 && !p.starts_with(b"/")) => {
                Class::Shm
            }
            kw if is(kw, b"") && m.inode == 0 => {
                if &m.perms == b"---p" && m.kb() <= MAX_GUARD_KB {
                    self.guard_end = Some(m.end);
                    Class::Anon
                } else if guarded && &m.perms[..2] == b"rw" {
                    Class::ThreadStack
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
                s.thread_stacks += 1;
                s.thread_stack_kb += kb
            }
            Class::Anon => s.anon_kb += kb,
            Class::File => s.file_kb += kb,
            Class::Shm => s.shm_kb += kb,
            Class::Special => s.special_kb += kb,
        }
    }

    pub fn parse(buf: &[u8]) -> MapsSummary {
        let mut p = MapsParser::default();
        for line in buf.split(|&b| b == b'\n') {
            p.feed_line(line);
        }
        p.sum
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
        let s = MapsParser::parse(maps);
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
