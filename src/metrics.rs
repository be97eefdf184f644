//! Prometheus metrics: a [`Store`] of what the last sample saw and one
//! writer of the text exposition format 0.0.4 ([`Store::render`]), used by
//! both outputs: the node_exporter textfile ([`Textfile`], replaced every
//! sample) and the built-in `/metrics` endpoint ([`Endpoint`], served while
//! memdog sleeps between samples).
//!
//! The shape follows Prometheus' naming practice: base units (kB x 1024 as
//! `_bytes`), one quantity per metric name (sizes apart from counts), and
//! series that keep their identity across restarts: a process is named by
//! its target and its name; its pid is only in `memdog_process_info`. A
//! `--name` target matched by several processes (pre-forked workers) is one
//! series per target: the sum over its processes, with
//! `memdog_target_processes` saying how many and `memdog_process_info` one
//! line per pid. (A pid or a start order is no stable label: a worker's
//! restart would make a new series, or renumber the others.)
//!
//! Every name is `memdog_`-prefixed (never node_exporter's `node_*`), each
//! group has HELP and TYPE once, each series appears once, and the body
//! ends in a newline: one textfile is valid on its own, also when a router's
//! exporter just concatenates every `*.prom` file.

use crate::policy::Level;
use crate::proc::maps::MapsSummary;
use crate::proc::meminfo::Meminfo;
use crate::proc::stat::COMM_CAP;
use crate::proc::status::Status;
use crate::sys::{self, Fd, PathBuf};

/// Targets with series: a `watch`'s specs or a config's sections.
pub const MAX_TARGETS: usize = crate::cli::MAX_SPECS;
/// Bytes of a target label; a longer one (a long pidfile path given to
/// `watch`) is cut and ends in `...`, visibly.
pub const LABEL_CAP: usize = 64;
/// Processes in `memdog_process_info`: as many as the watcher follows.
pub const MAX_INFO: usize = crate::watch::MAX_TRACKED;
/// Rules with a `memdog_rule_state`: every rule of every section.
pub const MAX_RULE_SERIES: usize = crate::config::MAX_TARGETS * crate::config::MAX_RULES;
/// Bytes of a rule's field name (the longest meminfo key is 15).
const FIELD_CAP: usize = 24;

/// `memtype` label values and the /proc/PID/status field of each (heap:
/// the [heap] mapping's size from maps, read when a field or rule needs it).
pub const MEMTYPES: [&str; 9] = [
    "resident", "virtual", "swap", "anon", "file", "shmem", "data", "heap", "stack",
];
const MEM_FIELDS: [&str; 9] = [
    "VmRSS", "VmSize", "VmSwap", "RssAnon", "RssFile", "RssShmem", "VmData", "", "VmStk",
];
/// Their indices in proc::status::VM_FIELDS (checked by a test): no name
/// search per sample.
const MEM_INDEX: [u8; 9] = [5, 1, 14, 6, 7, 8, 9, u8::MAX, 10];
const HEAP: usize = 7;

/// meminfo fields in `memdog_system_memory_bytes`, as the log has them.
pub const SYSTEM_FIELDS: [&str; 7] = [
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "Buffers",
    "Cached",
    "SwapTotal",
    "SwapFree",
];

pub type Label = heapless::Vec<u8, LABEL_CAP>;

/// The parts as one label. A longer one keeps its start and its last 24
/// bytes (where paths differ: the file name) around a visible `...`.
pub fn label_of(parts: &[&[u8]]) -> Label {
    const TAIL: usize = 24;
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut l = Label::new();
    for (i, &c) in parts.iter().flat_map(|p| p.iter()).enumerate() {
        if total > LABEL_CAP && i == LABEL_CAP - 3 - TAIL {
            let _ = l.extend_from_slice(b"...");
        }
        if total <= LABEL_CAP || i < LABEL_CAP - 3 - TAIL || i >= total - TAIL {
            let _ = l.push(c);
        }
    }
    l
}

/// What lasts across samples (and config reloads, by label) for a target.
#[derive(Clone, Default)]
struct TargetRec {
    label: Label,
    /// a process target (a config's [system] section has no processes)
    process: bool,
    /// the name of its last process seen
    name: heapless::Vec<u8, COMM_CAP>,
    seen: bool,
    ended: u32,
    restarts: u32,
    /// the newest process life (Tracked::id) sampled
    last_id: u32,
}

/// A target's processes in the last sample, summed.
#[derive(Clone, Copy, Default)]
struct Sums {
    procs: u32,
    /// kB, indexed like MEMTYPES
    mem: [Option<u64>; 9],
    threads: Option<u64>,
    /// the newest start among them, clock ticks after boot
    start: Option<u64>,
}

#[derive(Clone)]
struct Info {
    target: u8,
    pid: u32,
    name: heapless::Vec<u8, COMM_CAP>,
}

#[derive(Clone)]
struct RuleRec {
    target: u8,
    /// 1-based, as the log's `rule=LABEL/N`
    rule: u8,
    level: Level,
    /// 0 ok, 1 warn, 2 crit: the worst of the target's processes
    state: u8,
    /// a slope rule's field, and its window fit: kB per day and R^2 in
    /// thousandths (of the process with the steepest fit)
    field: heapless::Vec<u8, FIELD_CAP>,
    fit: Option<(i64, u16)>,
    /// seconds until the field reaches its forecast's goal at the window's
    /// rate (the soonest of the target's processes; feature `forecast`)
    eta_s: Option<u64>,
}

/// The values of the last sample, as the exposition shows them.
pub struct Store {
    targets: heapless::Vec<TargetRec, MAX_TARGETS>,
    sums: [Sums; MAX_TARGETS],
    info: heapless::Vec<Info, MAX_INFO>,
    rules: heapless::Vec<RuleRec, MAX_RULE_SERIES>,
    system: [Option<u64>; SYSTEM_FIELDS.len()],
    seq: u64,
    dropped: u64,
    /// the boot time, seconds since the epoch: `btime` of the proc root's
    /// stat, as ps reads it (None: no start times)
    boot_s: Option<u64>,
    /// bumped by every sample: a response being sent when the values
    /// change is cut off (its Content-Length tells the client)
    pub generation: u32,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub const fn new() -> Store {
        Store {
            targets: heapless::Vec::new(),
            sums: [Sums {
                procs: 0,
                mem: [None; 9],
                threads: None,
                start: None,
            }; MAX_TARGETS],
            info: heapless::Vec::new(),
            rules: heapless::Vec::new(),
            system: [None; SYSTEM_FIELDS.len()],
            seq: 0,
            dropped: 0,
            boot_s: None,
            generation: 0,
        }
    }

