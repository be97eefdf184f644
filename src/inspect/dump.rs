//! `memdog dump`: the strings in a process's memory, like gdb's `dump memory`
//! + `strings -a -n 10`, and which of them repeat or grow (`--top`, `--diff`).
//!
//! Reading: /proc/PID/maps is streamed (no list of regions, so no cap) and
//! only mapped, readable ranges are read from /proc/PID/mem with pread, a page
//! at a time; a `START-END` range is clipped to them, so unmapped space is
//! never read, spun through or written. A dump knows when it is incomplete:
//! a read returning 0 or ESRCH is the process gone (its memory released), EIO a
//! region unmapped since maps was read (or a file mapping past its file's
//! end: the rest of that region is skipped, the next one read). Then the exit code is [`PARTIAL`], one
//! line says how many bytes were read of how many, and the raw file keeps its
//! `.partial` name. The raw file is written as `FILE.partial` and renamed to
//! FILE only once whole, so a dump killed midway (exec_timeout, power loss)
//! is marked too. The raw file holds the bytes read, regions back to back.
//!
//! Counting: strings are counted by a 64-bit hash in a Space-Saving summary
//! (see [`super::topk`]): fixed memory, and every string seen more than N/K
//! times is counted, with a stated error bound. `--diff` takes the candidates
//! from the new dump (a string that grew by G is seen at least G times there)
//! and counts them exactly in both dumps in a second pass.

use super::topk::{Entry, TopK};
use super::{cell, pid_error, print};
use crate::line::Line;
use crate::num::{is, parse_hex};
use crate::out::{self, exit};
use crate::proc::for_each_line;
use crate::proc::maps::{parse_line, Class, MapsParser};
use crate::proc::status::Status;
use crate::sys::{self, Errno, Fd, PathBuf};

/// pread chunk for /proc/PID/mem: one 4 KiB page, the unit the kernel maps.
pub const CHUNK: usize = 4096;
/// Space-Saving counters for `--top` and `--diff`: 2048 x 80 bytes on the
/// stack (176 KB with the index), in a frame of its own only when counting.
/// With N strings, every string seen more than N/2048 times is counted.
pub const TABLE_CAP: usize = 2048;
pub type Table = TopK<TABLE_CAP, { 2 * TABLE_CAP }>;
/// Longest --min-len (the run buffer).
pub const MAX_MIN_LEN: usize = 256;
/// Most rows of --top.
pub const MAX_TOP: usize = 64;
/// Exit code of a dump that read less than it meant to (see the module doc).
pub const PARTIAL: i32 = 5;
/// Name suffix of a raw dump until it is known whole.
pub const PARTIAL_SUFFIX: &[u8] = b".partial";

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
    len: u64,
    emitting: bool,
    hash: u64,
}

fn printable(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const KEEP: usize = super::topk::KEEP;

pub enum Piece<'a> {
    Bytes(&'a [u8]),
    /// a string is complete: its hash, first bytes and whole length
    End {
        hash: u64,
        head: &'a [u8],
        len: u64,
    },
}

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

    /// Feed bytes; `sink` receives string bytes as `Bytes` pieces and an
    /// `End` when a string is complete.
    pub fn feed(&mut self, data: &[u8], sink: &mut dyn FnMut(Piece)) {
        let mut start = 0; // start of the printable stretch inside data being emitted
        for (i, &b) in data.iter().enumerate() {
            if printable(b) {
                self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                let at = self.len as usize;
                if self.emitting {
                    if at < KEEP {
                        if let Some(s) = self.run.get_mut(at) {
                            *s = b;
                        }
                    }
                    self.len += 1;
                    continue;
                }
                if let Some(s) = self.run.get_mut(at) {
                    *s = b;
                }
                self.len += 1;
                if self.len >= self.min_len as u64 {
                    self.emitting = true;
                    sink(Piece::Bytes(self.run.get(..at + 1).unwrap_or(&[])));
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
            let keep = (self.len as usize).min(KEEP);
            sink(Piece::End {
                hash: self.hash,
                head: self.run.get(..keep).unwrap_or(&[]),
                len: self.len,
            });
        }
        self.len = 0;
        self.emitting = false;
        self.hash = FNV_OFFSET;
    }
}

pub struct DumpOpts<'a> {
    pub root: &'a [u8],
    pub pid: u32,
    pub region: Region,
    pub min_len: usize,
    pub raw: Option<&'a [u8]>,
    /// cap on the strings written to stdout (0: none written)
    pub max_bytes: u64,
    pub top: Option<usize>,
    /// write the one-line logfmt outcome to this descriptor (the daemon's pipe)
    pub status_fd: Option<i32>,
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
        libc::EPERM | libc::EACCES => b" (reading another process's memory needs root, or the same uid with kernel.yama.ptrace_scope=0)",
        _ => b"",
    };
    out::error(&[b"cannot read process memory: ", e.text().as_bytes(), why]);
}

