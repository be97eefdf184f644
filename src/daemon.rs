//! `memdog run` and `memdog check`: the watchdog daemon. Samples like
//! `watch`, evaluates the config's rules on every sample and runs actions:
//! log, signal, exec (no shell, timeout, reaped, never blocks sampling),
//! watchdog (stop feeding /dev/watchdog after writing a reset reason), reboot.
//! SIGHUP re-reads the config (a bad one is logged and the old one kept);
//! SIGTERM/SIGINT flush the log and close the watchdog with the magic `V`.

use crate::cli::{Spec, Watch, MAX_SPECS};
use crate::config::{
    Action, Actions, Config, ConfigError, Parser, Target, TargetKind, LINE_CAP, MAX_RULES,
    SYS_FIELD,
};
use crate::line::{push_timestamp, Line};
use crate::out::{self, exit, Sink};
#[cfg(feature = "forecast")]
use crate::policy::forecast;
use crate::policy::slope::Ring;
use crate::policy::{Kind, Level, RuleState, Transition, MAX_SLOPE_RULES};
use crate::proc::maps::MapsSummary;
use crate::proc::meminfo::Meminfo;
use crate::proc::status::Status;
use crate::sys::{self, signals, ExecArgs, Fd, PathBuf};
use crate::watch::{Carry, Observer, Stamp, Tables, Tracked, Watcher, MAX_TRACKED};

/// Processes with rule state at once; each slot holds MAX_RULES states.
pub const MAX_SLOTS: usize = 8;
/// exec actions running at once; more are refused and logged.
pub const MAX_CHILDREN: usize = 4;

pub struct RunOpts<'a> {
    pub config: &'a [u8],
    pub dry_run: bool,
    pub daemonize: bool,
    pub pidfile: Option<&'a [u8]>,
}

fn file_error(msg: &'static str) -> ConfigError {
    ConfigError {
        line: 0,
        msg,
        got: heapless::Vec::new(),
    }
}

/// Read and parse a config file; errors are `FILE:LINE: what` on stderr-ready
/// form (line 0: about the whole file). Relative paths in it are made
/// absolute against `base`.
/// Read and check the config at `path` into `cfg` (in place: the daemon's
/// configs live in .bss, never on the stack). On an error `cfg` is
/// half-filled: the caller keeps using its other one.
pub fn load(path: &[u8], base: Option<&PathBuf>, cfg: &mut Config) -> Result<(), ConfigError> {
    let p = PathBuf::from(path);
    // opened without blocking (a FIFO, or a symlink to one, would hang a
    // plain open), then fstat says whether it is a file
    let mut fd = sys::fs::open_read_nonblock(&p).map_err(|e| file_error(e.text()))?;
    match sys::fs::fstat(&fd) {
        Ok(st) if st.kind() == sys::fs::Kind::Regular => {}
        Ok(_) => return Err(file_error("not a regular file (a config is a text file)")),
        Err(e) => return Err(file_error(e.text())),
    }
    // like sshd's StrictModes: root must not obey a file anyone can edit
    if sys::geteuid() == 0 && sys::mode_of(&fd).is_ok_and(|m| m & 0o002 != 0) {
        return Err(file_error("config is world-writable; run chmod o-w on it"));
    }
    let mut parser = Parser::new(cfg);
    let mut buf = [0u8; LINE_CAP];
    let mut res = Ok(());
    let r = crate::proc::for_each_line(&mut fd, &mut buf, |l| {
        if res.is_ok() {
            res = parser.line(l);
        }
    });
    if let Err(e) = r {
        return Err(file_error(e.text()));
    }
    res?;
    parser.finish()?;
    if let Some(b) = base {
        cfg.make_absolute(b.as_bytes())?;
    }
    let c = &*cfg;
    let dumps = [&c.on_warn, &c.on_crit]
        .into_iter()
        .chain(
            c.targets
                .iter()
                .flat_map(|t| t.on_warn.iter().chain(t.on_crit.iter())),
        )
        .any(|l| cfg!(feature = "dump") && l.iter().any(|a| a.is_dump()));
    if dumps
        && !sys::fs::lstat(&PathBuf::from(&c.dump_dir))
            .is_ok_and(|st| st.kind() == sys::fs::Kind::Directory)
    {
        return Err(file_error(
            "the dump action needs dump_dir to be an existing directory (mkdir it, or set dump_dir =)",
        ));
    }
    Ok(())
}

fn config_error(path: &[u8], e: &ConfigError) {
    let mut b = [0u8; 20];
    let n = crate::num::fmt_u64(u64::from(e.line), &mut b);
    if e.line == 0 {
        out::error(&[path, b": ", e.msg.as_bytes()]);
    } else if e.got.is_empty() {
        out::error(&[path, b":", n, b": ", e.msg.as_bytes()]);
    } else {
        out::error(&[
            path,
            b":",
            n,
            b": ",
            e.msg.as_bytes(),
            b", got '",
            &e.got,
            b"'",
        ]);
    }
}

/// `memdog check CONFIG`: validate and print the resolved config.
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn check(path: &[u8]) -> i32 {
    let cwd = sys::fs::cwd().ok();
    let mut c = Config::new();
    match load(path, cwd.as_ref(), &mut c) {
        Ok(()) => {
            print_config(&c);
            #[cfg(feature = "fields-extra")]
            crate::watch::warn_unsupported(path, &c);
            exit::OK
        }
        Err(e) => {
            config_error(path, &e);
            exit::USAGE
        }
    }
}

fn print_actions(l: &mut Line, a: &Actions, c: &Config) {
    for (i, act) in a.iter().enumerate() {
        l.push(if i == 0 { b" " } else { b", " });
        match act {
            Action::Log => l.push(b"log"),
            Action::Signal(s) => {
                l.push(b"signal ");
                l.push_u64(*s as u64);
            }
            Action::Exec(i) => {
                l.push(b"exec ");
                l.push(c.exec_line(*i));
            }
            Action::Watchdog => l.push(b"watchdog"),
            Action::Reboot => l.push(b"reboot"),
            #[cfg(feature = "dump")]
            Action::Dump => l.push(b"dump"),
        }
    }
}

fn print_config(c: &Config) {
    let mut l = Line::new();
    let say = |l: &mut Line| {
        let _ = sys::write_all(sys::STDOUT, l.finish());
        l.clear();
    };
    l.push(b"interval_ms=");
    l.push_u64(c.interval_ms);
    l.kv_str(b"log", c.log.as_deref().unwrap_or(b"-"));
    l.kv(b"log_size", c.log_size);
    l.kv(b"log_files", u64::from(c.log_files));
    l.kv_str(b"proc_root", &c.proc_root);
    l.kv(b"cooldown_s", u64::from(c.cooldown_s));
    l.kv(b"exec_timeout_ms", c.exec_timeout_ms);
    l.kv_str(b"watchdog_device", c.watchdog.as_deref().unwrap_or(b"-"));
    l.kv(b"watchdog_kick_ms", c.watchdog_kick_ms);
    l.kv_str(b"reset_reason", &c.reset_reason);
    l.kv(b"dry_run", u64::from(c.dry_run));
    say(&mut l);
    // the fixed capacities: each overflow is a log line (event=overflow what=...)
    l.push(b"capacities:");
    l.kv(b"sections", crate::config::MAX_TARGETS as u64);
    l.kv(b"rules_per_section", MAX_RULES as u64);
    l.kv(b"slope_rules_per_section", MAX_SLOPE_RULES as u64);
    l.kv(b"judged_processes", MAX_SLOTS as u64);
    l.kv(b"tracked_processes", MAX_TRACKED as u64);
    l.kv(b"running_actions", MAX_CHILDREN as u64);
    l.kv(b"exec_lines", crate::config::MAX_EXECS as u64);
    say(&mut l);
    for t in c.targets.iter() {
        l.push(b"[");
        l.push_escaped(&t.label);
        l.push(b"]");
        match &t.kind {
            Some(TargetKind::System) => l.push(b" system (meminfo)"),
            Some(TargetKind::Pid(p)) => l.kv(b"pid", u64::from(*p)),
            Some(TargetKind::SelfPid) => l.push(b" self"),
            Some(TargetKind::Name(n)) => l.kv_str(b"name", n),
            Some(TargetKind::Pidfile(p)) => l.kv_str(b"pidfile", p),
            None => {}
        }
        say(&mut l);
        for r in t.rules.iter() {
            l.push(b"  ");
            l.push(r.level.word());
            l.push(b": ");
            l.push(c.field_name(r.field));
            match r.kind {
                Kind::Slope { .. } => l.push(b" slope"),
                #[cfg(feature = "forecast")]
                Kind::Eta { .. } => l.push(b" eta"),
                _ => {}
            }
            l.push(if r.op == crate::policy::Op::Above {
                b" > "
            } else {
                b" < "
            });
            let centi = crate::config::is_centi(c.field_name(r.field));
            push_limit(&mut l, r.kind, r.limit, centi);
            l.push(b" clear ");
            push_limit(&mut l, r.kind, r.clear, centi);
            if let Some(window_s) = r.kind.window_s() {
                l.kv(b"over_s", u64::from(window_s));
            }
            #[cfg(feature = "forecast")]
            if let Kind::Eta { .. } = r.kind {
                // what the forecast runs to: a rule of the section or the fallback
                l.push(b" to=");
                match forecast::limit_rule(&t.rules, r.field) {
                    Some(i) => {
                        l.push(b"rule/");
                        l.push_u64(i as u64 + 1);
                    }
                    None => l.push(
                        match forecast::fallback(
                            r.field,
                            c.field_name(r.field),
                            matches!(t.kind, Some(TargetKind::System)),
                        ) {
                            forecast::Fallback::MemTotal => b"MemTotal",
                            _ => b"0",
                        },
                    ),
                }
            }
            l.kv(b"for", u64::from(r.for_n));
            l.kv(b"cooldown_s", u64::from(r.cooldown_s));
            l.push(b" ->");
            let acts = match r.level {
                Level::Warn => t.on_warn.as_ref().unwrap_or(&c.on_warn),
                Level::Crit => t.on_crit.as_ref().unwrap_or(&c.on_crit),
            };
            print_actions(&mut l, acts, c);
            say(&mut l);
        }
    }
}

