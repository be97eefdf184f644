//! `memdog run` and `memdog check`: the watchdog daemon. Samples like
//! `watch`, evaluates the config's rules on every sample and runs actions:
//! log, signal, exec (no shell, timeout, reaped, never blocks sampling),
//! watchdog (stop feeding /dev/watchdog after writing a reset reason), reboot.
//! SIGHUP re-reads the config (a bad one is logged and the old one kept);
//! SIGTERM/SIGINT flush the log and close the watchdog with the magic `V`.

use crate::cli::{Spec, Watch, MAX_SPECS};
use crate::config::{
    Action, Actions, Config, ConfigError, Parser, TargetKind, LINE_CAP, MAX_RULES, SYS_FIELD,
};
use crate::line::{push_timestamp, Line};
use crate::out::{self, exit, Sink};
use crate::policy::slope::Ring;
use crate::policy::{evaluate, Kind, Level, RuleState, Transition, MAX_SLOPE_RULES};
use crate::proc::maps::MapsSummary;
use crate::proc::meminfo::Meminfo;
use crate::proc::status::Status;
use crate::sys::{self, signals, ExecArgs, Fd, PathBuf};
use crate::watch::{Observer, Stamp, Tracked, Watcher};

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

/// Read and parse a config file; errors are `FILE:LINE: what` on stderr-ready form.
pub fn load(path: &[u8]) -> Result<Config, ConfigError> {
    let p = PathBuf::from(path);
    let mut fd = Fd::open_read(&p).map_err(|e| ConfigError {
        line: 0,
        msg: e.text(),
        got: heapless::Vec::new(),
    })?;
    // like sshd's StrictModes: root must not obey a file anyone can edit
    if sys::geteuid() == 0 && sys::mode_of(&fd).is_ok_and(|m| m & 0o002 != 0) {
        return Err(ConfigError {
            line: 0,
            msg: "config is world-writable; run chmod o-w on it",
            got: heapless::Vec::new(),
        });
    }
    let mut parser = Parser::new();
    let mut buf = [0u8; LINE_CAP];
    let mut res = Ok(());
    let r = crate::proc::for_each_line(&mut fd, &mut buf, |l| {
        if res.is_ok() {
            res = parser.line(l);
        }
    });
    if let Err(e) = r {
        return Err(ConfigError {
            line: 0,
            msg: e.text(),
            got: heapless::Vec::new(),
        });
    }
    res?;
    parser.finish()
}

