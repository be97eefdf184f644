//! `memdog watch`: the shell loop done right. Each tick samples every target
//! into one logfmt line, then the system's meminfo into another.
//!
//! Ticks are CLOCK_MONOTONIC deadlines (start + k * interval): no drift over
//! days, and no burst of catch-up samples after a suspend or a stall. Targets
//! are followed across exits and restarts: `(pid, starttime)` names a
//! process, so a reused pid is a different process.

use crate::cli::{self, Fields, Spec, Watch};
use crate::line::{push_timestamp, Line};
use crate::out::{self, exit, Sink};
use crate::proc::maps::MapsSummary;
use crate::proc::meminfo::{Available, Meminfo};
use crate::proc::stat::{Stat, COMM_CAP};
use crate::proc::status::Status;
use crate::sample::{Pids, ReadError, Reader};
use crate::sys::{self, signals, Fd};

/// Processes followed at once: the --name matches of all specs together. A
/// board runs 50-300 processes; 64 same-named workers is already unusual.
pub const MAX_TRACKED: usize = 64;

pub struct Tracked {
    /// unique per (process, start): a restarted target gets a new id
    pub id: u32,
    pub pid: u32,
    pub starttime: u64,
    /// index into the specs
    pub spec: usize,
    pub comm: heapless::Vec<u8, COMM_CAP>,
    /// /proc/PID/status held open: bound to this process, not to the number
    status: Fd,
}

/// Per-spec state for one-time notices.
#[derive(Clone, Copy, Default)]
struct SpecState {
    waiting_logged: bool,
    /// a --pid target, once gone, is never followed again: the number may be reused
    done: bool,
}

pub struct Watcher<'a> {
    pub opts: Watch<'a>,
    /// the lives followed, in [`Tables`]: they outlive a config (a reload
    /// adopts them in place)
    pub tracked: &'a mut heapless::Vec<Tracked, MAX_TRACKED>,
    state: [SpecState; cli::MAX_SPECS],
    reader: Reader<'a>,
    meminfo: Option<Fd>,
    line: Line,
    pub seq: u64,
    overflow_logged: bool,
    self_pid: u32,
    next_id: u32,
    #[cfg(feature = "fields-extra")]
    extra: Extra,
}

/// The `fields-extra` files' state: the held pressure file, and whether
/// this kernel lacks smaps_rollup or PSI (said once, then not tried again:
/// a field it lacks is left out, never a 0).
#[cfg(feature = "fields-extra")]
#[derive(Default)]
struct Extra {
    psi: Option<Fd>,
    rollup_unsupported: bool,
    psi_unsupported: bool,
}

/// The watcher's two big tables, kept outside it: the lives it follows
/// (they survive a reload: no new `start` for a process already seen) and
/// the /proc read buffer. The daemon's are in .bss: only the entries in
/// use become resident, and no frame holds 10 KB of them.
pub struct Tables {
    pub tracked: heapless::Vec<Tracked, MAX_TRACKED>,
    buf: [u8; crate::sample::READ_BUF],
}

impl Tables {
    pub const fn new() -> Tables {
        Tables {
            tracked: heapless::Vec::new(),
            buf: [0; crate::sample::READ_BUF],
        }
    }
}

impl Default for Tables {
    fn default() -> Self {
        Self::new()
    }
}

/// A life whose target a reload dropped: `spec` is this plus its old spec
/// until [`Watcher::drop_unwatched`] ends it (sorted after the others).
const UNWATCHED: usize = 1 << 16;

/// What else a config reload must not lose: the sample count (`seq` goes
/// on) and the one-time notices.
#[derive(Default)]
pub struct Carry {
    state: [SpecState; cli::MAX_SPECS],
    pub seq: u64,
    overflow_logged: bool,
    next_id: u32,
}