/// `centi`: a pressure average's limit, kept in hundredths of a percent.
#[cfg_attr(not(feature = "fields-extra"), allow(unused_variables))]
fn push_limit(l: &mut Line, kind: Kind, v: u64, centi: bool) {
    match kind {
        #[cfg(feature = "fields-extra")]
        Kind::Absolute if centi => l.push(crate::proc::psi::fmt_centi(v, &mut [0; 24])),
        Kind::Absolute => l.push_u64(v),
        Kind::PercentOfRam => {
            l.push_u64(v / 100);
            l.push(b"%");
        }
        Kind::Slope { .. } => {
            l.push_per_hour(v);
            l.push(b"kB/h");
        }
        #[cfg(feature = "forecast")]
        Kind::Eta { .. } => {
            l.push_u64(v);
            l.push(b"s");
        }
    }
}

/// The rule state of one process life: the states of its target's rules
/// and the slope rules' points.
#[derive(Clone, Default)]
struct Slot {
    /// Tracked::id, 0 = free
    id: u32,
    states: [RuleState; MAX_RULES],
    /// the slope rules' points, in the order of the slope rules
    rings: [Ring; MAX_SLOPE_RULES],
}

struct Child {
    pid: u32,
    deadline_ns: u64,
    killed: bool,
    /// a dump action's report pipe (`dump --status-fd`): its line becomes
    /// the `event=dump-done` line once the dump ends
    #[cfg(feature = "dump")]
    report: Option<Fd>,
}

/// State that survives a config reload: the watchdog, running actions,
/// and what the rules remember (a reload keeps the state of every target
/// and rule it does not change, so a 24 h slope window survives reloads).
pub struct Runtime {
    watchdog: Option<Fd>,
    /// `watchdog_device = procd[:UBUS]`: OpenWrt's procd feeds the watchdog;
    /// the action asks it to stop with `UBUS call system watchdog`
    procd: Option<PathBuf>,
    /// the watchdog action fired: no more kicks, the hardware resets the board
    starving: bool,
    children: heapless::Vec<Child, MAX_CHILDREN>,
    dry_run: bool,
    /// --dry-run given on the command line (a reload keeps it)
    dry_run_flag: bool,
    slots: [Slot; MAX_SLOTS],
    sys_states: [RuleState; MAX_RULES],
    sys_rings: [Ring; MAX_SLOPE_RULES],
    /// process lives already told that no rule slot was free
    denied: heapless::Vec<u32, MAX_TRACKED>,
    mem_total: Option<u64>,
    /// the watcher's state between two configs
    carry: Carry,
    /// for the next serve: old spec -> new spec (identity but after a good reload)
    spec_map: [Option<usize>; MAX_SPECS],
    /// the textfile and the `/metrics` endpoint (opened once, like the log)
    pub metrics: crate::metrics::Slot,
}

/// The identity spec map: a first start, or a failed reload.
const fn identity_map() -> [Option<usize>; MAX_SPECS] {
    let mut a = [None; MAX_SPECS];
    let mut i = 0;
    while i < MAX_SPECS {
        a[i] = Some(i);
        i += 1;
    }
    a
}

/// `run`'s state lives in .bss, not on the stack: only the slots and
/// tracking entries in use become resident (a stack frame of all 8 slots
/// and 64 entries, 26 KB, is touched whole by the stack probes).
static RUNTIME: crate::sys::cell::Zeroed<Runtime> = crate::sys::cell::Zeroed::new();
/// `run`'s config, and the spare a SIGHUP parses into (swapped in when good)
static CONFIG: crate::sys::cell::Zeroed<Config> = crate::sys::cell::Zeroed::new();
static SPARE: crate::sys::cell::Zeroed<Config> = crate::sys::cell::Zeroed::new();
/// the watcher's lives and read buffer
static TABLES: crate::sys::cell::Zeroed<Tables> = crate::sys::cell::Zeroed::new();

impl Runtime {
    /// The process's one static runtime (for `run`); None if taken already.
    fn the_one(watchdog: Option<Fd>, dry_run: bool) -> Option<&'static mut Runtime> {
        let rt = RUNTIME.take()?;
        rt.watchdog = watchdog;
        rt.dry_run = dry_run;
        Some(rt)
    }

    pub fn new(watchdog: Option<Fd>, dry_run: bool) -> Runtime {
        Runtime {
            watchdog,
            procd: None,
            starving: false,
            children: heapless::Vec::new(),
            dry_run,
            dry_run_flag: false,
            slots: Default::default(),
            sys_states: Default::default(),
            sys_rings: Default::default(),
            denied: heapless::Vec::new(),
            mem_total: None,
            carry: Carry::default(),
            spec_map: identity_map(),
            metrics: crate::metrics::Slot::default(),
        }
    }
}

/// What the rules see and do; rebuilt on every (re)load.
struct Policy<'c> {
    cfg: &'c Config,
    rt: &'c mut Runtime,
    /// config target index for each watch spec
    spec_target: [usize; MAX_SPECS],
    system_target: Option<usize>,
    line: Line,
}

/// Who a transition is about.
struct Subject<'s> {
    target: usize,
    pid: Option<u32>,
    name: &'s [u8],
}

