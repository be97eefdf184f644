//! The report's model: targets (host + label or name), and under each target
//! its lives (one process life: boot, pid, starttime), each with exact
//! least-squares sums per field. Fed records in (host, boot, uptime, seq)
//! order by the caller; everything here is a fixed-capacity table.

use super::parse::{FIELDS, F_ANON, F_FILE, F_HEAP, F_RSS, F_SHMEM, F_SWAP, NF, SYS_FIELDS};
use heapless::Vec;

/// Longest target or host name kept (comm is 15 bytes; labels and hosts a few dozen).
pub const NAME_CAP: usize = 64;
/// Targets in one report: (host, target) pairs, the `system` of each host too.
pub const MAX_TARGETS: usize = 1024;
/// Process lives over all targets (restarts, reboots, same-named processes).
pub const MAX_LIVES: usize = 8192;
/// Processes alive at once in one boot of one host, for pid -> life.
pub const MAX_ALIVE: usize = 512;
/// Event marks kept per target for the chart.
pub const MAX_MARKS: usize = 24;
/// Targets whose series are binned for --svg/--csv (the worst first).
pub const CHARTED: usize = 64;
/// Chart bins per target; pairs merge when the time range outgrows them.
pub const BINS: usize = 240;
/// Target names remembered for the overflow line.
pub const DROPPED_NAMES: usize = 8;
/// Fewest samples in one life for that life's own leak verdict.
pub const MIN_LIFE_POINTS: u64 = 8;
/// kB values past this come from hostile logs only; clamped so exact sums fit.
const V_CLAMP: u64 = 1 << 40;

pub type Name = Vec<u8, NAME_CAP>;

pub fn name(b: &[u8]) -> Name {
    Vec::from_slice(b.get(..b.len().min(NAME_CAP)).unwrap_or(&[])).unwrap_or_default()
}

/// Exact least-squares sums over (t in tenths of a second since the life's
/// first sample, v in kB): integers, so the result does not depend on the
/// order samples are added in.
#[derive(Clone, Copy, Default, Debug)]
pub struct Fit {
    pub n: i128,
    pub st: i128,
    pub sv: i128,
    pub stt: i128,
    pub stv: i128,
    pub svv: i128,
}

impl Fit {
    pub fn add(&mut self, t: u64, v: u64) {
        let (t, v) = (i128::from(t.min(1 << 40)), i128::from(v.min(V_CLAMP)));
        self.n += 1;
        self.st += t;
        self.sv += v;
        self.stt += t * t;
        self.stv += t * v;
        self.svv = self.svv.saturating_add(v * v);
    }
    /// Centred sums (Sxx, Sxy, Syy), exact until the one division.
    pub fn centred(&self) -> (f64, f64, f64) {
        if self.n < 2 {
            return (0.0, 0.0, 0.0);
        }
        let n = self.n;
        let sxx = n
            .saturating_mul(self.stt)
            .saturating_sub(self.st.saturating_mul(self.st));
        let sxy = n
            .saturating_mul(self.stv)
            .saturating_sub(self.st.saturating_mul(self.sv));
        let syy = n
            .saturating_mul(self.svv)
            .saturating_sub(self.sv.saturating_mul(self.sv));
        let nf = n as f64;
        (sxx as f64 / nf, sxy as f64 / nf, syy as f64 / nf)
    }
}

/// (kB per hour, R^2) from centred sums over tenths of a second.
pub fn slope_r2(sxx: f64, sxy: f64, syy: f64) -> (f64, f64) {
    if sxx <= 0.0 {
        return (0.0, 0.0);
    }
    let r2 = if syy > 0.0 {
        (sxy * sxy / (sxx * syy)).min(1.0)
    } else {
        0.0
    };
    (sxy / sxx * 36_000.0, r2)
}

/// First, last, min and max of one field. `first` is the value at the
/// earliest (boot, uptime), the smaller on a tie (two same-named processes
/// sampled together); `last` the latest, the larger on a tie: whatever the
/// order records arrive in.
#[derive(Clone, Copy, Default)]
pub struct FieldStats {
    pub seen: bool,
    pub first: u64,
    pub last: u64,
    pub min: u64,
    pub max: u64,
    first_at: (u16, u64),
    last_at: (u16, u64),
}