/// Lives in sample order: by spec, then pid (an insertion sort: the table
/// is short and nearly sorted).
fn sort_lives(v: &mut [Tracked]) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 {
            let (Some(a), Some(b)) = (v.get(j - 1), v.get(j)) else {
                break;
            };
            if (a.spec, a.pid) <= (b.spec, b.pid) {
                break;
            }
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Hooks for what the daemon does with each sample (thresholds, actions).
pub trait Observer {
    fn on_sample(
        &mut self,
        _sink: &mut Sink,
        _s: Stamp,
        _t: &Tracked,
        _st: &Status,
        _maps: Option<&MapsSummary>,
    ) {
    }
    fn on_exit(&mut self, _sink: &mut Sink, _s: Stamp, _t: &Tracked) {}
    fn on_meminfo(&mut self, _sink: &mut Sink, _s: Stamp, _m: &Meminfo) {}
}

/// `watch` only logs.
pub struct NoObserver;
impl Observer for NoObserver {}

/// Stamp for every line of one tick.
#[derive(Clone, Copy)]
pub struct Stamp {
    pub wall_secs: i64,
    pub up_ns: u64,
    pub seq: u64,
}

impl Stamp {
    pub fn now(seq: u64) -> Stamp {
        Stamp {
            wall_secs: sys::realtime().0,
            up_ns: sys::boottime_ns(),
            seq,
        }
    }
}

fn matches_name(comm: &[u8], want: &[u8]) -> bool {
    // the kernel keeps 15 bytes of a name (TASK_COMM_LEN 16)
    comm == want || (want.len() > 15 && comm.len() == 15 && want.starts_with(comm))
}

fn alive(state: u8) -> bool {
    state != b'Z' && state != b'X'
}

impl<'a> Watcher<'a> {
    /// A watcher of `opts` over `tables`, whose lives it takes as they are
    /// (empty at a first start; a reload's are remapped by [`Watcher::adopt`]).
    pub fn new(opts: Watch<'a>, tables: &'a mut Tables) -> Watcher<'a> {
        let root = opts.proc_root;
        let Tables { tracked, buf } = tables;
        Watcher {
            opts,
            tracked,
            state: [SpecState::default(); cli::MAX_SPECS],
            reader: Reader::new(root, buf),
            meminfo: None,
            line: Line::new(),
            seq: 0,
            overflow_logged: false,
            self_pid: sys::getpid(),
            next_id: 1,
            #[cfg(feature = "fields-extra")]
            extra: Extra::default(),
        }
    }

    /// /proc mounted and readable, every `pid =` target running: checked
    /// before the first sample, so a typo is an exit code and a hint.
    pub fn preflight(&mut self) -> Result<(), i32> {
        preflight(&self.opts, &mut self.reader)
    }

    /// Hand over what survives a reload (see [`Carry`]); the lives stay in
    /// the tables.
    pub fn carry_into(&mut self, c: &mut Carry) {
        c.state = self.state;
        c.seq = self.seq;
        c.overflow_logged = self.overflow_logged;
        c.next_id = self.next_id;
    }

    /// Take over a previous config's state, in place. `spec_map[old spec]`
    /// is the new spec of the same target, or None when the target is gone
    /// from the config: those lives are marked for
    /// [`Watcher::drop_unwatched`], in their order, after the others.
    pub fn adopt(&mut self, old: &mut Carry, spec_map: &[Option<usize>]) {
        self.seq = old.seq;
        self.overflow_logged = old.overflow_logged;
        if old.next_id != 0 {
            self.next_id = old.next_id;
        }
        for (i, st) in old.state.iter().enumerate() {
            if let Some(Some(n)) = spec_map.get(i) {
                if let Some(slot) = self.state.get_mut(*n) {
                    *slot = *st;
                }
            }
        }
        for t in self.tracked.iter_mut() {
            t.spec = match spec_map.get(t.spec).copied().flatten() {
                Some(n) => n,
                None => UNWATCHED + t.spec,
            };
        }
        self.sort_tracked();
        old.seq = 0;
    }

    /// The lives [`Watcher::adopt`] marked (their target is gone from the
    /// config): no longer followed, an `event=exit reason=unwatched` line
    /// each, and `obs.on_exit`.
    pub fn drop_unwatched(&mut self, sink: &mut Sink, s: Stamp, obs: &mut dyn Observer) {
        let first = self
            .tracked
            .iter()
            .position(|t| t.spec >= UNWATCHED)
            .unwrap_or(self.tracked.len());
        // popped from the end: reversed first, so they go in their order
        if let Some(tail) = self.tracked.get_mut(first..) {
            tail.reverse();
        }
        while self.tracked.len() > first {
            let Some(t) = self.tracked.pop() else { break };
            self.event_line(sink, s, b"exit", &t, Some(b"unwatched"));
            obs.on_exit(sink, s, &t);
        }
    }

    fn begin(&mut self, s: Stamp) {
        self.line.clear();
        push_timestamp(&mut self.line, s.wall_secs);
        self.line.kv_secs(b"up", s.up_ns);
        self.line.kv(b"seq", s.seq);
    }

    fn emit(&mut self, sink: &mut Sink, _s: Stamp) {
        sink.write_line(self.line.finish());
    }

    /// Lines lost to a full or read-only disk are reported once writing works again.
    fn dropped_notice(&mut self, sink: &mut Sink, s: Stamp) {
        if let Some(why) = sink.take_reopened() {
            self.begin(s);
            self.line.push(b" event=log-reopened reason=");
            self.line.push(why);
            sink.write_event(self.line.finish());
        }
        if sink.dropped > 0 {
            self.begin(s);
            self.line.push(b" event=dropped");
            self.line.kv(b"lines", sink.dropped);
            sink.write_notice(self.line.finish());
        }
    }

    fn event_line(
        &mut self,
        sink: &mut Sink,
        s: Stamp,
        event: &[u8],
        t: &Tracked,
        reason: Option<&[u8]>,
    ) {
        self.begin(s);
        self.line.push(b" event=");
        self.line.push(event);
        self.line.kv(b"pid", u64::from(t.pid));
        self.line.kv_str(b"name", &t.comm);
        self.line.kv(b"start", t.starttime);
        if let Some(r) = reason {
            self.line.push(b" reason=");
            self.line.push(r);
        }
        sink.write_event(self.line.finish());
    }

    /// `event=wait` once per spell of waiting, with why: not-found (no
    /// process of that name), pidfile-missing, pidfile-garbage, pid-dead.
    fn wait_line(&mut self, sink: &mut Sink, s: Stamp, i: usize, spec: Spec, why: &[u8]) {
        if self.state.get(i).is_some_and(|st| st.waiting_logged) {
            return;
        }
        self.begin(s);
        self.line.push(b" event=wait");
        match spec {
            Spec::Name(n) => self.line.kv_str(b"name", n),
            Spec::Pidfile(p) => self.line.kv_str(b"pidfile", p),
            Spec::Pid(p) => self.line.kv(b"pid", u64::from(p)),
            Spec::SelfPid => self.line.kv(b"pid", u64::from(self.self_pid)),
        }
        self.line.push(b" reason=");
        self.line.push(why);
        sink.write_event(self.line.finish());
        if let Some(st) = self.state.get_mut(i) {
            st.waiting_logged = true;
        }
    }

    /// Is this process life (pid and start time) followed for `spec`? A
    /// reused pid is a new life: the old one's held status descriptor says
    /// it is gone at its next sample.
    fn is_tracked(&self, st: &Stat, spec: usize) -> bool {
        self.tracked
            .iter()
            .any(|t| t.pid == st.pid && t.starttime == st.starttime && t.spec == spec)
    }

    fn track(&mut self, sink: &mut Sink, s: Stamp, st: &Stat, spec: usize, obs: &mut dyn Observer) {
        // the pid names a new life: the old one is over, and says so first
        while let Some(k) = self
            .tracked
            .iter()
            .position(|t| t.pid == st.pid && t.spec == spec && t.starttime != st.starttime)
        {
            let t = self.tracked.remove(k);
            self.event_line(sink, s, b"exit", &t, Some(b"gone"));
            obs.on_exit(sink, s, &t);
        }
        let Ok(status) = self.reader.open_status(st.pid) else {
            return;
        };
        let t = Tracked {
            id: self.next_id,
            pid: st.pid,
            starttime: st.starttime,
            spec,
            comm: st.comm.clone(),
            status,
        };
        self.next_id = self.next_id.wrapping_add(1).max(1);
        if self.tracked.is_full() {
            if !self.overflow_logged {
                self.overflow_logged = true;
                self.begin(s);
                self.line.push(b" event=overflow what=targets");
                self.line.kv(b"limit", MAX_TRACKED as u64);
                self.emit(sink, s);
            }
            return;
        }
        self.event_line(sink, s, b"start", &t, None);
        if let Some(state) = self.state.get_mut(spec) {
            state.waiting_logged = false;
        }
        let _ = self.tracked.push(t);
    }

    /// Find targets not followed yet: a --pid at start, the process a
    /// pidfile names now, every process matching a --name.
    pub fn discover(&mut self, sink: &mut Sink, s: Stamp, obs: &mut dyn Observer) {
        let specs = self.opts.specs.clone();
        let mut any_name = false;
        for (i, spec) in specs.iter().enumerate() {
            match *spec {
                Spec::Name(_) => any_name = true,
                Spec::Pidfile(path) => {
                    let why: &[u8] = match self.reader.pidfile(path) {
                        Ok(pid) => match self.reader.stat(pid) {
                            Ok(st) if alive(st.state) => {
                                if !self.is_tracked(&st, i) {
                                    // a new pid in the file replaces the old target
                                    while let Some(k) =
                                        self.tracked.iter().position(|t| t.spec == i)
                                    {
                                        let t = self.tracked.swap_remove(k);
                                        self.event_line(sink, s, b"exit", &t, Some(b"replaced"));
                                        obs.on_exit(sink, s, &t);
                                    }
                                    self.track(sink, s, &st, i, obs);
                                }
                                continue;
                            }
                            _ => b"pid-dead",
                        },
                        Err(ReadError::Malformed) => b"pidfile-garbage",
                        Err(ReadError::Gone) => b"pidfile-missing",
                        Err(_) => b"pidfile-unreadable",
                    };
                    if !self.tracked.iter().any(|t| t.spec == i) {
                        self.wait_line(sink, s, i, *spec, why)
                    }
                }
                Spec::Pid(_) | Spec::SelfPid => {
                    let pid = if let Spec::Pid(p) = *spec {
                        p
                    } else {
                        self.self_pid
                    };
                    let done = self.state.get(i).is_some_and(|st| st.done);
                    if !done && !self.tracked.iter().any(|t| t.spec == i) {
                        match self.reader.stat(pid) {
                            Ok(st) => self.track(sink, s, &st, i, obs),
                            Err(_) => {
                                self.wait_line(sink, s, i, *spec, b"pid-dead");
                                if let Some(st) = self.state.get_mut(i) {
                                    st.done = true;
                                }
                            }
                        }
                    }
                }
            }
        }
        if any_name {
            self.scan_names(sink, s, &specs, obs);
        }
        self.sort_tracked();
    }

    /// A stable order: by spec, then pid (an old life before a new one of
    /// the same pid). Insertion sort: a handful of entries, and core's sort
    /// costs 2 KiB of code on MIPS.
    fn sort_tracked(&mut self) {
        sort_lives(self.tracked);
    }

    fn scan_names(
        &mut self,
        sink: &mut Sink,
        s: Stamp,
        specs: &[Spec<'a>],
        obs: &mut dyn Observer,
    ) {
        let Ok(pids) = Pids::open(self.opts.proc_root) else {
            return;
        };
        let mut found = [false; cli::MAX_SPECS];
        for pid in pids {
            let Ok(st) = self.reader.stat(pid) else {
                continue;
            };
            if !alive(st.state) {
                continue;
            }
            for (i, spec) in specs.iter().enumerate() {
                if let Spec::Name(n) = *spec {
                    if matches_name(&st.comm, n) {
                        if let Some(f) = found.get_mut(i) {
                            *f = true;
                        }
                        if !self.is_tracked(&st, i) {
                            self.track(sink, s, &st, i, obs);
                        }
                    }
                }
            }
        }
        for (i, spec) in specs.iter().enumerate() {
            if matches!(spec, Spec::Name(_)) && !found.get(i).copied().unwrap_or(true) {
                self.wait_line(sink, s, i, *spec, b"not-found");
            }
        }
    }

    /// Sample tracked target `i`: one line, or an exit event and its removal.
    /// Returns false when the target was removed.
    pub fn sample(&mut self, sink: &mut Sink, s: Stamp, i: usize, obs: &mut dyn Observer) -> bool {
        let Some(t) = self.tracked.get_mut(i) else {
            return false;
        };
        #[cfg_attr(not(feature = "fields-extra"), allow(unused_mut))]
        let mut status = self.reader.status_of(&mut t.status);
        let gone: Option<&[u8]> = match &status {
            Ok(st) if !alive(st.state.unwrap_or(b'R')) => Some(b"zombie"),
            Err(ReadError::Gone) => Some(b"gone"),
            _ => None,
        };
        if let Some(reason) = gone {
            let t = self.tracked.remove(i);
            if let Some(Spec::Pid(_) | Spec::SelfPid) = self.opts.specs.get(t.spec) {
                if let Some(st) = self.state.get_mut(t.spec) {
                    st.done = true;
                }
            }
            self.event_line(sink, s, b"exit", &t, Some(reason));
            obs.on_exit(sink, s, &t);
            return false;
        }
        let (pid, comm) = (t.pid, t.comm.clone());
        let fields = self.opts.fields;
        let maps = if fields.needs_maps() {
            Some(
                self.reader
                    .maps(pid, status.as_ref().ok().and_then(|s| s.threads)),
            )
        } else {
            None
        };
        #[cfg(feature = "fields-extra")]
        let extra_err = match status.as_mut() {
            Ok(st) => self.sample_extra(sink, s, pid, st),
            Err(_) => [None; 2],
        };
        self.begin(s);
        self.line.kv(b"pid", u64::from(pid));
        self.line.kv_str(b"name", &comm);
        match &status {
            Ok(st) => {
                for (k, v) in st.vm.iter().enumerate() {
                    if let (true, Some(v)) = (fields.has(k), v) {
                        self.line.kv(Fields::name(k).as_bytes(), *v);
                    }
                }
                if let (true, Some(n)) = (fields.has(cli::THREADS), st.threads) {
                    self.line.kv(b"Threads", u64::from(n));
                }
            }
            Err(e) => self.line.kv_str(b"status", err_word(*e)),
        }
        match &maps {
            Some(Ok(m)) => {
                let vals = [
                    (cli::HEAP, m.heap_kb),
                    (cli::STACK, m.stack_kb),
                    (cli::STACKS, m.thread_stack_kb),
                    (cli::NTHREADSTACKS, u64::from(m.thread_stacks)),
                    (cli::ANON, m.anon_kb),
                    (cli::FILE, m.file_kb),
                ];
                for (k, v) in vals {
                    if fields.has(k) {
                        self.line.kv(Fields::name(k).as_bytes(), v);
                    }
                }
            }
            Some(Err(e)) => self.line.kv_str(b"maps", err_word(*e)),
            None => {}
        }
        #[cfg(feature = "fields-extra")]
        {
            if let Ok(st) = &status {
                for (k, v) in (cli::FDS..).zip(st.extra) {
                    if let (true, Some(v)) = (fields.has(k), v) {
                        self.line.kv(Fields::name(k).as_bytes(), v);
                    }
                }
            }
            for (what, e) in [&b"fds"[..], b"smaps_rollup"].into_iter().zip(extra_err) {
                if let Some(e) = e {
                    self.line.kv_str(what, err_word(e));
                }
            }
        }
        self.emit(sink, s);
        if let (Ok(st), Some(t)) = (&status, self.tracked.get(i)) {
            let m = match &maps {
                Some(Ok(m)) => Some(m),
                _ => None,
            };
            obs.on_sample(sink, s, t, st, m);
        }
        true
    }

    /// The `fields-extra` values of one process into `st.extra`: fds and,
    /// when a field asks, smaps_rollup. Returns their read errors.
    #[cfg(feature = "fields-extra")]
    fn sample_extra(
        &mut self,
        sink: &mut Sink,
        s: Stamp,
        pid: u32,
        st: &mut Status,
    ) -> [Option<ReadError>; 2] {
        let fields = self.opts.fields;
        let mut errs = [None; 2];
        if fields.has(cli::FDS) {
            match self.reader.fds(pid) {
                Ok(n) => st.extra[0] = Some(n),
                Err(e) => errs[0] = Some(e),
            }
        }
        if fields.needs_rollup() && !self.extra.rollup_unsupported {
            match self.reader.rollup(pid) {
                Ok(Some(r)) => {
                    let v = [r.pss, r.pss_anon, r.uss(), r.swap_pss];
                    if let Some(d) = st.extra.get_mut(1..) {
                        d.copy_from_slice(&v);
                    }
                }
                Ok(None) if self.reader.pid_dir_exists(pid) => {
                    self.extra.rollup_unsupported = true;
                    self.unsupported_line(sink, s, b"smaps_rollup", b"4.14");
                }
                Ok(None) => errs[1] = Some(ReadError::Gone),
                Err(e) => errs[1] = Some(e),
            }
        }
        errs
    }

    /// `event=unsupported what=FILE need=linux-VERSION`, once per kind:
    /// the fields of that file are left out from now on.
    #[cfg(feature = "fields-extra")]
    fn unsupported_line(&mut self, sink: &mut Sink, s: Stamp, what: &[u8], need: &[u8]) {
        self.begin(s);
        self.line.push(b" event=unsupported what=");
        self.line.push(what);
        self.line.push(b" need=linux-");
        self.line.push(need);
        sink.write_event(self.line.finish());
    }

    /// The pressure fields into `mem` (so [system] rules find them like
    /// meminfo keys). No file (before 4.20, no CONFIG_PSI) or EOPNOTSUPP
    /// (booted with psi=0): said once, never tried again.
    #[cfg(feature = "fields-extra")]
    fn psi_into(&mut self, sink: &mut Sink, s: Stamp, mem: &mut Meminfo) -> Option<ReadError> {
        if self.extra.psi_unsupported {
            return None;
        }
        if self.extra.psi.is_none() {
            match self.reader.open_psi() {
                Ok(fd) => self.extra.psi = Some(fd),
                Err(e) if e.0 == libc::ENOENT => {
                    self.extra.psi_unsupported = true;
                    self.unsupported_line(sink, s, b"pressure/memory", b"4.20");
                    return None;
                }
                Err(e) => return Some(e.into()),
            }
        }
        let fd = self.extra.psi.as_mut()?;
        match self.reader.psi_of(fd) {
            Ok(p) => {
                for (k, v) in [
                    (cli::PSI_SOME_AVG10, p.some_avg10),
                    (cli::PSI_FULL_AVG10, p.full_avg10),
                    (cli::PSI_SOME_TOTAL, p.some_total),
                ] {
                    if let Some(v) = v {
                        mem.insert(Fields::name(k).as_bytes(), v);
                    }
                }
                None
            }
            Err(e) => {
                self.extra.psi = None;
                if e.0 == libc::EOPNOTSUPP {
                    self.extra.psi_unsupported = true;
                    self.unsupported_line(sink, s, b"pressure/memory", b"4.20");
                    return None;
                }
                Some(e.into())
            }
        }
    }

    pub fn meminfo_line(&mut self, sink: &mut Sink, s: Stamp, obs: &mut dyn Observer) {
        if self.meminfo.is_none() {
            self.meminfo = self.reader.open_meminfo().ok();
        }
        let mut mem = Meminfo::default();
        let r = match self.meminfo.as_mut() {
            Some(fd) => self.reader.meminfo_of(fd, &mut mem),
            None => Err(ReadError::Gone),
        };
        if r.is_err() {
            self.meminfo = None; // reopen next time
        }
        #[cfg(feature = "fields-extra")]
        let psi_err = match r.is_ok() && self.opts.fields.needs_psi() {
            true => self.psi_into(sink, s, &mut mem),
            false => None,
        };
        let m = r.map(|()| &mem);
        self.begin(s);
        self.line.push(b" meminfo");
        match m {
            Ok(m) => {
                for key in [
                    &b"MemTotal"[..],
                    b"MemFree",
                    b"MemAvailable",
                    b"Buffers",
                    b"Cached",
                    b"SwapTotal",
                    b"SwapFree",
                ] {
                    if key == b"MemAvailable" {
                        match m.available() {
                            Some(Available::Kernel(v)) => self.line.kv(key, v),
                            Some(Available::Estimated(v)) => self.line.kv(b"MemAvailable~", v),
                            None => {}
                        }
                    } else if let Some(v) = m.get(key) {
                        self.line.kv(key, v);
                    }
                }
                #[cfg(feature = "fields-extra")]
                for k in cli::PSI_SOME_AVG10..=cli::PSI_SOME_TOTAL {
                    let name = Fields::name(k).as_bytes();
                    match (self.opts.fields.has(k), m.get(name)) {
                        (true, Some(v)) if k == cli::PSI_SOME_TOTAL => self.line.kv(name, v),
                        (true, Some(v)) => {
                            let mut b = [0u8; 24];
                            self.line.push(b" ");
                            self.line.push(name);
                            self.line.push(b"=");
                            self.line.push(crate::proc::psi::fmt_centi(v, &mut b));
                        }
                        _ => {}
                    }
                }
            }
            Err(e) => self.line.kv_str(b"error", err_word(e)),
        }
        #[cfg(feature = "fields-extra")]
        if let Some(e) = psi_err {
            self.line.kv_str(b"psi", err_word(e));
        }
        self.emit(sink, s);
        if let Ok(m) = m {
            obs.on_meminfo(sink, s, m);
        }
    }

    pub fn tick(&mut self, sink: &mut Sink, obs: &mut dyn Observer) {
        let s = Stamp::now(self.seq + 1);
        self.tick_at(sink, obs, s);
    }

    /// One sample at the time `s` says (tests drive time themselves).
    pub fn tick_at(&mut self, sink: &mut Sink, obs: &mut dyn Observer, s: Stamp) {
        self.seq = s.seq;
        self.dropped_notice(sink, s);
        self.discover(sink, s, obs);
        let mut i = 0;
        while i < self.tracked.len() {
            if self.sample(sink, s, i, obs) {
                i += 1;
            }
        }
        self.meminfo_line(sink, s, obs);
        sink.flush();
    }
}

/// A `watch` target's `target` label: the name, the pidfile, `pid:N`, `self`.
fn spec_label(s: &Spec) -> heapless::Vec<u8, { crate::metrics::LABEL_CAP }> {
    let mut b = [0u8; 20];
    match s {
        Spec::Name(n) | Spec::Pidfile(n) => crate::metrics::label_of(&[n]),
        Spec::Pid(p) => {
            crate::metrics::label_of(&[b"pid:", crate::num::fmt_u64(u64::from(*p), &mut b)])
        }
        Spec::SelfPid => crate::metrics::label_of(&[b"self"]),
    }
}

pub fn err_word(e: ReadError) -> &'static [u8] {
    match e {
        ReadError::Gone => b"gone",
        ReadError::Denied => b"denied",
        ReadError::Malformed => b"malformed",
        ReadError::Io(_) => b"io-error",
    }
}