impl Policy<'_> {
    /// The rule slot of a process life, taken on its first sample. With
    /// every slot taken its rules cannot be judged: said once per life
    /// (`event=overflow what=rules`), and it gets a slot as soon as one is free.
    fn slot_of(&mut self, sink: &mut Sink, s: Stamp, who: &Subject, id: u32) -> Option<usize> {
        if let Some(i) = self.rt.slots.iter().position(|s| s.id == id) {
            return Some(i);
        }
        let Some(free) = self.rt.slots.iter().position(|s| s.id == 0) else {
            if !self.rt.denied.contains(&id) {
                let _ = self.rt.denied.push(id);
                self.begin(s);
                self.line.push(b" event=overflow what=rules");
                self.line.kv(b"limit", MAX_SLOTS as u64);
                self.subject(who);
                self.line.push(b" judged=no");
                sink.write_event(self.line.finish());
            }
            return None;
        };
        if let Some(s) = self.rt.slots.get_mut(free) {
            *s = Slot::default();
            s.id = id;
        }
        Some(free)
    }

    fn begin(&mut self, s: Stamp) {
        self.line.clear();
        push_timestamp(&mut self.line, s.wall_secs);
        self.line.kv_secs(b"up", s.up_ns);
        self.line.kv(b"seq", s.seq);
    }

    fn subject(&mut self, who: &Subject) {
        if let Some(p) = who.pid {
            self.line.kv(b"pid", u64::from(p));
        }
        self.line.kv_str(b"name", who.name);
    }

    /// `fore`: a forecast's seconds (None: not moving toward it) and the
    /// level in kB it runs to, for the event line (`eta_s=N to_kb=N`).
    fn transition(
        &mut self,
        sink: &mut Sink,
        s: Stamp,
        who: &Subject,
        ri: usize,
        tr: Transition,
        fore: Option<(Option<u64>, u64)>,
    ) {
        let cfg = self.cfg;
        let Some(t) = cfg.targets.get(who.target) else {
            return;
        };
        let Some(rule) = t.rules.get(ri) else { return };
        let (event, value, act): (&[u8], u64, bool) = match tr {
            Transition::Fire { value, act } => (rule.level.word(), value, act),
            Transition::Repeat { value } => (rule.level.word(), value, true),
            Transition::Clear { value } => (b"clear", value, false),
        };
        self.begin(s);
        self.line.push(b" event=");
        self.line.push(event);
        self.subject(who);
        self.line.kv_str(b"field", cfg.field_name(rule.field));
        let (vkey, lkey): (&[u8], &[u8]) = match rule.kind {
            Kind::Absolute => (b"value", b"limit"),
            Kind::PercentOfRam => (b"value_pct100", b"limit_pct100"),
            Kind::Slope { .. } => (b"slope_kb_h", b"limit_kb_h"),
            #[cfg(feature = "forecast")]
            Kind::Eta { .. } => (b"eta_s", b"limit_s"),
        };
        let limit = if event == b"clear" {
            rule.clear
        } else {
            rule.limit
        };
        if let Kind::Slope { .. } = rule.kind {
            self.line.kv_per_hour(vkey, value);
            self.line.kv_per_hour(lkey, limit);
        } else if cfg!(feature = "forecast") && value == u64::MAX && rule.kind.window_s().is_some()
        {
            // an eta rule clearing: the value no longer moves toward its limit
            self.line.push(b" eta_s=none");
            self.line.kv(lkey, limit);
        } else {
            self.line.kv(vkey, value);
            self.line.kv(lkey, limit);
        }
        #[cfg(not(feature = "forecast"))]
        let _ = fore;
        #[cfg(feature = "forecast")]
        if let Some((eta, to_kb)) = fore {
            // a slope rule's forecast; an eta rule's value is its forecast
            let slope = matches!(rule.kind, Kind::Slope { .. });
            if let (Some(e), true) = (eta, slope) {
                self.line.kv(b"eta_s", e);
            }
            if eta.is_some() || !slope {
                self.line.kv(b"to_kb", to_kb);
            }
        }
        self.line.push(b" rule=");
        self.line.push_escaped(&t.label);
        self.line.push(b"/");
        self.line.push_u64(ri as u64 + 1);
        if matches!(tr, Transition::Repeat { .. }) {
            self.line.push(b" repeat=1");
        }
        if matches!(tr, Transition::Fire { act: false, .. }) {
            self.line.push(b" actions=cooldown");
        }
        sink.write_event(self.line.finish());
        if !act {
            return;
        }
        let actions = match rule.level {
            Level::Warn => t.on_warn.as_ref().unwrap_or(&cfg.on_warn),
            Level::Crit => t.on_crit.as_ref().unwrap_or(&cfg.on_crit),
        };
        // actions see slopes in kB/h, as the config writes them
        let per = if matches!(rule.kind, Kind::Slope { .. }) {
            24
        } else {
            1
        };
        for (i, a) in actions.iter().enumerate() {
            let children = self.rt.children.len();
            self.act(
                sink,
                s,
                who,
                rule.level,
                cfg.field_name(rule.field),
                value / per,
                rule.limit / per,
                a,
            );
            // actions run in order: the one after a dump (a restart signal,
            // say) waits until the heap is saved, at most exec_timeout
            let started = self.rt.children.len() > children;
            if a.is_dump() && started && i + 1 < actions.len() {
                if let Some(pid) = self.rt.children.last().map(|c| c.pid) {
                    self.rt.wait_for(sink, pid);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn act(
        &mut self,
        sink: &mut Sink,
        s: Stamp,
        who: &Subject,
        level: Level,
        field: &[u8],
        value: u64,
        limit: u64,
        a: &Action,
    ) {
        let word: &[u8] = match a {
            Action::Log => return,
            Action::Signal(_) => b"signal",
            Action::Exec(_) => b"exec",
            Action::Watchdog => b"watchdog",
            Action::Reboot => b"reboot",
            #[cfg(feature = "dump")]
            Action::Dump => b"dump",
        };
        self.begin(s);
        self.line.push(b" event=action action=");
        self.line.push(word);
        self.subject(who);
        if self.rt.dry_run {
            self.line.push(b" dry_run=1");
            if let Action::Exec(i) = a {
                self.line.kv_str(b"cmd", self.cfg.exec_line(*i));
            }
            sink.write_event(self.line.finish());
            return;
        }
        match a {
            Action::Signal(sig) => {
                self.line.kv(b"sig", *sig as u64);
                if let Some(pid) = who.pid {
                    if let Err(e) = sys::kill(pid, *sig) {
                        self.line.kv_str(b"error", e.text().as_bytes());
                    }
                }
            }
            Action::Exec(i) => {
                let cmd = self.cfg.exec_line(*i);
                let r = self.exec(cmd, who, level, field, value, limit);
                match r {
                    Ok(pid) => self.line.kv(b"child", u64::from(pid)),
                    Err(why) => self.line.kv_str(b"error", why),
                }
                self.line.kv_str(b"cmd", cmd);
            }
            Action::Watchdog => {
                let mut reason = Line::new();
                push_timestamp(&mut reason, s.wall_secs);
                reason.push(b" memdog ");
                reason.push(level.word());
                reason.push(b" ");
                reason.push(field);
                reason.push(b"=");
                reason.push_u64(value);
                reason.kv(b"limit", limit);
                reason.kv_str(b"name", who.name);
                if let Some(p) = who.pid {
                    reason.kv(b"pid", u64::from(p));
                }
                let path = PathBuf::from(&self.cfg.reset_reason);
                if let Err(e) = sys::write_file_synced(&path, reason.finish()) {
                    self.line.kv_str(b"reset_reason_error", e.text().as_bytes());
                }
                if self.rt.watchdog.is_some() {
                    self.rt.starving = true;
                    self.line.push(b" feeding=stopped");
                } else if let Some(ubus) = self.rt.procd.clone() {
                    // no shell: the JSON is one argument
                    let mut args = ExecArgs::new();
                    let ok = args.arg(ubus.as_bytes())
                        && args.arg(b"call")
                        && args.arg(b"system")
                        && args.arg(b"watchdog")
                        && args.arg(b"{\"stop\": true}");
                    match ok.then(|| self.start_child(&args)) {
                        Some(Ok(child)) => {
                            self.rt.starving = true;
                            self.line.push(b" feeding=procd-stop");
                            self.line.kv(b"child", u64::from(child));
                        }
                        Some(Err(why)) => self.line.kv_str(b"error", why),
                        None => self.line.push(b" error=command-too-long"),
                    }
                } else {
                    self.line.push(b" error=no-watchdog-device");
                }
            }
            #[cfg(feature = "dump")]
            Action::Dump => match who.pid {
                Some(pid) => match self.dump(pid, s) {
                    Ok((child, path)) => {
                        self.line.kv(b"child", u64::from(child));
                        self.line.kv_str(b"file", path.as_bytes());
                    }
                    Err(why) => self.line.kv_str(b"error", why),
                },
                None => self.line.kv_str(b"error", b"no-process"),
            },
            Action::Reboot => {
                self.line.push(b" rebooting=1");
                sink.write_event(self.line.finish());
                sink.flush();
                let e = sys::reboot();
                self.begin(s);
                self.line.push(b" event=action action=reboot");
                self.line.kv_str(b"error", e.text().as_bytes());
            }
            Action::Log => {}
        }
        sink.write_event(self.line.finish());
    }

    /// Spawn an action's process and remember it for reaping and its timeout.
    fn start_child(&mut self, args: &ExecArgs) -> Result<u32, &'static [u8]> {
        let child = args.spawn().map_err(|e| e.text().as_bytes())?;
        let deadline_ns =
            sys::monotonic_ns().saturating_add(self.cfg.exec_timeout_ms.saturating_mul(1_000_000));
        let _ = self.rt.children.push(Child {
            pid: child,
            deadline_ns,
            killed: false,
            #[cfg(feature = "dump")]
            report: None,
        });
        Ok(child)
    }

    /// `memdog dump PID --raw DIR/memdog-PID-SECS.raw --quiet`, run like an exec action.
    #[cfg(feature = "dump")]
    fn dump(&mut self, pid: u32, s: Stamp) -> Result<(u32, PathBuf), &'static [u8]> {
        if self.rt.children.is_full() {
            return Err(b"too-many-running");
        }
        let mut path = PathBuf::from(&self.cfg.dump_dir);
        path.push(b"/memdog-")
            .push_u32(pid)
            .push(b"-")
            .push_u32(s.wall_secs.max(0) as u32)
            .push(b".raw");
        let mut b = [0u8; 20];
        let mut args = ExecArgs::new();
        let ok = args.arg(b"/proc/self/exe")
            && args.arg(b"dump")
            && args.arg(crate::num::fmt_u64(u64::from(pid), &mut b))
            && args.arg(b"--raw")
            && args.arg(path.as_bytes())
            && args.arg(b"--quiet")
            && args.arg(b"--proc-root")
            && args.arg(&self.cfg.proc_root);
        if !ok || !path.is_valid() {
            return Err(b"path-too-long");
        }
        // the dump's outcome (bytes, partial or whole, file) comes back as
        // one line on a pipe; without one the exit code still tells
        let pipe = sys::fs::status_pipe().ok();
        let mut nb = [0u8; 20];
        if let Some((_, w)) = pipe.as_ref() {
            let n = crate::num::fmt_u64(w.raw() as u64, &mut nb);
            if !(args.arg(b"--status-fd") && args.arg(n)) {
                return Err(b"path-too-long");
            }
        }
        let child = self.start_child(&args)?;
        if let (Some((r, w)), Some(c)) = (pipe, self.rt.children.last_mut()) {
            drop(w);
            c.report = Some(r);
        }
        Ok((child, path))
    }

    fn exec(
        &mut self,
        cmd: &[u8],
        who: &Subject,
        level: Level,
        field: &[u8],
        value: u64,
        limit: u64,
    ) -> Result<u32, &'static [u8]> {
        if self.rt.children.is_full() {
            return Err(b"too-many-running");
        }
        let mut args = ExecArgs::new();
        for w in cmd
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|w| !w.is_empty())
        {
            if !args.arg(w) {
                return Err(b"command-too-long");
            }
        }
        let path = PathBuf::from(cmd.split(|&b| b == b' ').next().unwrap_or(&[]));
        if !sys::executable(&path) {
            return Err(b"not-executable");
        }
        let mut vb = [0u8; 20];
        let mut lb = [0u8; 20];
        let pid = who.pid.map(|p| {
            let mut b = [0u8; 20];
            let n = crate::num::fmt_u64(u64::from(p), &mut b).len();
            (b, n)
        });
        let ok = args.env(b"MEMDOG_EVENT", level.word())
            && args.env(b"MEMDOG_LEVEL", level.word())
            && args.env(b"MEMDOG_NAME", who.name)
            && args.env(b"MEMDOG_FIELD", field)
            && args.env(b"MEMDOG_VALUE", crate::num::fmt_u64(value, &mut vb))
            && args.env(b"MEMDOG_LIMIT", crate::num::fmt_u64(limit, &mut lb))
            && args.env(b"PATH", b"/usr/sbin:/usr/bin:/sbin:/bin")
            && match &pid {
                Some((b, n)) => args.env(b"MEMDOG_PID", b.get(20 - n..).unwrap_or(&[])),
                None => true,
            };
        if !ok {
            return Err(b"environment-too-long");
        }
        let child = self.start_child(&args)?;
        Ok(child)
    }

    fn eval(
        &mut self,
        sink: &mut Sink,
        s: Stamp,
        who: &Subject,
        slot_id: Option<u32>,
        get: &dyn Fn(u16) -> Option<u64>,
    ) {
        let cfg = self.cfg;
        let Some(t) = cfg.targets.get(who.target) else {
            return;
        };
        if t.rules.is_empty() {
            return;
        }
        let slot = match slot_id {
            Some(id) => match self.slot_of(sink, s, who, id) {
                Some(i) => Some(i),
                None => return,
            },
            None => None,
        };
        let t_ms = s.up_ns / 1_000_000;
        let mem_total = self.rt.mem_total;
        let mut slopes = 0;
        for (ri, rule) in t.rules.iter().enumerate() {
            let is_slope = rule.kind.window_s().is_some();
            slopes += usize::from(is_slope);
            let Some(v) = get(rule.field) else { continue };
            let (states, rings) = match slot.and_then(|i| self.rt.slots.get_mut(i)) {
                Some(slot) => (&mut slot.states, &mut slot.rings),
                None => (&mut self.rt.sys_states, &mut self.rt.sys_rings),
            };
            let Some(st) = states.get_mut(ri) else {
                continue;
            };
            let ring = if is_slope {
                rings.get_mut(slopes - 1)
            } else {
                None
            };
            #[cfg(feature = "forecast")]
            let (tr, fore) =
                eval_forecast(t, cfg, slot.is_none(), rule, st, ring, t_ms, v, mem_total);
            #[cfg(not(feature = "forecast"))]
            let (tr, fore) = (
                crate::policy::evaluate(rule, st, ring, t_ms, v, mem_total),
                None,
            );
            if let Some(tr) = tr {
                self.transition(sink, s, who, ri, tr, fore);
            }
            self.record(slot, who.target, ri, slopes, rule, v);
        }
    }

    /// The rule's state (and a slope rule's fit) for the metrics.
    fn record(
        &mut self,
        slot: Option<usize>,
        target: usize,
        ri: usize,
        slopes: usize,
        rule: &crate::policy::Rule,
        v: u64,
    ) {
        let rt = &mut *self.rt;
        let Some(m) = rt.metrics.as_mut() else {
            return;
        };
        let (states, rings) = match slot.and_then(|i| rt.slots.get(i)) {
            Some(slot) => (&slot.states, &slot.rings),
            None => (&rt.sys_states, &rt.sys_rings),
        };
        let fired = states.get(ri).is_some_and(|st| st.fired);
        m.store.rule(target, ri, rule.level, fired);
        if let Kind::Slope { window_s } = rule.kind {
            let field = self.cfg.field_name(rule.field);
            // counts (Threads, HugePages_*) are no bytes
            let kb = !crate::config::is_count(field);
            let fit = rings
                .get(slopes.wrapping_sub(1))
                .and_then(|r| r.window_fit(window_s));
            if let (true, Some(fit)) = (kb, fit) {
                m.store.slope(target, ri, rule.level, field, fit);
            }
        }
        // the forecast at the window's rate, every sample, for every rule
        // with a window (an eta rule's own, a slope rule's)
        #[cfg(feature = "forecast")]
        if let (Some(window_s), Some(t)) = (rule.kind.window_s(), self.cfg.targets.get(target)) {
            let ring = rings.get(slopes.wrapping_sub(1));
            let field = self.cfg.field_name(rule.field);
            let fb = forecast::fallback(rule.field, field, slot.is_none());
            let goal = forecast::goal(&t.rules, rule.field, fb, rt.mem_total);
            if let (Some((per_day, _)), Some(g)) = (ring.and_then(|r| r.window_fit(window_s)), goal)
            {
                // the rate toward the goal: up to a ceiling, down to a floor
                let rate = match g.op {
                    crate::policy::Op::Above => per_day.max(0).unsigned_abs(),
                    crate::policy::Op::Below => per_day.min(0).unsigned_abs(),
                };
                if let Some(e) = forecast::eta_s(v, rate, g) {
                    m.store.forecast(target, ri, rule.level, field, e);
                }
            }
        }
        #[cfg(not(feature = "forecast"))]
        let _ = v;
    }
}