impl FieldStats {
    fn add(&mut self, at: (u16, u64), v: u64) {
        if !self.seen {
            *self = FieldStats {
                seen: true,
                first: v,
                last: v,
                min: v,
                max: v,
                first_at: at,
                last_at: at,
            };
            return;
        }
        if at < self.first_at || (at == self.first_at && v < self.first) {
            self.first = v;
            self.first_at = at;
        }
        if at > self.last_at || (at == self.last_at && v > self.last) {
            self.last = v;
            self.last_at = at;
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MarkKind {
    Start,
    Exit,
    Warn,
    Crit,
    Boot,
    Agent,
}

#[derive(Clone, Copy)]
pub struct Mark {
    pub wall: i64,
    pub kind: MarkKind,
}

/// How bad a verdict is: the ranking's first key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Default)]
pub enum Level {
    #[default]
    NoSamples,
    Flat,
    /// steady growth of file pages (RssFile): cache, not a leak by itself
    Cache,
    Unsteady,
    Leak,
}

#[derive(Clone, Copy, Default, Debug)]
pub struct Verdict {
    pub level: Level,
    pub slope: f64,
    pub r2: f64,
    pub hours: f64,
    /// the life it comes from, when one life is worse than the pooled fit
    pub life: Option<u32>,
    /// the field judged (index into FIELDS): VmRSS, or VmSwap for a leak
    /// going to swap
    pub field: usize,
    /// the last VmRSS of the life it comes from
    pub last: Option<u64>,
}

pub struct Target {
    pub host: u16,
    pub name: Name,
    pub system: bool,
    /// a proc_memlog file (no pids, no events)
    pub memlog: bool,
    /// times were not in the file: one sample per assumed interval
    pub assumed_times: bool,
    pub fields: [FieldStats; NF],
    pub events: u32,
    pub warn_limit: Option<u64>,
    pub crit_limit: Option<u64>,
    /// the largest `to_kb=` of its VmRSS events: the limit memdog's
    /// forecasts ran to (a crit rule's, before it was reached)
    pub to_kb: Option<u64>,
    /// wall time of the first and last sample of the verdict field
    pub wall: Option<(i64, i64)>,
    pub marks: Vec<Mark, MAX_MARKS>,
    pub chart: Option<u16>,
    // filled by finish()
    pub lives: u32,
    pub restarts: u32,
    pub boots: u32,
    pub pooled: [(f64, f64); NF],
    pub verdict: Verdict,
    /// MemTotal of the system target (its host's), the largest logged
    pub mem_total: Option<u64>,
    /// which memory grows, for a leak or cache verdict
    pub growth: Option<Growth>,
    /// the forecast: hours until the verdict field reaches the limit
    pub eta: Option<Eta>,
}

/// Which memory grows (the parts of VmRSS, or swap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrowthKind {
    /// RssAnon (or, on kernels before 4.5, the heap): a leak likely
    Anon,
    /// RssFile: page cache or mapped files, not a leak by itself
    File,
    /// RssShmem: shared memory (tmpfs, SysV, memfd)
    Shmem,
    /// VmSwap grows while VmRSS is flat: a leak going to swap
    Swap,
    /// no part of VmRSS in the log explains the growth
    Unknown,
}

#[derive(Clone, Copy, Debug)]
pub struct Growth {
    pub kind: GrowthKind,
    /// the growing part's slope, kB/h, and its field (index into FIELDS)
    pub slope: f64,
    pub field: usize,
}

/// What the forecast runs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EtaTo {
    /// the `limit=` of the log's crit events on VmRSS
    Crit,
    /// the `to_kb=` of its events: the limit memdog's forecasts ran to
    Forecast,
    /// the `limit=` of its warn events
    Warn,
    /// MemTotal of the host's meminfo lines: no limit in the log
    MemTotal,
    /// the system's MemAvailable running out
    Zero,
}

#[derive(Clone, Copy, Debug)]
pub struct Eta {
    pub to: EtaTo,
    pub limit_kb: u64,
    pub last_kb: u64,
    /// None: already at or past the limit
    pub hours: Option<f64>,
}

pub struct Life {
    pub target: u32,
    pub boot: u16,
    pub pid: u32,
    pub start: Option<u64>,
    /// uptime (tenths of a second) of its first and last record
    pub first_up: u64,
    pub last_up: u64,
    /// origin of the fit: uptime of its first sample
    pub t0: Option<u64>,
    pub fits: [Fit; NF],
    pub rss: FieldStats,
    pub wall: (i64, i64),
    /// its last record is its exit
    pub exited: bool,
}

#[derive(Clone, Copy, Default)]
pub struct Bin {
    pub n: u32,
    pub boot: u16,
    pub min: u64,
    pub max: u64,
    pub sum: u64,
    pub wall: i64,
    pub up: u64,
}

pub struct Chart {
    pub bins: [Bin; BINS],
    /// seconds per bin; 0 until the first point
    pub width: i64,
    pub t0: i64,
}

/// A parsed record, the unit of dedup and ordering inside one sample.
#[derive(Clone, Debug, Default)]
pub struct Rec {
    pub kind: RecKind,
    pub hash: u64,
    pub up: u64,
    pub pid: Option<u32>,
    pub start: Option<u64>,
    pub name: Name,
    pub field: Option<u8>,
    pub limit: Option<u64>,
    pub vals: [Option<u64>; NF],
    /// MemTotal of a meminfo line
    pub mem_total: Option<u64>,
    /// the limit a forecast of the agent ran to (`to_kb=` of an event)
    pub to_kb: Option<u64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecKind {
    /// a new agent run: memdog restarted, the targets did not
    AgentStart,
    Exit,
    Start,
    Warn,
    Crit,
    OtherEvent,
    #[default]
    Sample,
    Meminfo,
}

pub struct Model {
    pub hosts: Vec<Name, { super::MAX_HOSTS }>,
    pub targets: Vec<Target, MAX_TARGETS>,
    pub lives: Vec<Life, MAX_LIVES>,
    pub charts: Vec<Chart, CHARTED>,
    /// charts wanted: bins are kept for the first CHARTED targets (or those marked)
    pub chart_all: bool,
    alive: Vec<(u32, u32, u32), MAX_ALIVE>,
    cur_host: u16,
    cur_boot: u16,
    epoch: i64,
    /// the first life of the current boot
    boot_lives_from: usize,
    search_from: usize,
    /// `--target` names; `matched` says which were seen
    pub only: Vec<Name, 16>,
    /// the targets to chart on a second pass (host, name, system)
    pub chart_keys: Vec<(u16, Name, bool), CHARTED>,
    pub matched: [bool; 16],
    /// targets left out by `--target`, for the message naming what there is
    pub seen_names: Vec<Name, 16>,
    pub dropped_targets: u32,
    pub dropped_names: Vec<Name, DROPPED_NAMES>,
    pub dropped_lives: u64,
    pub dropped_alive: u64,
    pub records: u64,
}

impl Model {
    pub const fn new() -> Model {
        Model {
            hosts: Vec::new(),
            targets: Vec::new(),
            lives: Vec::new(),
            charts: Vec::new(),
            chart_all: false,
            alive: Vec::new(),
            cur_host: 0,
            cur_boot: 0,
            epoch: 0,
            boot_lives_from: 0,
            search_from: 0,
            only: Vec::new(),
            chart_keys: Vec::new(),
            matched: [false; 16],
            seen_names: Vec::new(),
            dropped_targets: 0,
            dropped_names: Vec::new(),
            dropped_lives: 0,
            dropped_alive: 0,
            records: 0,
        }
    }