/// `memdog check`: fields (or rules, which add their fields) on a file the
/// proc root lacks are a warning, not an error: the config is right for
/// newer kernels, but here those fields are left out and their rules
/// never fire. `run` says the same once in its log (`event=unsupported`).
#[cfg(feature = "fields-extra")]
pub fn warn_unsupported(path: &[u8], c: &crate::config::Config) {
    use crate::sys::{fs::lstat, PathBuf};
    let root: &[u8] = &c.proc_root;
    let say = |what: &[u8], file: &[u8], since: &[u8], e: sys::Errno| {
        out::error(&[
            path,
            b": warning: ",
            what,
            b" need ",
            root,
            file,
            b" (Linux ",
            since,
            b"): ",
            e.text().as_bytes(),
            b"; here they are left out and rules on them never fire",
        ]);
    };
    if c.fields.needs_psi() {
        let mut p = PathBuf::from(root);
        p.push(b"/pressure/memory");
        if let Err(e) = lstat(&p) {
            say(
                b"psi_some_avg10, psi_full_avg10, psi_some_total",
                b"/pressure/memory",
                b"4.20+ with CONFIG_PSI",
                e,
            );
        }
    }
    if c.fields.needs_rollup() {
        // memdog's own; in a captured tree, any process's of the first 64
        let mut p = PathBuf::from(root);
        p.push(b"/self");
        let own = lstat(&p).is_ok().then(sys::getpid);
        let has = |pid: u32| lstat(&PathBuf::proc_file(root, pid, b"smaps_rollup"));
        let found = match own {
            Some(pid) => has(pid).map(drop),
            None => Pids::open(root).map_or(Err(sys::Errno(libc::ENOENT)), |ps| {
                let mut r = Err(sys::Errno(libc::ENOENT));
                for pid in ps.take(64) {
                    r = has(pid).map(drop);
                    if r.is_ok() {
                        break;
                    }
                }
                r
            }),
        };
        if let Err(e) = found {
            say(
                b"Pss, Pss_Anon, Uss, SwapPss",
                b"/PID/smaps_rollup",
                b"4.14+",
                e,
            );
        }
    }
}