/// One rule on one sample with its forecast: an eta rule measures the time
/// to its goal; a slope rule that fires says when its field reaches the
/// goal at the rate it measured (`eta_s=` on the event line).
#[cfg(feature = "forecast")]
#[allow(clippy::too_many_arguments)]
fn eval_forecast(
    t: &Target,
    cfg: &Config,
    system: bool,
    rule: &crate::policy::Rule,
    st: &mut RuleState,
    ring: Option<&mut Ring>,
    t_ms: u64,
    v: u64,
    mem_total: Option<u64>,
) -> (Option<Transition>, Option<(Option<u64>, u64)>) {
    // an eta rule's goal, or a slope rule's once it fires (one evaluation
    // call site: the board build has one inlined copy of the policy)
    let fb = || forecast::fallback(rule.field, cfg.field_name(rule.field), system);
    let eta = matches!(rule.kind, Kind::Eta { .. });
    let g = if eta {
        forecast::goal(&t.rules, rule.field, fb(), mem_total)
    } else {
        None
    };
    let tr = crate::policy::evaluate_to(rule, st, ring, t_ms, v, mem_total, g);
    if eta {
        return (tr, g.map(|g| (None, g.kb)));
    }
    let rate = match (tr, rule.kind) {
        (
            Some(Transition::Fire { value, .. } | Transition::Repeat { value }),
            Kind::Slope { .. },
        ) => value,
        _ => return (tr, None),
    };
    // slope rules watch growth: a floor (`<` limit) is not what it grows toward
    let fore = forecast::goal(&t.rules, rule.field, fb(), mem_total)
        .filter(|g| g.op == crate::policy::Op::Above)
        .map(|g| (forecast::eta_s(v, rate, g), g.kb));
    (tr, fore)
}

