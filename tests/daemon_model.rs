//! Model-based test of `memdog run --proc-root DIR`: the daemon's own
//! sampling, rule and reload code (`daemon::drive`, what `run` calls) is
//! driven through seeded random scenarios over a fixture /proc tree that the
//! test changes between samples: processes start, exit, restart with reused
//! pids, multiply under one name past the rule slots and the tracking table,
//! the pidfile is rewritten, emptied, filled with garbage, and SIGHUP arrives
//! with good and bad configs. A small oracle written from the README's
//! rules says which start/exit/wait/warn/crit/clear/overflow/reload lines
//! each sample must give; the log must hold exactly those, sample by sample.
//!
//! Replay one scenario: MEMDOG_MODEL_SEED=N cargo test --test daemon_model.
//! More: MEMDOG_MODEL_CASES=N (default 1000).

use memdog::daemon::{self, Outcome, Pace, Runtime, MAX_SLOTS};
use memdog::out::Sink;
use memdog::watch::{Stamp, MAX_TRACKED};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const INTERVAL_S: u64 = 10;
/// kB per sample a leaking worker grows by: 180 000 kB/h, far above any
/// slope limit generated, so the verdict never sits on a rounding edge
const LEAK_PER_SAMPLE: u64 = 500;

/// xorshift64*: seeded, reproducible, no dependency
struct Rng(u64);
impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// The config a scenario runs with; a reload changes one part of it.
#[derive(Clone, Debug, PartialEq)]
struct Cfg {
    l1: u64,
    f1: u16,
    c1: u64,
    slope_h: u64,
    window_s: u64,
    with_p: bool,
    l2: u64,
    f2: u16,
    c2: u64,
    sys_x: u64,
    f3: u16,
    sys_clear: u64,
}

/// A rule as the oracle sees it.
#[derive(Clone, Debug, PartialEq)]
enum Rule {
    /// value > limit for n, clears at <= clear
    Above { limit: u64, n: u16, clear: u64 },
    /// value < limit for n, clears at >= clear
    Below { limit: u64, n: u16, clear: u64 },
    /// slope > per_hour over window (for 1, clear = limit)
    Slope { per_hour: u64, window_s: u64 },
}

impl Cfg {
    fn random(r: &mut Rng) -> Cfg {
        let l1 = 5000 + r.below(5000);
        let l2 = 3000 + r.below(1000);
        let sys_x = 20_000 + r.below(10_000);
        Cfg {
            l1,
            f1: 1 + r.below(3) as u16,
            c1: l1 - r.below(500),
            slope_h: 1000 + r.below(59_000),
            window_s: (8 + r.below(33)) * INTERVAL_S,
            with_p: r.chance(80),
            l2,
            f2: 1 + r.below(3) as u16,
            c2: l2 - 5 - r.below(30),
            sys_x,
            f3: 1 + r.below(3) as u16,
            sys_clear: sys_x + r.below(2000),
        }
    }

    /// One change, as a user editing the config would make.
    fn mutate(&self, r: &mut Rng) -> Cfg {
        let mut c = self.clone();
        match r.below(7) {
            0 => c.l1 = 5000 + r.below(5000),
            1 => c.slope_h = 1000 + r.below(59_000),
            2 => c.window_s = (8 + r.below(33)) * INTERVAL_S,
            3 => c.with_p = !c.with_p,
            4 => c.l2 = 3000 + r.below(1000),
            5 => c.sys_x = 20_000 + r.below(10_000),
            _ => {} // the same config again: everything must carry on
        }
        c.c1 = c.c1.min(c.l1);
        c.c2 = c.c2.min(c.l2);
        c.sys_clear = c.sys_clear.max(c.sys_x);
        c
    }

    fn text(&self, dir: &Path) -> String {
        let mut t = String::new();
        writeln!(t, "interval = {INTERVAL_S}s").unwrap();
        writeln!(t, "fields = VmRSS").unwrap();
        writeln!(t, "cooldown = 1d").unwrap();
        writeln!(t, "proc_root = {}", dir.join("proc").display()).unwrap();
        writeln!(t, "[target w]\nname = wrk").unwrap();
        writeln!(
            t,
            "warn = VmRSS > {} for {} clear {}",
            self.l1, self.f1, self.c1
        )
        .unwrap();
        writeln!(
            t,
            "crit = VmRSS slope > {}/h over {}s",
            self.slope_h, self.window_s
        )
        .unwrap();
        if self.with_p {
            writeln!(t, "[target p]\npidfile = {}", dir.join("p.pid").display()).unwrap();
            writeln!(
                t,
                "warn = VmRSS > {} for {} clear {}",
                self.l2, self.f2, self.c2
            )
            .unwrap();
        }
        writeln!(t, "[system]").unwrap();
        writeln!(
            t,
            "warn = MemFree < {} for {} clear {}",
            self.sys_x, self.f3, self.sys_clear
        )
        .unwrap();
        t
    }

