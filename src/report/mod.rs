//! `memdog report`: pulled logs to a verdict per target, a ranked table over
//! hosts, an SVG chart and a CSV, in fixed memory (named capacities in
//! static tables; nothing grows with the log's length).
//!
//! The report is a function of the *set* of lines: file order and repeated
//! files do not change it. It reads every file twice:
//! 1. index: each file is cut into segments, stretches of one host's lines
//!    whose (uptime, seq) only grows; segments are joined into boots by
//!    their wall-clock boot time (wall - uptime, within [`BOOT_TOL_S`]);
//! 2. merge: per host, boot by boot (in wall-clock order), the boot's
//!    segments are merged by (uptime, seq); all lines of one key (one
//!    sample) are gathered, exact duplicates dropped, and fed to the model
//!    in a fixed order (events before samples).
//!
//! A series is one process life (host, target, boot, pid, starttime); a
//! restart is a new life, never growth. Lines that are cut short or are
//! garbage are skipped and counted (`skipped=N`, distinct lines).
//!
//! Exit codes: 0 report printed; 1 no memdog lines in the input, a
//! `--target` not in the logs, a file that cannot be read or written;
//! 2 bad command line.

mod draw;
pub mod model;
pub mod parse;
pub use parse::parse_time;

use crate::out::{self, exit};
use crate::sys::{self, cell::Once, Errno, Fd, PathBuf};
use heapless::Vec;
use model::{Model, Name, Rec, RecKind};
use parse::{Kind, Msg, FIELDS};

/// Hosts in one report (a fleet's files, or one syslog file of many boards).
pub const MAX_HOSTS: usize = 256;
/// Segments over all files: about one per file and host, one more per reboot.
pub const MAX_SEGS: usize = 4096;
/// Segments of one boot read at once (copies and overlapping splits of one
/// stretch of log); rotated pieces follow each other and need one.
pub const MAX_CURSORS: usize = 16;
/// Lines of one sample (one key): a target per line plus meminfo and events;
/// memdog follows at most 64 processes.
pub const GROUP_CAP: usize = 256;
/// Distinct damaged lines counted exactly; past it the count may repeat lines.
pub const SKIP_SET: usize = 4096;
/// Read buffer per file; a line longer than this is damage (memdog writes
/// at most 1 KiB, a syslog wrapper adds well under 200 bytes).
pub const READ_BUF: usize = 8192;
/// Two segments with boot times this close are the same boot (wall clock at
/// 1 s, uptime at 0.1 s, and NTP slewing).
pub const BOOT_TOL_S: i64 = 3;
/// Lines that identify a copy of a stretch of log with an unset clock.
const HEAD_LINES: u8 = 4;
/// proc_memlog without date lines: the README loop's `sleep 600`.
pub const MEMLOG_ASSUMED_S: i64 = 600;

const NONE16: u16 = u16::MAX;

#[derive(Clone, Copy)]
struct Epoch {
    secs: i64,
    iso: bool,
}

#[derive(Clone, Copy)]
struct Seg {
    file: u16,
    host: u16,
    off: u64,
    end: u64,
    first: (u64, u64),
    last: (u64, u64),
    /// boot time (wall - uptime) at the first and last line with a set clock
    e_first: Option<Epoch>,
    e_last: Option<Epoch>,
    /// boot time of the first line even with an unset clock, for ordering
    e_raw: i64,
    first_hash: u64,
    /// the first HEAD_LINES lines, hashed together: copies of a stretch of a
    /// boot whose clock was never set are told by them (two boots of a
    /// deterministic board may share a first line, hardly four)
    head_hash: u64,
    head_lines: u8,
    parent: u16,
    boot: u16,
    /// the last own line with a set clock, (uptime, file offset), whose time
    /// is read at the end of the file: e_last
    pending: Option<(u64, u64)>,
}

#[derive(Clone, Copy, Default)]
struct FileMeta {
    /// host given with --host, an index into the host table
    host: u16,
    missing: bool,
    memlog: bool,
    /// same path given earlier: skipped
    repeat: bool,
}

#[derive(Clone, Copy)]
struct Boot {
    host: u16,
    epoch: i64,
    first_up: u64,
    first_hash: u64,
    root: u16,
}

/// Damaged lines, counted once each however often they are read.
pub struct Skips {
    set: Vec<u64, SKIP_SET>,
    over: u64,
}