fn process_value(field: u16, st: &Status, maps: Option<&MapsSummary>) -> Option<u64> {
    use crate::cli::{ANON, FILE, HEAP, NTHREADSTACKS, STACK, STACKS, THREADS};
    let f = usize::from(field);
    if f < crate::proc::status::NFIELDS {
        return st.vm.get(f).copied().flatten();
    }
    let m = maps;
    match f {
        THREADS => st.threads.map(u64::from),
        HEAP => m.map(|m| m.heap_kb),
        STACK => m.map(|m| m.stack_kb),
        STACKS => m.map(|m| m.thread_stack_kb),
        NTHREADSTACKS => m.map(|m| u64::from(m.thread_stacks)),
        ANON => m.map(|m| m.anon_kb),
        FILE => m.map(|m| m.file_kb),
        // fds and the smaps_rollup fields, when sampled
        #[cfg(feature = "fields-extra")]
        _ => st
            .extra
            .get(f.wrapping_sub(crate::units::FDS))
            .copied()
            .flatten(),
        #[cfg(not(feature = "fields-extra"))]
        _ => None,
    }
}

impl Observer for Policy<'_> {
    fn on_sample(
        &mut self,
        sink: &mut Sink,
        s: Stamp,
        t: &Tracked,
        st: &Status,
        maps: Option<&MapsSummary>,
    ) {
        let target = self.spec_target.get(t.spec).copied().unwrap_or(usize::MAX);
        let who = Subject {
            target,
            pid: Some(t.pid),
            name: &t.comm,
        };
        if let Some(m) = self.rt.metrics.as_mut() {
            m.store
                .process(target, t.id, t.pid, &t.comm, t.starttime, st, maps);
        }
        self.eval(sink, s, &who, Some(t.id), &|f| process_value(f, st, maps));
    }

    /// The life ended: its rule slot is free (a restart starts afresh).
    fn on_exit(&mut self, _sink: &mut Sink, _s: Stamp, t: &Tracked) {
        if let Some(m) = self.rt.metrics.as_mut() {
            m.store
                .exit(self.spec_target.get(t.spec).copied().unwrap_or(usize::MAX));
        }
        if let Some(slot) = self.rt.slots.iter_mut().find(|s| s.id == t.id) {
            slot.id = 0;
        }
        if let Some(i) = self.rt.denied.iter().position(|&d| d == t.id) {
            self.rt.denied.swap_remove(i);
        }
    }

    fn on_meminfo(&mut self, sink: &mut Sink, s: Stamp, m: &Meminfo) {
        self.rt.mem_total = m.get(b"MemTotal");
        if let Some(mt) = self.rt.metrics.as_mut() {
            mt.store.meminfo(m);
        }
        let Some(target) = self.system_target else {
            return;
        };
        let who = Subject {
            target,
            pid: None,
            name: b"system",
        };
        let cfg = self.cfg;
        let get = |f: u16| -> Option<u64> {
            let key = cfg.keys.get(usize::from(f.checked_sub(SYS_FIELD)?))?;
            if &key[..] == b"MemAvailable" {
                return m.available().map(|a| a.kb());
            }
            m.get(key)
        };
        self.eval(sink, s, &who, None, &get);
    }
}

impl Runtime {
    /// At exit: give running actions up to `exec_timeout` to finish (an
    /// exec that saves state, a dump), then kill what is left.
    pub fn finish_children(&mut self, sink: &mut Sink, timeout_ms: u64) {
        let end = sys::monotonic_ns().saturating_add(timeout_ms.saturating_mul(1_000_000));
        for c in self.children.iter_mut() {
            c.deadline_ns = c.deadline_ns.min(end);
        }
        while !self.children.is_empty() {
            self.tend_children(sink);
            self.kick(); // a clean stop must not reset the board while it waits
            if self.children.iter().all(|c| c.killed) && sys::monotonic_ns() > end + 1_000_000_000 {
                break; // killed and still not reaped after a second: give up
            }
            sys::sleep_until_monotonic(sys::monotonic_ns() + 20_000_000);
        }
    }

    fn kick(&mut self) {
        if self.starving {
            return;
        }
        if let Some(wd) = self.watchdog.as_mut() {
            let _ = wd.write_bytes(b"\0");
        }
    }

    /// Reap finished exec actions, kill those past their timeout.
    /// Wait for one action's child to end (reaped and logged), kicking the
    /// watchdog meanwhile; its exec_timeout deadline bounds the wait.
    fn wait_for(&mut self, sink: &mut Sink, pid: u32) {
        while self.children.iter().any(|c| c.pid == pid) {
            self.tend_children(sink);
            self.kick();
            if self.children.iter().any(|c| c.pid == pid) {
                sys::sleep_until_monotonic(sys::monotonic_ns() + 10_000_000);
            }
        }
    }

    pub fn tend_children(&mut self, sink: &mut Sink) {
        while let Some((pid, code)) = sys::reap() {
            if let Some(i) = self.children.iter().position(|c| c.pid == pid) {
                let c = self.children.swap_remove(i);
                #[cfg(feature = "dump")]
                let report = c.report.as_ref();
                #[cfg(not(feature = "dump"))]
                let report: Option<&Fd> = None;
                let mut l = Line::new();
                push_timestamp(&mut l, sys::realtime().0);
                l.kv_secs(b"up", sys::boottime_ns());
                l.push(if report.is_some() {
                    b" event=dump-done"
                } else {
                    b" event=exec-exit"
                });
                l.kv(b"child", u64::from(pid));
                l.push(b" status=");
                if code < 0 {
                    l.push(b"unknown");
                } else {
                    l.push_u64(code as u64);
                }
                if let Some(r) = report {
                    // the dump's own logfmt line: pid= bytes= of= ... partial= file=
                    let mut buf = [0u8; 384];
                    let got = sys::fs::read_now(r, &mut buf);
                    let text = got.split(|&b| b == b'\n').next().unwrap_or(&[]);
                    if !text.is_empty() && text.iter().all(|&b| (b' '..=b'~').contains(&b)) {
                        l.push(b" ");
                        l.push(text);
                    } else if code == 5 {
                        l.push(b" partial=1");
                    }
                    if c.killed {
                        l.push(b" killed=exec_timeout");
                    }
                }
                sink.write_event(l.finish());
            }
        }
        let now = sys::monotonic_ns();
        for c in self.children.iter_mut() {
            if now >= c.deadline_ns && !c.killed {
                sys::kill_group(c.pid, libc::SIGKILL);
                c.killed = true;
                let mut l = Line::new();
                push_timestamp(&mut l, sys::realtime().0);
                l.kv_secs(b"up", sys::boottime_ns());
                l.push(b" event=exec-timeout");
                l.kv(b"child", u64::from(c.pid));
                sink.write_event(l.finish());
            }
        }
        sink.flush();
    }

    /// Clean exit: magic close, so a healthy shutdown does not reset the board.
    fn close_watchdog(&mut self) {
        if let Some(mut wd) = self.watchdog.take() {
            if !self.starving {
                let _ = wd.write_bytes(b"V");
            }
        }
    }
}

/// Why one config's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Stop,
    Reload,
}

/// What happens between two samples. [`Sleeper`] sleeps to the next
/// deadline, kicking the watchdog and tending exec children, and turns
/// SIGTERM/SIGHUP into an [`Outcome`]; a test drives a fixture /proc tree
/// and the clock itself, through the very same sampling and rule code.
pub trait Pace {
    /// The time stamp of sample `seq`.
    fn stamp(&mut self, seq: u64) -> Stamp {
        Stamp::now(seq)
    }
    /// Wait for the next sample; Some ends this config's run.
    fn wait(&mut self, rt: &mut Runtime, sink: &mut Sink, seq: u64) -> Option<Outcome>;
    /// A reload brought a new config (its interval, its watchdog kick).
    fn configure(&mut self, _cfg: &Config) {}
}

/// The daemon's pace: CLOCK_MONOTONIC deadlines `interval` apart (no drift,
/// no burst after a stall), watchdog kicks in between.
pub struct Sleeper {
    interval_ns: u64,
    kick_ns: u64,
    count: Option<u64>,
    /// the deadline being slept to; kept when a reload cuts the sleep short,
    /// so a SIGHUP neither adds a sample nor skips one
    next: Option<u64>,
    last: u64,
}

impl Sleeper {
    pub fn new(cfg: &Config, count: Option<u64>) -> Sleeper {
        let mut s = Sleeper {
            interval_ns: 0,
            kick_ns: 0,
            count,
            next: None,
            last: sys::monotonic_ns(),
        };
        s.configure(cfg);
        s
    }

    fn configure(&mut self, cfg: &Config) {
        self.interval_ns = cfg.interval_ms.saturating_mul(1_000_000).max(1);
        self.kick_ns = cfg.watchdog_kick_ms.saturating_mul(1_000_000).max(1);
    }
}

impl Pace for Sleeper {
    fn configure(&mut self, cfg: &Config) {
        Sleeper::configure(self, cfg);
    }