    /// The targets, in the order the callers number them. A target whose
    /// label was there before keeps its counters (a reload does not reset
    /// `memdog_process_restarts_total`).
    pub fn set_targets(&mut self, targets: impl Iterator<Item = (Label, bool)>) {
        let old = core::mem::take(&mut self.targets);
        for (mut label, process) in targets {
            // the same label twice (`--name x --name x`, or two long paths
            // cut alike) would make each series twice: the later gets `#N`
            if self.targets.iter().any(|r| r.label == label) {
                label.truncate(LABEL_CAP - 4);
                let mut b = [0u8; 20];
                let _ = label.push(b'#');
                let n = crate::num::fmt_u64(self.targets.len() as u64, &mut b);
                let _ = label.extend_from_slice(n);
            }
            let rec = old
                .iter()
                .find(|r| r.label == label)
                .cloned()
                .unwrap_or_default();
            let _ = self.targets.push(TargetRec {
                label,
                process,
                ..rec
            });
        }
    }

    /// Process start times are `btime` of `{proc_root}/stat` plus the
    /// process's start in clock ticks (USER_HZ, 100 on every Linux memdog
    /// runs on); without a btime line they are left out.
    pub fn set_boot(&mut self, proc_root: &[u8]) {
        let mut p = PathBuf::from(proc_root);
        p.push(b"/stat");
        self.boot_s = None;
        let Ok(mut fd) = Fd::open_read(&p) else {
            return;
        };
        // lines are cut to the buffer (intr can be kilobytes): btime is short
        let mut buf = [0u8; 128];
        let boot = &mut self.boot_s;
        let _ = crate::proc::for_each_line_whole(&mut fd, &mut buf, |l| {
            if let Some(v) = l.strip_prefix(b"btime ") {
                *boot = crate::num::parse_u64(crate::num::trim(v));
            }
        });
    }

    /// A new sample starts: what the last one saw is forgotten.
    pub fn begin(&mut self, seq: u64) {
        self.seq = seq;
        self.sums = [Sums::default(); MAX_TARGETS];
        self.info.clear();
        self.rules.clear();
        self.system = [None; SYSTEM_FIELDS.len()];
    }

    /// The sample is complete.
    pub fn end(&mut self, dropped_total: u64) {
        self.dropped = dropped_total;
        self.generation = self.generation.wrapping_add(1);
    }

    /// One process of `target` sampled. `id` is its life (watch::Tracked::id,
    /// increasing): a new life after one of the target's has ended is a restart.
    #[allow(clippy::too_many_arguments)]
    pub fn process(
        &mut self,
        target: usize,
        id: u32,
        pid: u32,
        comm: &[u8],
        starttime: u64,
        st: &Status,
        maps: Option<&MapsSummary>,
    ) {
        let (Some(rec), Some(sum)) = (self.targets.get_mut(target), self.sums.get_mut(target))
        else {
            return;
        };
        if id > rec.last_id {
            if rec.ended > rec.restarts {
                rec.restarts += 1;
            }
            rec.last_id = id;
        }
        rec.seen = true;
        rec.name.clear();
        let _ = rec
            .name
            .extend_from_slice(comm.get(..COMM_CAP).unwrap_or(comm));
        sum.procs += 1;
        for (k, slot) in sum.mem.iter_mut().enumerate() {
            let v = if k == HEAP {
                maps.map(|m| m.heap_kb)
            } else {
                let i = MEM_INDEX.get(k).map_or(usize::MAX, |&i| usize::from(i));
                st.vm.get(i).copied().flatten()
            };
            if let Some(v) = v {
                *slot = Some(slot.unwrap_or(0).saturating_add(v));
            }
        }
        if let Some(n) = st.threads {
            sum.threads = Some(sum.threads.unwrap_or(0) + u64::from(n));
        }
        sum.start = Some(sum.start.map_or(starttime, |s| s.max(starttime)));
        // MAX_INFO is the watcher's MAX_TRACKED: it never samples more
        let _ = self.info.push(Info {
            target: target as u8,
            pid,
            name: rec.name.clone(),
        });
    }

    /// A process life of `target` ended.
    pub fn exit(&mut self, target: usize) {
        if let Some(rec) = self.targets.get_mut(target) {
            rec.ended = rec.ended.saturating_add(1);
        }
    }

    pub fn meminfo(&mut self, m: &Meminfo) {
        for (slot, key) in self.system.iter_mut().zip(SYSTEM_FIELDS) {
            *slot = if key == "MemAvailable" {
                m.available().map(|a| a.kb())
            } else {
                m.get(key.as_bytes())
            };
        }
    }

    fn rule_rec(&mut self, target: usize, rule: usize, level: Level) -> Option<&mut RuleRec> {
        let (t, r) = (target as u8, rule as u8 + 1);
        let i = match self.rules.iter().position(|x| x.target == t && x.rule == r) {
            Some(i) => i,
            None => {
                // MAX_RULE_SERIES is every rule of every section
                let _ = self.rules.push(RuleRec {
                    target: t,
                    rule: r,
                    level,
                    state: 0,
                    field: heapless::Vec::new(),
                    fit: None,
                    eta_s: None,
                });
                self.rules.len().checked_sub(1)?
            }
        };
        self.rules.get_mut(i)
    }

    /// A rule judged on one process (or the system): fired or not. A
    /// target's rule shows the worst state of its processes.
    pub fn rule(&mut self, target: usize, rule: usize, level: Level, fired: bool) {
        if let Some(r) = self.rule_rec(target, rule, level) {
            let s = match (fired, level) {
                (false, _) => 0,
                (true, Level::Warn) => 1,
                (true, Level::Crit) => 2,
            };
            r.state = r.state.max(s);
        }
    }

    /// A slope rule's least-squares fit over its window (kB per day, R^2 in
    /// thousandths); the steepest of a target's processes is kept.
    pub fn slope(
        &mut self,
        target: usize,
        rule: usize,
        level: Level,
        field: &[u8],
        fit: (i64, u16),
    ) {
        if let Some(r) = self.rule_rec(target, rule, level) {
            if r.fit.is_none_or(|(d, _)| fit.0 > d) {
                r.fit = Some(fit);
                r.field.clear();
                let _ = r
                    .field
                    .extend_from_slice(field.get(..FIELD_CAP).unwrap_or(field));
            }
        }
    }

    /// A windowed rule's forecast: seconds to its goal (the soonest of a
    /// target's processes is kept).
    pub fn forecast(&mut self, target: usize, rule: usize, level: Level, field: &[u8], eta_s: u64) {
        if let Some(r) = self.rule_rec(target, rule, level) {
            if r.eta_s.is_none_or(|e| eta_s < e) {
                r.eta_s = Some(eta_s);
                r.field.clear();
                let _ = r
                    .field
                    .extend_from_slice(field.get(..FIELD_CAP).unwrap_or(field));
            }
        }
    }

    fn target_label(&self, t: u8) -> &[u8] {
        self.targets.get(usize::from(t)).map_or(&[], |r| &r.label)
    }