/// Check the proc root and every --pid before the first sample, so a typo
/// fails at once with a clear message instead of a log of `event=wait`.
/// [`Watcher::preflight`] without a whole watcher (run's start: a
/// watcher's 12 KB would stay in the daemon's stack, and its RSS, for good).
#[inline(never)]
pub fn preflight_only(w: &Watch) -> Result<(), i32> {
    let mut buf = [0u8; crate::sample::READ_BUF];
    let mut reader = Reader::new(w.proc_root, &mut buf);
    preflight(w, &mut reader)
}

fn preflight(w: &Watch, reader: &mut Reader) -> Result<(), i32> {
    let root = w.proc_root;
    if let Err(e) = reader.meminfo() {
        // name the errno: Gone is ENOENT, ESRCH or an empty file
        let mut p = crate::sys::PathBuf::from(root);
        p.push(b"/meminfo");
        let why: &[u8] = match (e, crate::sys::fs::lstat(&p)) {
            (ReadError::Io(e), _) | (ReadError::Gone, Err(e)) => e.text().as_bytes(),
            (ReadError::Gone, Ok(_)) => b"empty",
            (ReadError::Denied, _) => b"permission denied",
            (ReadError::Malformed, _) => b"not a meminfo file",
        };
        let hint: &[u8] = match e {
            ReadError::Denied => b" (run as root, or check hidepid= on the /proc mount)",
            _ => b" (is proc mounted? mount -t proc proc /proc)",
        };
        out::error(&[b"cannot read ", root, b"/meminfo: ", why, hint]);
        return Err(if e == ReadError::Denied {
            exit::DENIED
        } else {
            exit::FAILURE
        });
    }
    for spec in w.specs.iter() {
        if let Spec::Pid(pid) = *spec {
            let mut b = [0u8; 20];
            let p = crate::num::fmt_u64(u64::from(pid), &mut b);
            match reader.stat(pid) {
                Ok(_) => {
                    // /proc/TID of a thread exists too (hidden from readdir):
                    // its Vm* fields are its process's, and would log as if
                    // it were one
                    if let Some(tgid) = reader.status(pid).ok().and_then(|s| s.thread_of()) {
                        let mut g = [0u8; 20];
                        out::error(&[
                            b"pid ",
                            p,
                            b" is a thread of process ",
                            crate::num::fmt_u64(u64::from(tgid), &mut g),
                            b": watch the process (--pid TGID)",
                        ]);
                        return Err(exit::USAGE);
                    }
                }
                Err(ReadError::Denied) => {
                    out::error(&[
                        b"cannot read ",
                        root,
                        b"/",
                        p,
                        b"/stat: permission denied (run as root, or check hidepid=)",
                    ]);
                    return Err(exit::DENIED);
                }
                Err(_) => {
                    out::error(&[
                        b"pid ",
                        p,
                        b" not found in ",
                        root,
                        b" (is it running? check with ps, or use --name)",
                    ]);
                    return Err(exit::NOT_FOUND);
                }
            }
        }
    }
    Ok(())
}