    /// (label, rules) per process target, in config order (= spec order)
    fn targets(&self) -> Vec<(&'static str, Vec<Rule>)> {
        let mut v = vec![(
            "w",
            vec![
                Rule::Above {
                    limit: self.l1,
                    n: self.f1,
                    clear: self.c1,
                },
                Rule::Slope {
                    per_hour: self.slope_h,
                    window_s: self.window_s,
                },
            ],
        )];
        if self.with_p {
            v.push((
                "p",
                vec![Rule::Above {
                    limit: self.l2,
                    n: self.f2,
                    clear: self.c2,
                }],
            ));
        }
        v
    }

    fn sys_rules(&self) -> Vec<Rule> {
        vec![Rule::Below {
            limit: self.sys_x,
            n: self.f3,
            clear: self.sys_clear,
        }]
    }
}

/// One process in the fixture tree.
#[derive(Clone, Debug)]
struct Proc {
    start: u64,
    comm: &'static str,
    base: u64,
    inc: u64,
    age: u64,
    /// the p daemon's value, a random walk set each step
    walk: u64,
}

impl Proc {
    fn rss(&self) -> u64 {
        if self.comm == "pdaemon" {
            self.walk
        } else {
            self.base + self.inc * self.age
        }
    }
}

#[derive(Clone, Debug, Default)]
struct RuleState {
    over: u16,
    fired: bool,
    last_action: Option<u64>,
    /// slope rules: times (ms) of the points in the window
    points: Vec<u64>,
}

#[derive(Clone, Debug)]
struct Life {
    id: u64,
    pid: u32,
    start: u64,
    /// index into the config's process targets
    spec: usize,
    comm: &'static str,
}

/// One expected (or seen) event line, the parts compared.
type Ev = (u64, String, String, String, String);

fn ev(seq: u64, event: &str, who: String, rule: String, extra: &str) -> Ev {
    (seq, event.into(), who, rule, extra.into())
}

/// What memdog must do, written from the README rather than from its code.
struct Oracle {
    cfg: Cfg,
    lives: Vec<Life>,
    next_id: u64,
    /// rule slots: which lives have rule state
    slots: Vec<Option<u64>>,
    denied: BTreeSet<u64>,
    states: BTreeMap<(u64, usize), RuleState>,
    sys_states: Vec<RuleState>,
    waiting: Vec<bool>,
    overflow_targets_logged: bool,
    events: Vec<Ev>,
}

fn judge(
    rule: &Rule,
    st: &mut RuleState,
    t_ms: u64,
    value: u64,
    leaking: bool,
) -> Option<(&'static str, bool)> {
    const COOLDOWN_MS: u64 = 86_400_000;
    // the measured value, and the limit/clear tests, per rule kind
    let (past, back) = match *rule {
        Rule::Above { limit, clear, .. } => (value > limit, value <= clear),
        Rule::Below { limit, clear, .. } => (value < limit, value >= clear),
        Rule::Slope { window_s, .. } => {
            let w = window_s * 1000;
            st.points.retain(|&p| t_ms - p <= w);
            st.points.push(t_ms);
            let (first, last) = (st.points[0], *st.points.last().unwrap());
            let trusted = st.points.len() >= 8 && (last - first) * 100 >= w * 75;
            if !trusted {
                st.over = 0;
                return None;
            }
            (leaking, !leaking)
        }
    };
    let n = match *rule {
        Rule::Above { n, .. } | Rule::Below { n, .. } => n,
        Rule::Slope { .. } => 1,
    };
    let cooled = st.last_action.is_none_or(|l| t_ms - l >= COOLDOWN_MS);
    if st.fired {
        if back {
            st.fired = false;
            st.over = 0;
            return Some(("clear", false));
        }
        if cooled {
            st.last_action = Some(t_ms);
            return Some(("repeat", true));
        }
        return None;
    }
    if !past {
        st.over = 0;
        return None;
    }
    st.over += 1;
    if st.over < n {
        return None;
    }
    st.fired = true;
    if cooled {
        st.last_action = Some(t_ms);
    }
    Some(("fire", cooled))
}