    /// The whole exposition, written through `o`.
    pub fn render(&self, o: &mut dyn Out) {
        let mut w = W { o, open: false };
        let version = env!("CARGO_PKG_VERSION").as_bytes();
        w.head(
            b"memdog_agent_info",
            b"gauge",
            b"memdog itself: its version",
        );
        w.start(b"memdog_agent_info");
        w.label(b"version", version);
        w.value(1);
        w.head(
            b"memdog_samples_total",
            b"counter",
            b"Samples taken since memdog started",
        );
        w.start(b"memdog_samples_total");
        w.value(self.seq);
        w.head(
            b"memdog_log_dropped_lines_total",
            b"counter",
            b"Log lines lost to a full, read-only or broken log since memdog started",
        );
        w.start(b"memdog_log_dropped_lines_total");
        w.value(self.dropped);

        let procs = || self.targets.iter().zip(self.sums.iter());
        let live = || procs().filter(|(_, s)| s.procs > 0);
        if procs().any(|(r, _)| r.process) {
            w.head(
                b"memdog_target_processes",
                b"gauge",
                b"Processes of a target sampled; the process metrics sum over them",
            );
            for (r, s) in procs().filter(|(r, _)| r.process) {
                w.start(b"memdog_target_processes");
                w.label(b"target", &r.label);
                w.value(u64::from(s.procs));
            }
        }
        if live().next().is_some() {
            w.head(
                b"memdog_process_memory_bytes",
                b"gauge",
                b"Memory of a target's processes by type, from /proc/PID/status (heap: maps)",
            );
            for (r, s) in live() {
                for (k, v) in s.mem.iter().enumerate() {
                    if let (Some(v), Some(t)) = (v, MEMTYPES.get(k)) {
                        w.target(b"memdog_process_memory_bytes", r);
                        w.label(b"memtype", t.as_bytes());
                        w.value(v.saturating_mul(1024));
                    }
                }
            }
            w.head(
                b"memdog_process_threads",
                b"gauge",
                b"Threads of a target's processes",
            );
            for (r, s) in live() {
                if let Some(n) = s.threads {
                    w.target(b"memdog_process_threads", r);
                    w.value(n);
                }
            }
            if let Some(boot) = self.boot_s {
                w.head(
                    b"memdog_process_start_time_seconds",
                    b"gauge",
                    b"Start of a target's newest process, seconds since the epoch",
                );
                for (r, s) in live() {
                    if let Some(t) = s.start {
                        w.target(b"memdog_process_start_time_seconds", r);
                        w.fixed(boot.saturating_mul(100).saturating_add(t) as i64, 2);
                    }
                }
            }
        }
        if procs().any(|(r, _)| r.seen) {
            w.head(
                b"memdog_process_restarts_total",
                b"counter",
                b"Processes of a target started after one of its processes ended",
            );
            for (r, _) in procs().filter(|(r, _)| r.seen) {
                w.target(b"memdog_process_restarts_total", r);
                w.value(u64::from(r.restarts));
            }
        }
        if !self.info.is_empty() {
            w.head(
                b"memdog_process_info",
                b"gauge",
                b"One per process sampled: its pid, kept out of the other series",
            );
            for i in self.info.iter() {
                w.start(b"memdog_process_info");
                w.label(b"target", self.target_label(i.target));
                w.label(b"name", &i.name);
                let mut b = [0u8; 20];
                w.label(b"pid", crate::num::fmt_u64(u64::from(i.pid), &mut b));
                w.value(1);
            }
        }
        if self.system.iter().any(|v| v.is_some()) {
            w.head(
                b"memdog_system_memory_bytes",
                b"gauge",
                b"System memory from /proc/meminfo (MemAvailable estimated on kernels before 3.14)",
            );
            for (v, f) in self.system.iter().zip(SYSTEM_FIELDS) {
                if let Some(v) = v {
                    w.start(b"memdog_system_memory_bytes");
                    w.label(b"field", f.as_bytes());
                    w.value(v.saturating_mul(1024));
                }
            }
        }
        if !self.rules.is_empty() {
            w.head(
                b"memdog_rule_state",
                b"gauge",
                b"A rule's state: 0 ok, 1 warn, 2 crit (the worst of the target's processes)",
            );
            for r in self.rules.iter() {
                w.rule(b"memdog_rule_state", self.target_label(r.target), r);
                w.label(b"level", r.level.word());
                w.value(u64::from(r.state));
            }
        }
        if self.rules.iter().any(|r| r.fit.is_some()) {
            w.head(
                b"memdog_leak_slope_bytes_per_second",
                b"gauge",
                b"A slope rule's least-squares growth over its window (the steepest process)",
            );
            for r in self.rules.iter() {
                if let Some((per_day, _)) = r.fit {
                    w.slope(b"memdog_leak_slope_bytes_per_second", self, r);
                    // kB/d x 1024 / 86400 = x 32/2700; in thousandths
                    w.fixed(crate::num::divmod64(per_day.saturating_mul(320), 27).0, 3);
                }
            }
            w.head(
                b"memdog_leak_fit_r2",
                b"gauge",
                b"How well that line fits the points, 0 to 1",
            );
            for r in self.rules.iter() {
                if let Some((_, r2)) = r.fit {
                    w.slope(b"memdog_leak_fit_r2", self, r);
                    w.fixed(i64::from(r2), 3);
                }
            }
        }
        if self.rules.iter().any(|r| r.eta_s.is_some()) {
            w.head(
                b"memdog_forecast_seconds",
                b"gauge",
                b"Time until a slope or eta rule's field reaches its limit at the window's rate (absent when not moving toward it)",
            );
            for r in self.rules.iter() {
                if let Some(e) = r.eta_s {
                    w.slope(b"memdog_forecast_seconds", self, r);
                    w.value(e);
                }
            }
        }
    }
}

/// Where the exposition goes: a file's chunk buffer, a byte count, a socket.
pub trait Out {
    fn put(&mut self, b: &[u8]);
}

/// Counts the bytes (the endpoint's Content-Length).
pub struct Count(pub usize);
impl Out for Count {
    fn put(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
}

/// The exposition's grammar over an [`Out`].
struct W<'o> {
    o: &'o mut dyn Out,
    /// a series' `{` written, to be closed before its value
    open: bool,
}