impl Skips {
    fn add(&mut self, line: &[u8]) {
        let h = parse::hash(line);
        if let Err(i) = self.set.binary_search(&h) {
            if self.set.insert(i, h).is_err() {
                self.over += 1;
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.set.len() as u64 + self.over
    }
}

/// The lines of one key (one sample), duplicates dropped.
struct Gather {
    group: Vec<Rec, GROUP_CAP>,
    duplicates: u64,
    overflow: u64,
}

impl Gather {
    fn add(&mut self, payload: &[u8], key: (u64, u64), skips: &mut Skips) {
        let h = parse::hash(payload);
        if self.group.iter().any(|r| r.hash == h) {
            self.duplicates += 1;
            return;
        }
        let Some(mut r) = record(payload) else {
            skips.add(payload);
            return;
        };
        r.hash = h;
        r.up = key.0;
        if self.group.push(r).is_err() {
            self.overflow += 1;
        }
    }
}

pub struct State {
    model: Model,
    segs: Vec<Seg, MAX_SEGS>,
    boots: Vec<Boot, MAX_SEGS>,
    meta: Vec<FileMeta, { crate::cli::REPORT_FILES }>,
    skips: Skips,
    seg_overflow: u64,
    host_overflow: u64,
    gather: Gather,
    cursor_overflow: u64,
    now: i64,
    reader: Reader,
    cursors: Vec<Cursor, MAX_CURSORS>,
    /// scratch: (host, boot time, segment) points for joining boots
    pts: Vec<(u16, i64, u16), { 2 * MAX_SEGS }>,
}

static STATE: Once<State> = Once::new(State {
    model: Model::new(),
    segs: Vec::new(),
    boots: Vec::new(),
    meta: Vec::new(),
    skips: Skips {
        set: Vec::new(),
        over: 0,
    },
    seg_overflow: 0,
    host_overflow: 0,
    gather: Gather {
        group: Vec::new(),
        duplicates: 0,
        overflow: 0,
    },
    cursor_overflow: 0,
    now: 0,
    reader: Reader::new(),
    cursors: Vec::new(),
    pts: Vec::new(),
});

/// A buffered reader over a byte range of a file, line by line.
struct Reader {
    buf: [u8; READ_BUF],
    lo: usize,
    hi: usize,
    /// file offset of buf[hi]
    pos: u64,
    end: u64,
    eof: bool,
    /// inside the tail of an over-long line
    skipping: bool,
    /// a pipe: read(2), not pread
    stream: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Newline,
    /// the last line of the file has no newline: cut while being written
    Cut,
    /// longer than the buffer: not a line memdog wrote
    Long,
}

impl Reader {
    const fn new() -> Reader {
        Reader {
            buf: [0; READ_BUF],
            lo: 0,
            hi: 0,
            pos: 0,
            // zero: the static State stays in .bss (reset() sets the range)
            end: 0,
            eof: false,
            skipping: false,
            stream: false,
        }
    }

    fn reset(&mut self, start: u64, end: u64, stream: bool) {
        self.lo = 0;
        self.hi = 0;
        self.pos = start;
        self.end = end;
        self.eof = false;
        self.skipping = false;
        self.stream = stream;
    }

    /// The next line: its file offset, its bytes (no newline), how it ended.
    fn next(&mut self, fd: &mut Fd) -> Result<Got<'_>, Errno> {
        loop {
            let avail = self.buf.get(self.lo..self.hi).unwrap_or(&[]);
            if let Some(j) = parse::memchr(b'\n', avail) {
                let start = self.lo;
                self.lo += j + 1;
                let off = self.pos - (self.hi - start) as u64;
                if self.skipping {
                    self.skipping = false;
                    continue;
                }
                return Ok(Some((
                    off,
                    self.buf.get(start..start + j).unwrap_or(&[]),
                    End::Newline,
                )));
            }
            if self.eof || self.pos >= self.end {
                if self.lo < self.hi && !self.skipping {
                    let start = self.lo;
                    let off = self.pos - (self.hi - start) as u64;
                    self.lo = self.hi;
                    return Ok(Some((
                        off,
                        self.buf.get(start..self.hi).unwrap_or(&[]),
                        End::Cut,
                    )));
                }
                return Ok(None);
            }
            if self.lo > 0 {
                self.buf.copy_within(self.lo..self.hi, 0);
                self.hi -= self.lo;
                self.lo = 0;
            }
            if self.hi == self.buf.len() {
                // a line longer than the buffer: hand it on once as damage
                let off = self.pos - self.hi as u64;
                self.hi = 0;
                let was = self.skipping;
                self.skipping = true;
                if !was {
                    return Ok(Some((
                        off,
                        self.buf.get(..READ_BUF).unwrap_or(&[]),
                        End::Long,
                    )));
                }
                continue;
            }
            let want = ((self.end - self.pos).min((READ_BUF - self.hi) as u64)) as usize;
            let space = self.buf.get_mut(self.hi..self.hi + want).unwrap_or(&mut []);
            let n = if self.stream {
                embedded_io::Read::read(fd, space)?
            } else {
                fd.read_at(space, self.pos)?
            };
            if n == 0 {
                self.eof = true;
            }
            self.hi += n;
            self.pos += n as u64;
        }
    }
}

/// One line from a [`Reader`]: its file offset, its bytes, how it ended.
type Got<'b> = Option<(u64, &'b [u8], End)>;

struct Cursor {
    fd: Fd,
    seg: u16,
    reader: Reader,
    /// the current line's payload in the reader's buffer (valid until the next read)
    line: (usize, usize),
    key: (u64, u64),
    done: bool,
}

