//! `memdog maps` and `memdog dump`: where a process's memory is, and what
//! is in it, without gdb. maps (here) streams /proc/PID/maps (or smaps with
//! --rss) through the fixed line buffer; dump ([`dump`]) reads /proc/PID/mem
//! and prints or counts ([`topk`]) its strings.

pub mod dump;
pub mod topk;

pub use dump::{diff, dump, parse_region, DumpOpts, Region, Strings, PARTIAL};

use crate::line::Line;
use crate::num::parse_u64_prefix;
use crate::out::{self, exit};
use crate::proc::for_each_line;
use crate::proc::maps::{parse_line, Class, MapsParser};
use crate::proc::status::Status;
use crate::sample::ReadError;
use crate::sys::{self, Fd, PathBuf};

/// Files listed one by one in `maps`; the rest are folded into one row. A
/// big process maps 100-300 files; 48 rows fill a terminal.
/// What a build without the `dump` feature says to `memdog dump` and to the
/// `dump` action.
pub const NO_DUMP: &str = "this memdog is built without dump (cargo feature dump; board builds: make cross CROSS_FEATURES=dump): no memdog dump, no dump action";

pub const MAX_FILES: usize = 48;
/// Paths longer than this are cut in the per-file table.
pub const FILE_NAME_CAP: usize = 96;
/// The rows of `maps`, in print order. Every mapping is in exactly one row,
/// and every column (kB, maps, Rss, Pss, Priv_Dirty) sums the same mappings.
const ROWS: [&str; 9] = [
    "heap",
    "stack",
    "thread-stacks",
    "guarded-anon",
    "anon",
    "bss",
    "file",
    "shm",
    "special",
];
const HEAP: usize = 0;
const STACK: usize = 1;
const THREAD_STACKS: usize = 2;
const GUARDED_ANON: usize = 3;
const ANON: usize = 4;
const BSS: usize = 5;
const FILE: usize = 6;
const SHM: usize = 7;
const SPECIAL: usize = 8;

#[derive(Clone, Copy, Default)]
struct Totals {
    kb: u64,
    n: u32,
    rss: u64,
    pss: u64,
    dirty: u64,
}

impl Totals {
    fn add(&mut self, o: &Totals) {
        self.kb += o.kb;
        self.n += o.n;
        self.rss += o.rss;
        self.pss += o.pss;
        self.dirty += o.dirty;
    }
}

#[derive(Clone, Default)]
struct FileRow {
    path: heapless::Vec<u8, FILE_NAME_CAP>,
    text: u64,
    data: u64,
    bss: u64,
    ro: u64,
}

fn row_of(c: Class) -> usize {
    match c {
        Class::Heap => HEAP,
        Class::Stack => STACK,
        Class::ThreadStack => THREAD_STACKS,
        Class::Guarded => GUARDED_ANON,
        Class::Anon => ANON,
        Class::File => FILE,
        Class::Shm => SHM,
        Class::Special => SPECIAL,
    }
}