    /// Forget everything but the filter (for the chart pass).
    pub fn reset(&mut self) {
        self.targets.clear();
        self.lives.clear();
        self.charts.clear();
        self.alive.clear();
        self.dropped_targets = 0;
        self.dropped_names.clear();
        self.dropped_lives = 0;
        self.dropped_alive = 0;
        self.records = 0;
        self.matched = [false; 16];
    }

    pub fn chart_keys(&mut self, keys: &[(u16, Name, bool)]) {
        self.chart_keys.clear();
        for k in keys {
            let _ = self.chart_keys.push(k.clone());
        }
    }

    pub fn begin_host(&mut self, host: u16) {
        self.cur_host = host;
        self.search_from = self.targets.len();
    }

    /// A new boot of the current host; `epoch` turns uptime into wall time.
    pub fn begin_boot(&mut self, ord: u16, epoch: i64, first_up: u64) {
        self.cur_boot = ord;
        self.epoch = epoch;
        self.alive.clear();
        self.boot_lives_from = self.lives.len();
        let wall = self.wall_of(first_up);
        if ord > 1 {
            for t in self.targets.iter_mut().skip(self.search_from) {
                let _ = t.marks.push(Mark {
                    wall,
                    kind: MarkKind::Boot,
                });
            }
        }
    }