/// `memdog report LOG... [--host NAME] [--svg FILE] [--csv FILE] [--target NAME]...`
#[inline(never)]
pub fn run(
    files: &[(&[u8], Option<&[u8]>)],
    svg: Option<&[u8]>,
    csv: Option<&[u8]>,
    targets: &[&[u8]],
) -> i32 {
    let Some(st) = STATE.take() else {
        return exit::FAILURE;
    };
    st.now = sys::realtime().0;
    for t in targets {
        let _ = st.model.only.push(model::name(t));
    }
    st.model.chart_all = svg.is_some() || csv.is_some();
    // a pipe on stdin can be read once only: alone, in its own order
    let stdin_pipe = files.iter().any(|f| f.0 == b"-") && stdin_is_pipe();
    if stdin_pipe {
        if files.len() > 1 {
            out::error(&[b"report: - is a pipe, which can only be read alone: save it to a file to report it with others"]);
            return exit::USAGE;
        }
        if let Err(e) = st.stream(files) {
            out::error(&[b"report: cannot read -: ", e.text().as_bytes()]);
            return exit::FAILURE;
        }
    } else {
        if let Err(code) = st.index(files) {
            return code;
        }
        st.group_boots();
        if let Err(code) = st.merge_all(files) {
            return code;
        }
    }
    st.model.finish();
    if st.model.records == 0 {
        out::error(&[b"report: no memdog lines in the input (memdog logs, their syslog copies or proc_memlog.txt)"]);
        return exit::FAILURE;
    }
    let mut unknown = false;
    for (i, t) in st.model.only.iter().enumerate() {
        if !st.model.matched.get(i).copied().unwrap_or(false) {
            draw::unknown_target(&st.model, t);
            unknown = true;
        }
    }
    if unknown {
        return exit::FAILURE;
    }
    let mut ranked: Vec<u16, { model::MAX_TARGETS }> = Vec::new();
    st.model.ranked(&mut ranked);
    // more targets than charts: bin the worst ones on a second merge
    if st.model.chart_all && st.model.targets.len() > model::CHARTED && !stdin_pipe {
        st.rechart(files, &ranked);
    }
    draw::print(st, &ranked);
    for (path, is_svg) in [(svg, true), (csv, false)] {
        let Some(p) = path else { continue };
        match sys::create_file(&PathBuf::from(p), 0o644) {
            Ok(fd) => {
                let r = if is_svg {
                    draw::svg(&st.model, &ranked, fd.raw())
                } else {
                    draw::csv(&st.model, &ranked, fd.raw())
                };
                if let Err(e) = r {
                    out::error(&[b"report: cannot write ", p, b": ", e.text().as_bytes()]);
                    return exit::FAILURE;
                }
            }
            Err(e) => {
                out::error(&[b"report: cannot create ", p, b": ", e.text().as_bytes()]);
                return exit::FAILURE;
            }
        }
    }
    exit::OK
}

/// stdin as a file of its own (/dev/stdin): a redirected file can then be
/// read at offsets like any other.
fn stdin_fd() -> Result<Fd, Errno> {
    Fd::open_read(&PathBuf::from(b"/dev/stdin"))
}

fn stdin_is_pipe() -> bool {
    // pread says ESPIPE on a pipe before it looks at the length
    stdin_fd().is_ok_and(|mut fd| fd.read_at(&mut [], 0).is_err())
}

/// The host of one memdog message: `--host` for its file, else a `host=`
/// field, else the syslog wrapper's.
fn host_of<'a>(m: &Msg<'a>, after_key: &'a [u8]) -> &'a [u8] {
    // a `host=` field right after `seq=` (where memdog would put it)
    if let Some(v) = after_key.strip_prefix(b" host=") {
        let n = parse::memchr(b' ', v).unwrap_or(v.len());
        return v.get(..n).unwrap_or(&[]);
    }
    m.host
}

impl State {
    fn host_index(&mut self, name: &[u8]) -> u16 {
        let hosts = &mut self.model.hosts;
        if let Some(i) = hosts.iter().position(|h| &h[..] == name) {
            return i as u16;
        }
        if hosts.push(model::name(name)).is_err() {
            self.host_overflow += 1;
            return NONE16;
        }
        (hosts.len() - 1) as u16
    }

    /// Pass 1: cut every file into segments; note proc_memlog files.
    fn index(&mut self, files: &[(&[u8], Option<&[u8]>)]) -> Result<(), i32> {
        self.host_index(b"");
        for (fi, &(path, host)) in files.iter().enumerate() {
            let mut m = FileMeta {
                host: NONE16,
                ..FileMeta::default()
            };
            if let Some(h) = host {
                m.host = self.host_index(h);
            }
            m.repeat = files.iter().take(fi).any(|f| f.0 == path && f.1 == host);
            let _ = self.meta.push(m);
            if m.repeat {
                continue;
            }
            let mut fd = match open(path) {
                Ok(fd) => fd,
                Err(e) => {
                    // the README's `.3 .2 .1 log` recipe names files that may not exist yet
                    out::error(&[b"report: skipping ", path, b": ", e.text().as_bytes()]);
                    if let Some(mm) = self.meta.get_mut(fi) {
                        mm.missing = true;
                    }
                    continue;
                }
            };
            if let Err(e) = self.index_file(fi as u16, &mut fd, m.host) {
                out::error(&[b"report: cannot read ", path, b": ", e.text().as_bytes()]);
                return Err(exit::FAILURE);
            }
        }
        Ok(())
    }