    fn wait(&mut self, rt: &mut Runtime, sink: &mut Sink, seq: u64) -> Option<Outcome> {
        if self.count.is_some_and(|c| seq >= c) || sink.broken {
            return Some(Outcome::Stop);
        }
        let deadline = match self.next {
            Some(d) => d,
            None => {
                let mut d = self.last.saturating_add(self.interval_ns);
                let now = sys::monotonic_ns();
                if now > d {
                    // stalled (SIGSTOP, a slow flash): skip the missed ticks, no burst
                    let missed = (now - d) / self.interval_ns + 1;
                    d = d.saturating_add(missed.saturating_mul(self.interval_ns));
                }
                self.next = Some(d);
                d
            }
        };
        loop {
            if signals::stop_requested() {
                return Some(Outcome::Stop);
            }
            if signals::take_hup() {
                return Some(Outcome::Reload);
            }
            rt.tend_children(sink);
            let now = sys::monotonic_ns();
            if now >= deadline {
                break;
            }
            let mut wake = deadline;
            if rt.watchdog.is_some() && !rt.starving {
                wake = wake.min(now + self.kick_ns);
            }
            if !rt.children.is_empty() {
                wake = wake.min(now + 50_000_000);
            }
            match rt.metrics.as_mut() {
                // the endpoint is served while memdog sleeps, to the same wake-up
                Some(m) => m.sleep_until(wake),
                None => {
                    sys::sleep_until_monotonic(wake);
                }
            }
            if wake < deadline {
                rt.kick();
            }
        }
        self.next = None;
        self.last = deadline;
        None
    }
}

fn watch_opts(cfg: &Config) -> (Watch<'_>, [usize; MAX_SPECS], Option<usize>) {
    let mut w = Watch {
        specs: heapless::Vec::new(),
        interval_ms: cfg.interval_ms,
        count: None,
        fields: cfg.fields,
        log: None,
        log_size: cfg.log_size,
        log_files: cfg.log_files,
        syslog: None,
        syslog_remote: None,
        textfile: None,
        metrics_listen: None,
        proc_root: &cfg.proc_root,
    };
    let mut map = [usize::MAX; MAX_SPECS];
    let mut system = None;
    for (i, t) in cfg.targets.iter().enumerate() {
        let spec = match &t.kind {
            Some(TargetKind::System) | None => {
                system = Some(i);
                continue;
            }
            Some(TargetKind::Pid(p)) => Spec::Pid(*p),
            Some(TargetKind::SelfPid) => Spec::SelfPid,
            Some(TargetKind::Name(n)) => Spec::Name(n),
            Some(TargetKind::Pidfile(p)) => Spec::Pidfile(p),
        };
        if let Some(slot) = map.get_mut(w.specs.len()) {
            *slot = i;
        }
        let _ = w.specs.push(spec);
        // rules on maps fields need maps read even if not logged
        for r in t.rules.iter() {
            if (crate::units::HEAP..=crate::units::FILE).contains(&usize::from(r.field)) {
                w.fields.0 |= 1 << r.field;
            }
        }
    }
    (w, map, system)
}

/// One config's life: sample, evaluate, act, until the pace says stop or
/// reload. What the rules and the watcher know is taken from `rt` at the
/// start and left there at the end, so a reload continues it.
// its own frame, apart from drive's reload (a config is 9 KB)
#[inline(never)]
fn serve(
    cfg: &Config,
    tables: &mut Tables,
    rt: &mut Runtime,
    sink: &mut Sink,
    pace: &mut dyn Pace,
) -> Outcome {
    let (w, spec_target, system_target) = watch_opts(cfg);
    let mut watcher = Watcher::new(w, tables);
    // a reload may move, add or drop the textfile (checked by drive); the
    // endpoint is bound once, at start
    match (rt.metrics.as_mut(), cfg.textfile.as_deref()) {
        (Some(m), tf) => m.textfile = tf.map(crate::metrics::Textfile::new),
        (None, Some(tf)) => {
            rt.metrics = crate::metrics::Metrics::open(Some(tf), None).unwrap_or_default()
        }
        (None, None) => {}
    }
    if let Some(m) = rt.metrics.as_mut() {
        m.store.set_targets(cfg.targets.iter().map(|t| {
            let process = !matches!(t.kind, Some(TargetKind::System) | None);
            (crate::metrics::label_of(&[&t.label]), process)
        }));
        m.store.set_boot(&cfg.proc_root);
    }
    let spec_map = core::mem::replace(&mut rt.spec_map, identity_map());
    let seq0 = rt.carry.seq;
    let resumed = seq0 > 0;
    // the previous config's lives (in the tables) and counters
    watcher.adopt(&mut rt.carry, &spec_map);
    let mut policy = Policy {
        cfg,
        rt,
        spec_target,
        system_target,
        line: Line::new(),
    };
    let s = pace.stamp(seq0);
    // the lives of targets gone from the config, in their order
    watcher.drop_unwatched(sink, s, &mut policy);
    sink.flush();
    if resumed {
        // a reload cut a sleep short: the next sample is at its usual time
        if let Some(o) = pace.wait(policy.rt, sink, watcher.seq) {
            watcher.carry_into(&mut policy.rt.carry);
            return o;
        }
    }
    loop {
        let s = pace.stamp(watcher.seq + 1);
        if let Some(m) = policy.rt.metrics.as_mut() {
            m.store.begin(s.seq);
        }
        watcher.tick_at(sink, &mut policy, s);
        policy.rt.kick();
        if let Some(m) = policy.rt.metrics.as_mut() {
            m.end(sink.dropped_total); // after the kick: a slow flash never delays it
        }
        sink.flush();
        if let Some(o) = pace.wait(policy.rt, sink, watcher.seq) {
            watcher.carry_into(&mut policy.rt.carry);
            return o;
        }
    }
}

/// Are two rules the same rule (so a reload keeps its state)? Fields are
/// compared by name: [system] fields are numbered per config.
fn same_rule(oc: &Config, a: &crate::policy::Rule, nc: &Config, b: &crate::policy::Rule) -> bool {
    a.kind == b.kind
        && a.op == b.op
        && a.limit == b.limit
        && a.clear == b.clear
        && a.level == b.level
        && a.for_n == b.for_n
        && a.cooldown_s == b.cooldown_s
        && oc.field_name(a.field) == nc.field_name(b.field)
}

/// The states of `old`'s rules moved to the same rules of `new`; a rule
/// that is new or changed starts afresh.
fn remap_states(
    oc: &Config,
    old: &Target,
    nc: &Config,
    new: &Target,
    states: &mut [RuleState; MAX_RULES],
    rings: &mut [Ring; MAX_SLOPE_RULES],
) {
    let (os, or) = (states.clone(), rings.clone());
    *states = Default::default();
    *rings = Default::default();
    let mut used = [false; MAX_RULES];
    let slope = |r: &crate::policy::Rule| r.kind.window_s().is_some();
    let mut new_slope = 0;
    for (ni, nr) in new.rules.iter().enumerate() {
        let mut old_slope = 0;
        for (oi, orule) in old.rules.iter().enumerate() {
            let free = used.get(oi).is_some_and(|u| !u);
            if free && same_rule(oc, orule, nc, nr) {
                if let Some(u) = used.get_mut(oi) {
                    *u = true;
                }
                if let (Some(d), Some(s)) = (states.get_mut(ni), os.get(oi)) {
                    *d = s.clone();
                }
                if slope(nr) {
                    if let (Some(d), Some(s)) = (rings.get_mut(new_slope), or.get(old_slope)) {
                        *d = s.clone();
                    }
                }
                break;
            }
            old_slope += usize::from(slope(orule));
        }
        new_slope += usize::from(slope(nr));
    }
}

/// After a good reload: which spec of the new config follows each old
/// spec's processes (same label and same pid/name/pidfile), and the rule
/// states of every unchanged rule moved to where the new config has it.
fn remap(oc: &Config, nc: &Config, lives: &[Tracked], rt: &mut Runtime) {
    let (_, old_spec_target, old_sys) = watch_opts(oc);
    let (_, new_spec_target, new_sys) = watch_opts(nc);
    let same = |a: &Target, b: &Target| a.label == b.label && a.kind == b.kind;
    let mut spec_map = [None; MAX_SPECS];
    for (os, &ot) in old_spec_target.iter().enumerate() {
        let Some(o) = oc.targets.get(ot) else {
            continue;
        };
        let hit = new_spec_target
            .iter()
            .position(|&nt| nc.targets.get(nt).is_some_and(|n| same(o, n)));
        if let Some(m) = spec_map.get_mut(os) {
            *m = hit;
        }
    }
    rt.spec_map = spec_map;
    let target_of = |cfg_targets: &[usize; MAX_SPECS], spec: Option<usize>| {
        spec.and_then(|s| cfg_targets.get(s).copied())
    };
    for slot in rt.slots.iter_mut().filter(|s| s.id != 0) {
        let Some(t) = lives.iter().find(|t| t.id == slot.id) else {
            slot.id = 0;
            continue;
        };
        let ot = target_of(&old_spec_target, Some(t.spec)).and_then(|i| oc.targets.get(i));
        let ns = spec_map.get(t.spec).copied().flatten();
        let nt = target_of(&new_spec_target, ns).and_then(|i| nc.targets.get(i));
        if let (Some(o), Some(n)) = (ot, nt) {
            remap_states(oc, o, nc, n, &mut slot.states, &mut slot.rings);
        }
        // else the target left the config: the watcher ends the life
        // (event=exit reason=unwatched) and frees the slot
    }
    match (
        old_sys.and_then(|i| oc.targets.get(i)),
        new_sys.and_then(|i| nc.targets.get(i)),
    ) {
        (Some(o), Some(n)) => {
            remap_states(oc, o, nc, n, &mut rt.sys_states, &mut rt.sys_rings);
        }
        _ => {
            rt.sys_states = Default::default();
            rt.sys_rings = Default::default();
        }
    }
}