/// Why reading stopped before the last selected byte.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// the process exited: its memory reads as end of file, or ESRCH
    Gone(Option<Errno>),
    /// the raw file could not be written
    RawWrite(Errno),
}

/// One dump's reading state, fed region by region from the maps stream.
struct Reader<'a> {
    mem: Fd,
    raw: Option<Fd>,
    table: Option<&'a mut Table>,
    out: Out,
    s: Strings,
    chunk: [u8; CHUNK],
    /// bytes read / bytes of the selected ranges
    read: u64,
    wanted: u64,
    regions: u32,
    strings: u64,
    stop: Option<Stop>,
    /// a region that could not be read (vanished or unreadable): the first, and how many
    failed: Option<(u64, u64, Errno)>,
    failures: u32,
    /// strings output reached --max-bytes with nothing else to do: not partial
    capped_stop: bool,
}

impl Reader<'_> {
    fn region(&mut self, start: u64, end: u64) {
        if end <= start {
            return;
        }
        self.wanted += end - start;
        self.regions += 1;
        let mut at = start;
        while at < end {
            if self.stop.is_some() {
                return;
            }
            if self.out.capped && self.raw.is_none() && self.table.is_none() {
                self.capped_stop = true;
                return;
            }
            // to the next page edge, so one bad page costs one chunk
            let to_edge = CHUNK as u64 - at % CHUNK as u64;
            let n = (end - at).min(to_edge) as usize;
            let Some(buf) = self.chunk.get_mut(..n) else {
                return;
            };
            let got = match self.mem.read_at(buf, at) {
                Ok(0) => {
                    self.stop = Some(Stop::Gone(None));
                    return;
                }
                Ok(k) => k.min(n),
                Err(e) if e.0 == libc::ESRCH => {
                    self.stop = Some(Stop::Gone(Some(e)));
                    return;
                }
                Err(e) => {
                    // unmapped since maps was read (EIO), or not readable:
                    // the rest of this region is lost, the next may be fine
                    self.failures += 1;
                    self.failed.get_or_insert((start, end, e));
                    break;
                }
            };
            let data = self.chunk.get(..got).unwrap_or(&[]);
            if let Some(fd) = self.raw.as_mut() {
                if let Err(e) = sys::write_all(fd.raw(), data) {
                    self.stop = Some(Stop::RawWrite(e));
                    return;
                }
            }
            self.read += got as u64;
            at += got as u64;
            let (table, out, strings) = (&mut self.table, &mut self.out, &mut self.strings);
            let mut sink = |p: Piece| sink_piece(p, table, out, strings);
            self.s.feed(data, &mut sink);
        }
        let (table, out, strings) = (&mut self.table, &mut self.out, &mut self.strings);
        self.s
            .end(&mut |p: Piece| sink_piece(p, table, out, strings));
    }
}

fn sink_piece(p: Piece, table: &mut Option<&mut Table>, out: &mut Out, strings: &mut u64) {
    match (p, table.as_mut()) {
        (Piece::End { hash, head, len }, Some(t)) => {
            *strings += 1;
            t.add(hash, head, len)
        }
        (Piece::End { .. }, None) => {
            *strings += 1;
            out.put(b"\n")
        }
        (Piece::Bytes(b), None) => out.put(b),
        (Piece::Bytes(_), Some(_)) => {}
    }
}