fn level(rule_index: usize, spec_label: &str) -> &'static str {
    // w: rule 1 warn, rule 2 crit; p and system: warn
    if spec_label == "w" && rule_index == 1 {
        "crit"
    } else {
        "warn"
    }
}

impl Oracle {
    fn new(cfg: Cfg) -> Oracle {
        Oracle {
            cfg,
            lives: vec![],
            next_id: 1,
            slots: vec![None; MAX_SLOTS],
            denied: BTreeSet::new(),
            states: BTreeMap::new(),
            sys_states: vec![RuleState::default()],
            waiting: vec![false; 2],
            overflow_targets_logged: false,
            events: vec![],
        }
    }

    fn end_life(&mut self, seq: u64, i: usize, reason: &str) {
        let l = self.lives.remove(i);
        self.events
            .push(ev(seq, "exit", l.pid.to_string(), String::new(), reason));
        for s in self.slots.iter_mut() {
            if *s == Some(l.id) {
                *s = None;
            }
        }
        self.denied.remove(&l.id);
        self.states.retain(|(id, _), _| *id != l.id);
    }

    fn track(&mut self, seq: u64, pid: u32, p: &Proc, spec: usize) {
        while let Some(k) = self
            .lives
            .iter()
            .position(|l| l.pid == pid && l.spec == spec && l.start != p.start)
        {
            self.end_life(seq, k, "gone");
        }
        if self.lives.len() >= MAX_TRACKED {
            if !self.overflow_targets_logged {
                self.overflow_targets_logged = true;
                self.events
                    .push(ev(seq, "overflow", String::new(), String::new(), "targets"));
            }
            return;
        }
        self.events
            .push(ev(seq, "start", pid.to_string(), String::new(), ""));
        self.waiting[spec] = false;
        self.lives.push(Life {
            id: self.next_id,
            pid,
            start: p.start,
            spec,
            comm: p.comm,
        });
        self.next_id += 1;
    }

    fn wait(&mut self, seq: u64, spec: usize, reason: &str) {
        if !self.waiting[spec] {
            self.waiting[spec] = true;
            let who = if spec == 0 {
                "name=wrk".to_string()
            } else {
                "pidfile".to_string()
            };
            self.events
                .push(ev(seq, "wait", who, String::new(), reason));
        }
    }