    /// A stream's next line is of `host`, in its boot `ord`: switch to it
    /// without forgetting other hosts' processes; a new boot forgets this
    /// host's.
    pub fn stream_context(
        &mut self,
        host: u16,
        ord: u16,
        epoch: i64,
        new_boot: bool,
        first_up: u64,
    ) {
        self.cur_host = host;
        self.cur_boot = ord;
        self.epoch = epoch;
        self.search_from = 0;
        self.boot_lives_from = 0;
        if !new_boot {
            return;
        }
        let targets = &self.targets;
        self.alive
            .retain(|a| targets.get(a.0 as usize).is_some_and(|t| t.host != host));
        if ord > 1 {
            let wall = self.wall_of(first_up);
            for t in self.targets.iter_mut().filter(|t| t.host == host) {
                let _ = t.marks.push(Mark {
                    wall,
                    kind: MarkKind::Boot,
                });
            }
        }
    }

    pub fn wall_of(&self, up: u64) -> i64 {
        self.epoch + (up / 10) as i64
    }

    fn target(&mut self, name: &[u8], system: bool) -> Option<usize> {
        let host = self.cur_host;
        if let Some(i) = self
            .targets
            .iter()
            .skip(self.search_from)
            .position(|t| t.host == host && t.system == system && &t.name[..] == name)
        {
            return Some(i + self.search_from);
        }
        if !self.only.is_empty() {
            match self.only.iter().position(|o| &o[..] == name) {
                Some(k) => {
                    if let Some(m) = self.matched.get_mut(k) {
                        *m = true;
                    }
                }
                None => {
                    if !self.seen_names.iter().any(|n| &n[..] == name) {
                        let _ = self.seen_names.push(self::name(name));
                    }
                    return None;
                }
            }
        }
        let wanted = self
            .chart_keys
            .iter()
            .any(|k| k.0 == host && k.2 == system && &k.1[..] == name);
        let chart = if (self.chart_all || wanted) && !self.charts.is_full() {
            let _ = self.charts.push(Chart {
                bins: [Bin::default(); BINS],
                width: 0,
                t0: 0,
            });
            Some(self.charts.len() as u16 - 1)
        } else {
            None
        };
        let t = Target {
            host,
            name: self::name(name),
            system,
            memlog: false,
            assumed_times: false,
            fields: [FieldStats::default(); NF],
            events: 0,
            warn_limit: None,
            crit_limit: None,
            to_kb: None,
            wall: None,
            marks: Vec::new(),
            chart,
            lives: 0,
            restarts: 0,
            boots: 0,
            pooled: [(0.0, 0.0); NF],
            verdict: Verdict::default(),
            mem_total: None,
            growth: None,
            eta: None,
        };
        if self.targets.push(t).is_err() {
            self.dropped_targets += 1;
            if !self.dropped_names.iter().any(|n| &n[..] == name) {
                let _ = self.dropped_names.push(self::name(name));
            }
            return None;
        }
        Some(self.targets.len() - 1)
    }

    /// The life of `pid` under target `t` now; a new one when none is alive.
    fn life(&mut self, t: usize, pid: u32, start: Option<u64>, up: u64) -> Option<usize> {
        let t32 = t as u32;
        if start.is_some() {
            // (pid, starttime) names one process: a start logged again (memdog
            // restarted, in the sample its process exited in) is the same life
            let from = self.boot_lives_from;
            if let Some(k) = self.lives.iter().skip(from).position(|l| {
                l.target == t32 && l.boot == self.cur_boot && l.pid == pid && l.start == start
            }) {
                return Some(k + from);
            }
        }
        if let Some(k) = self.alive.iter().position(|a| a.0 == t32 && a.1 == pid) {
            let li = self.alive.get(k).map(|a| a.2 as usize)?;
            let l = self.lives.get_mut(li)?;
            match (l.start, start) {
                // memdog re-logs a start for a process it already followed
                // (an agent restart, a reload): the same life
                (Some(a), Some(b)) if a == b => return Some(li),
                (_, None) => return Some(li),
                // the log began inside this life: now we know its starttime
                (None, Some(b)) => {
                    l.start = Some(b);
                    return Some(li);
                }
                // the pid was reused: a new life
                _ => {
                    self.alive.swap_remove(k);
                }
            }
        }
        let life = Life {
            target: t32,
            boot: self.cur_boot,
            pid,
            start,
            first_up: up,
            last_up: up,
            t0: None,
            fits: [Fit::default(); NF],
            rss: FieldStats::default(),
            wall: (0, 0),
            exited: false,
        };
        if self.lives.push(life).is_err() {
            self.dropped_lives += 1;
            return None;
        }
        let li = self.lives.len() - 1;
        if self.alive.push((t32, pid, li as u32)).is_err() {
            self.dropped_alive += 1;
        }
        Some(li)
    }