/// Which mappings a region word selects.
fn selected(want: Region, c: Class, perms: [u8; 4], path: &[u8], guarded_are_stacks: bool) -> bool {
    if perms[0] != b'r' {
        return false;
    }
    match want {
        Region::Heap => c == Class::Heap,
        Region::Anon => {
            c == Class::Heap || c == Class::Anon || (c == Class::Guarded && !guarded_are_stacks)
        }
        // [vvar] is kernel data that /proc/PID/mem cannot read (EIO): not memory of the process
        Region::Range(..) => !path.starts_with(b"[vvar"),
    }
}

/// `memdog dump PID ...`
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn dump(o: DumpOpts) -> i32 {
    if cfg!(feature = "dump-top") && o.top.is_some() {
        dump_counting(o)
    } else {
        dump_with(o, None)
    }
}

// the 176 KB table lives in this frame only
#[inline(never)]
fn dump_counting(o: DumpOpts) -> i32 {
    let mut t = Table::new();
    dump_with(o, Some(&mut t))
}

fn dump_with(o: DumpOpts, table: Option<&mut Table>) -> i32 {
    let mut buf = [0u8; crate::sample::READ_BUF];
    // opened first: a missing process is found here, and the maps read
    // while dumping is the one of this moment
    let maps_path = PathBuf::proc_file(o.root, o.pid, b"maps");
    let mut maps = match Fd::open_read(&maps_path) {
        Ok(fd) => fd,
        Err(e) => return pid_error(o.root, o.pid, b"maps", e.into()),
    };
    // `anon` leaves thread stacks out: a first pass and Threads decide
    // whether guarded regions are thread stacks (a captured tree may lack
    // status: then the thread count is unknown and they are read)
    let mut guarded_are_stacks = false;
    if o.region == Region::Anon {
        let threads = match sys::read_file(&PathBuf::proc_file(o.root, o.pid, b"status"), &mut buf)
        {
            Ok((data, _)) => Status::parse(data).threads,
            Err(_) => None,
        };
        let mut p = MapsParser::default();
        let first = Fd::open_read(&maps_path)
            .and_then(|mut fd| for_each_line(&mut fd, &mut buf, |l| p.feed_line(l)));
        if let Err(e) = first {
            return pid_error(o.root, o.pid, b"maps", e.into());
        }
        guarded_are_stacks = p.sum.resolve(threads).guarded_are_stacks;
    }
    let mem = match Fd::open_read(&PathBuf::proc_file(o.root, o.pid, b"mem")) {
        Ok(fd) => fd,
        Err(e) => {
            mem_error(e);
            return if e.0 == libc::ENOENT || e.0 == libc::ESRCH {
                exit::NOT_FOUND
            } else {
                exit::DENIED
            };
        }
    };
    // FILE.partial until whole; memdog replaces nothing it did not create
    let mut partial_path = PathBuf::from(b"");
    let raw = match o.raw {
        Some(path) => {
            // lstat, not open: a FIFO or a dangling symlink there is not replaced either
            if sys::fs::lstat(&PathBuf::from(path)).is_ok() {
                out::error(&[
                    b"cannot write the raw dump to ",
                    path,
                    b": it exists (memdog does not replace files: remove it or pick another name)",
                ]);
                return exit::FAILURE;
            }
            partial_path = PathBuf::from(path);
            partial_path.push(PARTIAL_SUFFIX);
            match sys::create_new(&partial_path, 0o600) {
                Ok(fd) => Some(fd),
                Err(e) => {
                    let text = e.text().as_bytes();
                    out::error(&[
                        b"cannot create ",
                        partial_path.as_bytes(),
                        b": ",
                        text,
                        b" (remove a stale .partial file, or pick another --raw name)",
                    ]);
                    return exit::FAILURE;
                }
            }
        }
        None => None,
    };
    let counting = table.is_some();
    let mut r = Reader {
        mem,
        raw,
        table,
        out: Out {
            buf: [0; 4096],
            len: 0,
            written: 0,
            cap: if counting { 0 } else { o.max_bytes },
            capped: false,
        },
        s: Strings::new(o.min_len),
        chunk: [0; CHUNK],
        read: 0,
        wanted: 0,
        regions: 0,
        strings: 0,
        stop: None,
        failed: None,
        failures: 0,
        capped_stop: false,
    };
    // second pass over maps, reading as it streams: no list of regions
    let mut cls = MapsParser::default();
    let streamed = {
        for_each_line(&mut maps, &mut buf, |line| {
            let Some(m) = parse_line(line) else { return };
            let c = cls.classify(&m);
            // after a stop, selected regions are still counted (the line's
            // "of W bytes in R regions" is what was meant to be read)
            if r.capped_stop || !selected(o.region, c, m.perms, m.path, guarded_are_stacks) {
                return;
            }
            let (a, b) = match o.region {
                Region::Range(a, b) => (m.start.max(a), m.end.min(b)),
                _ => (m.start, m.end),
            };
            r.region(a, b);
        })
    };
    r.out.flush();
    let gone_during_maps = streamed.is_err();
    if r.regions == 0 && r.stop.is_none() && !gone_during_maps {
        let why: &[u8] = match o.region {
            Region::Heap => {
                b"no readable [heap] in this process (try --region anon; see memdog maps PID)"
            }
            Region::Anon => b"no readable anonymous memory in this process (see memdog maps PID)",
            Region::Range(..) => b"nothing mapped and readable in that range (see memdog maps PID)",
        };
        out::error(&[why]);
        return exit::NOT_FOUND;
    }
    if r.read == 0 {
        if let Some((_, _, e)) = r.failed {
            if e.0 == libc::EPERM || e.0 == libc::EACCES {
                mem_error(e);
                return exit::DENIED;
            }
        }
    }
    let partial = r.stop.is_some() || r.failed.is_some() || gone_during_maps;
    let mut file = PathBuf::from(b"");
    if r.raw.is_some() {
        drop(r.raw.take());
        file = partial_path.clone();
        if !partial {
            if let Some(path) = o.raw {
                let whole = PathBuf::from(path);
                // something appeared under the name meanwhile: ours stays .partial
                let taken = sys::fs::lstat(&whole).is_ok();
                let renamed = if taken {
                    Err(sys::Errno(libc::EEXIST))
                } else {
                    sys::rename(&partial_path, &whole)
                };
                match renamed {
                    Ok(()) => file = whole,
                    Err(e) => {
                        let text = e.text().as_bytes();
                        out::error(&[
                            b"cannot rename ",
                            partial_path.as_bytes(),
                            b" to ",
                            path,
                            b": ",
                            text,
                            b" (the dump is whole; it stays under the .partial name)",
                        ]);
                    }
                }
            }
        }
    }
    let mut pb = [0u8; 20];
    let pid = crate::num::fmt_u64(u64::from(o.pid), &mut pb);
    // the table first: a partial dump's line comes last, where it is seen
    if let (Some(t), Some(k)) = (r.table.as_deref(), o.top) {
        print_top(t, k, r.strings);
    }
    if partial {
        let mut l = Line::new();
        l.push(b"memdog: dump of pid ");
        l.push(pid);
        l.push(b" is partial: read ");
        l.push_u64(r.read);
        l.push(b" of ");
        l.push_u64(r.wanted);
        l.push(b" bytes in ");
        l.push_u64(u64::from(r.regions));
        l.push(b" regions (");
        match r.stop {
            Some(Stop::Gone(e)) => {
                l.push(b"the process exited or exec'd mid-dump: its memory is gone");
                if let Some(e) = e {
                    l.push(b": ");
                    l.push(e.text().as_bytes());
                }
            }
            Some(Stop::RawWrite(e)) => {
                let text = e.text().as_bytes();
                l.push(b"cannot write the raw dump: ");
                l.push(text);
            }
            None if gone_during_maps => {
                l.push(b"its maps could no longer be read: the process exited")
            }
            None => {}
        }
        if let Some((a, b, e)) = r.failed {
            if r.stop.is_some() || gone_during_maps {
                l.push(b"; ");
            }
            let text = e.text().as_bytes();
            l.push_u64(u64::from(r.failures));
            l.push(b" regions unreadable, the first ");
            push_hex(&mut l, a);
            l.push(b"-");
            push_hex(&mut l, b);
            l.push(b": ");
            l.push(text);
            l.push(b": unmapped since maps was read, or a file mapping past its file's end");
        }
        l.push(b")");
        if !file.as_bytes().is_empty() {
            l.push(b"; the bytes read are in ");
            l.push(file.as_bytes());
        }
        let _ = sys::write_all(sys::STDERR, l.finish());
    } else if r.capped_stop {
        out::error(&[b"strings output stopped at --max-bytes (nothing else was asked for: reading stopped there too)"]);
    } else if r.out.capped && !counting && o.max_bytes > 0 {
        out::error(&[b"strings output stopped at --max-bytes (the raw dump is whole)"]);
    }
    if let Some(fd) = o.status_fd {
        let mut l = Line::new();
        l.push(b"pid=");
        l.push(pid);
        l.kv(b"bytes", r.read);
        l.kv(b"of", r.wanted);
        l.kv(b"regions", u64::from(r.regions));
        l.kv(b"strings", r.strings);
        l.kv(b"partial", u64::from(partial));
        if !file.as_bytes().is_empty() {
            l.kv_str(b"file", file.as_bytes());
        }
        let _ = sys::write_all(fd, l.finish());
    }
    if partial {
        PARTIAL
    } else {
        exit::OK
    }
}