    fn tick(&mut self, seq: u64, w: &World) {
        let targets = self.cfg.targets();
        let t_ms = seq * INTERVAL_S * 1000;
        // discover: the pidfile spec first (names are scanned after the loop)
        if self.cfg.with_p {
            let why = match &w.pidfile {
                Pidfile::Pid(pid) => match w.procs.get(pid) {
                    Some(p) => {
                        let tracked = self
                            .lives
                            .iter()
                            .any(|l| l.spec == 1 && l.pid == *pid && l.start == p.start);
                        if !tracked {
                            while let Some(k) = self.lives.iter().position(|l| l.spec == 1) {
                                self.end_life(seq, k, "replaced");
                            }
                            self.track(seq, *pid, p, 1);
                        }
                        None
                    }
                    None => Some("pid-dead"),
                },
                Pidfile::Garbage => Some("pidfile-garbage"),
                Pidfile::Missing => Some("pidfile-missing"),
            };
            if let Some(why) = why {
                if !self.lives.iter().any(|l| l.spec == 1) {
                    self.wait(seq, 1, why);
                }
            }
        }
        let mut found = false;
        for pid in w.dir_order() {
            let p = &w.procs[&pid];
            if p.comm == "wrk" {
                found = true;
                if !self
                    .lives
                    .iter()
                    .any(|l| l.spec == 0 && l.pid == pid && l.start == p.start)
                {
                    let p = p.clone();
                    self.track(seq, pid, &p, 0);
                }
            }
        }
        if !found {
            self.wait(seq, 0, "not-found");
        }
        self.lives.sort_by_key(|l| (l.spec, l.pid)); // stable: an old life first
                                                     // sample every life in order
        let mut i = 0;
        while i < self.lives.len() {
            let l = self.lives[i].clone();
            let alive = w.procs.get(&l.pid).is_some_and(|p| p.start == l.start);
            if !alive {
                self.end_life(seq, i, "gone");
                continue;
            }
            i += 1;
            let p = &w.procs[&l.pid];
            let rules = &targets[l.spec].1;
            let slot = match self.slots.iter().position(|s| *s == Some(l.id)) {
                Some(s) => Some(s),
                None => match self.slots.iter().position(|s| s.is_none()) {
                    Some(free) => {
                        self.slots[free] = Some(l.id);
                        for ri in 0..rules.len() {
                            self.states.insert((l.id, ri), RuleState::default());
                        }
                        Some(free)
                    }
                    None => {
                        if self.denied.insert(l.id) {
                            self.events.push(ev(
                                seq,
                                "overflow",
                                l.pid.to_string(),
                                String::new(),
                                "rules",
                            ));
                        }
                        None
                    }
                },
            };
            if slot.is_none() {
                continue;
            }
            for (ri, rule) in rules.iter().enumerate() {
                let st = self.states.entry((l.id, ri)).or_default();
                if let Some((what, acted)) = judge(rule, st, t_ms, p.rss(), p.inc > 0) {
                    let rule_id = format!("{}/{}", targets[l.spec].0, ri + 1);
                    let (event, extra) = match what {
                        "clear" => ("clear", ""),
                        "repeat" => (level(ri, targets[l.spec].0), "repeat"),
                        _ if acted => (level(ri, targets[l.spec].0), ""),
                        _ => (level(ri, targets[l.spec].0), "cooldown"),
                    };
                    self.events
                        .push(ev(seq, event, l.pid.to_string(), rule_id, extra));
                }
            }
            let _ = l.comm;
        }
        // meminfo
        for (ri, rule) in self.cfg.sys_rules().iter().enumerate() {
            if let Some((what, acted)) =
                judge(rule, &mut self.sys_states[ri], t_ms, w.memfree, false)
            {
                let event = if what == "clear" { "clear" } else { "warn" };
                let extra = match what {
                    "repeat" => "repeat",
                    "fire" if !acted => "cooldown",
                    _ => "",
                };
                self.events.push(ev(
                    seq,
                    event,
                    "system".into(),
                    format!("system/{}", ri + 1),
                    extra,
                ));
            }
        }
    }

    /// SIGHUP with a good config: unchanged targets keep their lives,
    /// unchanged rules their state; a removed target's lives end.
    fn reload(&mut self, seq: u64, new: Cfg) {
        self.events
            .push(ev(seq, "reload", String::new(), String::new(), "ok"));
        let old_t = self.cfg.targets();
        let new_t = new.targets();
        let spec_map: Vec<Option<usize>> = old_t
            .iter()
            .map(|(label, _)| new_t.iter().position(|(l, _)| l == label))
            .collect();
        // rule states: same rule (all parameters) keeps its state
        let mut states = BTreeMap::new();
        for l in self.lives.iter() {
            let Some(ns) = spec_map[l.spec] else { continue };
            if !self.slots.contains(&Some(l.id)) {
                continue;
            }
            let (old_rules, new_rules) = (&old_t[l.spec].1, &new_t[ns].1);
            let mut used = vec![false; old_rules.len()];
            for (ni, nr) in new_rules.iter().enumerate() {
                let hit = old_rules
                    .iter()
                    .enumerate()
                    .position(|(oi, or)| !used[oi] && or == nr);
                let st = match hit {
                    Some(oi) => {
                        used[oi] = true;
                        self.states.get(&(l.id, oi)).cloned().unwrap_or_default()
                    }
                    None => RuleState::default(),
                };
                states.insert((l.id, ni), st);
            }
        }
        self.states = states;
        let (os, ns) = (self.cfg.sys_rules(), new.sys_rules());
        if os[0] != ns[0] {
            self.sys_states[0] = RuleState::default();
        }
        let mut waiting = vec![false; 2];
        for (o, n) in spec_map.iter().enumerate() {
            if let Some(n) = n {
                waiting[*n] = self.waiting[o];
            }
        }
        self.waiting = waiting;
        // lives of a removed target: exit reason=unwatched
        let mut i = 0;
        while i < self.lives.len() {
            match spec_map[self.lives[i].spec] {
                Some(n) => {
                    self.lives[i].spec = n;
                    i += 1;
                }
                None => self.end_life(seq, i, "unwatched"),
            }
        }
        self.lives.sort_by_key(|l| (l.spec, l.pid));
        self.cfg = new;
    }
}