    fn index_file(&mut self, fi: u16, fd: &mut Fd, forced_host: u16) -> Result<(), Errno> {
        // the open segment of each host in this file
        let mut open_seg: Vec<(u16, u16), MAX_HOSTS> = Vec::new();
        let mut reader = core::mem::replace(&mut self.reader, Reader::new());
        reader.reset(0, u64::MAX, false);
        let now = self.now;
        let mut memlog = false;
        let first_seg = self.segs.len();
        let res = loop {
            let (off, line, end) = match reader.next(fd) {
                Ok(Some(x)) => x,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            };
            let len = line.len() as u64;
            if end != End::Newline {
                let l = Vec::<u8, READ_BUF>::from_slice(line).unwrap_or_default();
                self.skips.add(&l);
                continue;
            }
            // memdog's own lines (nearly all of a pulled log): the time is
            // computed only where a segment needs it (its first line with a
            // set clock, its last, at the end of the file)
            let own = parse::own_line(line);
            let m = match own {
                Some(p) => Msg {
                    host: b"",
                    wall: None,
                    iso: true,
                    payload: p,
                },
                None => match parse::classify(line, now) {
                    Kind::Memdog(m) => m,
                    Kind::MemlogTime(_) | Kind::MemlogValue(..) => {
                        memlog = true;
                        continue;
                    }
                    Kind::Other => continue,
                    Kind::Damaged => {
                        let l = Vec::<u8, READ_BUF>::from_slice(line).unwrap_or_default();
                        self.skips.add(&l);
                        continue;
                    }
                },
            };
            let Some((key, after)) = parse::key_rest(m.payload) else {
                // damaged lines inside a segment are counted by the merge
                let l = Vec::<u8, READ_BUF>::from_slice(line).unwrap_or_default();
                self.skips.add(&l);
                continue;
            };
            let host = if forced_host != NONE16 {
                forced_host
            } else {
                let hn = host_of(&m, after);
                let hn: Name = model::name(hn);
                self.host_index(&hn)
            };
            if host == NONE16 {
                continue;
            }
            let epoch_of = |wall: Option<i64>| wall.map(|w| w - (key.0 / 10) as i64);
            let set_of = |wall: Option<i64>, iso: bool| {
                wall.filter(|&w| w >= parse::CLOCK_SET)
                    .map(|w| w - (key.0 / 10) as i64)
                    .filter(|&e| iso || !parse::new_year_boot(e))
                    .map(|secs| Epoch { secs, iso })
            };
            let k = open_seg.iter().position(|o| o.0 == host);
            let cont = k
                .and_then(|k| open_seg.get(k))
                .and_then(|o| self.segs.get(o.1 as usize))
                .is_some_and(|s| key >= s.last);
            if cont {
                if let Some(s) = k
                    .and_then(|k| open_seg.get(k))
                    .and_then(|o| self.segs.get_mut(o.1 as usize))
                {
                    s.last = key;
                    s.end = off + len + 1;
                    if s.head_lines < HEAD_LINES {
                        s.head_lines += 1;
                        s.head_hash = s.head_hash.rotate_left(7) ^ parse::hash(m.payload);
                    }
                    if own.is_some() {
                        // a set clock: the year says it (2001 and later)
                        let y = line.get(..4).and_then(parse::lead_u64).map_or(0, |v| v.0);
                        if y > 2000 {
                            if s.e_first.is_none() {
                                s.e_first = set_of(parse::own_wall(line), true);
                            }
                            s.pending = Some((key.0, off));
                        }
                    } else if let Some(ep) = set_of(m.wall, m.iso) {
                        if s.e_first.is_none() {
                            s.e_first = Some(ep);
                        }
                        s.e_last = Some(ep);
                        s.pending = None;
                    }
                }
                continue;
            }
            let wall = if own.is_some() {
                parse::own_wall(line)
            } else {
                m.wall
            };
            let epoch = epoch_of(wall);
            let ep = set_of(wall, m.iso);
            let seg = Seg {
                file: fi,
                host,
                off,
                end: off + len + 1,
                first: key,
                last: key,
                e_first: ep,
                e_last: ep,
                e_raw: epoch.unwrap_or(0),
                first_hash: parse::hash(m.payload),
                head_hash: parse::hash(m.payload),
                head_lines: 1,
                parent: self.segs.len() as u16,
                boot: 0,
                pending: None,
            };
            if self.segs.push(seg).is_err() {
                // out of segments: this stretch joins the open one, unordered
                self.seg_overflow += 1;
                if let Some(s) = k
                    .and_then(|k| open_seg.get(k))
                    .and_then(|o| self.segs.get_mut(o.1 as usize))
                {
                    s.end = off + len + 1;
                }
                continue;
            }
            let si = (self.segs.len() - 1) as u16;
            match k.and_then(|k| open_seg.get_mut(k)) {
                Some(o) => o.1 = si,
                None => {
                    let _ = open_seg.push((host, si));
                }
            }
        };
        // the boot time at each segment's last line with a set clock
        let mut stamp = [0u8; 32];
        for s in self.segs.iter_mut().skip(first_seg) {
            let Some((up, off)) = s.pending.take() else {
                continue;
            };
            let n = fd.read_at(&mut stamp, off).unwrap_or(0);
            let wall = stamp.get(..n).and_then(parse::own_wall);
            if let Some(w) = wall.filter(|&w| w >= parse::CLOCK_SET) {
                s.e_last = Some(Epoch {
                    secs: w - (up / 10) as i64,
                    iso: true,
                });
            }
        }
        self.reader = reader;
        if memlog {
            if let Some(m) = self.meta.get_mut(fi as usize) {
                m.memlog = true;
            }
        }
        res
    }

    fn find_root(&mut self, mut i: u16) -> u16 {
        for _ in 0..MAX_SEGS {
            let p = self.segs.get(i as usize).map_or(i, |s| s.parent);
            if p == i {
                return i;
            }
            let gp = self.segs.get(p as usize).map_or(p, |s| s.parent);
            if let Some(s) = self.segs.get_mut(i as usize) {
                s.parent = gp;
            }
            i = gp;
        }
        i
    }