fn push_hex(l: &mut Line, v: u64) {
    let mut b = [0u8; 16];
    let mut n = 0;
    let mut x = v;
    loop {
        if let Some(s) = b.get_mut(15 - n) {
            *s = b"0123456789abcdef"[(x & 15) as usize];
        }
        n += 1;
        x >>= 4;
        if x == 0 {
            break;
        }
    }
    l.push(b.get(16 - n..).unwrap_or(&[]));
}

fn push_string(l: &mut Line, e: &Entry) {
    l.push(b"  ");
    l.push_escaped(e.head());
    if u64::from(e.len) > e.head().len() as u64 {
        l.push(b"... (");
        l.push_u64(u64::from(e.len));
        l.push(b" bytes)");
    }
}

fn print_top(t: &Table, k: usize, n: u64) {
    let mut l = Line::new();
    l.push(b"strings=");
    l.push_u64(n);
    l.kv(b"counted", t.entries().len() as u64);
    l.kv(b"counters", TABLE_CAP as u64);
    l.push(b" counts exact to +-");
    l.push_u64(u64::from(t.max_error()));
    l.push(b"; every string seen more than ");
    l.push_u64(u64::from(t.threshold()));
    l.push(b" times (<= N/");
    l.push_u64(TABLE_CAP as u64);
    l.push(b") is counted");
    print(&mut l);
    l.push(b"   count  +-err  string");
    print(&mut l);
    for e in t.best::<MAX_TOP>(k, |e| i64::from(e.count)).iter() {
        cell(&mut l, u64::from(e.count), 8);
        cell(&mut l, u64::from(e.error), 7);
        push_string(&mut l, e);
        print(&mut l);
    }
}