pub(crate) fn pid_error(root: &[u8], pid: u32, file: &[u8], e: ReadError) -> i32 {
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

pub(crate) fn print(l: &mut Line) {
    let _ = sys::write_all(sys::STDOUT, l.finish());
    l.clear();
}

pub(crate) fn cell(l: &mut Line, v: u64, width: usize) {
    l.cell(Some(v), width);
}

/// `memdog maps PID [--rss]`
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn maps(root: &[u8], pid: u32, rss: bool) -> i32 {
    let mut buf = [0u8; crate::sample::READ_BUF];
    // Threads decides whether guarded regions are thread stacks (a captured
    // tree may lack status: then the thread count is unknown)
    let st = match sys::read_file(&PathBuf::proc_file(root, pid, b"status"), &mut buf) {
        Ok((data, _)) => Status::parse(data),
        Err(_) => Status::default(),
    };
    let file: &[u8] = if rss { b"smaps" } else { b"maps" };
    let mut fd = match Fd::open_read(&PathBuf::proc_file(root, pid, file)) {
        Ok(fd) => fd,
        Err(e) => return pid_error(root, pid, file, e.into()),
    };
    let mut totals = [Totals::default(); ROWS.len()];
    let mut files: heapless::Vec<FileRow, MAX_FILES> = heapless::Vec::new();
    let mut other = FileRow::default();
    let mut p = MapsParser::default();
    let mut deleted = (0u64, 0u32);
    let mut mappings = 0u32;
    let mut total_kb = 0u64;
    let mut cur = ANON;
    // the loaded file (one with a text mapping) whose private rw mapping
    // ended where an anonymous rw mapping may start: that one is its bss
    let mut last_data: Option<(u64, usize)> = None;
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
        // guarded regions are summed apart and decided at the end, when their count is known
        cur = row_of(class);
        mappings += 1;
        total_kb += kb;
        let bss_of = match (class, last_data) {
            (Class::Anon, Some((end, i)))
                if end == m.start && &m.perms[..3] == b"rw-" && m.perms[3] == b'p' =>
            {
                Some(i)
            }
            _ => None,
        };
        last_data = None;
        if let Some(i) = bss_of {
            cur = BSS;
            match files.get_mut(i) {
                Some(f) => f.bss += kb,
                None => other.bss += kb,
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
                    // only a loaded object (text seen) has a bss; a plain
                    // mmap'd data file, deleted or not, has none
                    if m.perms[3] == b'p' && row.text > 0 {
                        last_data = Some((m.end, i));
                    }
                }
                _ => row.ro += kb,
            }
        }
    });
    if let Err(e) = r {
        return pid_error(root, pid, file, e.into());
    }
    if mappings == 0 {
        // an empty maps: a kernel thread or a zombie has no user memory
        let mut b = [0u8; 20];
        out::error(&[
            b"pid ",
            crate::num::fmt_u64(u64::from(pid), &mut b),
            b" has no user mappings (kernel thread or zombie)",
        ]);
        return exit::OK;
    }
    let labelled = totals.get(THREAD_STACKS).map_or(0, |t| t.n);
    let guarded = totals.get(GUARDED_ANON).map_or(0, |t| t.n);
    let stacks = crate::proc::maps::guarded_are_thread_stacks(labelled, guarded, st.threads);
    if stacks {
        let g = totals.get(GUARDED_ANON).copied().unwrap_or_default();
        if let Some(t) = totals.get_mut(THREAD_STACKS) {
            t.add(&g);
        }
        if let Some(t) = totals.get_mut(GUARDED_ANON) {
            *t = Totals::default();
        }
    }
    let mut l = Line::new();
    l.push(b"mappings=");
    l.push_u64(u64::from(mappings));
    l.kv(b"total_kb", total_kb);
    l.kv(
        b"thread_stacks",
        totals.get(THREAD_STACKS).map_or(0, |t| u64::from(t.n)),
    );
    if let Some(n) = st.threads {
        l.kv(b"Threads", u64::from(n));
    }
    l.kv(
        b"guarded_anon",
        totals.get(GUARDED_ANON).map_or(0, |t| u64::from(t.n)),
    );
    l.kv(b"deleted_kb", deleted.0);
    if let Some(g) = st.thread_of() {
        l.kv(b"thread_of", u64::from(g));
    }
    print(&mut l);
    if guarded > 0 && !stacks {
        l.push(b"(");
        l.push_u64(u64::from(guarded));
        l.push(b" anonymous regions sit above a guard page, more than Threads - 1");
        if labelled > 0 {
            l.push(b" or besides [stack:TID] labels");
        }
        l.push(b": guard-page allocations, not thread stacks)");
        print(&mut l);
    }
    l.push(b"class                kB  maps");
    if rss {
        l.push(b"       Rss       Pss  Priv_Dirty");
    }
    print(&mut l);
    for (name, t) in ROWS.iter().zip(totals.iter()) {
        l.push(name.as_bytes());
        for _ in name.len()..14 {
            l.push(b" ");
        }
        cell(&mut l, t.kb, 10);
        cell(&mut l, u64::from(t.n), 6);
        if rss {
            cell(&mut l, t.rss, 10);
            cell(&mut l, t.pss, 10);
            cell(&mut l, t.dirty, 12);
        }
        print(&mut l);
    }
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