fn config_error(path: &[u8], e: &ConfigError) {
    let mut b = [0u8; 20];
    let n = crate::num::fmt_u64(u64::from(e.line), &mut b);
    if e.got.is_empty() {
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
    match load(path) {
        Ok(c) => {
            print_config(&c);
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
            if let Kind::Slope { .. } = r.kind {
                l.push(b" slope");
            }
            l.push(if r.op == crate::policy::Op::Above {
                b" > "
            } else {
                b" < "
            });
            push_limit(&mut l, r.kind, r.limit);
            l.push(b" clear ");
            push_limit(&mut l, r.kind, r.clear);
            if let Kind::Slope { window_s } = r.kind {
                l.kv(b"over_s", u64::from(window_s));
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

fn push_limit(l: &mut Line, kind: Kind, v: u64) {
    match kind {
        Kind::Absolute => l.push_u64(v),
        Kind::PercentOfRam => {
            l.push_u64(v / 100);
            l.push(b"%");
        }
        Kind::Slope { .. } => {
            l.push_u64(v);
            l.push(b"kB/h");
        }
    }
}

struct Slot {
    /// Tracked::id, 0 = free
    id: u32,
    states: [RuleState; MAX_RULES],
    /// the slope rules' points, in the order of the slope rules
    rings: [Ring; MAX_SLOPE_RULES],
}

#[derive(Clone, Copy)]
struct Child {
    pid: u32,
    deadline_ns: u64,
    killed: bool,
}

/// State that survives a config reload.
pub struct Runtime {
    watchdog: Option<Fd>,
    /// the watchdog action fired: no more kicks, the hardware resets the board
    starving: bool,
    children: heapless::Vec<Child, MAX_CHILDREN>,
    dry_run: bool,
}

/// What the rules see and do; rebuilt on every (re)load.
struct Policy<'c> {
    cfg: &'c Config,
    rt: &'c mut Runtime,
    /// config target index for each watch spec
    spec_target: [usize; MAX_SPECS],
    system_target: Option<usize>,
    slots: [Slot; MAX_SLOTS],
    sys_states: [RuleState; MAX_RULES],
    sys_rings: [Ring; MAX_SLOPE_RULES],
    line: Line,
    mem_total: Option<u64>,
}

/// Who a transition is about.
struct Subject<'s> {
    target: usize,
    pid: Option<u32>,
    name: &'s [u8],
}

impl Policy<'_> {
    fn slot_of(&mut self, id: u32) -> Option<&mut Slot> {
        let i = match self.slots.iter().position(|s| s.id == id) {
            Some(i) => i,
            None => {
                let free = self.slots.iter().position(|s| s.id == 0)?;
                if let Some(s) = self.slots.get_mut(free) {
                    s.id = id;
                    s.states.iter_mut().for_each(RuleState::rebaseline);
                    s.rings.iter_mut().for_each(|r| *r = Ring::default());
                }
                free
            }
        };
        self.slots.get_mut(i)
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

    fn transition(&mut self, sink: &mut Sink, s: Stamp, who: &Subject, ri: usize, tr: Transition) {
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
        };
        self.line.kv(vkey, value);
        self.line.kv(
            lkey,
            if event == b"clear" {
                rule.clear
            } else {
                rule.limit
            },
        );
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
        for a in actions.iter() {
            self.act(
                sink,
                s,
                who,
                rule.level,
                cfg.field_name(rule.field),
                value,
                rule.limit,
                a,
            );
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
                let path = PathBuf::from(&self.cfg.reset_reason);
                if let Err(e) = sys::write_file_synced(&path, reason.finish()) {
                    self.line.kv_str(b"reset_reason_error", e.text().as_bytes());
                }
                if self.rt.watchdog.is_some() {
                    self.rt.starving = true;
                    self.line.push(b" feeding=stopped");
                } else {
                    self.line.push(b" error=no-watchdog-device");
                }
            }
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
        });
        Ok(child)
    }

    /// `memdog dump PID --raw DIR/memdog-PID-SECS.raw --quiet`, run like an exec action.
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
        let child = self.start_child(&args)?;
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
        mem_total: Option<u64>,
    ) {
        let cfg = self.cfg;
        let Some(t) = cfg.targets.get(who.target) else {
            return;
        };
        let t_ms = s.up_ns / 1_000_000;
        let mut slopes = 0;
        for (ri, rule) in t.rules.iter().enumerate() {
            let is_slope = matches!(rule.kind, Kind::Slope { .. });
            slopes += usize::from(is_slope);
            let Some(v) = get(rule.field) else { continue };
            let (states, rings) = match slot_id {
                Some(id) => match self.slot_of(id) {
                    Some(slot) => (&mut slot.states, &mut slot.rings),
                    None => return, // no free slot: logged once at start-up sizing
                },
                None => (&mut self.sys_states, &mut self.sys_rings),
            };
            let Some(st) = states.get_mut(ri) else {
                continue;
            };
            let ring = if is_slope {
                rings.get_mut(slopes - 1)
            } else {
                None
            };
            if let Some(tr) = evaluate(rule, st, ring, t_ms, v, mem_total) {
                self.transition(sink, s, who, ri, tr);
            }
        }
    }
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
        let total = self.mem_total;
        self.eval(
            sink,
            s,
            &who,
            Some(t.id),
            &|f| process_value(f, st, maps),
            total,
        );
    }

    fn on_exit(&mut self, _sink: &mut Sink, _s: Stamp, t: &Tracked) {
        // re-baseline: a restarted process starts with fresh rule state
        if let Some(slot) = self.slots.iter_mut().find(|s| s.id == t.id) {
            slot.id = 0;
        }
    }

    fn on_meminfo(&mut self, sink: &mut Sink, s: Stamp, m: &Meminfo) {
        self.mem_total = m.get(b"MemTotal");
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
        let total = self.mem_total;
        self.eval(sink, s, &who, None, &get, total);
    }
}

impl Runtime {
    fn kick(&mut self) {
        if self.starving {
            return;
        }
        if let Some(wd) = self.watchdog.as_mut() {
            let _ = wd.write_bytes(b"\0");
        }
    }