    fn mark(&mut self, t: usize, wall: i64, kind: MarkKind) {
        if let Some(tg) = self.targets.get_mut(t) {
            let _ = tg.marks.push(Mark { wall, kind });
        }
    }

    /// One record of the current host and boot.
    pub fn record(&mut self, r: &Rec) {
        self.records += 1;
        let wall = self.wall_of(r.up);
        match r.kind {
            RecKind::AgentStart => {
                let from = self.search_from;
                for i in from..self.targets.len() {
                    self.mark(i, wall, MarkKind::Agent);
                }
            }
            RecKind::Meminfo => {
                let Some(t) = self.target(b"system", true) else {
                    return;
                };
                if let (Some(tg), Some(mt)) = (self.targets.get_mut(t), r.mem_total) {
                    tg.mem_total = Some(tg.mem_total.map_or(mt, |m| m.max(mt)));
                }
                let Some(li) = self.life(t, 0, None, r.up) else {
                    return;
                };
                self.sample(t, li, r, wall);
            }
            RecKind::Sample => {
                let (Some(pid), false) = (r.pid, r.name.is_empty()) else {
                    return;
                };
                let Some(t) = self.target(&r.name, false) else {
                    return;
                };
                let Some(li) = self.life(t, pid, None, r.up) else {
                    return;
                };
                self.sample(t, li, r, wall);
            }
            _ => {
                if r.name.is_empty() {
                    return;
                }
                let Some(t) = self.target(&r.name, false) else {
                    return;
                };
                if let Some(tg) = self.targets.get_mut(t) {
                    tg.events += 1;
                    if r.field == Some(0) {
                        match r.kind {
                            RecKind::Warn => tg.warn_limit = r.limit.or(tg.warn_limit),
                            RecKind::Crit => tg.crit_limit = r.limit.or(tg.crit_limit),
                            _ => {}
                        }
                        if let (Some(k), RecKind::Warn | RecKind::Crit) = (r.to_kb, r.kind) {
                            tg.to_kb = Some(tg.to_kb.map_or(k, |m| m.max(k)));
                        }
                    }
                }
                let kind = match r.kind {
                    RecKind::Start => MarkKind::Start,
                    RecKind::Exit => MarkKind::Exit,
                    RecKind::Warn => MarkKind::Warn,
                    RecKind::Crit => MarkKind::Crit,
                    _ => return,
                };
                self.mark(t, wall, kind);
                let Some(pid) = r.pid else { return };
                match r.kind {
                    RecKind::Start => {
                        if let Some(li) = self.life(t, pid, r.start, r.up) {
                            if let Some(l) = self.lives.get_mut(li) {
                                l.last_up = l.last_up.max(r.up);
                            }
                        }
                    }
                    RecKind::Exit => {
                        let t32 = t as u32;
                        let lives = &self.lives;
                        // the life with this starttime, or one whose start the log missed
                        if let Some(k) = self.alive.iter().position(|a| {
                            a.0 == t32
                                && a.1 == pid
                                && lives.get(a.2 as usize).is_some_and(|l| {
                                    l.start.is_none() || r.start.is_none() || l.start == r.start
                                })
                        }) {
                            if let Some(l) = self
                                .alive
                                .get(k)
                                .and_then(|a| self.lives.get_mut(a.2 as usize))
                            {
                                l.last_up = l.last_up.max(r.up);
                                l.exited = true;
                            }
                            self.alive.swap_remove(k);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn sample(&mut self, t: usize, li: usize, r: &Rec, wall: i64) {
        let Some(l) = self.lives.get_mut(li) else {
            return;
        };
        l.last_up = l.last_up.max(r.up);
        l.exited = false;
        let Some(tg) = self.targets.get_mut(t) else {
            return;
        };
        let t0 = *l.t0.get_or_insert(r.up);
        let at = (self.cur_boot, r.up);
        let dt = r.up.saturating_sub(t0);
        for (i, v) in r.vals.iter().enumerate() {
            if let Some(v) = *v {
                if let (Some(f), Some(s)) = (l.fits.get_mut(i), tg.fields.get_mut(i)) {
                    f.add(dt, v);
                    s.add(at, v);
                }
            }
        }
        let Some(v0) = r.vals.first().copied().flatten() else {
            return;
        };
        if !l.rss.seen {
            l.wall = (wall, wall);
        }
        l.rss.add(at, v0);
        l.wall = (l.wall.0.min(wall), l.wall.1.max(wall));
        tg.wall = Some(match tg.wall {
            Some((a, b)) => (a.min(wall), b.max(wall)),
            None => (wall, wall),
        });
        if let Some(c) = tg.chart.and_then(|c| self.charts.get_mut(c as usize)) {
            bin(c, wall, r.up, self.cur_boot, v0);
        }
    }

    /// A proc_memlog target: one per file.
    pub fn memlog_target(&mut self, host: u16, file: &[u8]) -> Option<usize> {
        self.cur_host = host;
        self.search_from = 0;
        self.cur_boot = 1;
        self.epoch = 0;
        self.alive.clear();
        self.boot_lives_from = self.lives.len();
        let t = self.target(file, false)?;
        if let Some(tg) = self.targets.get_mut(t) {
            tg.memlog = true;
        }
        Some(t)
    }

    /// A proc_memlog sample at `wall` (seconds) of target `t`.
    pub fn memlog_sample(&mut self, t: usize, wall: i64, field: usize, v: u64, first_wall: i64) {
        self.records += 1;
        let up = (wall.saturating_sub(first_wall).max(0) as u64).saturating_mul(10);
        let Some(li) = self.life(t, 0, None, up) else {
            return;
        };
        let mut r = Rec {
            up,
            ..Rec::default()
        };
        if let Some(s) = r.vals.get_mut(field) {
            *s = Some(v);
        }
        self.sample(t, li, &r, wall);
    }

    /// Restarts, boots, pooled fits and verdicts, once every record is in.
    pub fn finish(&mut self) {
        for ti in 0..self.targets.len() {
            let mut pooled = [(0.0f64, 0.0f64, 0.0f64); NF];
            let mut n0: i128 = 0;
            let mut worst: Option<(Verdict, u32)> = None;
            let (mut lives, mut boots, mut restarts) = (0u32, 0u32, 0u32);
            let Some(tg) = self.targets.get(ti) else {
                continue;
            };
            let (system, first0) = (tg.system, tg.fields.first().map_or(0, |f| f.first));
            let mut last_boot = None;
            for l in self.lives.iter().filter(|l| l.target == ti as u32) {
                lives += 1;
                if last_boot != Some(l.boot) {
                    boots += 1;
                    last_boot = Some(l.boot);
                }
                for (p, f) in pooled.iter_mut().zip(l.fits.iter()) {
                    let (a, b, c) = f.centred();
                    p.0 += a;
                    p.1 += b;
                    p.2 += c;
                }
                n0 += l.fits.first().map_or(0, |f| f.n);
                if let Some(f) = l
                    .fits
                    .first()
                    .filter(|f| f.n >= i128::from(MIN_LIFE_POINTS))
                {
                    let (a, b, c) = f.centred();
                    let hours = (l.wall.1 - l.wall.0) as f64 / 3600.0;
                    let v = Verdict {
                        last: Some(l.rss.last),
                        ..judge(slope_r2(a, b, c), hours, l.rss.first, system, Some(l.pid))
                    };
                    if worst.is_none_or(|(w, _)| (v.level, v.slope) > (w.level, w.slope)) {
                        worst = Some((v, l.pid));
                    }
                }
            }
            // restarts: per boot, the lives beyond the most that were alive at once
            let mut b = 0u16;
            loop {
                let next = self
                    .lives
                    .iter()
                    .filter(|l| l.target == ti as u32 && l.boot > b)
                    .map(|l| l.boot)
                    .min();
                let Some(nb) = next else { break };
                b = nb;
                let (mut count, mut most) = (0u32, 0u32);
                for l in self
                    .lives
                    .iter()
                    .filter(|l| l.target == ti as u32 && l.boot == b)
                {
                    count += 1;
                    let at_once = self
                        .lives
                        .iter()
                        .filter(|o| {
                            // alive when `l` began (a life ending in the sample
                            // another begins in is a restart, not company)
                            o.target == ti as u32
                                && o.boot == b
                                && o.first_up <= l.first_up
                                && (o.last_up > l.first_up
                                    || (o.last_up == l.first_up && !o.exited)
                                    || core::ptr::eq(*o, l))
                        })
                        .count() as u32;
                    most = most.max(at_once);
                }
                restarts += count.saturating_sub(most);
            }
            let Some(tg) = self.targets.get_mut(ti) else {
                continue;
            };
            for (o, p) in tg.pooled.iter_mut().zip(pooled.iter()) {
                *o = slope_r2(p.0, p.1, p.2);
            }
            let hours = tg.wall.map_or(0.0, |(a, b)| (b - a) as f64 / 3600.0);
            let mut v = if n0 >= 3 {
                judge(tg.pooled[0], hours, first0, system, None)
            } else if n0 > 0 {
                Verdict {
                    level: Level::Flat,
                    slope: tg.pooled[0].0,
                    r2: tg.pooled[0].1,
                    hours,
                    life: None,
                    field: F_RSS,
                    last: None,
                }
            } else {
                Verdict::default()
            };
            if let Some((w, _)) = worst {
                // a life worse than the pool: two same-named processes, one leaking
                if w.level > v.level {
                    v = w;
                }
            }
            tg.verdict = v;
            if !system {
                swap_bound(tg, hours);
                tg.growth = growth_of(tg);
                if tg.growth.is_some_and(|g| g.kind == GrowthKind::File) {
                    tg.verdict.level = Level::Cache;
                }
            }
            tg.lives = lives;
            tg.boots = boots;
            tg.restarts = restarts;
        }
        self.forecast();
    }

    /// The forecasts, once every target has its verdict: a process target
    /// runs to its crit (else warn) limit from the log, else its host's
    /// MemTotal; the system's MemAvailable runs to 0.
    pub fn forecast(&mut self) {
        for ti in 0..self.targets.len() {
            let Some(tg) = self.targets.get(ti) else {
                continue;
            };
            let (host, system) = (tg.host, tg.system);
            let mem_total = self
                .targets
                .iter()
                .filter(|x| x.system && x.host == host)
                .find_map(|x| x.mem_total);
            let Some(tg) = self.targets.get_mut(ti) else {
                continue;
            };
            tg.eta = eta_of(tg, system, mem_total);
        }
    }

    /// Target indices worst first: verdict, then slope, then host and name.
    pub fn ranked(&self, out: &mut Vec<u16, MAX_TARGETS>) {
        out.clear();
        for i in 0..self.targets.len() {
            let _ = out.push(i as u16);
        }
        let hosts = &self.hosts;
        out.sort_unstable_by(|&a, &b| {
            let (Some(x), Some(y)) = (self.targets.get(a as usize), self.targets.get(b as usize))
            else {
                return core::cmp::Ordering::Equal;
            };
            let sx = if x.system {
                -x.verdict.slope
            } else {
                x.verdict.slope
            };
            let sy = if y.system {
                -y.verdict.slope
            } else {
                y.verdict.slope
            };
            y.verdict
                .level
                .cmp(&x.verdict.level)
                .then(sy.total_cmp(&sx))
                .then(hosts.get(x.host as usize).cmp(&hosts.get(y.host as usize)))
                .then(x.system.cmp(&y.system))
                .then(x.name.cmp(&y.name))
        });
    }
}

impl Default for Model {
    fn default() -> Self {
        Self::new()
    }
}

/// VmRSS flat while VmSwap grows like a leak: the leak is going to swap.
fn swap_bound(tg: &mut Target, hours: f64) {
    if tg.verdict.level == Level::Leak {
        return;
    }
    let (Some(s), Some(&p)) = (
        tg.fields.get(F_SWAP).filter(|s| s.seen),
        tg.pooled.get(F_SWAP),
    ) else {
        return;
    };
    let v = judge(p, hours, s.first, false, None);
    if v.level == Level::Leak {
        tg.verdict = Verdict { field: F_SWAP, ..v };
    }
}

/// Which part of VmRSS grows, for a leak verdict (or swap for a swap-bound
/// one): the part with the steepest pooled slope, if it carries at least a
/// quarter of VmRSS's growth (the heap stands in for RssAnon before 4.5).
fn growth_of(tg: &Target) -> Option<Growth> {
    if tg.verdict.level != Level::Leak {
        return None;
    }
    if tg.verdict.field == F_SWAP {
        return Some(Growth {
            kind: GrowthKind::Swap,
            slope: tg.verdict.slope,
            field: F_SWAP,
        });
    }
    let seen = |i: usize| tg.fields.get(i).is_some_and(|s| s.seen);
    let slope = |i: usize| tg.pooled.get(i).map_or(0.0, |p| p.0);
    let total = tg.verdict.slope;
    let anon = if seen(F_ANON) { F_ANON } else { F_HEAP };
    let mut best: Option<(usize, GrowthKind)> = None;
    for (i, k) in [
        (anon, GrowthKind::Anon),
        (F_FILE, GrowthKind::File),
        (F_SHMEM, GrowthKind::Shmem),
    ] {
        if seen(i) && best.is_none_or(|(b, _)| slope(i) > slope(b)) {
            best = Some((i, k));
        }
    }
    let (i, kind) = best?;
    let kind = if slope(i) >= 0.25 * total {
        kind
    } else {
        GrowthKind::Unknown
    };
    Some(Growth {
        kind,
        slope: slope(i),
        field: i,
    })
}

/// The forecast of a leak (or the system's shrinking) verdict.
fn eta_of(tg: &Target, system: bool, mem_total: Option<u64>) -> Option<Eta> {
    let v = &tg.verdict;
    if v.level != Level::Leak || v.field != F_RSS {
        return None;
    }
    // the leaking life's last value (two same-named processes: its own)
    let last = match v.last {
        Some(l) => l,
        None => tg.fields.get(F_RSS).filter(|s| s.seen)?.last,
    };
    let (to, limit_kb) = if system {
        (EtaTo::Zero, 0)
    } else if let Some(c) = tg.crit_limit {
        (EtaTo::Crit, c)
    } else if let Some(k) = tg.to_kb {
        (EtaTo::Forecast, k)
    } else if let Some(w) = tg.warn_limit {
        (EtaTo::Warn, w)
    } else {
        (EtaTo::MemTotal, mem_total?)
    };
    let gap = if system {
        last as f64
    } else {
        limit_kb as f64 - last as f64
    };
    let speed = if system { -v.slope } else { v.slope };
    let hours = (gap > 0.0 && speed > 0.0).then(|| gap / speed);
    Some(Eta {
        to,
        limit_kb,
        last_kb: last,
        hours,
    })
}

/// A leak: growth over the span of at least 256 kB and 5 % of the first
/// value, with R^2 >= 0.6. For the system target, MemAvailable falling.
fn judge(
    (slope, r2): (f64, f64),
    hours: f64,
    first: u64,
    system: bool,
    life: Option<u32>,
) -> Verdict {
    let hours = hours.max(0.0);
    let sign = if system { -1.0 } else { 1.0 };
    let growth = sign * slope * hours;
    let floor = (first as f64 * 0.05).max(256.0);
    let level = if growth >= floor && r2 >= 0.6 {
        Level::Leak
    } else if growth >= floor {
        Level::Unsteady
    } else {
        Level::Flat
    };
    Verdict {
        level,
        slope,
        r2,
        hours,
        life,
        field: F_RSS,
        last: None,
    }
}

fn merge(a: Bin, b: Bin) -> Bin {
    match (a.n, b.n) {
        (0, _) => b,
        (_, 0) => a,
        _ => Bin {
            n: a.n.saturating_add(b.n),
            boot: a.boot,
            min: a.min.min(b.min),
            max: a.max.max(b.max),
            // kB values near u64::MAX come only from hostile logs: clamp, never wrap
            sum: a.sum.saturating_add(b.sum),
            wall: a.wall,
            up: a.up,
        },
    }
}

fn bin(c: &mut Chart, wall: i64, up: u64, boot: u16, v: u64) {
    if c.width == 0 {
        c.t0 = wall;
        c.width = 60;
    }
    let idx = |c: &Chart| (wall.saturating_sub(c.t0).max(0) / c.width.max(1)) as usize;
    let mut i = idx(c);
    while i >= BINS {
        // merge pairs: the chart keeps its size whatever the log's length
        for k in 0..BINS / 2 {
            let (a, b) = (
                c.bins.get(2 * k).copied().unwrap_or_default(),
                c.bins.get(2 * k + 1).copied().unwrap_or_default(),
            );
            if let Some(d) = c.bins.get_mut(k) {
                *d = merge(a, b);
            }
        }
        for d in c.bins.iter_mut().skip(BINS / 2) {
            *d = Bin::default();
        }
        c.width = c.width.saturating_mul(2);
        i = idx(c);
    }
    if let Some(b) = c.bins.get_mut(i) {
        *b = merge(
            *b,
            Bin {
                n: 1,
                boot,
                min: v,
                max: v,
                sum: v,
                wall,
                up,
            },
        );
    }
}

/// The field names of a target.
pub fn fields_of(t: &Target) -> &'static [&'static str] {
    if t.system {
        &SYS_FIELDS
    } else {
        &FIELDS
    }
}