    fn union(&mut self, a: u16, b: u16) {
        let (ra, rb) = (self.find_root(a), self.find_root(b));
        if ra != rb {
            let (lo, hi) = (ra.min(rb), ra.max(rb));
            if let Some(s) = self.segs.get_mut(hi as usize) {
                s.parent = lo;
            }
        }
    }

    /// Join segments into boots: the same host and a boot time (wall -
    /// uptime) within BOOT_TOL_S at either end; or copies (the same first
    /// HEAD_LINES lines) of a segment whose clock was never set.
    fn group_boots(&mut self) {
        // points (host, boot time, segment), sorted; neighbours within the tolerance join
        self.pts.clear();
        for (i, s) in self.segs.iter().enumerate() {
            for e in [s.e_first, s.e_last].into_iter().flatten() {
                let _ = self.pts.push((s.host, e.secs, i as u16));
            }
        }
        self.pts.sort_unstable();
        for k in 1..self.pts.len() {
            let (Some(a), Some(b)) = (self.pts.get(k - 1).copied(), self.pts.get(k).copied())
            else {
                continue;
            };
            if a.0 == b.0 && b.1 - a.1 <= BOOT_TOL_S {
                self.union(a.2, b.2);
            }
        }
        let n = self.segs.len();
        for i in 0..n {
            for j in 0..i {
                let (Some(a), Some(b)) = (self.segs.get(i), self.segs.get(j)) else {
                    continue;
                };
                if a.e_first.is_none()
                    && b.e_first.is_none()
                    && a.host == b.host
                    && a.first == b.first
                    && a.first_hash == b.first_hash
                    && a.head_lines == b.head_lines
                    && a.head_hash == b.head_hash
                {
                    self.union(i as u16, j as u16);
                }
            }
        }
        // one boot per root: its boot time from its latest line with a set
        // clock (after an NTP step), memdog's own stamps before a wrapper's
        self.boots.clear();
        for i in 0..n {
            let r = self.find_root(i as u16);
            let Some(s) = self.segs.get(i).copied() else {
                continue;
            };
            let k = match self.boots.iter().position(|b| b.root == r) {
                Some(k) => k,
                None => {
                    let _ = self.boots.push(Boot {
                        host: s.host,
                        epoch: s.e_raw,
                        first_up: s.first.0,
                        first_hash: s.first_hash,
                        root: r,
                    });
                    self.boots.len() - 1
                }
            };
            if let Some(b) = self.boots.get_mut(k) {
                if (s.first.0, s.first_hash) < (b.first_up, b.first_hash) {
                    b.first_up = s.first.0;
                    b.first_hash = s.first_hash;
                }
            }
        }
        for k in 0..self.boots.len() {
            let Some(root) = self.boots.get(k).map(|b| b.root) else {
                continue;
            };
            let mut best: Option<(bool, u64, i64)> = None;
            let mut raw = i64::MAX;
            for i in 0..n {
                if self.find_root(i as u16) != root {
                    continue;
                }
                let Some(s) = self.segs.get(i) else { continue };
                raw = raw.min(s.e_raw);
                if let Some(e) = s.e_last {
                    let cand = (e.iso, s.last.0, e.secs);
                    if best.is_none_or(|b| cand > b) {
                        best = Some(cand);
                    }
                }
            }
            if let Some(b) = self.boots.get_mut(k) {
                b.epoch = best.map_or(raw, |b| b.2);
            }
        }
        // order: host, boot time, first line
        let hosts = &self.model.hosts;
        self.boots.sort_unstable_by(|a, b| {
            (
                hosts.get(a.host as usize),
                a.epoch,
                a.first_up,
                a.first_hash,
            )
                .cmp(&(
                    hosts.get(b.host as usize),
                    b.epoch,
                    b.first_up,
                    b.first_hash,
                ))
        });
        for k in 0..self.boots.len() {
            let Some(root) = self.boots.get(k).map(|b| b.root) else {
                continue;
            };
            for i in 0..n {
                if self.find_root(i as u16) == root {
                    if let Some(s) = self.segs.get_mut(i) {
                        s.boot = k as u16;
                    }
                }
            }
        }
    }

    /// Pass 2: every host, boot by boot; then the proc_memlog files.
    fn merge_all(&mut self, files: &[(&[u8], Option<&[u8]>)]) -> Result<(), i32> {
        let mut k = 0;
        let mut ord = 0u16;
        let mut host = NONE16;
        while k < self.boots.len() {
            let Some(b) = self.boots.get(k).copied() else {
                break;
            };
            if b.host != host {
                host = b.host;
                ord = 0;
                self.model.begin_host(host);
            }
            ord += 1;
            self.model.begin_boot(ord, b.epoch, b.first_up);
            self.merge_boot(k as u16, files)?;
            k += 1;
        }
        for (fi, f) in files.iter().enumerate() {
            let Some(m) = self.meta.get(fi).copied() else {
                continue;
            };
            if m.memlog && !m.repeat && !m.missing {
                self.memlog_file(f.0, if m.host == NONE16 { 0 } else { m.host })
                    .map_err(|e| {
                        out::error(&[b"report: cannot read ", f.0, b": ", e.text().as_bytes()]);
                        exit::FAILURE
                    })?;
            }
        }
        Ok(())
    }