    /// Reap finished exec actions, kill those past their timeout.
    fn tend_children(&mut self, sink: &mut Sink) {
        while let Some((pid, code)) = sys::reap() {
            if let Some(i) = self.children.iter().position(|c| c.pid == pid) {
                self.children.swap_remove(i);
                let mut l = Line::new();
                push_timestamp(&mut l, sys::realtime().0);
                l.kv_secs(b"up", sys::boottime_ns());
                l.push(b" event=exec-exit");
                l.kv(b"child", u64::from(pid));
                l.push(b" status=");
                if code < 0 {
                    l.push(b"unknown");
                } else {
                    l.push_u64(code as u64);
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

enum Outcome {
    Stop,
    Reload,
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
            if (crate::cli::HEAP..=crate::cli::FILE).contains(&usize::from(r.field)) {
                w.fields.0 |= 1 << r.field;
            }
        }
    }
    (w, map, system)
}

/// One config's life: sample, evaluate, act, until a signal says stop or reload.
fn serve(cfg: &Config, rt: &mut Runtime, sink: &mut Sink, count: Option<u64>) -> Outcome {
    let (w, spec_target, system_target) = watch_opts(cfg);
    let mut watcher = Watcher::new(w);
    watcher.textfile = cfg.textfile.as_deref().map(crate::watch::Textfile::new);
    let mut policy = Policy {
        cfg,
        rt,
        spec_target,
        system_target,
        slots: core::array::from_fn(|_| Slot {
            id: 0,
            states: Default::default(),
            rings: Default::default(),
        }),
        sys_states: Default::default(),
        sys_rings: Default::default(),
        line: Line::new(),
        mem_total: None,
    };
    let interval_ns = cfg.interval_ms.saturating_mul(1_000_000);
    let kick_ns = cfg.watchdog_kick_ms.saturating_mul(1_000_000).max(1);
    let mut deadline = sys::monotonic_ns();
    loop {
        watcher.tick(sink, &mut policy);
        policy.rt.kick();
        sink.flush();
        if count.is_some_and(|c| watcher.seq >= c) {
            return Outcome::Stop;
        }
        deadline = deadline.saturating_add(interval_ns);
        let now = sys::monotonic_ns();
        if now > deadline {
            let missed = (now - deadline) / interval_ns.max(1) + 1;
            deadline = deadline.saturating_add(missed.saturating_mul(interval_ns));
        }
        // sleep to the next sample, waking to kick the watchdog and tend exec children
        loop {
            if signals::stop_requested() {
                return Outcome::Stop;
            }
            if signals::take_hup() {
                return Outcome::Reload;
            }
            policy.rt.tend_children(sink);
            let now = sys::monotonic_ns();
            if now >= deadline {
                break;
            }
            let mut wake = deadline;
            if policy.rt.watchdog.is_some() && !policy.rt.starving {
                wake = wake.min(now + kick_ns);
            }
            if !policy.rt.children.is_empty() {
                wake = wake.min(now + 50_000_000);
            }
            sys::sleep_until_monotonic(wake);
            if wake < deadline {
                policy.rt.kick();
            }
        }
    }
}

/// `memdog run -c CONFIG`. `count` stops after that many samples (tests).
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn run(opts: RunOpts, count: Option<u64>) -> i32 {
    let mut cfg = match load(opts.config) {
        Ok(c) => c,
        Err(e) => {
            config_error(opts.config, &e);
            return exit::USAGE;
        }
    };
    let dry_run = opts.dry_run || cfg.dry_run;
    let mut sink = Sink::stdout();
    if let Err(code) = out::open_log(&mut sink, cfg.log.as_deref(), cfg.log_size, cfg.log_files) {
        return code;
    }
    if let Err(code) = out::attach_syslog(
        &mut sink,
        cfg.syslog.as_deref(),
        cfg.syslog_remote.as_deref(),
    ) {
        return code;
    }
    let watchdog = match cfg.watchdog.as_deref() {
        None => None,
        Some(p) => match sys::open_write(&PathBuf::from(p)) {
            Ok(fd) => Some(fd),
            Err(e) => {
                out::error(&[b"cannot open watchdog ", p, b": ", e.text().as_bytes()]);
                return exit::FAILURE;
            }
        },
    };
    if opts.daemonize {
        if let Err(e) = sys::daemonize() {
            out::error(&[b"cannot daemonize: ", e.text().as_bytes()]);
            return exit::FAILURE;
        }
    }
    if let Some(pf) = opts.pidfile {
        let mut b = [0u8; 20];
        let mut text: heapless::Vec<u8, 21> = heapless::Vec::new();
        let _ = text.extend_from_slice(crate::num::fmt_u64(u64::from(sys::getpid()), &mut b));
        let _ = text.push(b'\n');
        if let Err(e) = sys::write_file_synced(&PathBuf::from(pf), &text) {
            out::error(&[b"cannot write pidfile ", pf, b": ", e.text().as_bytes()]);
            return exit::FAILURE;
        }
    }
    signals::install();
    let mut rt = Runtime {
        watchdog,
        starving: false,
        children: heapless::Vec::new(),
        dry_run,
    };
    loop {
        match serve(&cfg, &mut rt, &mut sink, count) {
            Outcome::Stop => break,
            Outcome::Reload => {
                let mut l = Line::new();
                push_timestamp(&mut l, sys::realtime().0);
                l.kv_secs(b"up", sys::boottime_ns());
                match load(opts.config) {
                    Ok(new) => {
                        cfg = new;
                        rt.dry_run = opts.dry_run || cfg.dry_run;
                        l.push(b" event=reload status=ok");
                    }
                    Err(e) => {
                        l.push(b" event=reload status=error kept=old");
                        l.kv(b"line", u64::from(e.line));
                        l.kv_str(b"error", e.msg.as_bytes());
                        l.kv_str(b"got", &e.got);
                    }
                }
                sink.write_event(l.finish());
                sink.flush();
            }
        }
    }
    rt.tend_children(&mut sink);
    sink.flush();
    rt.close_watchdog();
    exit::OK
}