/// Run the watch loop until --count samples or SIGTERM/SIGINT. Returns the exit code.
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
/// `watch`'s tables, in .bss like the daemon's.
static WATCH_TABLES: crate::sys::cell::Zeroed<Tables> = crate::sys::cell::Zeroed::new();

#[inline(never)]
pub fn run(w: Watch) -> i32 {
    if w.specs.is_empty() {
        out::error(&[
            b"watch needs a target: --pid PID, --pid self, --name NAME or --pidfile FILE",
        ]);
        return exit::USAGE;
    }
    // first: a SIGTERM during start-up is a clean stop (exit 0), not a kill
    signals::install_stop_only();
    // the watcher's own reader does the pre-flight reads: a second 4 KiB
    // buffer in this frame would stay in the RSS for the whole run
    let Some(tables) = WATCH_TABLES.take() else {
        return exit::FAILURE;
    };
    let mut watcher = Watcher::new(w, tables);
    let w = &watcher.opts;
    if let Err(code) = preflight(w, &mut watcher.reader) {
        return code;
    }
    let mut sink = Sink::stdout();
    if let Err(code) = out::open_log(&mut sink, w.log, w.log_size, w.log_files) {
        return code;
    }
    if let Err(code) = out::attach_syslog(&mut sink, w.syslog, w.syslog_remote) {
        return code;
    }
    if let Some(tf) = w.textfile {
        if let Err(code) = out::check_textfile(tf) {
            return code;
        }
    }
    let mut metrics = match crate::metrics::Metrics::open(w.textfile, w.metrics_listen) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let interval_ns = w.interval_ms.saturating_mul(1_000_000);
    let count = w.count;
    if let Some(m) = metrics.as_mut() {
        m.store
            .set_targets(watcher.opts.specs.iter().map(|s| (spec_label(s), true)));
        m.store.set_boot(watcher.opts.proc_root);
    }
    let mut deadline = sys::monotonic_ns();
    loop {
        match metrics.as_mut() {
            Some(m) => {
                m.store.begin(watcher.seq + 1);
                watcher.tick(&mut sink, &mut crate::metrics::Recorder(m.store));
                m.end(sink.dropped_total);
            }
            None => watcher.tick(&mut sink, &mut NoObserver),
        }
        if count.is_some_and(|c| watcher.seq >= c) || signals::stop_requested() || sink.broken {
            // a closed pipe (`memdog watch | head -1`) ends memdog like `yes`
            break;
        }
        deadline = deadline.saturating_add(interval_ns);
        let now = sys::monotonic_ns();
        if now > deadline {
            // stalled (SIGSTOP, a slow flash): skip the missed ticks, no burst
            let missed = (now - deadline) / interval_ns.max(1) + 1;
            deadline = deadline.saturating_add(missed.saturating_mul(interval_ns));
        }
        while sys::monotonic_ns() < deadline && !signals::stop_requested() {
            match metrics.as_mut() {
                Some(m) => m.sleep_until(deadline),
                None => {
                    sys::sleep_until_monotonic(deadline);
                }
            }
        }
        if signals::stop_requested() {
            break;
        }
    }
    if let Some(e) = sink.last_error.filter(|_| !sink.broken) {
        out::error(&[
            b"some log lines could not be written: ",
            e.text().as_bytes(),
        ]);
    }
    exit::OK
}