    /// The chart pass: the same merge again, binning the worst targets.
    fn rechart(&mut self, files: &[(&[u8], Option<&[u8]>)], ranked: &[u16]) {
        let mut keys: Vec<(u16, Name, bool), { model::CHARTED }> = Vec::new();
        for &i in ranked.iter().take(model::CHARTED) {
            if let Some(t) = self.model.targets.get(i as usize) {
                let _ = keys.push((t.host, t.name.clone(), t.system));
            }
        }
        self.model.reset();
        self.model.chart_all = false;
        self.model.chart_keys(&keys);
        // the same lines again: count their duplicates once
        let dups = self.gather.duplicates;
        let _ = self.merge_all(files);
        self.gather.duplicates = dups;
        self.model.finish();
    }

    fn merge_boot(&mut self, boot: u16, files: &[(&[u8], Option<&[u8]>)]) -> Result<(), i32> {
        // the boot's segments by first key (then content: never by file order)
        let mut order: Vec<u16, MAX_SEGS> = Vec::new();
        for (i, s) in self.segs.iter().enumerate() {
            if s.boot == boot {
                let _ = order.push(i as u16);
            }
        }
        let segs = &self.segs;
        order.sort_unstable_by_key(|&i| {
            segs.get(i as usize)
                .map(|s| (s.first, s.first_hash, s.end - s.off))
        });
        let mut next = 0usize;
        self.cursors.clear();
        let mut last_key: Option<(u64, u64)> = None;
        loop {
            // open every segment that starts at or before the smallest current key
            let min_key = self.cursors.iter().filter(|c| !c.done).map(|c| c.key).min();
            while let Some(&si) = order.get(next) {
                let Some(s) = self.segs.get(si as usize).copied() else {
                    break;
                };
                if min_key.is_some_and(|k| s.first > k) {
                    break;
                }
                if self.cursors.is_full() {
                    self.cursor_overflow += 1;
                    break;
                }
                let Some(path) = files.get(s.file as usize).map(|f| f.0) else {
                    break;
                };
                let fd = match open(path) {
                    Ok(fd) => fd,
                    Err(e) => {
                        out::error(&[b"report: cannot read ", path, b": ", e.text().as_bytes()]);
                        return Err(exit::FAILURE);
                    }
                };
                let mut c = Cursor {
                    fd,
                    seg: si,
                    reader: Reader::new(),
                    line: (0, 0),
                    key: (0, 0),
                    done: false,
                };
                c.reader.reset(s.off, s.end, false);
                let _ = self.cursors.push(c);
                let ci = self.cursors.len() - 1;
                self.advance(ci, files)?;
                next += 1;
                if min_key.is_none() {
                    break;
                }
            }
            self.cursors.retain(|c| !c.done);
            // the smallest key; ties: the cursor opened first
            let Some((ci, key)) = self
                .cursors
                .iter()
                .enumerate()
                .min_by_key(|(_, c)| c.key)
                .map(|(i, c)| (i, c.key))
            else {
                if next >= order.len() {
                    break;
                }
                continue;
            };
            if last_key != Some(key) {
                self.flush_group();
                last_key = Some(key);
            }
            if let Some(c) = self.cursors.get(ci) {
                let p = c.reader.buf.get(c.line.0..c.line.1).unwrap_or(&[]);
                self.gather.add(p, key, &mut self.skips);
            }
            self.advance(ci, files)?;
        }
        self.flush_group();
        Ok(())
    }

    /// Move cursor `ci` to its next line of its host.
    fn advance(&mut self, ci: usize, files: &[(&[u8], Option<&[u8]>)]) -> Result<(), i32> {
        let now = self.now;
        let Some(c) = self.cursors.get_mut(ci) else {
            return Ok(());
        };
        let Some(s) = self.segs.get(c.seg as usize).copied() else {
            c.done = true;
            return Ok(());
        };
        let forced = self.meta.get(s.file as usize).map_or(NONE16, |m| m.host);
        loop {
            let (_, line, end) = match c.reader.next(&mut c.fd) {
                Ok(Some(x)) => x,
                Ok(None) => {
                    c.done = true;
                    return Ok(());
                }
                Err(e) => {
                    let p = files.get(s.file as usize).map_or(&b"?"[..], |f| f.0);
                    out::error(&[b"report: cannot read ", p, b": ", e.text().as_bytes()]);
                    return Err(exit::FAILURE);
                }
            };
            if end != End::Newline {
                continue; // counted by the index
            }
            // the merge needs no time: memdog's own lines skip the stamp's arithmetic
            let m = match parse::own_line(line) {
                Some(p) => Msg {
                    host: b"",
                    wall: None,
                    iso: true,
                    payload: p,
                },
                None => match parse::classify(line, now) {
                    Kind::Memdog(m) => m,
                    _ => continue,
                },
            };
            let Some((key, after)) = parse::key_rest(m.payload) else {
                continue;
            };
            let host_ok = if forced != NONE16 {
                true
            } else {
                let h = host_of(&m, after);
                self.model
                    .hosts
                    .get(s.host as usize)
                    .is_some_and(|n| &n[..] == h)
            };
            if !host_ok {
                continue;
            }
            let (pa, pl) = (m.payload.as_ptr() as usize, m.payload.len());
            c.key = key;
            let at = pa.saturating_sub(c.reader.buf.as_ptr() as usize);
            c.line = (at, at + pl);
            return Ok(());
        }
    }

    fn flush_group(&mut self) {
        // events before samples (a start before its process's first sample,
        // an exit before a reused pid's start), then by content: any file
        // order gives the same sequence
        let g = &mut self.gather.group;
        g.sort_unstable_by_key(|r| (r.kind, r.hash));
        for r in g.iter() {
            self.model.record(r);
        }
        g.clear();
    }

