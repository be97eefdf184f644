//! `memdog maps` and `memdog dump`: where a process's memory is, and what
//! is in it, without gdb. maps streams /proc/PID/maps (or smaps with --rss)
//! through the fixed line buffer; dump reads /proc/PID/mem with pread in
//! fixed chunks and prints printable strings like `strings -a -n 10`.

use crate::line::Line;
use crate::num::is;
use crate::num::{parse_hex, parse_u64_prefix};
use crate::out::{self, exit};
use crate::proc::for_each_line;
use crate::proc::maps::{parse_line, Class, MapsParser};
use crate::sample::ReadError;
use crate::sys::{self, Errno, Fd, PathBuf};

/// Files listed one by one in `maps`; the rest are folded into one row. A
/// big process maps 100-300 files; 48 rows fill a terminal.
pub const MAX_FILES: usize = 48;
/// Paths longer than this are cut in the per-file table.
pub const FILE_NAME_CAP: usize = 96;
/// pread chunk for /proc/PID/mem: one 4 KiB page, the unit the kernel maps.
pub const CHUNK: usize = 4096;
/// Distinct strings counted by `--top` and `--diff`: 2048 x 64 bytes on the
/// stack. When full, new strings are counted as `untracked`, never evicted.
pub const TABLE_CAP: usize = 2048;
/// Bytes of each counted string kept for display.
pub const KEEP: usize = 48;
/// Longest --min-len (the run buffer).
pub const MAX_MIN_LEN: usize = 256;

const CLASSES: [(&str, Class); 7] = [
    ("heap", Class::Heap),
    ("stack", Class::Stack),
    ("thread-stacks", Class::ThreadStack),
    ("anon", Class::Anon),
    ("file", Class::File),
    ("shm", Class::Shm),
    ("special", Class::Special),
];

#[derive(Clone, Copy, Default)]
struct Totals {
    kb: u64,
    n: u32,
    rss: u64,
    pss: u64,
    dirty: u64,
}

#[derive(Clone, Default)]
struct FileRow {
    path: heapless::Vec<u8, FILE_NAME_CAP>,
    text: u64,
    data: u64,
    bss: u64,
    ro: u64,
}

fn class_index(c: Class) -> usize {
    CLASSES.iter().position(|(_, k)| *k == c).unwrap_or(3)
}

fn pid_error(root: &[u8], pid: u32, file: &[u8], e: ReadError) -> i32 {
    let mut b = [0u8; 20];
    let p = crate::num::fmt_u64(u64::from(pid), &mut b);
    match e {
        ReadError::Gone => {
            out::error(&[b"pid ", p, b" not found in ", root, b" (process gone?)"]);
            exit::NOT_FOUND
        }
        ReadError::Denied => {
            out::error(&[b"cannot read ", root, b"/", p, b"/", file, b": permission denied (needs root or the same uid; kernel.yama.ptrace_scope may forbid it)"]);
            exit::DENIED
        }
        _ => {
            out::error(&[b"cannot read ", root, b"/", p, b"/", file]);
            exit::FAILURE
        }
    }
}

fn print(l: &mut Line) {
    let _ = sys::write_all(sys::STDOUT, l.finish());
    l.clear();
}

fn cell(l: &mut Line, v: u64, width: usize) {
    l.cell(Some(v), width);
}