/// Feed a file's strings to `f(hash, head, len)`.
#[cfg(feature = "report")]
fn each_string(path: &[u8], min_len: usize, f: &mut dyn FnMut(u64, &[u8], u64)) -> Result<(), i32> {
    let mut fd = match Fd::open_read(&PathBuf::from(path)) {
        Ok(fd) => fd,
        Err(e) => {
            let text = e.text().as_bytes();
            out::error(&[b"cannot read ", path, b": ", text]);
            return Err(exit::FAILURE);
        }
    };
    let mut s = Strings::new(min_len);
    let mut chunk = [0u8; CHUNK];
    let mut sink = |p: Piece| {
        if let Piece::End { hash, head, len } = p {
            f(hash, head, len)
        }
    };
    loop {
        let n = match embedded_io::Read::read(&mut fd, &mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let text = e.text().as_bytes();
                out::error(&[b"cannot read ", path, b": ", text]);
                return Err(exit::FAILURE);
            }
        };
        s.feed(chunk.get(..n).unwrap_or(&[]), &mut sink);
    }
    s.end(&mut sink);
    Ok(())
}

// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
// A PC-side step like `report` (two raw dumps pulled off the board): board
// builds leave it out (1.4 KB of armv7 code) and say where to run it.
#[cfg(not(feature = "report"))]
pub fn diff(_old: &[u8], _new: &[u8], _min_len: usize, _k: usize) -> i32 {
    out::error(&[b"dump --diff is not in this board build: copy the two raw dumps to a PC and run memdog dump --diff there"]);
    exit::USAGE
}