#[derive(Clone, Debug)]
enum Pidfile {
    Pid(u32),
    Garbage,
    Missing,
}

/// The fixture /proc tree and the pidfile, as the test made them.
struct World {
    dir: PathBuf,
    procs: BTreeMap<u32, Proc>,
    pidfile: Pidfile,
    memfree: u64,
    next_start: u64,
    next_pid: u32,
}

impl World {
    fn proc_dir(&self, pid: u32) -> PathBuf {
        self.dir.join("proc").join(pid.to_string())
    }

    /// Directory order of the proc root, as getdents gives it to memdog.
    fn dir_order(&self) -> Vec<u32> {
        std::fs::read_dir(self.dir.join("proc"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|p| self.procs.contains_key(p))
            .collect()
    }

    fn write_status(&self, pid: u32) {
        let p = &self.procs[&pid];
        let status = format!(
            "Name:\t{}\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t1\nVmRSS:\t{:8} kB\nThreads:\t1\n",
            p.comm,
            p.rss()
        );
        // in place: the descriptor memdog holds must see the new values
        let path = self.proc_dir(pid).join("status");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .unwrap();
        std::io::Write::write_all(&mut f, status.as_bytes()).unwrap();
    }

    fn spawn(&mut self, comm: &'static str, pid: Option<u32>, inc: u64, base: u64) -> u32 {
        let pid = pid.unwrap_or_else(|| {
            self.next_pid += 1 + (self.next_pid % 3);
            self.next_pid
        });
        self.next_start += 7;
        let p = Proc {
            start: self.next_start,
            comm,
            base,
            inc,
            age: 0,
            walk: base,
        };
        let d = self.proc_dir(pid);
        std::fs::create_dir_all(&d).unwrap();
        let stat = format!(
            "{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 {} 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
            p.start
        );
        std::fs::write(d.join("stat"), stat).unwrap();
        self.procs.insert(pid, p);
        self.write_status(pid);
        pid
    }

    /// The process exits: its status reads empty through any descriptor
    /// still held (as /proc's does: ESRCH), then its directory goes.
    fn kill(&mut self, pid: u32) {
        if self.procs.remove(&pid).is_some() {
            let d = self.proc_dir(pid);
            std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(d.join("status"))
                .unwrap();
            std::fs::remove_dir_all(d).unwrap();
        }
    }

    fn write_pidfile(&self) {
        let path = self.dir.join("p.pid");
        match &self.pidfile {
            Pidfile::Pid(p) => std::fs::write(path, format!("{p}\n")).unwrap(),
            Pidfile::Garbage => std::fs::write(path, "not-a-pid\n").unwrap(),
            Pidfile::Missing => {
                let _ = std::fs::remove_file(path);
            }
        }
    }

    fn write_meminfo(&self) {
        let m = format!(
            "MemTotal:       1000000 kB\nMemFree:        {:7} kB\nMemAvailable:   500000 kB\nBuffers:          1000 kB\nCached:          20000 kB\n",
            self.memfree
        );
        std::fs::write(self.dir.join("proc/meminfo"), m).unwrap();
    }

    fn wrk_pids(&self) -> Vec<u32> {
        self.procs
            .iter()
            .filter(|(_, p)| p.comm == "wrk")
            .map(|(k, _)| *k)
            .collect()
    }

    fn pdaemon(&self) -> Option<u32> {
        self.procs
            .iter()
            .find(|(_, p)| p.comm == "pdaemon")
            .map(|(k, _)| *k)
    }

    /// Between two samples: processes age, start, exit and restart; the pidfile changes.
    fn step(&mut self, r: &mut Rng, cfg: &Cfg) {
        for p in self.procs.values_mut() {
            p.age += 1;
            if p.comm == "pdaemon" {
                p.walk = cfg.l2.saturating_sub(60) + r.below(120);
            }
        }
        let burst = if r.chance(8) {
            8 + r.below(60)
        } else {
            r.below(3)
        };
        for _ in 0..burst {
            let inc = if r.chance(40) { LEAK_PER_SAMPLE } else { 0 };
            let base = cfg.l1.saturating_sub(3000) + r.below(6000);
            self.spawn("wrk", None, inc, base);
        }
        let pids = self.wrk_pids();
        for pid in pids {
            if r.chance(6) {
                self.kill(pid);
            } else if r.chance(3) {
                // restarted under the same pid number: a new life
                let (inc, base) = (self.procs[&pid].inc, self.procs[&pid].base);
                self.kill(pid);
                self.spawn("wrk", Some(pid), inc, base);
            }
        }
        match r.below(20) {
            0 | 1 => {
                // the daemon restarts within one interval, new pid
                if let Some(p) = self.pdaemon() {
                    self.kill(p);
                }
                let p = self.spawn("pdaemon", None, 0, cfg.l2);
                self.pidfile = Pidfile::Pid(p);
            }
            2 => {
                // restarts and gets the same pid back
                if let Some(p) = self.pdaemon() {
                    self.kill(p);
                    self.spawn("pdaemon", Some(p), 0, cfg.l2);
                    self.pidfile = Pidfile::Pid(p);
                }
            }
            3 => {
                if let Some(p) = self.pdaemon() {
                    self.kill(p); // died, pidfile left behind
                }
            }
            4 => self.pidfile = Pidfile::Garbage,
            5 => self.pidfile = Pidfile::Missing,
            6 => {
                if let Some(p) = self.pdaemon() {
                    self.pidfile = Pidfile::Pid(p);
                }
            }
            _ => {}
        }
        self.memfree = cfg.sys_x.saturating_sub(1500) + r.below(4000);
        for pid in self.procs.keys().copied().collect::<Vec<_>>() {
            self.write_status(pid);
        }
        self.write_pidfile();
        self.write_meminfo();
    }
}

/// The test's pace: between samples it checks the oracle, changes the
/// world and sometimes sends a "SIGHUP"; time is 10 s per sample.
struct ModelPace<'a> {
    rng: Rng,
    world: World,
    oracle: Oracle,
    ticks: u64,
    done_seq: u64,
    config_path: &'a Path,
}