/// `memdog maps PID [--rss]`
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn maps(root: &[u8], pid: u32, rss: bool) -> i32 {
    let path = PathBuf::proc_file(root, pid, if rss { b"smaps" } else { b"maps" });
    let mut fd = match Fd::open_read(&path) {
        Ok(fd) => fd,
        Err(e) => return pid_error(root, pid, if rss { b"smaps" } else { b"maps" }, e.into()),
    };
    let mut totals = [Totals::default(); 7];
    let mut files: heapless::Vec<FileRow, MAX_FILES> = heapless::Vec::new();
    let mut other = FileRow::default();
    let mut p = MapsParser::default();
    let mut deleted = (0u64, 0u32);
    let mut cur = 3usize;
    // the file whose rw mapping ended where an anonymous mapping may start (its bss)
    let mut last_data: Option<(u64, usize)> = None;
    let mut buf = [0u8; crate::sample::READ_BUF];
    let r = for_each_line(&mut fd, &mut buf, |line| {
        let Some(m) = parse_line(line) else {
            // smaps field lines: "Rss:   12 kB"
            let field = |k: &[u8]| {
                line.strip_prefix(k)
                    .and_then(|r| parse_u64_prefix(r))
                    .map(|(v, _)| v)
            };
            if let Some(t) = totals.get_mut(cur) {
                if let Some(v) = field(b"Rss:") {
                    t.rss += v;
                } else if let Some(v) = field(b"Pss:") {
                    t.pss += v;
                } else if let Some(v) = field(b"Private_Dirty:") {
                    t.dirty += v;
                }
            }
            return;
        };
        let class = p.classify(&m);
        let kb = m.kb();
        cur = class_index(class);
        p.sum.mappings += 1;
        p.sum.total_kb += kb;
        if class == Class::ThreadStack {
            p.sum.thread_stacks += 1;
        }
        let bss_of = match (class, last_data) {
            (Class::Anon, Some((end, i))) if end == m.start && &m.perms[..2] == b"rw" => Some(i),
            _ => None,
        };
        last_data = None;
        if let Some(i) = bss_of {
            if let Some(f) = files.get_mut(i) {
                f.bss += kb;
            } else {
                other.bss += kb;
            }
        }
        if let Some(t) = totals.get_mut(cur) {
            t.kb += kb;
            t.n += 1;
        }
        if class == Class::File {
            if m.path.ends_with(b" (deleted)") {
                deleted.0 += kb;
                deleted.1 += 1;
            }
            let name = m.path.get(..m.path.len().min(FILE_NAME_CAP)).unwrap_or(&[]);
            let i = match files.iter().position(|f| &f.path[..] == name) {
                Some(i) => i,
                None => {
                    let row = FileRow {
                        path: heapless::Vec::from_slice(name).unwrap_or_default(),
                        ..FileRow::default()
                    };
                    if files.push(row).is_ok() {
                        files.len() - 1
                    } else {
                        MAX_FILES
                    }
                }
            };
            let row = match files.get_mut(i) {
                Some(r) => r,
                None => &mut other,
            };
            match (m.perms[1], m.perms[2]) {
                (_, b'x') => row.text += kb,
                (b'w', _) => {
                    row.data += kb;
                    last_data = Some((m.end, i));
                }
                _ => row.ro += kb,
            }
        }
    });
    if let Err(e) = r {
        return pid_error(root, pid, b"maps", e.into());
    }
    if p.sum.mappings == 0 {
        // an empty maps: a kernel thread or a zombie has no user memory
        let mut b = [0u8; 20];
        out::error(&[
            b"pid ",
            crate::num::fmt_u64(u64::from(pid), &mut b),
            b" has no user mappings (kernel thread or zombie)",
        ]);
        return exit::OK;
    }
    let mut l = Line::new();
    l.push(b"mappings=");
    l.push_u64(u64::from(p.sum.mappings));
    l.kv(b"total_kb", p.sum.total_kb);
    l.kv(b"thread_stacks", u64::from(p.sum.thread_stacks));
    l.kv(b"deleted_kb", deleted.0);
    print(&mut l);
    l.push(b"class                kB  maps");
    if rss {
        l.push(b"       Rss       Pss  Priv_Dirty");
    }
    print(&mut l);
    let bss_total: u64 = files.iter().map(|f| f.bss).sum::<u64>() + other.bss;
    for (i, (name, _)) in CLASSES.iter().enumerate() {
        let Some(t) = totals.get(i) else { continue };
        let kb = if i == 3 {
            t.kb.saturating_sub(bss_total)
        } else {
            t.kb
        };
        l.push(name.as_bytes());
        for _ in name.len()..14 {
            l.push(b" ");
        }
        cell(&mut l, kb, 10);
        cell(&mut l, u64::from(t.n), 6);
        if rss {
            cell(&mut l, t.rss, 10);
            cell(&mut l, t.pss, 10);
            cell(&mut l, t.dirty, 12);
        }
        print(&mut l);
    }
    l.push(b"(anon excludes ");
    l.push_u64(bss_total);
    l.push(b" kB of bss, listed per file)");
    print(&mut l);
    l.push(b"      text      data       bss        ro  file");
    print(&mut l);
    let mut row = |f: &FileRow, name: &[u8]| {
        cell(&mut l, f.text, 10);
        cell(&mut l, f.data, 10);
        cell(&mut l, f.bss, 10);
        cell(&mut l, f.ro, 10);
        l.push(b"  ");
        l.push_escaped(name);
        print(&mut l);
    };
    for f in files.iter() {
        row(f, &f.path);
    }
    if other.text + other.data + other.bss + other.ro > 0 {
        row(&other, b"(other files)");
    }
    exit::OK
}