impl W<'_> {
    fn head(&mut self, name: &[u8], ty: &[u8], help: &[u8]) {
        for p in [
            &b"# HELP "[..],
            name,
            b" ",
            help,
            b"\n# TYPE ",
            name,
            b" ",
            ty,
            b"\n",
        ] {
            self.o.put(p);
        }
    }

    fn start(&mut self, name: &[u8]) {
        self.o.put(name);
    }

    /// `NAME{target="...",name="..."`
    fn target(&mut self, name: &[u8], r: &TargetRec) {
        self.o.put(name);
        self.label(b"target", &r.label);
        self.label(b"name", &r.name);
    }

    fn rule(&mut self, name: &[u8], target: &[u8], r: &RuleRec) {
        self.o.put(name);
        self.label(b"target", target);
        let mut b = [0u8; 20];
        self.label(b"rule", crate::num::fmt_u64(u64::from(r.rule), &mut b));
    }

    /// memtype: the process field's word (VmRSS is resident), else the
    /// field's own name (a [system] rule's MemAvailable)
    fn slope(&mut self, name: &[u8], s: &Store, r: &RuleRec) {
        self.rule(name, s.target_label(r.target), r);
        let f: &[u8] = &r.field;
        let memtype = MEM_FIELDS
            .iter()
            .position(|m| m.as_bytes() == f && !m.is_empty())
            .and_then(|k| MEMTYPES.get(k))
            .map_or(f, |m| m.as_bytes());
        self.label(b"memtype", memtype);
    }

    /// `{key="value"` or `,key="value"`: `\`, `"` and newline escaped,
    /// bytes outside printable ASCII as `?` (the format is UTF-8 text).
    fn label(&mut self, key: &[u8], v: &[u8]) {
        self.o.put(if self.open { b"," } else { b"{" });
        self.open = true;
        self.o.put(key);
        self.o.put(b"=\"");
        for &c in v {
            match c {
                b'\\' => self.o.put(b"\\\\"),
                b'"' => self.o.put(b"\\\""),
                b'\n' => self.o.put(b"\\n"),
                b' '..=b'~' => self.o.put(&[c]),
                _ => self.o.put(b"?"),
            }
        }
        self.o.put(b"\"");
    }

    fn end_labels(&mut self) {
        self.o.put(if self.open { b"} " } else { b" " });
        self.open = false;
    }

    fn value(&mut self, v: u64) {
        let mut b = [0u8; 20];
        self.end_labels();
        self.o.put(crate::num::fmt_u64(v, &mut b));
        self.o.put(b"\n");
    }

    /// `v / 10^digits` with `digits` (at most 3) decimals, signed.
    fn fixed(&mut self, v: i64, digits: usize) {
        self.end_labels();
        if v < 0 {
            self.o.put(b"-");
        }
        let scale = [1, 10, 100, 1000][digits.min(3)];
        let (int, frac) = crate::num::udivmod64(v.unsigned_abs(), scale);
        let mut b = [0u8; 20];
        self.o.put(crate::num::fmt_u64(int, &mut b));
        self.o.put(b".");
        let d = crate::num::fmt_u64(frac, &mut b);
        self.o
            .put(b"000".get(..digits.saturating_sub(d.len())).unwrap_or(&[]));
        self.o.put(d);
        self.o.put(b"\n");
    }
}

/// One write(2) per 512 bytes: a textfile of 10 series is one write, and
/// 8 KiB less stack than holding the whole file (x86_64 and aarch64 probe,
/// and so touch, every page of a frame).
const CHUNK: usize = 512;

/// A file's tmp copy written in chunks; on an error the file is forgotten,
/// since a short file must not replace the last good one.
struct FileOut {
    fd: Option<Fd>,
    buf: [u8; CHUNK],
    len: usize,
}

impl FileOut {
    fn flush(&mut self) {
        if let Some(f) = &self.fd {
            if sys::write_all(f.raw(), self.buf.get(..self.len).unwrap_or(&[])).is_err() {
                self.fd = None;
            }
        }
        self.len = 0;
    }
}

impl Out for FileOut {
    fn put(&mut self, b: &[u8]) {
        if crate::out::append(&mut self.buf, &mut self.len, b) {
            return;
        }
        self.flush();
        if !crate::out::append(&mut self.buf, &mut self.len, b) {
            if let Some(f) = &self.fd {
                // longer than a chunk: straight through
                if sys::write_all(f.raw(), b).is_err() {
                    self.fd = None;
                }
            }
        }
    }
}

/// A Prometheus node_exporter textfile, replaced atomically (tmp + rename)
/// after every sample; any number of series fits.
pub struct Textfile {
    path: PathBuf,
    tmp: PathBuf,
}

impl Textfile {
    pub fn new(path: &[u8]) -> Textfile {
        let p = PathBuf::from(path);
        let mut tmp = p.clone();
        tmp.push(b".tmp");
        Textfile { path: p, tmp }
    }

    /// The sample's temp file, made afresh with O_EXCL: a leftover (memdog
    /// killed mid-write) is unlinked first, never opened, so a hard link put
    /// at that name is not truncated through; a FIFO, directory or other
    /// non-file there is left alone and this sample's textfile skipped
    /// (opening a FIFO would block).
    fn open_tmp(&self) -> Option<Fd> {
        match sys::fs::lstat(&self.tmp) {
            Ok(st) if st.kind() != sys::fs::Kind::Regular => return None,
            Ok(_) => {
                let _ = sys::fs::unlink(&self.tmp);
            }
            Err(_) => {}
        }
        sys::create_new(&self.tmp, 0o644).ok()
    }

    pub fn write(&self, store: &Store) {
        let mut f = FileOut {
            fd: self.open_tmp(),
            buf: [0; CHUNK],
            len: 0,
        };
        store.render(&mut f);
        f.flush();
        if f.fd.take().is_some() {
            // something not a plain file appeared at the path: never replace it
            let kind = sys::fs::lstat(&self.path).map(|st| st.kind());
            if kind.is_ok_and(|k| k != sys::fs::Kind::Regular) {
                let _ = sys::fs::unlink(&self.tmp);
                return;
            }
            let _ = sys::rename(&self.tmp, &self.path);
        }
    }
}

/// Why a `metrics_listen` value is refused (None: it is fine), for the
/// CLI's and the config's errors.
pub fn check_listen(s: &[u8]) -> Option<&'static str> {
    #[cfg(feature = "metrics-endpoint")]
    return parse_listen(s).is_none().then_some(LISTEN_WORDS);
    #[cfg(not(feature = "metrics-endpoint"))]
    {
        let _ = s;
        Some(if cfg!(feature = "metrics") {
            NO_ENDPOINT
        } else {
            NO_METRICS
        })
    }
}

pub const NO_METRICS: &str = "this memdog is built without metrics (cargo feature metrics; board builds: make cross CROSS_FEATURES=metrics): textfile = and metrics_listen = need it";
#[cfg(not(feature = "metrics-endpoint"))]
const NO_ENDPOINT: &str = "this memdog is built without the /metrics endpoint (cargo feature metrics-endpoint; board builds: make cross CROSS_FEATURES=metrics-endpoint); use textfile = with node_exporter instead";

/// What a listen address must look like.
#[cfg(feature = "metrics-endpoint")]
pub const LISTEN_WORDS: &str =
    "metrics_listen needs a numeric IPv4 or [IPv6] address and a port, like 0.0.0.0:9101 or [::1]:9101";

#[cfg(feature = "metrics-endpoint")]
pub use crate::units::parse_listen;