impl Pace for ModelPace<'_> {
    fn stamp(&mut self, seq: u64) -> Stamp {
        Stamp {
            wall_secs: 1_764_000_000 + (seq * INTERVAL_S) as i64,
            up_ns: seq * INTERVAL_S * 1_000_000_000,
            seq,
        }
    }

    fn wait(&mut self, _rt: &mut Runtime, _sink: &mut Sink, seq: u64) -> Option<Outcome> {
        if seq == self.done_seq {
            return None; // after a reload: the next sample is due now
        }
        self.done_seq = seq;
        self.oracle.tick(seq, &self.world);
        if seq >= self.ticks {
            return Some(Outcome::Stop);
        }
        let cfg = self.oracle.cfg.clone();
        self.world.step(&mut self.rng, &cfg);
        if self.rng.chance(12) {
            if self.rng.chance(30) {
                // a bad config: kept the old one, nothing changes
                std::fs::write(
                    self.config_path,
                    cfg.text(&self.world.dir) + "warn = VmRSS >> 1\n",
                )
                .unwrap();
                self.oracle
                    .events
                    .push(ev(seq, "reload", String::new(), String::new(), "error"));
            } else {
                let new = cfg.mutate(&mut self.rng);
                std::fs::write(self.config_path, new.text(&self.world.dir)).unwrap();
                self.oracle.reload(seq, new);
            }
            return Some(Outcome::Reload);
        }
        None
    }
}

/// The event lines of a log, reduced to what the oracle says.
fn seen_events(log: &str) -> Vec<Ev> {
    let mut out = vec![];
    for line in log.lines() {
        let kv: BTreeMap<&str, &str> = line.split(' ').filter_map(|w| w.split_once('=')).collect();
        let Some(&event) = kv.get("event") else {
            continue;
        };
        let seq: u64 = kv["seq"].parse().unwrap();
        let pid = kv.get("pid").copied().unwrap_or("").to_string();
        let rule = kv.get("rule").copied().unwrap_or("").to_string();
        let e = match event {
            "agent-start" => continue,
            "start" => ev(seq, event, pid, rule, ""),
            "exit" => ev(seq, event, pid, rule, kv["reason"]),
            "wait" => {
                let who = if kv.contains_key("name") {
                    "name=wrk"
                } else {
                    "pidfile"
                };
                ev(seq, event, who.into(), rule, kv["reason"])
            }
            "overflow" => ev(seq, event, pid, rule, kv["what"]),
            "reload" => ev(seq, event, pid, rule, kv["status"]),
            "warn" | "crit" | "clear" => {
                let who = if kv.get("name") == Some(&"system") {
                    "system".to_string()
                } else {
                    pid
                };
                let extra = if kv.contains_key("repeat") {
                    "repeat"
                } else if kv.get("actions") == Some(&"cooldown") {
                    "cooldown"
                } else {
                    ""
                };
                ev(seq, event, who, rule, extra)
            }
            other => panic!("unexpected event {other}: {line}"),
        };
        out.push(e);
    }
    out
}