/// Run configs until a stop: on a reload the config file is read again; a
/// good one continues every unchanged target and rule, a bad one changes
/// nothing; both are one `event=reload` line. The log is reopened either way
/// (logrotate). `base` makes the new config's relative paths absolute.
/// The configs and the watcher's tables of a run: .bss in the daemon.
pub struct Held<'h> {
    pub cfg: &'h mut Config,
    /// what a SIGHUP parses into, swapped in when good
    pub spare: &'h mut Config,
    pub tables: &'h mut Tables,
}

pub fn drive(
    held: &mut Held,
    path: &[u8],
    base: Option<&PathBuf>,
    rt: &mut Runtime,
    sink: &mut Sink,
    pace: &mut dyn Pace,
) {
    while serve(held.cfg, held.tables, rt, sink, pace) == Outcome::Reload {
        reload(held, path, base, rt, sink, pace);
    }
}

/// One SIGHUP: read the config again; a good one replaces `cfg` keeping
/// every unchanged target's and rule's state, a bad one changes nothing.
/// The new config is parsed into `spare` and swapped in when good (both
/// in .bss: never a config on the stack).
#[inline(never)]
fn reload(
    held: &mut Held,
    path: &[u8],
    base: Option<&PathBuf>,
    rt: &mut Runtime,
    sink: &mut Sink,
    pace: &mut dyn Pace,
) {
    let Held { cfg, spare, tables } = held;
    let s = pace.stamp(rt.carry.seq);
    let mut l = Line::new();
    push_timestamp(&mut l, s.wall_secs);
    l.kv_secs(b"up", s.up_ns);
    l.kv(b"seq", s.seq);
    sink.reopen();
    let loaded = load(path, base, spare).and_then(|()| {
        // a new textfile path is checked as at start; a bad one keeps the old config
        match spare.textfile.as_deref() {
            Some(tf) if spare.textfile != cfg.textfile => match out::textfile_problem(tf) {
                Some(why) => Err(ConfigError {
                    line: 0,
                    msg: why,
                    got: heapless::Vec::from_slice(tf.get(..tf.len().min(48)).unwrap_or(&[]))
                        .unwrap_or_default(),
                }),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    });
    match loaded {
        Ok(()) => {
            let new = &*spare;
            remap(cfg, new, &tables.tracked, rt);
            let restart = cfg.log != new.log
                || cfg.log_size != new.log_size
                || cfg.log_files != new.log_files
                || cfg.syslog != new.syslog
                || cfg.syslog_remote != new.syslog_remote
                || cfg.metrics_listen != new.metrics_listen
                || cfg.watchdog != new.watchdog;
            core::mem::swap(cfg, spare);
            pace.configure(cfg);
            rt.dry_run = rt.dry_run_flag || cfg.dry_run;
            l.push(b" event=reload status=ok");
            if restart {
                // the outputs and the watchdog are opened once, before a
                // --daemonize parent returns: a new path needs a restart
                l.push(b" restart_needed=outputs");
            }
        }
        Err(e) => {
            rt.spec_map = identity_map();
            l.push(b" event=reload status=error kept=old");
            l.kv(b"line", u64::from(e.line));
            l.kv_str(b"error", e.msg.as_bytes());
            if !e.got.is_empty() {
                l.kv_str(b"got", &e.got);
            }
        }
    }
    sink.write_event(l.finish());
    sink.flush();
}

/// `event=agent-start`: memdog itself (re)started, so `report` never
/// counts a memdog restart as a restart of the processes it watches.
pub fn agent_start(sink: &mut Sink, s: Stamp, mode: &[u8]) {
    let mut l = Line::new();
    push_timestamp(&mut l, s.wall_secs);
    l.kv_secs(b"up", s.up_ns);
    l.kv(b"seq", s.seq);
    l.push(b" event=agent-start version=");
    l.push(env!("CARGO_PKG_VERSION").as_bytes());
    l.push(b" mode=");
    l.push(mode);
    l.kv(b"agent_pid", u64::from(sys::getpid()));
    sink.write_event(l.finish());
    sink.flush();
}

/// `procd` or `procd:/path/to/ubus` as a watchdog device: the ubus to run.
fn procd_ubus(dev: &[u8]) -> Option<PathBuf> {
    match dev.strip_prefix(b"procd")? {
        b"" => Some(PathBuf::from(b"/bin/ubus")),
        p => p.strip_prefix(b":").map(PathBuf::from),
    }
}

/// At start, one line about the watchdog and the previous boot: the
/// timeout the driver took, its boot status (WDIOF_CARDRESET: the watchdog
/// reset the board), and what memdog's reset-reason file kept if memdog
/// caused it (the rule's field and value, the limit, the process). The
/// file is then emptied, so the next boot does not tell it again.
fn previous_boot(sink: &mut Sink, cfg: &Config, rt: &Runtime) {
    let s = Stamp::now(0);
    let mut l = Line::new();
    push_timestamp(&mut l, s.wall_secs);
    l.kv_secs(b"up", s.up_ns);
    l.kv(b"seq", 0);
    l.push(b" event=watchdog");
    match (&rt.watchdog, &rt.procd, cfg.watchdog.as_deref()) {
        (Some(fd), _, Some(dev)) => {
            l.kv_str(b"device", dev);
            if let Some(want) = cfg.watchdog_timeout_s {
                l.kv(b"asked_s", u64::from(want));
                match sys::watchdog::set_timeout(fd, want) {
                    Ok(got) => l.kv(b"timeout_s", u64::from(got)),
                    Err(e) => l.kv_str(b"timeout_error", e.text().as_bytes()),
                }
            } else if let Ok(t) = sys::watchdog::timeout(fd) {
                l.kv(b"timeout_s", u64::from(t));
            }
            match sys::watchdog::boot_status(fd) {
                Ok(b) => {
                    l.kv(b"bootstatus", u64::from(b));
                    let by = b & sys::watchdog::WDIOF_CARDRESET != 0;
                    l.push(if by {
                        b" reset_by=watchdog"
                    } else {
                        b" reset_by=other"
                    });
                }
                Err(e) => l.kv_str(b"bootstatus_error", e.text().as_bytes()),
            }
        }
        (_, Some(ubus), _) => {
            l.push(b" device=procd");
            l.kv_str(b"ubus", ubus.as_bytes());
        }
        _ => l.push(b" device=none"),
    }
    let path = PathBuf::from(&cfg.reset_reason);
    let mut buf = [0u8; 256];
    if let Ok((text, _)) = sys::read_file(&path, &mut buf) {
        let line = text.split(|&b| b == b'\n').next().unwrap_or(&[]);
        if !line.is_empty() {
            l.kv_str(b"previous_reset", line);
            let _ = sys::write_file_synced(&path, b"");
        }
    }
    sink.write_event(l.finish());
    sink.flush();
}

/// `memdog log [-c CONFIG]`: the whole rotated set of CONFIG's log, oldest
/// first (LOG.N-1 ... LOG.1, LOG), so `ssh board memdog log > pulled.log`
/// pulls everything without counting files.
#[inline(never)]
pub fn print_log(config: &[u8]) -> i32 {
    let cwd = sys::fs::cwd().ok();
    let mut cfg = Config::new();
    if let Err(e) = load(config, cwd.as_ref(), &mut cfg) {
        config_error(config, &e);
        return exit::USAGE;
    }
    let Some(log) = cfg.log.as_deref() else {
        out::error(&[
            config,
            b" has no log = FILE: its lines go to stdout or syslog",
        ]);
        return exit::FAILURE;
    };
    let mut printed = 0;
    let mut buf = [0u8; 2048];
    for k in (0..cfg.log_files).rev() {
        let mut p = PathBuf::from(log);
        if k > 0 {
            p.push(b".").push_u32(k);
        }
        let regular = sys::fs::lstat(&p).is_ok_and(|st| st.kind() == sys::fs::Kind::Regular);
        let Ok(mut fd) = sys::fs::open_read_nonblock(&p) else {
            continue;
        };
        if !regular {
            continue;
        }
        printed += 1;
        loop {
            match embedded_io::Read::read(&mut fd, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sys::write_all(sys::STDOUT, buf.get(..n).unwrap_or(&[])).is_err() {
                        return exit::OK; // `memdog log | head`
                    }
                }
            }
        }
    }
    if printed == 0 {
        out::error(&[b"no log files at ", log, b" yet"]);
        return exit::FAILURE;
    }
    exit::OK
}

/// Write our daemon's pid into the locked pidfile, synced: an init script
/// reads it as soon as `memdog run -d` returns.
fn write_pid(fd: &mut Fd, pid: u32) -> Result<(), sys::Errno> {
    let mut b = [0u8; 20];
    let mut text: heapless::Vec<u8, 21> = heapless::Vec::new();
    let _ = text.extend_from_slice(crate::num::fmt_u64(u64::from(pid), &mut b));
    let _ = text.push(b'\n');
    sys::fs::truncate_to_zero(fd)?;
    sys::write_all(fd.raw(), &text)?;
    fd.fsync()
}

/// Open and lock the pidfile before anything forks: a second instance is
/// refused here, with the running one's pid.
fn lock_pidfile(pf: &[u8]) -> Result<Fd, i32> {
    let p = PathBuf::from(pf);
    let fd = match sys::fs::open_pidfile(&p) {
        Ok(fd) => fd,
        Err(e) => {
            out::error(&[
                b"cannot open pidfile ",
                pf,
                b": ",
                e.text().as_bytes(),
                b" (is its directory there and writable?)",
            ]);
            return Err(exit::FAILURE);
        }
    };
    if let Err(e) = sys::fs::lock_exclusive(&fd) {
        if e.0 == libc::EWOULDBLOCK {
            let mut buf = [0u8; 24];
            let (held, _) = sys::read_file(&p, &mut buf).unwrap_or((&[], false));
            let held = crate::num::trim(held.split(|&b| b == b'\n').next().unwrap_or(&[]));
            out::error(&[
                b"memdog is already running with pidfile ",
                pf,
                b" (pid ",
                held,
                b"): stop it first, or give this one another --pidfile",
            ]);
        } else {
            out::error(&[b"cannot lock pidfile ", pf, b": ", e.text().as_bytes()]);
        }
        return Err(exit::FAILURE);
    }
    Ok(fd)
}

/// `memdog run -c CONFIG`. `count` stops after that many samples (tests).
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn run(opts: RunOpts, count: Option<u64>) -> i32 {
    // first: a SIGTERM or SIGHUP during start-up is a clean stop or a reload
    signals::install();
    // paths are made absolute against the directory memdog started in:
    // --daemonize moves to /, and SIGHUP reads the config again from there
    let cwd = sys::fs::cwd().ok();
    let path = absolute(opts.config, cwd.as_ref());
    // the config and the one a SIGHUP reads into live in .bss: a frame of
    // them (and their moves) would be 19 KB of RSS for the whole run
    let (Some(cfg), Some(spare)) = (CONFIG.take(), SPARE.take()) else {
        out::error(&[b"run: started twice in one process"]);
        return exit::FAILURE;
    };
    if let Err(e) = load(path.as_bytes(), cwd.as_ref(), cfg) {
        config_error(opts.config, &e);
        return exit::USAGE;
    }
    {
        // /proc mounted, `pid =` targets running: at once, like `watch`
        let (w, _, _) = watch_opts(cfg);
        if let Err(code) = crate::watch::preflight_only(&w) {
            return code;
        }
    }
    let dry_run = opts.dry_run || cfg.dry_run;
    if opts.daemonize && cfg.log.is_none() && cfg.syslog.is_none() && cfg.syslog_remote.is_none() {
        out::error(&[
            b"--daemonize puts stdout on /dev/null: set log = FILE (or syslog = yes) in the config, or every warn and crit is lost",
        ]);
        return exit::USAGE;
    }
    // the pidfile first: a second instance is told so, before it touches the log
    let pidfile = opts.pidfile.map(|p| absolute(p, cwd.as_ref()));
    let created = pidfile
        .as_ref()
        .is_some_and(|p| sys::fs::lstat(p).is_err_and(|e| e.0 == libc::ENOENT));
    let mut pid_fd = match pidfile.as_ref() {
        Some(p) => match lock_pidfile(p.as_bytes()) {
            Ok(fd) => Some(fd),
            Err(code) => return code,
        },
        None => None,
    };
    // a start that fails from here on leaves no pidfile it created behind
    let give_up = |code: i32| {
        if let (true, Some(p)) = (created, pidfile.as_ref()) {
            let _ = sys::fs::unlink(p);
        }
        code
    };
    let mut sink = Sink::stdout();
    if let Err(code) = out::open_log(&mut sink, cfg.log.as_deref(), cfg.log_size, cfg.log_files) {
        return give_up(code);
    }
    if let Err(code) = out::attach_syslog(
        &mut sink,
        cfg.syslog.as_deref(),
        cfg.syslog_remote.as_deref(),
    ) {
        return give_up(code);
    }
    if let Some(tf) = cfg.textfile.as_deref() {
        if let Err(code) = out::check_textfile(tf) {
            return give_up(code);
        }
    }
    // bound before a --daemonize parent returns: a taken port is an exit code
    let metrics =
        match crate::metrics::Metrics::open(cfg.textfile.as_deref(), cfg.metrics_listen.as_deref())
        {
            Ok(m) => m,
            Err(code) => return give_up(code),
        };
    let procd = cfg.watchdog.as_deref().and_then(procd_ubus);
    let watchdog = match cfg.watchdog.as_deref() {
        None => None,
        Some(_) if procd.is_some() => None,
        Some(p) => match sys::open_write(&PathBuf::from(p)) {
            Ok(fd) => Some(fd),
            Err(e) => {
                out::error(&[b"cannot open watchdog ", p, b": ", e.text().as_bytes()]);
                return give_up(exit::FAILURE);
            }
        },
    };
    let mut pid = sys::getpid();
    if opts.daemonize {
        match sys::fork() {
            Err(e) => {
                out::error(&[b"cannot daemonize: fork: ", e.text().as_bytes()]);
                return exit::FAILURE;
            }
            Ok(0) => {
                sys::detach();
                pid = sys::getpid();
            }
            Ok(child) => {
                // the parent returns to the init script only once the
                // pidfile names the daemon
                let mut code = exit::OK;
                if let Some(fd) = pid_fd.as_mut() {
                    if let Err(e) = write_pid(fd, child) {
                        let _ = sys::kill(child, libc::SIGKILL);
                        out::error(&[b"cannot write pidfile: ", e.text().as_bytes()]);
                        code = exit::FAILURE;
                    }
                }
                sys::exit(code);
            }
        }
    } else if let Some(fd) = pid_fd.as_mut() {
        if let Err(e) = write_pid(fd, pid) {
            out::error(&[b"cannot write pidfile: ", e.text().as_bytes()]);
            return exit::FAILURE;
        }
    }
    let _ = pid;
    let Some(rt) = Runtime::the_one(watchdog, dry_run) else {
        return exit::FAILURE;
    };
    rt.dry_run_flag = opts.dry_run;
    rt.metrics = metrics;
    rt.procd = procd;
    agent_start(&mut sink, Stamp::now(0), b"run");
    previous_boot(&mut sink, cfg, rt);
    let mut pace = Sleeper::new(cfg, count);
    let Some(tables) = TABLES.take() else {
        return exit::FAILURE;
    };
    let mut held = Held { cfg, spare, tables };
    drive(
        &mut held,
        path.as_bytes(),
        cwd.as_ref(),
        rt,
        &mut sink,
        &mut pace,
    );
    rt.finish_children(&mut sink, cfg.exec_timeout_ms);
    sink.flush();
    rt.close_watchdog();
    if let (Some(p), Some(_)) = (pidfile.as_ref(), pid_fd.as_ref()) {
        let _ = sys::fs::unlink(p);
    }
    if sink.broken {
        out::error(&[b"stdout closed (EPIPE): memdog stopped"]);
        return exit::FAILURE;
    }
    exit::OK
}

/// `p` as an absolute path: relative ones are taken from `base` (the
/// directory memdog started in).
pub fn absolute(p: &[u8], base: Option<&PathBuf>) -> PathBuf {
    match base {
        Some(b) if !p.starts_with(b"/") && !p.is_empty() => {
            let mut full = b.clone();
            full.push(b"/").push(p);
            full
        }
        _ => PathBuf::from(p),
    }
}