#[cfg(feature = "metrics-endpoint")]
/// Connections served at once; when all are busy a new one takes the
/// place of the oldest (a slow or silent client cannot lock scrapes out).
pub const MAX_CONNS: usize = 4;
#[cfg(feature = "metrics-endpoint")]
/// The request line kept (`GET /metrics HTTP/1.1` is 21 bytes); a longer
/// one is answered 400.
pub const REQ_LINE_CAP: usize = 256;
#[cfg(feature = "metrics-endpoint")]
/// Request bytes read at most (line and headers; Prometheus sends ~400).
pub const REQ_MAX: u32 = 8192;
#[cfg(feature = "metrics-endpoint")]
/// From accept to the last byte of the answer, at most; then it is closed.
pub const CONN_TIMEOUT_NS: u64 = 5_000_000_000;
#[cfg(feature = "metrics-endpoint")]
/// Connections the kernel queues before memdog accepts them.
const BACKLOG: u32 = 16;

#[cfg(feature = "metrics-endpoint")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resp {
    Metrics,
    NotFound,
    BadMethod,
    Bad,
}

#[cfg(feature = "metrics-endpoint")]
struct Conn {
    fd: Option<Fd>,
    since_ns: u64,
    line: [u8; REQ_LINE_CAP],
    line_len: usize,
    line_done: bool,
    /// the current header line has something in it
    nonempty: bool,
    got: u32,
    resp: Option<Resp>,
    /// bytes of the answer sent, its length, the store generation it shows
    sent: usize,
    total: usize,
    generation: u32,
}

#[cfg(feature = "metrics-endpoint")]
impl Conn {
    const fn new() -> Conn {
        Conn {
            fd: None,
            since_ns: 0,
            line: [0; REQ_LINE_CAP],
            line_len: 0,
            line_done: false,
            nonempty: false,
            got: 0,
            resp: None,
            sent: 0,
            total: 0,
            generation: 0,
        }
    }

    /// Take request bytes; sets `resp` once the request is complete or bad.
    fn feed(&mut self, data: &[u8]) {
        for &c in data {
            self.got += 1;
            if self.got > REQ_MAX {
                self.resp = Some(Resp::Bad);
                return;
            }
            match c {
                b'\n' if !self.line_done => self.line_done = true,
                b'\n' if !self.nonempty => {
                    self.resp = Some(self.decide());
                    return;
                }
                b'\n' => self.nonempty = false,
                b'\r' => {}
                _ if self.line_done => self.nonempty = true,
                _ => match self.line.get_mut(self.line_len) {
                    Some(d) => {
                        *d = c;
                        self.line_len += 1;
                    }
                    None => {
                        self.resp = Some(Resp::Bad);
                        return;
                    }
                },
            }
        }
    }

    /// `METHOD TARGET HTTP/1.x`: 404 off /metrics, 405 for a method not GET.
    fn decide(&self) -> Resp {
        let line = self.line.get(..self.line_len).unwrap_or(&[]);
        let mut parts = line.split(|&c| c == b' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Resp::Bad;
        };
        if !version.starts_with(b"HTTP/1.") {
            return Resp::Bad;
        }
        let path = target.split(|&c| c == b'?').next().unwrap_or(&[]);
        if path != b"/metrics" {
            Resp::NotFound
        } else if method != b"GET" {
            Resp::BadMethod
        } else {
            Resp::Metrics
        }
    }
}

#[cfg(feature = "metrics-endpoint")]
const HEAD_200: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nConnection: close\r\nContent-Length: ";

#[cfg(feature = "metrics-endpoint")]
fn fixed_answer(r: Resp) -> &'static [u8] {
    match r {
        Resp::NotFound => b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 19\r\n\r\nonly /metrics here\n",
        Resp::BadMethod => b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        _ => b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    }
}

#[cfg(feature = "metrics-endpoint")]
/// An answer sent from byte `skip` on: the bytes before were taken by the
/// socket already (the answer is the same while the store generation is).
struct SockOut<'a> {
    fd: &'a Fd,
    skip: usize,
    /// bytes of the answer produced so far
    pos: usize,
    /// bytes the socket took, counted from 0
    sent: usize,
    full: bool,
    buf: [u8; CHUNK],
    len: usize,
}

#[cfg(feature = "metrics-endpoint")]
impl SockOut<'_> {
    fn flush(&mut self) {
        let mut data = self.buf.get(..self.len).unwrap_or(&[]);
        while !data.is_empty() && !self.full {
            match sys::net::send(self.fd, data) {
                Ok(n) if n > 0 => {
                    self.sent += n;
                    data = data.get(n..).unwrap_or(&[]);
                }
                // EAGAIN (the client reads slowly, or not at all), or an error
                _ => self.full = true,
            }
        }
        self.len = 0;
    }
}

#[cfg(feature = "metrics-endpoint")]
impl Out for SockOut<'_> {
    fn put(&mut self, b: &[u8]) {
        for &c in b {
            if self.full {
                return;
            }
            self.pos += 1;
            if self.pos <= self.skip {
                continue;
            }
            if self.len == CHUNK {
                self.flush();
            }
            if let Some(d) = self.buf.get_mut(self.len) {
                *d = c;
                self.len += 1;
            }
        }
    }
}

#[cfg(feature = "metrics-endpoint")]
/// The `/metrics` endpoint: a listening socket and [`MAX_CONNS`] slots,
/// served from [`Endpoint::wait_until`] while memdog sleeps between samples.
pub struct Endpoint {
    listener: Fd,
    conns: [Conn; MAX_CONNS],
}

#[cfg(feature = "metrics-endpoint")]
impl Endpoint {
    /// Bind and listen on `addr` (checked by [`parse_listen`]); errors are
    /// one line on stderr and an exit code.
    pub fn listen(text: &[u8]) -> Result<Endpoint, i32> {
        let Some(addr) = parse_listen(text) else {
            crate::out::error(&[LISTEN_WORDS.as_bytes(), b", got ", text]);
            return Err(crate::out::exit::USAGE);
        };
        match sys::net::listen(&addr, BACKLOG) {
            Ok(listener) => Ok(Endpoint {
                listener,
                conns: [const { Conn::new() }; MAX_CONNS],
            }),
            Err(e) => {
                let hint: &[u8] = match e.0 {
                    libc::EADDRINUSE => b" (another program has that port: pick another one)",
                    libc::EADDRNOTAVAIL => {
                        b" (no interface has that address: use 0.0.0.0 or one of this host's)"
                    }
                    libc::EACCES => b" (ports below 1024 need root)",
                    _ => b"",
                };
                crate::out::error(&[
                    b"cannot listen on ",
                    text,
                    b" for /metrics: ",
                    e.text().as_bytes(),
                    hint,
                ]);
                Err(crate::out::exit::FAILURE)
            }
        }
    }