fn by_seq(mut v: Vec<Ev>) -> BTreeMap<u64, Vec<Ev>> {
    v.sort();
    let mut m: BTreeMap<u64, Vec<Ev>> = BTreeMap::new();
    for e in v {
        m.entry(e.0).or_default().push(e);
    }
    m
}

fn scenario(seed: u64) -> Result<(), String> {
    // tmpfs where there is one: every event line is fsynced, as on a board
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("memdog-model-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("proc")).unwrap();
    let mut rng = Rng::new(seed);
    let cfg = Cfg::random(&mut rng);
    let mut world = World {
        dir: dir.clone(),
        procs: BTreeMap::new(),
        pidfile: Pidfile::Missing,
        memfree: cfg.sys_x + 1000,
        next_start: 1000,
        next_pid: 100,
    };
    for _ in 0..rng.below(4) {
        let inc = if rng.chance(50) { LEAK_PER_SAMPLE } else { 0 };
        world.spawn("wrk", None, inc, cfg.l1 - 1000);
    }
    if rng.chance(70) {
        let p = world.spawn("pdaemon", None, 0, cfg.l2);
        world.pidfile = Pidfile::Pid(p);
    }
    world.write_pidfile();
    world.write_meminfo();
    let config_path = dir.join("memdog.conf");
    std::fs::write(&config_path, cfg.text(&dir)).unwrap();
    let ticks = 10 + rng.below(35);
    let log_path = dir.join("memdog.log");
    let mut pace = ModelPace {
        rng,
        world,
        oracle: Oracle::new(cfg),
        ticks,
        done_seq: 0,
        config_path: &config_path,
    };
    let cpath = config_path.to_str().unwrap().as_bytes().to_vec();
    let mut config = memdog::config::Config::new();
    daemon::load(&cpath, None, &mut config).map_err(|e| format!("{e:?}"))?;
    // the spare a reload parses into starts as something else entirely:
    // a good reload must replace all of it, a bad one must not leak in
    let mut spare = memdog::config::Config::parse_text(
        b"interval = 7s\nlog_files = 9\n[target junk]\nname = junk\nwarn = VmRSS > 1\n",
    )
    .unwrap();
    let mut sink = Sink::stdout();
    sink.open(Some(log_path.to_str().unwrap().as_bytes()), 0, 1)
        .unwrap();
    let mut rt = Runtime::new(None, true);
    let mut tables = memdog::watch::Tables::new();
    let mut held = daemon::Held {
        cfg: &mut config,
        spare: &mut spare,
        tables: &mut tables,
    };
    daemon::drive(&mut held, &cpath, None, &mut rt, &mut sink, &mut pace);
    sink.flush();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let (want, got) = (
        by_seq(pace.oracle.events.clone()),
        by_seq(seen_events(&log)),
    );
    let _ = std::fs::remove_dir_all(&dir);
    if want != got {
        let seqs: BTreeSet<u64> = want.keys().chain(got.keys()).copied().collect();
        let first = seqs
            .into_iter()
            .find(|s| want.get(s) != got.get(s))
            .unwrap();
        return Err(format!(
            "seed {seed}: sample {first}\n  oracle: {:?}\n  memdog: {:?}\n--- log ---\n{}",
            want.get(&first),
            got.get(&first),
            log.lines()
                .filter(|l| l.contains("event="))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    Ok(())
}

#[test]
fn run_matches_the_oracle_over_random_scenarios() {
    if let Ok(seed) = std::env::var("MEMDOG_MODEL_SEED") {
        scenario(seed.parse().unwrap()).unwrap();
        return;
    }
    let cases: u64 = std::env::var("MEMDOG_MODEL_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(1000);
    let mut overflows = 0;
    for seed in 0..cases {
        if let Err(e) = scenario(seed) {
            panic!("{e}\nreplay: MEMDOG_MODEL_SEED={seed} cargo test --test daemon_model");
        }
        overflows += 1;
    }
    assert_eq!(overflows, cases);
}