    /// proc_memlog.txt: one target per file, named by the file.
    fn memlog_file(&mut self, path: &[u8], host: u16) -> Result<(), Errno> {
        let mut fd = open(path)?;
        let Some(t) = self.model.memlog_target(host, path) else {
            return Ok(());
        };
        let mut reader = core::mem::replace(&mut self.reader, Reader::new());
        reader.reset(0, u64::MAX, false);
        let mut time: Option<i64> = None;
        let mut first: Option<i64> = None;
        let mut index: i64 = 0;
        let mut assumed = false;
        let res = loop {
            let (_, line, end) = match reader.next(&mut fd) {
                Ok(Some(x)) => x,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            };
            if end != End::Newline {
                continue;
            }
            match parse::classify(line, 0) {
                Kind::MemlogTime(s) => time = Some(s),
                Kind::MemlogValue(f, v) => {
                    let w = match time {
                        Some(w) => w,
                        None => {
                            // no date lines (the README's grep loop): one
                            // sample per VmRSS line, MEMLOG_ASSUMED_S apart
                            assumed = true;
                            if f == 0 {
                                index += 1;
                            }
                            index * MEMLOG_ASSUMED_S
                        }
                    };
                    let f0 = *first.get_or_insert(w);
                    self.model.memlog_sample(t, w, f, v, f0);
                }
                _ => {}
            }
        };
        self.reader = reader;
        if let Some(tg) = self.model.targets.get_mut(t) {
            tg.assumed_times = assumed;
        }
        res
    }

    /// `-` as a pipe: read once, in its order; a boot ends where uptime goes back.
    fn stream(&mut self, files: &[(&[u8], Option<&[u8]>)]) -> Result<(), Errno> {
        let forced = files.first().and_then(|f| f.1);
        self.host_index(b"");
        let forced = forced.map(|h| self.host_index(h));
        let mut fd = stdin_fd()?;
        let mut reader = core::mem::replace(&mut self.reader, Reader::new());
        reader.reset(0, u64::MAX, true);
        let now = self.now;
        // per host: (host, boot ordinal, last key, boot time)
        let mut hosts: Vec<(u16, u16, (u64, u64), i64), MAX_HOSTS> = Vec::new();
        let mut cur: Option<(u16, u16)> = None;
        let mut last_key = None;
        // proc_memlog on stdin: (target, time, first time, assumed, index)
        let mut memlog: (Option<usize>, Option<i64>, Option<i64>, bool, i64) =
            (None, None, None, false, 0);
        let res = loop {
            let (_, line, end) = match reader.next(&mut fd) {
                Ok(Some(x)) => x,
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            };
            let line = Vec::<u8, READ_BUF>::from_slice(line).unwrap_or_default();
            if end != End::Newline {
                self.skips.add(&line);
                continue;
            }
            let m = match parse::classify(&line, now) {
                Kind::Memdog(m) => m,
                Kind::Damaged => {
                    self.skips.add(&line);
                    continue;
                }
                Kind::MemlogTime(s) => {
                    memlog.1 = Some(s);
                    continue;
                }
                Kind::MemlogValue(f, v) => {
                    if memlog.0.is_none() {
                        memlog.0 = self.model.memlog_target(forced.unwrap_or(0), b"-");
                        cur = None;
                    }
                    let w = memlog.1.unwrap_or_else(|| {
                        memlog.3 = true;
                        memlog.4 += i64::from(f == 0);
                        memlog.4 * MEMLOG_ASSUMED_S
                    });
                    let f0 = *memlog.2.get_or_insert(w);
                    if let Some(t) = memlog.0 {
                        self.model.memlog_sample(t, w, f, v, f0);
                    }
                    continue;
                }
                Kind::Other => continue,
            };
            let Some((key, after)) = parse::key_rest(m.payload) else {
                self.skips.add(&line);
                continue;
            };
            let host = match forced {
                Some(h) => h,
                None => {
                    let hn = model::name(host_of(&m, after));
                    self.host_index(&hn)
                }
            };
            let k = match hosts.iter().position(|h| h.0 == host) {
                Some(k) => k,
                None => {
                    let _ = hosts.push((host, 0, (u64::MAX, 0), 0));
                    hosts.len() - 1
                }
            };
            let Some(h) = hosts.get_mut(k) else { continue };
            let new_boot = key < h.2 || h.1 == 0;
            if new_boot {
                h.1 += 1;
                h.3 = m.wall.map_or(0, |w| w - (key.0 / 10) as i64);
                // counted for the header like the index's boots
                let _ = self.boots.push(Boot {
                    host,
                    epoch: h.3,
                    first_up: key.0,
                    first_hash: 0,
                    root: 0,
                });
            }
            h.2 = key;
            let (boot, epoch) = (h.1, h.3);
            if cur != Some((host, boot)) || last_key != Some(key) {
                self.flush_group();
            }
            // hosts may interleave in a stream: each keeps its boot and processes
            if cur != Some((host, boot)) {
                self.model
                    .stream_context(host, boot, epoch, new_boot, key.0);
                cur = Some((host, boot));
            }
            last_key = Some(key);
            self.gather.add(m.payload, key, &mut self.skips);
        };
        self.flush_group();
        self.reader = reader;
        if let Some(tg) = memlog.0.and_then(|t| self.model.targets.get_mut(t)) {
            tg.assumed_times = memlog.3;
        }
        res
    }
}