    /// Serve connections until the CLOCK_MONOTONIC `deadline_ns`, or until
    /// a signal arrives (the caller looks at its flags, as after a sleep).
    /// Each step is bounded (one read, sends until the socket is full), so
    /// the deadline is kept to within a scheduling delay.
    pub fn wait_until(&mut self, deadline_ns: u64, store: &Store) {
        loop {
            let now = sys::monotonic_ns();
            // a signal that came while a connection was served (not in
            // ppoll) must not wait for the deadline
            if now >= deadline_ns || sys::signals::stop_requested() || sys::signals::hup_pending() {
                return;
            }
            let mut timeout = deadline_ns - now;
            for c in self.conns.iter_mut().filter(|c| c.fd.is_some()) {
                let end = c.since_ns.saturating_add(CONN_TIMEOUT_NS);
                if now >= end {
                    c.fd = None; // too slow: closed
                } else {
                    timeout = timeout.min(end - now);
                }
            }
            let mut fds = [sys::net::poll_fd(None, 0); MAX_CONNS + 1];
            for (p, c) in fds.iter_mut().zip(self.conns.iter()) {
                let ev = if c.resp.is_some() {
                    sys::net::POLLOUT
                } else {
                    sys::net::POLLIN
                };
                *p = sys::net::poll_fd(c.fd.as_ref(), ev);
            }
            if let Some(p) = fds.get_mut(MAX_CONNS) {
                *p = sys::net::poll_fd(Some(&self.listener), sys::net::POLLIN);
            }
            match sys::net::poll(&mut fds, timeout) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(e) if e.0 == libc::EINTR => return,
                Err(_) => {
                    // cannot poll (ENOMEM): sleep as without the endpoint
                    sys::sleep_until_monotonic(deadline_ns);
                    return;
                }
            }
            for (p, c) in fds.iter().zip(self.conns.iter_mut()) {
                if p.revents != 0 {
                    step(c, p.revents, store);
                }
            }
            if fds.get(MAX_CONNS).is_some_and(|p| p.revents != 0) {
                self.accept(store);
            }
        }
    }

    /// Take waiting connections, one per slot; with every slot busy the
    /// oldest connection is closed for the new one.
    fn accept(&mut self, store: &Store) {
        for _ in 0..MAX_CONNS {
            let Ok(fd) = sys::net::accept(&self.listener) else {
                return;
            };
            let slot = match self.conns.iter().position(|c| c.fd.is_none()) {
                Some(i) => i,
                None => self
                    .conns
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, c)| c.since_ns)
                    .map_or(0, |(i, _)| i),
            };
            if let Some(c) = self.conns.get_mut(slot) {
                *c = Conn::new();
                c.fd = Some(fd);
                c.since_ns = sys::monotonic_ns();
                // the request is often there already
                step(c, sys::net::POLLIN, store);
            }
        }
    }
}

#[cfg(feature = "metrics-endpoint")]
/// One readiness event of a connection.
fn step(c: &mut Conn, revents: i16, store: &Store) {
    let Some(fd) = c.fd.as_ref() else { return };
    if c.resp.is_none() {
        let mut buf = [0u8; CHUNK];
        match sys::net::recv(fd, &mut buf) {
            Ok(0) => {
                // the client closed its side: answer a complete request line
                if c.line_done {
                    c.resp = Some(c.decide());
                } else {
                    c.fd = None;
                    return;
                }
            }
            Ok(n) => c.feed(buf.get(..n).unwrap_or(&[])),
            Err(e) if e.0 == libc::EAGAIN => return,
            Err(_) => {
                c.fd = None;
                return;
            }
        }
        if c.resp.is_none() {
            return;
        }
        c.generation = store.generation;
        c.sent = 0;
    } else if revents & sys::net::POLLEND != 0 && revents & sys::net::POLLOUT == 0 {
        c.fd = None;
        return;
    }
    if c.resp == Some(Resp::Metrics) && c.generation != store.generation {
        if c.sent > 0 {
            c.fd = None; // the values changed mid-answer: cut (Content-Length shows it)
            return;
        }
        c.generation = store.generation;
    }
    let Some(fd) = c.fd.as_ref() else { return };
    let mut o = SockOut {
        fd,
        skip: c.sent,
        pos: 0,
        sent: c.sent,
        full: false,
        buf: [0; CHUNK],
        len: 0,
    };
    let total = match c.resp {
        Some(Resp::Metrics) => {
            let mut n = Count(0);
            store.render(&mut n);
            let mut b = [0u8; 20];
            let len = crate::num::fmt_u64(n.0 as u64, &mut b);
            o.put(HEAD_200);
            o.put(len);
            o.put(b"\r\n\r\n");
            store.render(&mut o);
            HEAD_200.len() + len.len() + 4 + n.0
        }
        Some(r) => {
            let a = fixed_answer(r);
            o.put(a);
            a.len()
        }
        None => return,
    };
    o.flush();
    c.total = total;
    c.sent = o.sent;
    if c.sent >= c.total {
        c.fd = None; // all sent: close
    }
}

/// The metrics outputs of one run: the store, the textfile, the endpoint.
pub struct Metrics {
    pub store: &'static mut Store,
    pub textfile: Option<Textfile>,
    #[cfg(feature = "metrics-endpoint")]
    pub endpoint: Option<Endpoint>,
}

/// Where a run keeps its metrics outputs, if any. A build without the
/// `metrics` feature holds nothing here, and `as_mut` is a constant None:
/// the compiler drops the store, the writer and every call into them.
#[derive(Default)]
pub struct Slot {
    #[cfg(feature = "metrics")]
    m: Option<Metrics>,
}

impl Slot {
    #[inline(always)]
    pub fn as_mut(&mut self) -> Option<&mut Metrics> {
        #[cfg(feature = "metrics")]
        return self.m.as_mut();
        #[cfg(not(feature = "metrics"))]
        None
    }
}

/// In .bss: only the pages a run's metrics use become resident, and none
/// without metrics (a stack frame would be touched whole by stack probes).
#[cfg(feature = "metrics")]
static STORE: sys::cell::Once<Store> = sys::cell::Once::new(Store::new());

impl Metrics {
    /// The outputs asked for; None when neither is. Errors (the address,
    /// the socket) are one line on stderr and an exit code.
    #[inline(never)]
    pub fn open(textfile: Option<&[u8]>, listen: Option<&[u8]>) -> Result<Slot, i32> {
        if textfile.is_none() && listen.is_none() {
            return Ok(Slot::default());
        }
        #[cfg(not(feature = "metrics"))]
        {
            crate::out::error(&[NO_METRICS.as_bytes()]);
            Err(crate::out::exit::USAGE)
        }
        #[cfg(feature = "metrics")]
        Self::open_store(textfile, listen)
    }

    #[cfg(feature = "metrics")]
    fn open_store(textfile: Option<&[u8]>, listen: Option<&[u8]>) -> Result<Slot, i32> {
        #[cfg(feature = "metrics-endpoint")]
        let endpoint = match listen {
            Some(a) => Some(Endpoint::listen(a)?),
            None => None,
        };
        #[cfg(not(feature = "metrics-endpoint"))]
        if listen.is_some() {
            crate::out::error(&[NO_ENDPOINT.as_bytes()]);
            return Err(crate::out::exit::USAGE);
        }
        let Some(store) = STORE.take() else {
            crate::out::error(&[b"metrics: the store is already in use in this process"]);
            return Err(crate::out::exit::FAILURE);
        };
        Ok(Slot {
            m: Some(Metrics {
                store,
                textfile: textfile.map(Textfile::new),
                #[cfg(feature = "metrics-endpoint")]
                endpoint,
            }),
        })
    }