/// `memdog dump --diff OLD NEW`: strings whose count grew most between two raw dumps.
#[cfg(feature = "report")]
#[inline(never)]
pub fn diff(old: &[u8], new: &[u8], min_len: usize, k: usize) -> i32 {
    let mut t = Table::new();
    // pass 1: the new dump's heavy hitters are the candidates
    if let Err(code) = each_string(new, min_len, &mut |h, head, len| t.add(h, head, len)) {
        return code;
    }
    // pass 2: count every candidate exactly in both
    let mut n = [0u64; 2];
    for (col, path) in [(0usize, old), (1, new)] {
        let r = each_string(path, min_len, &mut |h, _, _| {
            if let Some(c) = n.get_mut(col) {
                *c += 1;
            }
            t.count_exact(h, col)
        });
        if let Err(code) = r {
            return code;
        }
    }
    for path in [old, new] {
        if path.ends_with(PARTIAL_SUFFIX) {
            out::error(&[
                b"note: ",
                path,
                b" is a partial dump: counts in it may be short",
            ]);
        }
    }
    let mut l = Line::new();
    l.push(b"strings old=");
    l.push_u64(n[0]);
    l.kv(b"new", n[1]);
    l.kv(b"candidates", t.entries().len() as u64);
    l.push(b" counts exact to +-0 (second pass); every string that grew by more than ");
    l.push_u64(u64::from(t.threshold()));
    l.push(b" (<= new/");
    l.push_u64(TABLE_CAP as u64);
    l.push(b") is a candidate");
    print(&mut l);
    l.push(b"  growth     old     new  string");
    print(&mut l);
    let growth = |e: &Entry| i64::from(e.exact[1]) - i64::from(e.exact[0]);
    for e in t.best::<MAX_TOP>(k, growth).iter() {
        l.push(b"+");
        cell(&mut l, growth(e) as u64, 7);
        cell(&mut l, u64::from(e.exact[0]), 8);
        cell(&mut l, u64::from(e.exact[1]), 8);
        push_string(&mut l, e);
        print(&mut l);
    }
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
    fn string_hash_and_length_do_not_depend_on_chunking() {
        let mut data = vec![0u8];
        data.extend(std::iter::repeat_n(b'x', 20000));
        data.push(0);
        for chunk in [1, 7, 4096, 30000] {
            let mut ends = Vec::new();
            let mut s = Strings::new(10);
            for c in data.chunks(chunk) {
                s.feed(c, &mut |p| {
                    if let Piece::End { hash, head, len } = p {
                        ends.push((hash, head.to_vec(), len))
                    }
                });
            }
            assert_eq!(ends.len(), 1);
            assert_eq!(ends[0].1, vec![b'x'; KEEP]);
            assert_eq!(ends[0].2, 20000, "chunk {chunk}");
            let whole = data[1..20001].iter().fold(FNV_OFFSET, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            assert_eq!(ends[0].0, whole);
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
    fn hex() {
        for v in [0u64, 1, 0xabc, u64::MAX] {
            let mut l = Line::new();
            push_hex(&mut l, v);
            assert_eq!(l.as_bytes(), format!("{v:x}").as_bytes());
        }
    }
}