fn open(path: &[u8]) -> Result<Fd, Errno> {
    if path == b"-" {
        return stdin_fd();
    }
    Fd::open_read(&PathBuf::from(path))
}

/// A key of up to 8 bytes as one integer (longer keys: 0).
const fn pack(k: &[u8]) -> u64 {
    if k.len() > 8 {
        return 0;
    }
    let mut w = [0u8; 8];
    let mut i = 0;
    while i < k.len() {
        w[i] = k[i];
        i += 1;
    }
    u64::from_le_bytes(w) ^ ((k.len() as u64) << 59)
}

/// [`pack`] at run time: one copy, no loop over the bytes.
#[inline]
fn pack_rt(k: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    match (w.get_mut(..k.len()), k.len() <= 8) {
        (Some(d), true) => d.copy_from_slice(k),
        _ => return 0,
    }
    u64::from_le_bytes(w) ^ ((k.len() as u64) << 59)
}

const K_UP: u64 = pack(b"up");
const K_SEQ: u64 = pack(b"seq");
const K_MEMINFO: u64 = pack(b"meminfo");
const K_PID: u64 = pack(b"pid");
const K_START: u64 = pack(b"start");
const K_NAME: u64 = pack(b"name");
const K_TARGET: u64 = pack(b"target");
const K_EVENT: u64 = pack(b"event");
const K_FIELD: u64 = pack(b"field");
const K_LIMIT: u64 = pack(b"limit");
const K_VMRSS: u64 = pack(b"VmRSS");
const K_VMSIZE: u64 = pack(b"VmSize");
const K_HEAP: u64 = pack(b"heap");
const K_RSSANON: u64 = pack(b"RssAnon");
const K_VMSWAP: u64 = pack(b"VmSwap");
const K_MEMFREE: u64 = pack(b"MemFree");
const K_RSSFILE: u64 = pack(b"RssFile");
const K_RSSSHMEM: u64 = pack(b"RssShmem");
const K_MEMTOTAL: u64 = pack(b"MemTotal");
const K_TO_KB: u64 = pack(b"to_kb");

/// A value that must be all digits (fits in u64).
fn digits(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Parse a memdog payload (`up=... seq=... rest`) into a record; `None` for
/// a line cut short or forged (bad logfmt, a number field that is not one).
pub fn record(p: &[u8]) -> Option<Rec> {
    let mut r = Rec::default();
    let mut event: &[u8] = b"";
    let mut system = false;
    let mut label: Option<(&[u8], bool)> = None;
    let mut nm: Option<(&[u8], bool)> = None;
    let mut ok = true;
    let mut field: &[u8] = b"";
    let mut vals = [None; parse::NF];
    let mut sys_vals = [None; parse::NF];
    let well_formed = parse::tokens(p, &mut |k, v, q| {
        if !ok {
            return;
        }
        let num = || digits(v);
        // keys as packed integers: no memcmp call per key
        let (slot, sys) = match pack_rt(k) {
            K_UP | K_SEQ => return,
            K_MEMINFO => {
                system = v.is_empty() && !q;
                return;
            }
            K_PID => {
                r.pid = num().and_then(|n| u32::try_from(n).ok());
                ok = r.pid.is_some();
                return;
            }
            K_START => {
                r.start = num();
                ok = r.start.is_some();
                return;
            }
            K_NAME => {
                nm = Some((v, q));
                return;
            }
            K_TARGET => {
                label = Some((v, q));
                return;
            }
            K_EVENT => {
                event = v;
                return;
            }
            K_FIELD => {
                field = v;
                return;
            }
            K_LIMIT => {
                r.limit = num();
                return;
            }
            K_TO_KB => {
                r.to_kb = num();
                return;
            }
            K_VMRSS => (0, false),
            K_VMSIZE => (1, false),
            K_HEAP => (2, false),
            K_RSSANON => (3, false),
            K_VMSWAP => (4, false),
            K_RSSFILE => (5, false),
            K_RSSSHMEM => (6, false),
            K_MEMFREE => (1, true),
            K_MEMTOTAL => {
                r.mem_total = num();
                ok = r.mem_total.is_some();
                return;
            }
            _ if k == b"MemAvailable" || k == b"MemAvailable~" => (0, true),
            _ => return,
        };
        let n = num();
        ok = n.is_some();
        let vals = if sys { &mut sys_vals } else { &mut vals };
        if let Some(s) = vals.get_mut(slot) {
            *s = n;
        }
    });
    if !well_formed || !ok {
        return None;
    }
    // a target label, when memdog writes one, names the target; else the process name
    if let Some((v, q)) = label.or(nm) {
        parse::unescape(v, q, &mut r.name);
    }
    r.field = FIELDS
        .iter()
        .position(|f| f.as_bytes() == field)
        .map(|i| i as u8);
    r.kind = match event {
        b"" if system => {
            r.vals = sys_vals;
            RecKind::Meminfo
        }
        b"" => {
            r.vals = vals;
            RecKind::Sample
        }
        b"agent-start" => RecKind::AgentStart,
        b"start" => RecKind::Start,
        b"exit" => RecKind::Exit,
        b"warn" => RecKind::Warn,
        b"crit" => RecKind::Crit,
        _ => RecKind::OtherEvent,
    };
    Some(r)
}