    /// The sample is complete: the textfile is replaced.
    pub fn end(&mut self, dropped_total: u64) {
        self.store.end(dropped_total);
        if let Some(tf) = &self.textfile {
            tf.write(self.store);
        }
    }

    /// Sleep until `deadline_ns` (or a signal), serving the endpoint if on.
    pub fn sleep_until(&mut self, deadline_ns: u64) {
        #[cfg(feature = "metrics-endpoint")]
        if let Some(ep) = self.endpoint.as_mut() {
            ep.wait_until(deadline_ns, self.store);
            return;
        }
        sys::sleep_until_monotonic(deadline_ns);
    }
}

/// `watch`'s observer: the samples go to the store, nothing else happens.
pub struct Recorder<'m>(pub &'m mut Store);

impl crate::watch::Observer for Recorder<'_> {
    fn on_sample(
        &mut self,
        _sink: &mut crate::out::Sink,
        _s: crate::watch::Stamp,
        t: &crate::watch::Tracked,
        st: &Status,
        maps: Option<&MapsSummary>,
    ) {
        self.0
            .process(t.spec, t.id, t.pid, &t.comm, t.starttime, st, maps);
    }
    fn on_exit(
        &mut self,
        _sink: &mut crate::out::Sink,
        _s: crate::watch::Stamp,
        t: &crate::watch::Tracked,
    ) {
        self.0.exit(t.spec);
    }
    fn on_meminfo(&mut self, _sink: &mut crate::out::Sink, _s: crate::watch::Stamp, m: &Meminfo) {
        self.0.meminfo(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    struct Text(String);
    impl Out for Text {
        fn put(&mut self, b: &[u8]) {
            self.0.push_str(std::str::from_utf8(b).unwrap());
        }
    }

    fn render(s: &Store) -> String {
        let mut t = Text(String::new());
        s.render(&mut t);
        let mut n = Count(0);
        s.render(&mut n);
        assert_eq!(n.0, t.0.len(), "Count and the text disagree");
        t.0
    }

    /// series -> value; panics on a series twice or a TYPE twice
    fn series(text: &str) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        let mut types = std::collections::BTreeSet::new();
        for l in text.lines() {
            if let Some(t) = l.strip_prefix("# TYPE ") {
                assert!(
                    types.insert(t.split(' ').next().unwrap().to_string()),
                    "{l}"
                );
            } else if !l.starts_with('#') {
                let (k, v) = l.rsplit_once(' ').unwrap();
                assert!(
                    m.insert(k.to_string(), v.to_string()).is_none(),
                    "twice: {k}"
                );
            }
        }
        assert!(text.ends_with('\n'));
        m
    }

    fn status(rss: u64, threads: u32) -> Status {
        let mut st = Status::default();
        st.vm[5] = Some(rss); // VmRSS
        st.threads = Some(threads);
        st
    }

    fn labels(names: &[&str]) -> Vec<(Label, bool)> {
        names
            .iter()
            .map(|n| (label_of(&[n.as_bytes()]), true))
            .collect()
    }

    #[test]
    fn labels_are_escaped_and_cut_visibly() {
        let mut s = Store::new();
        s.set_targets(labels(&["a\"b\\c\nd\u{e9}"]).into_iter());
        s.begin(1);
        s.process(0, 1, 7, b"x\"y", 0, &status(1, 1), None);
        let t = render(&s);
        assert!(
            t.contains(
                "memdog_process_info{target=\"a\\\"b\\\\c\\nd??\",name=\"x\\\"y\",pid=\"7\"} 1\n"
            ),
            "{t}"
        );
        let long = format!("/{}/file-1.pid", "p".repeat(100));
        let l = label_of(&[long.as_bytes()]);
        assert_eq!(l.len(), LABEL_CAP);
        let l = String::from_utf8(l.to_vec()).unwrap();
        assert!(
            l.starts_with("/ppp") && l.contains("...") && l.ends_with("ppp/file-1.pid"),
            "{l}"
        );
        let exact = "q".repeat(LABEL_CAP);
        assert_eq!(&label_of(&[exact.as_bytes()])[..], exact.as_bytes());
        // the same label twice gets a suffix: each series stays unique
        let mut s = Store::new();
        s.set_targets(labels(&["w", "w", "v"]).into_iter());
        s.begin(1);
        for i in 0..3 {
            s.process(i, i as u32 + 1, 7 + i as u32, b"x", 0, &status(1, 1), None);
        }
        let t = render(&s);
        series(&t);
        assert!(
            t.contains("memdog_target_processes{target=\"w#1\"} 1"),
            "{t}"
        );
    }

    #[test]
    fn memtype_indices_are_the_status_fields() {
        for (k, name) in MEM_FIELDS.iter().enumerate() {
            if k != HEAP {
                let i = crate::proc::status::VM_FIELDS
                    .iter()
                    .position(|f| f == name);
                assert_eq!(i, Some(usize::from(MEM_INDEX[k])), "{name}");
            }
        }
    }

    #[test]
    fn fixed_point_values() {
        let mut t = Text(String::new());
        let mut w = W {
            o: &mut t,
            open: false,
        };
        w.fixed(-1234, 3);
        w.fixed(5, 3);
        w.fixed(170000000012, 2);
        w.fixed(0, 3);
        assert_eq!(t.0, " -1.234\n 0.005\n 1700000000.12\n 0.000\n");
    }

    #[derive(Clone, Debug)]
    enum Op {
        Start(usize),
        Exit(usize),
        Tick,
        /// a reload: the targets in another order, one maybe gone
        Reload(Vec<usize>),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..3usize).prop_map(Op::Start),
            2 => (0..8usize).prop_map(Op::Exit),
            3 => Just(Op::Tick),
            1 => proptest::sample::subsequence(vec![0usize, 1, 2], 1..=3)
                .prop_shuffle()
                .prop_map(Op::Reload),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

        /// Seeded scenarios of process lives starting, exiting and reloads
        /// reordering the targets, against a small oracle: the processes,
        /// their sums, the info lines and the restart counters the text
        /// shows after every sample.
        #[test]
        fn store_matches_a_model(ops in proptest::collection::vec(op(), 1..60)) {
            const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];
            let mut s = Store::new();
            s.boot_s = Some(1_700_000_000);
            // oracle: order of the targets now, lives (id, target name, pid, rss, sampled)
            let mut order: Vec<usize> = vec![0, 1, 2];
            s.set_targets(labels(&NAMES).into_iter());
            let mut lives: Vec<(u32, usize, u32, u64, bool)> = Vec::new();
            // per target name: ends not yet answered by a restart, restarts
            let mut unmatched = [0u32; 3];
            let mut restarts = [0u32; 3];
            let mut seen = [false; 3];
            let mut next_id = 1u32;
            let mut seq = 0;
            for op in ops {
                match op {
                    Op::Start(t) => {
                        let t = NAMES.len().min(t);
                        if order.contains(&t) {
                            lives.push((next_id, t, 1000 + next_id, u64::from(next_id) * 10, false));
                            next_id += 1;
                        }
                    }
                    Op::Exit(k) => {
                        if k < lives.len() {
                            let (_, t, ..) = lives.remove(k);
                            let idx = order.iter().position(|&o| o == t).unwrap();
                            s.exit(idx);
                            unmatched[t] += 1;
                        }
                    }
                    Op::Reload(new) => {
                        // lives of a target left out end unwatched (no exit counted)
                        lives.retain(|l| new.contains(&l.1));
                        for t in 0..3 {
                            if !new.contains(&t) {
                                unmatched[t] = 0;
                                restarts[t] = 0;
                                seen[t] = false;
                            }
                        }
                        order = new;
                        let names: Vec<&str> = order.iter().map(|&t| NAMES[t]).collect();
                        s.set_targets(labels(&names).into_iter());
                    }
                    Op::Tick => {
                        seq += 1;
                        s.begin(seq);
                        for l in lives.iter_mut() {
                            let idx = order.iter().position(|&o| o == l.1).unwrap();
                            s.process(idx, l.0, l.2, b"w", l.0.into(), &status(l.3, 2), None);
                            if !l.4 {
                                l.4 = true;
                                if unmatched[l.1] > 0 {
                                    unmatched[l.1] -= 1;
                                    restarts[l.1] += 1;
                                }
                            }
                            seen[l.1] = true;
                        }
                        s.end(0);
                        let got = series(&render(&s));
                        let mut want = BTreeMap::new();
                        want.insert("memdog_agent_info{version=\"0.1.0\"}".to_string(), "1".to_string());
                        want.insert("memdog_samples_total".to_string(), seq.to_string());
                        want.insert("memdog_log_dropped_lines_total".to_string(), "0".to_string());
                        for &t in order.iter() {
                            let n = NAMES[t];
                            let mine: Vec<_> = lives.iter().filter(|l| l.1 == t).collect();
                            want.insert(format!("memdog_target_processes{{target=\"{n}\"}}"), mine.len().to_string());
                            if !mine.is_empty() {
                                let id = format!("{{target=\"{n}\",name=\"w\"");
                                let rss: u64 = mine.iter().map(|l| l.3).sum();
                                want.insert(format!("memdog_process_memory_bytes{id},memtype=\"resident\"}}"), (rss * 1024).to_string());
                                want.insert(format!("memdog_process_threads{id}}}"), (2 * mine.len()).to_string());
                                let newest = mine.iter().map(|l| u64::from(l.0)).max().unwrap();
                                let cs = 1_700_000_000 * 100 + newest;
                                want.insert(format!("memdog_process_start_time_seconds{id}}}"), format!("{}.{:02}", cs / 100, cs % 100));
                                for l in mine {
                                    want.insert(format!("memdog_process_info{id},pid=\"{}\"}}", l.2), "1".to_string());
                                }
                            }
                            if seen[t] {
                                want.insert(format!("memdog_process_restarts_total{{target=\"{n}\",name=\"w\"}}"), restarts[t].to_string());
                            }
                        }
                        prop_assert_eq!(got, want);
                    }
                }
            }
        }

        /// Whatever parse_listen accepts, std's SocketAddr parser reads as
        /// the same address; and every IPv6 address std prints (in its
        /// shortest form, or all eight groups) is read back exactly.
        #[test]
        fn listen_addresses_agree_with_std(
            g in proptest::array::uniform8(prop_oneof![Just(0u16), any::<u16>()]),
            port in 1u16..,
            junk in "[0-9a-fA-F:.\\[\\]%]{0,24}",
        ) {
            let ip = std::net::Ipv6Addr::from(g);
            let texts = [
                format!("[{ip}]:{port}"),
                format!("[{}]:{port}", g.map(|x| format!("{x:x}")).join(":")),
            ];
            for t in texts.iter().filter(|t| !t.contains('.')) {
                prop_assert_eq!(parse_listen(t.as_bytes()), Some(sys::net::Addr::V6(ip.octets(), port)), "{}", t);
            }
            if let Some(a) = parse_listen(junk.as_bytes()) {
                let std: std::net::SocketAddr = junk.parse().unwrap();
                let mine = match a {
                    sys::net::Addr::V4(ip, p) => std::net::SocketAddr::from((ip, p)),
                    sys::net::Addr::V6(ip, p) => std::net::SocketAddr::from((ip, p)),
                };
                prop_assert_eq!(mine, std);
            }
        }
    }

    #[test]
    fn listen_addresses() {
        use sys::net::Addr;
        assert_eq!(parse_listen(b"0.0.0.0:9101"), Some(Addr::V4([0; 4], 9101)));
        assert_eq!(
            parse_listen(b"[::1]:80"),
            Some(Addr::V6(std::net::Ipv6Addr::LOCALHOST.octets(), 80))
        );
        assert_eq!(parse_listen(b"[::]:1"), Some(Addr::V6([0; 16], 1)));
        for bad in [
            &b"[::1]"[..],
            b"::1:80",
            b"[::1]:0",
            b"[::1]:65536",
            b"[1::2::3]:1",
            b"[12345::]:1",
            b"[1:2:3:4:5:6:7]:1",
            b"[1:2:3:4:5:6:7:8:9]:1",
            b"[::ffff:1.2.3.4]:1",
            b"[fe80::1%eth0]:1",
            b"host:80",
            b"1.2.3.4:0",
            b"",
        ] {
            assert_eq!(parse_listen(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn requests_are_judged_on_their_line() {
        let judge = |req: &[u8]| {
            let mut c = Conn::new();
            c.feed(req);
            c.resp
        };
        assert_eq!(
            judge(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(Resp::Metrics)
        );
        assert_eq!(judge(b"GET /metrics?a=b HTTP/1.0\n\n"), Some(Resp::Metrics));
        assert_eq!(judge(b"GET / HTTP/1.1\r\n\r\n"), Some(Resp::NotFound));
        assert_eq!(
            judge(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Some(Resp::BadMethod)
        );
        assert_eq!(judge(b"GET /metrics\r\n\r\n"), Some(Resp::Bad));
        assert_eq!(
            judge(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"),
            None,
            "headers not done"
        );
        // a byte at a time is the same request
        let mut c = Conn::new();
        for b in b"GET /metrics HTTP/1.1\r\nA: b\r\n\r\n" {
            c.feed(&[*b]);
        }
        assert_eq!(c.resp, Some(Resp::Metrics));
        let long = [b'a'; REQ_LINE_CAP + 1];
        assert_eq!(judge(&long), Some(Resp::Bad));
        let mut c = Conn::new();
        c.feed(b"GET /metrics HTTP/1.1\r\n");
        for _ in 0..REQ_MAX {
            c.feed(b"X");
            if c.resp.is_some() {
                break;
            }
        }
        assert_eq!(c.resp, Some(Resp::Bad), "endless headers are cut");
    }
}