/// Where `dump` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    Heap,
    Anon,
    Range(u64, u64),
}

pub fn parse_region(s: &[u8]) -> Option<Region> {
    match s {
        kw if is(kw, b"heap") => Some(Region::Heap),
        kw if is(kw, b"anon") => Some(Region::Anon),
        _ => {
            let d = s.iter().position(|&b| b == b'-')?;
            let (a, b) = (s.get(..d)?, s.get(d + 1..)?);
            let a = parse_hex(a.strip_prefix(b"0x").unwrap_or(a))?;
            let b = parse_hex(b.strip_prefix(b"0x").unwrap_or(b))?;
            (a < b).then_some(Region::Range(a, b))
        }
    }
}

/// The `strings` scanner: printable ASCII and tab, runs of >= min_len,
/// carried across chunk edges. A run is broken at an unreadable page and
/// at a region's end.
pub struct Strings {
    min_len: usize,
    run: [u8; MAX_MIN_LEN],
    len: usize,
    emitting: bool,
    hash: u64,
}

fn printable(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

impl Strings {
    pub fn new(min_len: usize) -> Strings {
        Strings {
            min_len: min_len.clamp(1, MAX_MIN_LEN),
            run: [0; MAX_MIN_LEN],
            len: 0,
            emitting: false,
            hash: FNV_OFFSET,
        }
    }

    /// Feed bytes; `out(piece, end)` receives string bytes, with `end` true
    /// (and an empty piece) when a string is complete; `key` gets (hash,
    /// first bytes) of each complete string for counting.
    pub fn feed(&mut self, data: &[u8], sink: &mut dyn FnMut(Piece)) {
        let mut start = 0; // start of the printable stretch inside data being emitted
        for (i, &b) in data.iter().enumerate() {
            if printable(b) {
                self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                if self.emitting {
                    if self.len < KEEP {
                        if let Some(s) = self.run.get_mut(self.len) {
                            *s = b;
                        }
                    }
                    self.len += 1;
                    continue;
                }
                if let Some(s) = self.run.get_mut(self.len) {
                    *s = b;
                }
                self.len += 1;
                if self.len >= self.min_len {
                    self.emitting = true;
                    sink(Piece::Bytes(self.run.get(..self.len).unwrap_or(&[])));
                    start = i + 1;
                }
            } else {
                if self.emitting {
                    sink(Piece::Bytes(data.get(start..i).unwrap_or(&[])));
                }
                self.end(sink);
            }
        }
        if self.emitting {
            sink(Piece::Bytes(data.get(start..).unwrap_or(&[])));
        }
    }

    /// Break the current run (region end, unreadable page).
    pub fn end(&mut self, sink: &mut dyn FnMut(Piece)) {
        if self.emitting {
            let keep = self.len.min(KEEP);
            sink(Piece::End {
                hash: self.hash,
                head: self.run.get(..keep).unwrap_or(&[]),
            });
        }
        self.len = 0;
        self.emitting = false;
        self.hash = FNV_OFFSET;
    }
}

pub enum Piece<'a> {
    Bytes(&'a [u8]),
    End { hash: u64, head: &'a [u8] },
}

#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    count: [u32; 2],
    len: u8,
    head: [u8; KEEP],
}

/// Fixed open-addressing table of string counts (two columns for --diff).
pub struct Table {
    e: [Option<Entry>; TABLE_CAP],
    pub untracked: u64,
}

impl Table {
    pub fn new() -> Table {
        Table {
            e: [None; TABLE_CAP],
            untracked: 0,
        }
    }

    pub fn add(&mut self, hash: u64, head: &[u8], col: usize) {
        let mut i = (hash as usize) % TABLE_CAP;
        for _ in 0..TABLE_CAP {
            match self.e.get_mut(i) {
                Some(Some(en)) if en.hash == hash => {
                    if let Some(c) = en.count.get_mut(col) {
                        *c = c.saturating_add(1);
                    }
                    return;
                }
                Some(slot @ None) => {
                    let mut h = [0u8; KEEP];
                    let n = head.len().min(KEEP);
                    if let (Some(d), Some(s)) = (h.get_mut(..n), head.get(..n)) {
                        d.copy_from_slice(s);
                    }
                    let mut count = [0u32; 2];
                    if let Some(c) = count.get_mut(col) {
                        *c = 1;
                    }
                    *slot = Some(Entry {
                        hash,
                        count,
                        len: n as u8,
                        head: h,
                    });
                    return;
                }
                _ => i = (i + 1) % TABLE_CAP,
            }
        }
        self.untracked += 1;
    }

    /// The k entries with the largest score, best first.
    fn best(&self, k: usize, score: impl Fn(&Entry) -> i64) -> heapless::Vec<Entry, 64> {
        let mut top: heapless::Vec<Entry, 64> = heapless::Vec::new();
        let k = k.min(64);
        for en in self.e.iter().flatten() {
            let s = score(en);
            if s <= 0 {
                continue;
            }
            let pos = top.iter().position(|t| score(t) < s).unwrap_or(top.len());
            if pos < k {
                if top.len() == k {
                    top.pop();
                }
                let _ = top.insert(pos, *en);
            }
        }
        top
    }
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

pub struct DumpOpts<'a> {
    pub root: &'a [u8],
    pub pid: u32,
    pub region: Region,
    pub min_len: usize,
    pub raw: Option<&'a [u8]>,
    pub max_bytes: u64,
    pub top: Option<usize>,
}

/// Regions to read, from maps: up to 64 ranges.
fn regions(
    root: &[u8],
    pid: u32,
    want: Region,
) -> Result<heapless::Vec<(u64, u64), 64>, ReadError> {
    let mut v: heapless::Vec<(u64, u64), 64> = heapless::Vec::new();
    if let Region::Range(a, b) = want {
        let _ = v.push((a, b));
        return Ok(v);
    }
    let mut fd = Fd::open_read(&PathBuf::proc_file(root, pid, b"maps"))?;
    let mut buf = [0u8; crate::sample::READ_BUF];
    let mut p = MapsParser::default();
    for_each_line(&mut fd, &mut buf, |line| {
        if let Some(m) = parse_line(line) {
            let c = p.classify(&m);
            let take = match want {
                Region::Heap => c == Class::Heap,
                _ => (c == Class::Heap || c == Class::Anon) && m.perms[0] == b'r',
            };
            if take {
                let _ = v.push((m.start, m.end));
            }
        }
    })?;
    Ok(v)
}

/// Buffered stdout for strings output, with the --max-bytes cap.
struct Out {
    buf: [u8; 4096],
    len: usize,
    written: u64,
    cap: u64,
    capped: bool,
}

impl Out {
    fn put(&mut self, b: &[u8]) {
        for &c in b {
            if self.written >= self.cap {
                self.capped = true;
                return;
            }
            if self.len == self.buf.len() {
                self.flush();
            }
            if let Some(s) = self.buf.get_mut(self.len) {
                *s = c;
            }
            self.len += 1;
            self.written += 1;
        }
    }
    fn flush(&mut self) {
        let _ = sys::write_all(sys::STDOUT, self.buf.get(..self.len).unwrap_or(&[]));
        self.len = 0;
    }
}

fn mem_error(e: Errno) {
    let why: &[u8] = match e.0 {
        libc::EPERM | libc::EACCES => b"permission denied: reading another process's memory needs root, or the same uid with kernel.yama.ptrace_scope=0",
        libc::EIO => b"input/output error: the range is not mapped",
        _ => e.text().as_bytes(),
    };
    out::error(&[b"cannot read process memory: ", why]);
}

/// `memdog dump PID ...`
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn dump(o: DumpOpts) -> i32 {
    let regs = match regions(o.root, o.pid, o.region) {
        Ok(r) => r,
        Err(e) => return pid_error(o.root, o.pid, b"maps", e),
    };
    if regs.is_empty() {
        out::error(&[b"no such region in this process (see memdog maps PID)"]);
        return exit::NOT_FOUND;
    }
    let mut mem = match Fd::open_read(&PathBuf::proc_file(o.root, o.pid, b"mem")) {
        Ok(fd) => fd,
        Err(e) => {
            mem_error(e);
            return if e.0 == libc::ENOENT {
                exit::NOT_FOUND
            } else {
                exit::DENIED
            };
        }
    };
    let mut raw = match o.raw {
        Some(p) => match sys::create_file(&PathBuf::from(p), 0o600) {
            Ok(fd) => Some(fd),
            Err(e) => {
                out::error(&[b"cannot create ", p, b": ", e.text().as_bytes()]);
                return exit::FAILURE;
            }
        },
        None => None,
    };
    let mut table = if o.top.is_some() {
        Some(Table::new())
    } else {
        None
    };
    let mut outb = Out {
        buf: [0; 4096],
        len: 0,
        written: 0,
        cap: o.max_bytes,
        capped: false,
    };
    let mut s = Strings::new(o.min_len);
    let mut chunk = [0u8; CHUNK];
    let mut read_any = false;
    let mut first_err = None;
    for &(start, end) in regs.iter() {
        let mut at = start;
        while at < end && !(outb.capped && raw.is_none()) {
            let n = ((end - at) as usize).min(CHUNK);
            let got = match mem.read_at(chunk.get_mut(..n).unwrap_or(&mut []), at) {
                Ok(k) if k > 0 => k,
                Ok(_) => 0,
                Err(e) => {
                    first_err.get_or_insert(e);
                    0
                }
            };
            let data = if got == 0 {
                // unreadable page: zeros in the raw file, a break in the strings
                chunk.iter_mut().take(n).for_each(|b| *b = 0);
                chunk.get(..n).unwrap_or(&[])
            } else {
                read_any = true;
                chunk.get(..got).unwrap_or(&[])
            };
            if let Some(fd) = raw.as_mut() {
                if let Err(e) = sys::write_all(fd.raw(), data) {
                    out::error(&[b"cannot write the raw dump: ", e.text().as_bytes()]);
                    return exit::FAILURE;
                }
            }
            let mut sink = |p: Piece| match (p, table.as_mut()) {
                (Piece::End { hash, head }, Some(t)) => t.add(hash, head, 0),
                (Piece::End { .. }, None) => outb.put(b"\n"),
                (Piece::Bytes(b), None) => outb.put(b),
                (Piece::Bytes(_), Some(_)) => {}
            };
            s.feed(data, &mut sink);
            at += data.len().max(1) as u64;
        }
        let mut sink = |p: Piece| match (p, table.as_mut()) {
            (Piece::End { hash, head }, Some(t)) => t.add(hash, head, 0),
            (Piece::End { .. }, None) => outb.put(b"\n"),
            _ => {}
        };
        s.end(&mut sink);
    }
    outb.flush();
    if !read_any {
        if let Some(e) = first_err {
            mem_error(e);
            return exit::DENIED;
        }
    }
    if outb.capped && o.max_bytes > 0 {
        out::error(&[b"strings output stopped at --max-bytes (the raw dump, if any, is whole)"]);
    }
    if let (Some(t), Some(k)) = (table.as_ref(), o.top) {
        print_top(t, k, false);
    }
    exit::OK
}

fn print_top(t: &Table, k: usize, diff: bool) {
    let mut l = Line::new();
    if diff {
        l.push(b"  growth     old     new  string");
    } else {
        l.push(b"   count  string");
    }
    print(&mut l);
    let score = |e: &Entry| {
        if diff {
            i64::from(e.count[1]) - i64::from(e.count[0])
        } else {
            i64::from(e.count[0])
        }
    };
    for e in t.best(k, score).iter() {
        if diff {
            l.push(b"+");
            cell(&mut l, score(e) as u64, 7);
            cell(&mut l, u64::from(e.count[0]), 8);
            cell(&mut l, u64::from(e.count[1]), 8);
        } else {
            cell(&mut l, u64::from(e.count[0]), 8);
        }
        l.push(b"  ");
        l.push_escaped(e.head.get(..usize::from(e.len)).unwrap_or(&[]));
        print(&mut l);
    }
    if t.untracked > 0 {
        l.push(b"untracked=");
        l.push_u64(t.untracked);
        l.push(b" (table full: more distinct strings than it holds)");
        print(&mut l);
    }
}

/// `memdog dump --diff OLD NEW`: strings whose count grew most between two raw dumps.
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn diff(old: &[u8], new: &[u8], min_len: usize, k: usize) -> i32 {
    let mut t = Table::new();
    for (col, path) in [(0usize, old), (1, new)] {
        let mut fd = match Fd::open_read(&PathBuf::from(path)) {
            Ok(fd) => fd,
            Err(e) => {
                out::error(&[b"cannot read ", path, b": ", e.text().as_bytes()]);
                return exit::FAILURE;
            }
        };
        let mut s = Strings::new(min_len);
        let mut chunk = [0u8; CHUNK];
        loop {
            let n = match embedded_io::Read::read(&mut fd, &mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    out::error(&[b"cannot read ", path, b": ", e.text().as_bytes()]);
                    return exit::FAILURE;
                }
            };
            let mut sink = |p: Piece| {
                if let Piece::End { hash, head } = p {
                    t.add(hash, head, col)
                }
            };
            s.feed(chunk.get(..n).unwrap_or(&[]), &mut sink);
        }
        let mut sink = |p: Piece| {
            if let Piece::End { hash, head } = p {
                t.add(hash, head, col)
            }
        };
        s.end(&mut sink);
    }
    print_top(&t, k, true);
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(data: &[u8], min: usize, chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = Strings::new(min);
        for c in data.chunks(chunk) {
            s.feed(c, &mut |p| match p {
                Piece::Bytes(b) => out.extend_from_slice(b),
                Piece::End { .. } => out.push(b'\n'),
            });
        }
        s.end(&mut |p| {
            if let Piece::End { .. } = p {
                out.push(b'\n')
            }
        });
        out
    }

    #[test]
    fn strings_across_every_chunk_size() {
        let data =
            b"\x00short\x00exactly10c\x01a much longer string with\ttab\xffx\x00tail-at-end!";
        let want = b"exactly10c\na much longer string with\ttab\ntail-at-end!\n";
        for chunk in 1..=data.len() {
            assert_eq!(strings(data, 10, chunk), want, "chunk {chunk}");
        }
    }

    #[test]
    fn regions_parse() {
        assert_eq!(parse_region(b"heap"), Some(Region::Heap));
        assert_eq!(
            parse_region(b"0x1000-0x2000"),
            Some(Region::Range(0x1000, 0x2000))
        );
        assert_eq!(parse_region(b"2000-1000"), None);
        assert_eq!(parse_region(b"zz"), None);
    }

    #[test]
    fn table_counts_and_reports_overflow() {
        let mut t = Table::new();
        for i in 0..TABLE_CAP as u64 + 3 {
            t.add(i * 7919, b"x", 0);
        }
        t.add(0, b"x", 0);
        assert_eq!(t.untracked, 3);
        let best = t.best(1, |e| i64::from(e.count[0]));
        assert_eq!(best[0].count[0], 2);
    }
}
