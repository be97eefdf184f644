//! The config file: `key = value` lines, `#` comments, a global part, then
//! `[system]` and `[target LABEL]` sections. Written to be edited with vi
//! over a serial console; board-configs/default.conf documents every key.
//! Unknown keys are errors: a typo must not silently disable a threshold.

use crate::num::is;
use crate::num::{parse_u32, parse_u64, trim};
use crate::policy::{Kind, Level, Op, Rule, MAX_SLOPE_RULES};
use crate::units::{
    field_index, parse_duration_ms, parse_log_size, signal_number, Fields, LOG_SIZE_WORDS,
};

/// Targets per config: a board watches a handful of daemons plus itself.
pub const MAX_TARGETS: usize = 8;
/// Threshold lines per target.
pub const MAX_RULES: usize = 8;
/// Actions per level (log, signal, exec, watchdog, reboot).
pub const MAX_ACTIONS: usize = 5;
/// Paths (log, pidfile, watchdog device): board paths are short.
pub const STR_CAP: usize = 128;
/// An exec command line: a path and a few arguments.
pub const EXEC_CAP: usize = 160;
/// exec actions per config (a global pair plus a few targets'); their
/// command lines live once in [`Config::execs`], so an action is 8 bytes,
/// not 164: a Config is copied on every reload and was 24 KiB of stack.
pub const MAX_EXECS: usize = 16;
/// Longest config line; longer is an error, never a silent cut.
pub const LINE_CAP: usize = 512;
/// meminfo keys named by [system] rules.
pub const MAX_KEYS: usize = 8;

/// The keys /proc/meminfo has had from 2.6.32 to 6.x (mm/ and
/// fs/proc/meminfo.c): a [system] rule on anything else can never fire,
/// so it is an error, not silence. Counts, not kB, for the HugePages_ ones.
pub const MEMINFO_KEYS: &[&str] = &[
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "Buffers",
    "Cached",
    "SwapCached",
    "Active",
    "Inactive",
    "Active(anon)",
    "Inactive(anon)",
    "Active(file)",
    "Inactive(file)",
    "Unevictable",
    "Mlocked",
    "HighTotal",
    "HighFree",
    "LowTotal",
    "LowFree",
    "MmapCopy",
    "SwapTotal",
    "SwapFree",
    "Zswap",
    "Zswapped",
    "Dirty",
    "Writeback",
    "AnonPages",
    "Mapped",
    "Shmem",
    "KReclaimable",
    "Slab",
    "SReclaimable",
    "SUnreclaim",
    "KernelStack",
    "ShadowCallStack",
    "PageTables",
    "SecPageTables",
    "NFS_Unstable",
    "Bounce",
    "WritebackTmp",
    "CommitLimit",
    "Committed_AS",
    "VmallocTotal",
    "VmallocUsed",
    "VmallocChunk",
    "Percpu",
    "HardwareCorrupted",
    "AnonHugePages",
    "ShmemHugePages",
    "ShmemPmdMapped",
    "FileHugePages",
    "FilePmdMapped",
    "CmaTotal",
    "CmaFree",
    "Unaccepted",
    "HugePages_Total",
    "HugePages_Free",
    "HugePages_Rsvd",
    "HugePages_Surp",
    "Hugepagesize",
    "Hugetlb",
    "DirectMap4k",
    "DirectMap2M",
    "DirectMap4M",
    "DirectMap1G",
    "Quicklists",
];

/// Is this field a count rather than kB (a `%` of MemTotal means nothing
/// for it; a slope of it is no bytes per second)? The pressure fields are
/// a percentage and microseconds.
pub fn is_count(name: &[u8]) -> bool {
    name == b"Threads"
        || name == b"nthreadstacks"
        || name.starts_with(b"HugePages_")
        || (cfg!(feature = "fields-extra") && (name == b"fds" || name.starts_with(b"psi_")))
}

/// A pressure average (`psi_some_avg10`): its limits are percentages with
/// up to two decimals, kept in hundredths.
pub fn is_centi(name: &[u8]) -> bool {
    cfg!(feature = "fields-extra") && name.starts_with(b"psi_") && name.ends_with(b"_avg10")
}

pub type Str = heapless::Vec<u8, STR_CAP>;
pub type Key = crate::proc::meminfo::Key;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Log,
    Signal(i32),
    /// index into [`Config::execs`]
    Exec(u8),
    Watchdog,
    Reboot,
    /// save the heap as `dump_dir/memdog-PID-TIME.raw` (for `memdog dump --diff`)
    #[cfg(feature = "dump")]
    Dump,
}

impl Action {
    /// The dump action (never, in a build without `dump`).
    pub fn is_dump(&self) -> bool {
        #[cfg(feature = "dump")]
        return *self == Action::Dump;
        #[cfg(not(feature = "dump"))]
        false
    }
}

pub type Actions = heapless::Vec<Action, MAX_ACTIONS>;
pub type ExecLine = heapless::Vec<u8, EXEC_CAP>;
pub type Execs = heapless::Vec<ExecLine, MAX_EXECS>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// /proc/meminfo: rule fields are meminfo keys
    System,
    Pid(u32),
    SelfPid,
    Name(Str),
    Pidfile(Str),
}

#[derive(Clone, Debug)]
pub struct Target {
    pub label: heapless::Vec<u8, 32>,
    pub kind: Option<TargetKind>,
    pub rules: heapless::Vec<Rule, MAX_RULES>,
    pub on_warn: Option<Actions>,
    pub on_crit: Option<Actions>,
    line: u32,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub interval_ms: u64,
    pub log: Option<Str>,
    pub log_size: u64,
    pub log_files: u32,
    pub proc_root: Str,
    pub fields: Fields,
    pub cooldown_s: u32,
    pub exec_timeout_ms: u64,
    pub watchdog: Option<Str>,
    pub watchdog_kick_ms: u64,
    /// WDIOC_SETTIMEOUT at start, seconds (the driver's answer is logged)
    pub watchdog_timeout_s: Option<u32>,
    pub reset_reason: Str,
    /// where the `dump` action saves heap dumps
    pub dump_dir: Str,
    pub dry_run: bool,
    /// local syslog socket, remote syslog IP:PORT, Prometheus textfile
    pub syslog: Option<Str>,
    pub syslog_remote: Option<Str>,
    pub textfile: Option<Str>,
    /// the `/metrics` endpoint's ADDR:PORT (off when None)
    pub metrics_listen: Option<Str>,
    pub on_warn: Actions,
    pub on_crit: Actions,
    pub targets: heapless::Vec<Target, MAX_TARGETS>,
    /// meminfo keys used by [system] rules; a rule's field is 1000 + index here
    pub keys: heapless::Vec<Key, MAX_KEYS>,
    /// command lines of the exec actions
    pub execs: Execs,
}

/// A rule field >= this is a meminfo key index (+ SYS_FIELD), else a process field.
pub const SYS_FIELD: u16 = 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub line: u32,
    pub msg: &'static str,
    pub got: heapless::Vec<u8, 48>,
}

impl ConfigError {
    fn new(line: u32, msg: &'static str, got: &[u8]) -> ConfigError {
        let mut g = heapless::Vec::new();
        let _ = g.extend_from_slice(got.get(..got.len().min(48)).unwrap_or(&[]));
        ConfigError { line, msg, got: g }
    }
}

fn fail<T>(line: u32, msg: &'static str, got: &[u8]) -> Result<T, ConfigError> {
    Err(ConfigError::new(line, msg, got))
}

/// An error inside one line: the message and the offending word, borrowed
/// from the line. Three words to return (a ConfigError is 60 bytes, copied
/// through every `?`); [`Parser::line`] adds the line number and copies the
/// word once.
#[derive(Clone, Copy, Debug)]
pub struct Bad<'a> {
    msg: &'static str,
    got: &'a [u8],
}

fn bad<'a, T>(msg: &'static str, got: &'a [u8]) -> Result<T, Bad<'a>> {
    Err(Bad { msg, got })
}

fn str_of(v: &[u8]) -> Result<Str, Bad<'_>> {
    Str::from_slice(v).or_else(|_| bad("value too long (at most 127 bytes)", v))
}

fn yes_no(v: &[u8]) -> Result<bool, Bad<'_>> {
    match v {
        kw if is(kw, b"yes") || is(kw, b"true") || is(kw, b"on") || is(kw, b"1") => Ok(true),
        kw if is(kw, b"no") || is(kw, b"false") || is(kw, b"off") || is(kw, b"0") => Ok(false),
        _ => bad("expected yes or no", v),
    }
}

fn parse_actions<'a>(v: &'a [u8], system: bool, execs: &mut Execs) -> Result<Actions, Bad<'a>> {
    let mut out = Actions::new();
    let mut rest = v;
    while !trim(rest).is_empty() {
        let r = trim(rest);
        // exec takes the rest of the line, commas included
        let (item, next): (&[u8], &[u8]) = if r.starts_with(b"exec ") {
            (r, &[])
        } else {
            match r.iter().position(|&b| b == b',') {
                Some(i) => (
                    trim(r.get(..i).unwrap_or(&[])),
                    r.get(i + 1..).unwrap_or(&[]),
                ),
                None => (r, &[]),
            }
        };
        rest = next;
        let (word, arg) = crate::num::next_token(item);
        let arg = trim(arg);
        let a = match word {
            kw if is(kw, b"log") => Action::Log,
            kw if is(kw, b"watchdog") => Action::Watchdog,
            kw if is(kw, b"reboot") => Action::Reboot,
            kw if is(kw, b"signal") && system => {
                return bad("signal needs a process: not in [system]", item)
            }
            kw if is(kw, b"signal") => Action::Signal(signal_number(arg).map_or_else(
                || {
                    bad("signal needs a name like TERM, USR1 or a number 1-64",
                        arg,
                    )
                },
                Ok,
            )?),
            kw if is(kw, b"exec") => {
                if !arg.starts_with(b"/") {
                    return bad("exec needs an absolute path (no shell, no PATH search)",
                        arg,
                    );
                }
                // exec takes the rest of the line: `exec /bin/x, dump` would
                // run /bin/x with the arguments `,` and `dump`
                let mut words = arg.split(|&b| b == b',').skip(1);
                if words.any(|w| {
                    let (first, _) = crate::num::next_token(trim(w));
                    [&b"log"[..], b"signal", b"exec", b"dump", b"watchdog", b"reboot"].contains(&first)
                }) {
                    return bad("exec takes the rest of the line: put it last in the list", arg);
                }
                let line = ExecLine::from_slice(arg)
                    .or_else(|_| bad("exec line too long (at most 159 bytes)", arg))?;
                let i = execs.len() as u8;
                execs
                    .push(line)
                    .or_else(|_| bad("too many exec actions (at most 16 per config)", arg))?;
                Action::Exec(i)
            }
            kw if is(kw, b"dump") && system => return bad("dump needs a process: not in [system]", item),
            #[cfg(not(feature = "dump"))]
            kw if is(kw, b"dump") => return bad(crate::inspect::NO_DUMP, item),
            #[cfg(feature = "dump")]
            kw if is(kw, b"dump") => Action::Dump,
            _ => {
                return bad("unknown action (expected log, signal SIG, exec /path args, dump, watchdog, reboot)",
                    item,
                )
            }
        };
        if out.push(a).is_err() {
            return bad("too many actions (at most 5)", item);
        }
    }
    if out.is_empty() {
        return bad("expected at least one action", v);
    }
    Ok(out)
}

impl Config {
    pub fn new() -> Config {
        let mut c = Config {
            interval_ms: 0,
            log: None,
            log_size: 0,
            log_files: 0,
            proc_root: Str::new(),
            fields: Fields(0),
            cooldown_s: 0,
            exec_timeout_ms: 0,
            watchdog: None,
            watchdog_kick_ms: 0,
            watchdog_timeout_s: None,
            reset_reason: Str::new(),
            dump_dir: Str::new(),
            dry_run: false,
            syslog: None,
            syslog_remote: None,
            textfile: None,
            metrics_listen: None,
            on_warn: Actions::new(),
            on_crit: Actions::new(),
            targets: heapless::Vec::new(),
            keys: heapless::Vec::new(),
            execs: heapless::Vec::new(),
        };
        c.reset();
        c
    }

    /// The defaults, written in place field by field (a config lives in
    /// .bss in the daemon: a `*self = Config::new()` would build its 9 KB on
    /// the stack first). The destructuring makes a new field a compile
    /// error here until it gets its default.
    pub fn reset(&mut self) {
        let Config {
            interval_ms,
            log,
            log_size,
            log_files,
            proc_root,
            fields,
            cooldown_s,
            exec_timeout_ms,
            watchdog,
            watchdog_kick_ms,
            watchdog_timeout_s,
            reset_reason,
            dump_dir,
            dry_run,
            syslog,
            syslog_remote,
            textfile,
            metrics_listen,
            on_warn,
            on_crit,
            targets,
            keys,
            execs,
        } = self;
        *interval_ms = 60_000;
        *log = None;
        *log_size = 64 * 1024;
        *log_files = 4;
        set_str(proc_root, b"/proc");
        *fields = Fields::default_set();
        *cooldown_s = 600;
        *exec_timeout_ms = 10_000;
        *watchdog = None;
        *watchdog_kick_ms = 5_000;
        *watchdog_timeout_s = None;
        set_str(reset_reason, b"/var/lib/memdog.reset-reason");
        set_str(dump_dir, b"/tmp");
        *dry_run = false;
        *syslog = None;
        *syslog_remote = None;
        *textfile = None;
        *metrics_listen = None;
        on_warn.clear();
        let _ = on_warn.push(Action::Log);
        on_crit.clear();
        let _ = on_crit.push(Action::Log);
        targets.clear();
        keys.clear();
        execs.clear();
    }

    /// Parse a whole config held in memory (tests, fuzzing).
    pub fn parse_text(text: &[u8]) -> Result<Config, ConfigError> {
        let mut c = Config::new();
        let mut p = Parser::new(&mut c);
        for line in text.split(|&b| b == b'\n') {
            p.line(line)?;
        }
        p.finish()?;
        Ok(c)
    }

    fn key_index<'a>(&mut self, key: &'a [u8]) -> Result<u16, Bad<'a>> {
        if let Some(i) = self.keys.iter().position(|k| &k[..] == key) {
            return Ok(SYS_FIELD + i as u16);
        }
        let k = Key::from_slice(key).or_else(|_| bad("meminfo key too long", key))?;
        self.keys
            .push(k)
            .or_else(|_| bad("too many meminfo keys in rules (at most 8)", key))?;
        Ok(SYS_FIELD + (self.keys.len() - 1) as u16)
    }

    /// Relative paths (log, textfile, pidfiles, devices, dump_dir, ...) made
    /// absolute against `base`, the directory memdog started in: a daemon
    /// moves to `/`, and a path must mean the same after that.
    pub fn make_absolute(&mut self, base: &[u8]) -> Result<(), ConfigError> {
        let fix = |p: &mut Str| -> Result<(), ConfigError> {
            if p.starts_with(b"/") || p.is_empty() {
                return Ok(());
            }
            let mut full = Str::new();
            let ok = full.extend_from_slice(base).is_ok()
                && full.push(b'/').is_ok()
                && full.extend_from_slice(p).is_ok();
            if !ok {
                return fail(0, "a relative path is too long once made absolute (at most 127 bytes): write it absolute", p);
            }
            *p = full;
            Ok(())
        };
        for p in [
            &mut self.log,
            &mut self.textfile,
            &mut self.watchdog,
            &mut self.syslog,
        ]
        .into_iter()
        .flatten()
        {
            if !p.starts_with(b"procd") {
                fix(p)?;
            }
        }
        fix(&mut self.reset_reason)?;
        fix(&mut self.dump_dir)?;
        fix(&mut self.proc_root)?;
        for t in self.targets.iter_mut() {
            if let Some(TargetKind::Pidfile(p)) = t.kind.as_mut() {
                fix(p)?;
            }
        }
        Ok(())
    }

    /// The command line of an exec action.
    pub fn exec_line(&self, i: u8) -> &[u8] {
        self.execs.get(usize::from(i)).map_or(&[], |l| &l[..])
    }

    /// The name of a rule's field.
    pub fn field_name(&self, f: u16) -> &[u8] {
        if f >= SYS_FIELD {
            self.keys
                .get(usize::from(f - SYS_FIELD))
                .map_or(b"?", |k| &k[..])
        } else {
            Fields::name(usize::from(f)).as_bytes()
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// Line-by-line parser, so a config streams through a small buffer.
/// Parses into a config it is given (in place: the daemon's live in .bss).
pub struct Parser<'c> {
    pub cfg: &'c mut Config,
    n: u32,
    err: Option<ConfigError>,
    /// global keys set so far, by their index in GLOBAL_KEYS
    seen: u32,
    /// per-section keys set so far: kind, on_warn, on_crit
    seen_target: u8,
    /// (section, rule, line) of each eta rule, for finish's limit check
    #[cfg(feature = "forecast")]
    eta_lines: heapless::Vec<(u8, u8, u32), { MAX_TARGETS * MAX_SLOPE_RULES }>,
}

/// Global keys: each may be set once (a second `interval =` is a typo or
/// a forgotten edit, never what was meant).
const GLOBAL_KEYS: [&str; 20] = [
    "interval",
    "log",
    "log_size",
    "log_files",
    "proc_root",
    "fields",
    "cooldown",
    "exec_timeout",
    "watchdog_device",
    "watchdog_kick",
    "watchdog_timeout",
    "reset_reason",
    "dump_dir",
    "dry_run",
    "syslog",
    "syslog_remote",
    "textfile",
    "metrics_listen",
    "on_warn",
    "on_crit",
];

impl<'c> Parser<'c> {
    /// Resets `cfg` to the defaults; the lines then fill it.
    pub fn new(cfg: &'c mut Config) -> Parser<'c> {
        cfg.reset();
        Parser {
            cfg,
            n: 0,
            err: None,
            seen: 0,
            seen_target: 0,
            #[cfg(feature = "forecast")]
            eta_lines: heapless::Vec::new(),
        }
    }

    /// Feed one line; the first error is kept and later lines are ignored.
    pub fn line(&mut self, raw: &[u8]) -> Result<(), ConfigError> {
        self.n += 1;
        if let Some(e) = &self.err {
            return Err(e.clone());
        }
        match self.line_inner(raw) {
            Ok(()) => Ok(()),
            Err(b) => {
                let e = ConfigError::new(self.n, b.msg, b.got);
                self.err = Some(e.clone());
                Err(e)
            }
        }
    }

    fn line_inner<'a>(&mut self, raw: &'a [u8]) -> Result<(), Bad<'a>> {
        if raw.len() >= LINE_CAP {
            return bad("line too long (at most 511 bytes)", raw);
        }
        // an editor's invisible UTF-8 byte order mark
        let raw = match raw.strip_prefix(b"\xef\xbb\xbf") {
            Some(r) if self.n == 1 => r,
            _ => raw,
        };
        // a comment starts with `#` at the start or after a blank, so an
        // exec argument like `tag#1` keeps its `#`
        let hash = raw.iter().enumerate().position(|(i, &b)| {
            b == b'#' && (i == 0 || matches!(raw.get(i - 1), Some(b' ' | b'\t')))
        });
        let text = match hash {
            Some(i) => raw.get(..i).unwrap_or(&[]),
            None => raw,
        };
        let text = trim(text);
        if text.is_empty() {
            return Ok(());
        }
        if text.iter().any(|&b| b < b' ' && b != b'\t' || b == 0x7f) {
            return bad("control characters in line (binary file?)", text);
        }
        if let Some(inner) = text.strip_prefix(b"[").and_then(|t| t.strip_suffix(b"]")) {
            return self.section(trim(inner));
        }
        let Some(eq) = text.iter().position(|&b| b == b'=') else {
            return bad("expected `key = value` or a [section]", text);
        };
        let key = trim(text.get(..eq).unwrap_or(&[]));
        let val = trim(text.get(eq + 1..).unwrap_or(&[]));
        if val.is_empty() {
            return bad("missing value after `=`", key);
        }
        let in_target = !self.cfg.targets.is_empty();
        if in_target {
            self.target_key(key, val)
        } else {
            self.global_key(key, val)
        }
    }

    fn section<'a>(&mut self, inner: &'a [u8]) -> Result<(), Bad<'a>> {
        let (word, label) = crate::num::next_token(inner);
        let label = trim(label);
        let kind = match word {
            kw if is(kw, b"system") && label.is_empty() => Some(TargetKind::System),
            kw if is(kw, b"target") && !label.is_empty() => None,
            _ => return bad("expected [system] or [target LABEL]", inner),
        };
        let label = if label.is_empty() {
            &b"system"[..]
        } else {
            label
        };
        let is_system = matches!(kind, Some(TargetKind::System));
        for t in self.cfg.targets.iter() {
            if matches!(t.kind, Some(TargetKind::System)) && is_system {
                return bad("[system] appears twice (merge the two sections)", inner);
            }
            if !is_system && &t.label[..] == label {
                return bad(
                    "two sections with this label (labels name rules in the log: make them unique)",
                    label,
                );
            }
        }
        self.seen_target = 0;
        let t = Target {
            label: heapless::Vec::from_slice(label)
                .or_else(|_| bad("label too long (at most 32 bytes)", label))?,
            kind,
            rules: heapless::Vec::new(),
            on_warn: None,
            on_crit: None,
            line: self.n,
        };
        self.cfg
            .targets
            .push(t)
            .or_else(|_| bad("too many sections (at most 8)", inner))
    }

    fn global_key<'a>(&mut self, key: &'a [u8], val: &'a [u8]) -> Result<(), Bad<'a>> {
        if let Some(i) = GLOBAL_KEYS.iter().position(|k| k.as_bytes() == key) {
            if self.seen & (1 << i) != 0 {
                return bad("this key is set twice (remove one of the lines)", key);
            }
            self.seen |= 1 << i;
        }
        let c = &mut self.cfg;
        match key {
            kw if is(kw, b"interval") => {
                c.interval_ms = parse_duration_ms(val).map_or_else(
                    || {
                        bad(
                            "interval needs a duration from 1ms to 7d, like 10s, 10m",
                            val,
                        )
                    },
                    Ok,
                )?
            }
            kw if is(kw, b"log") => {
                c.log = if val == b"-" {
                    None
                } else {
                    Some(str_of(val)?)
                }
            }
            kw if is(kw, b"log_size") => {
                c.log_size = parse_log_size(val).map_or_else(|| bad(LOG_SIZE_WORDS, val), Ok)?
            }
            kw if is(kw, b"log_files") => {
                c.log_files = parse_u32(val)
                    .filter(|&v| v.wrapping_sub(1) < 16) // 1..=16, one compare
                    .map_or_else(|| bad("log_files needs a number from 1 to 16", val), Ok)?
            }
            kw if is(kw, b"proc_root") => c.proc_root = str_of(val)?,
            kw if is(kw, b"fields") => {
                let mut f = Fields(0);
                for name in val
                    .split(|&b| b == b',')
                    .map(trim)
                    .filter(|x| !x.is_empty())
                {
                    let i = field_index(name)
                        .map_or_else(|| bad("unknown field (see memdog --help)", name), Ok)?;
                    f.0 |= 1 << i;
                }
                if f.0 == 0 {
                    return bad("fields needs at least one field, like VmRSS,VmSize", val);
                }
                c.fields = f;
            }
            kw if is(kw, b"cooldown") => c.cooldown_s = dur_s(val)?,
            kw if is(kw, b"exec_timeout") => {
                c.exec_timeout_ms = parse_duration_ms(val)
                    .map_or_else(|| bad("exec_timeout needs a duration, like 10s", val), Ok)?
            }
            kw if is(kw, b"watchdog_device") => c.watchdog = Some(str_of(val)?),
            kw if is(kw, b"watchdog_timeout") => {
                let t = dur_s(val)?;
                if t == 0 || t > 65_535 {
                    return bad(
                        "watchdog_timeout needs whole seconds from 1s to 65535s, like 30s",
                        val,
                    );
                }
                c.watchdog_timeout_s = Some(t);
            }
            kw if is(kw, b"watchdog_kick") => {
                c.watchdog_kick_ms = parse_duration_ms(val)
                    .map_or_else(|| bad("watchdog_kick needs a duration, like 5s", val), Ok)?
            }
            kw if is(kw, b"reset_reason") => c.reset_reason = str_of(val)?,
            kw if is(kw, b"dump_dir") => c.dump_dir = str_of(val)?,
            kw if is(kw, b"dry_run") => c.dry_run = yes_no(val)?,
            kw if is(kw, b"syslog") => {
                c.syslog = match val {
                    kw if is(kw, b"no") || is(kw, b"off") => None,
                    kw if is(kw, b"yes") || is(kw, b"on") => Some(str_of(b"/dev/log")?),
                    p if p.starts_with(b"/") => Some(str_of(p)?),
                    _ => return bad("syslog takes yes, no or a socket path like /dev/log", val),
                };
                if !cfg!(feature = "syslog") && c.syslog.is_some() {
                    return bad(crate::out::NO_SYSLOG, val);
                }
            }
            kw if is(kw, b"syslog_remote") && !cfg!(feature = "syslog") => {
                return bad(crate::out::NO_SYSLOG, val)
            }
            kw if is(kw, b"syslog_remote") => {
                if crate::units::parse_ipv4_port(val).is_none() {
                    return bad("syslog_remote needs a numeric IPv4 address and port, like 192.168.1.10:514", val);
                }
                c.syslog_remote = Some(str_of(val)?)
            }
            kw if is(kw, b"textfile") && !cfg!(feature = "metrics") => {
                return bad(crate::metrics::NO_METRICS, val)
            }
            kw if is(kw, b"textfile") => c.textfile = Some(str_of(val)?),
            kw if is(kw, b"metrics_listen") => {
                if let Some(why) = crate::metrics::check_listen(val) {
                    return bad(why, val);
                }
                c.metrics_listen = Some(str_of(val)?)
            }
            kw if is(kw, b"on_warn") => c.on_warn = parse_actions(val, false, &mut c.execs)?,
            kw if is(kw, b"on_crit") => c.on_crit = parse_actions(val, false, &mut c.execs)?,
            _ => return bad("unknown global key (see board-configs/default.conf)", key),
        }
        Ok(())
    }

    fn target_key<'a>(&mut self, key: &'a [u8], val: &'a [u8]) -> Result<(), Bad<'a>> {
        let system = matches!(
            self.cfg.targets.last().and_then(|t| t.kind.as_ref()),
            Some(TargetKind::System)
        );
        let kind = match key {
            kw if is(kw, b"pid") && !system => Some(if val == b"self" {
                TargetKind::SelfPid
            } else {
                TargetKind::Pid(
                    parse_u32(val)
                        .filter(|&p| p > 0)
                        .map_or_else(|| bad("pid needs a process id or `self`", val), Ok)?,
                )
            }),
            kw if is(kw, b"self") && !system => {
                if !yes_no(val)? {
                    return bad("self = no watches nothing; remove the line", val);
                }
                Some(TargetKind::SelfPid)
            }
            kw if is(kw, b"name") && !system => Some(TargetKind::Name(str_of(val)?)),
            kw if is(kw, b"pidfile") && !system => Some(TargetKind::Pidfile(str_of(val)?)),
            _ => None,
        };
        if let Some(k) = kind {
            let t = self
                .cfg
                .targets
                .last_mut()
                .map_or_else(|| bad("no section", key), Ok)?;
            if t.kind.is_some() {
                return bad("a target takes one of pid, self, name, pidfile", key);
            }
            t.kind = Some(k);
            return Ok(());
        }
        match key {
            kw if is(kw, b"warn") || is(kw, b"crit") => {
                let level = if key == b"warn" { Level::Warn } else { Level::Crit };
                let rule = self.rule(val, level, system)?;
                #[cfg(feature = "forecast")]
                let ti = self.cfg.targets.len().saturating_sub(1) as u8;
                let t = self.cfg.targets.last_mut().map_or_else(|| bad("no section", key), Ok)?;
                let slope = |r: &Rule| r.kind.window_s().is_some();
                if slope(&rule) && t.rules.iter().filter(|r| slope(r)).count() >= MAX_SLOPE_RULES {
                    return bad("too many slope and eta rules in this section (at most 4)", val);
                }
                #[cfg(feature = "forecast")]
                if matches!(rule.kind, Kind::Eta { .. }) {
                    // its limit may come later in the section: checked by finish
                    let _ = self.eta_lines.push((ti, t.rules.len() as u8, self.n));
                }
                t.rules.push(rule).or_else(|_| bad("too many rules in this section (at most 8)", val))
            }
            kw if is(kw, b"on_warn") || is(kw, b"on_crit") => {
                let bit = if key == b"on_warn" { 1 } else { 2 };
                if self.seen_target & bit != 0 {
                    return bad("this key is set twice in this section (remove one of the lines)", key);
                }
                self.seen_target |= bit;
                let a = parse_actions(val, system, &mut self.cfg.execs)?;
                let t = self.cfg.targets.last_mut().map_or_else(|| bad("no section", key), Ok)?;
                if key == b"on_warn" {
                    t.on_warn = Some(a)
                } else {
                    t.on_crit = Some(a)
                }
                Ok(())
            }
            _ if system => bad("unknown key in [system] (expected warn, crit, on_warn, on_crit)", key),
            _ => bad("unknown key in [target] (expected pid, self, name, pidfile, warn, crit, on_warn, on_crit)", key),
        }
    }

    /// `FIELD [slope] (>|<) VALUE[%|/h|/d] [over D] [for N] [clear V] [cooldown D]`
    fn rule<'a>(&mut self, val: &'a [u8], level: Level, system: bool) -> Result<Rule, Bad<'a>> {
        let (field, rest) = crate::num::next_token(val);
        // a pressure field (/proc/pressure/memory) is the system's
        let psi = match cfg!(feature = "fields-extra") {
            true => field_index(field).filter(|&i| crate::units::is_system_field(i)),
            false => None,
        };
        let f = if system {
            if let Some(i) = psi {
                // read (and logged) only when a field or rule names it
                self.cfg.fields.0 |= 1 << i;
            } else if !MEMINFO_KEYS.iter().any(|k| k.as_bytes() == field) {
                return bad(
                    "not a /proc/meminfo key (case matters: MemAvailable, MemFree, Cached, SwapFree, ...)",
                    field,
                );
            }
            self.cfg.key_index(field)?
        } else {
            if psi.is_some() {
                return bad(
                    "a pressure field is the system's: put this rule in [system]",
                    field,
                );
            }
            let i = field_index(field).map_or_else(
                || bad("unknown field (see memdog --help for the list)", field),
                Ok,
            )?;
            // fds and the smaps_rollup fields are read only when a field or rule names them
            if crate::units::is_on_demand(i) {
                self.cfg.fields.0 |= 1 << i;
            }
            i as u16
        };
        let centi = is_centi(field);
        let (mut word, mut rest) = crate::num::next_token(rest);
        let slope = word == b"slope";
        let eta = word == b"eta";
        if slope || eta {
            (word, rest) = crate::num::next_token(rest);
        }
        #[cfg(not(feature = "forecast"))]
        if eta {
            return bad(
                "eta rules are not in this build: make cross CROSS_FEATURES=forecast",
                val,
            );
        }
        let op = match word {
            kw if is(kw, b">") => Op::Above,
            kw if is(kw, b"<") => Op::Below,
            _ => return bad("expected `>` or `<` after the field", word),
        };
        let (v, mut rest) = crate::num::next_token(rest);
        if centi && slope {
            return bad(
                "a pressure average is already a rate (the last 10 s): compare it, like > 10 (percent)",
                field,
            );
        }
        if centi && eta {
            return bad(
                "a pressure average does not run out: eta rules forecast kB fields and counts",
                field,
            );
        }
        if eta && op == Op::Above {
            return bad(
                "eta rules take `<`: FIELD eta < DURATION fires when the forecast is shorter",
                word,
            );
        }
        if eta && v.last().is_some_and(u8::is_ascii_digit) {
            // `eta < 5000` could be read as kB: the unit is not optional here
            return bad(
                "an eta limit is a duration with its unit, like 6h, 30m or 2d",
                v,
            );
        }
        let (limit, kind) = if centi {
            centi_value(v)?
        } else if eta {
            (u64::from(dur_s(v)?), Kind::Absolute)
        } else {
            rule_value(v, slope)?
        };
        if kind == Kind::PercentOfRam && is_count(field) {
            return bad(
                "this field is a count, not kB: a % of MemTotal means nothing for it",
                v,
            );
        }
        if op == Op::Below && limit == 0 {
            return bad("nothing is below 0: this rule can never fire", v);
        }
        if op == Op::Above && kind == Kind::PercentOfRam && limit >= 10_000 {
            return bad(
                "nothing is above 100% of MemTotal: this rule can never fire",
                v,
            );
        }
        let mut rule = Rule {
            field: f,
            kind,
            op,
            limit,
            clear: limit,
            level,
            for_n: 1,
            cooldown_s: self.cfg.cooldown_s,
        };
        let mut window: Option<u32> = None;
        loop {
            let (w, r) = crate::num::next_token(rest);
            if w.is_empty() {
                break;
            }
            let (arg, r) = crate::num::next_token(r);
            rest = r;
            match w {
                kw if is(kw, b"for") => {
                    rule.for_n = parse_u32(arg)
                        .filter(|&v| v.wrapping_sub(1) < 10_000) // 1..=10 000
                        .map_or_else(|| bad("`for` needs a number of samples", arg), Ok)?
                        as u16
                }
                kw if is(kw, b"clear") => {
                    let (c, k) = if centi {
                        centi_value(arg)?
                    } else if eta {
                        (u64::from(dur_s(arg)?), Kind::Absolute)
                    } else {
                        rule_value(arg, slope)?
                    };
                    if k != rule.kind {
                        return bad("`clear` needs the same unit as the limit", arg);
                    }
                    let wrong_side = match op {
                        Op::Above => c > limit,
                        Op::Below => c < limit,
                    };
                    if wrong_side {
                        return bad("`clear` must be on the safe side of the limit", arg);
                    }
                    rule.clear = c;
                }
                kw if is(kw, b"cooldown") => rule.cooldown_s = dur_s(arg)?,
                kw if is(kw, b"over") && (slope || eta) => window = Some(dur_s(arg)?),
                _ => return bad("expected for N, clear V, cooldown D or (slope) over D", w),
            }
        }
        if eta && window.is_none() {
            // the fit runs over as long as the forecast looks ahead
            window = u32::try_from(limit).ok();
        }
        if slope || eta {
            let w = window.map_or_else(
                || bad("a slope rule needs `over DURATION`, like over 6h", val),
                Ok,
            )?;
            if w < 1 {
                return bad("slope window must be at least 1s", val);
            }
            // the detector trusts a slope from MIN_POINTS samples on: a
            // shorter window could never fire
            let need = (crate::policy::slope::MIN_POINTS as u64 - 1) * self.cfg.interval_ms;
            if u64::from(w) * 1000 < need && eta {
                return bad(
                    "eta window too short for the interval: the fit must hold 8 samples (over, default the DURATION, >= 7 x interval)",
                    val,
                );
            }
            if u64::from(w) * 1000 < need {
                return bad(
                    "slope window too short for the interval: it must hold 8 samples (over >= 7 x interval)",
                    val,
                );
            }
            rule.kind = Kind::Slope { window_s: w };
            #[cfg(feature = "forecast")]
            if eta {
                rule.kind = Kind::Eta { window_s: w };
            }
        }
        if slope && op == Op::Below {
            return bad("slope rules take `>` (growth)", val);
        }
        Ok(rule)
    }

    pub fn finish(mut self) -> Result<(), ConfigError> {
        if let Some(e) = self.err.take() {
            return Err(e);
        }
        for t in self.cfg.targets.iter() {
            if t.kind.is_none() {
                return fail(
                    t.line,
                    "this target needs one of pid, self, name or pidfile",
                    &t.label,
                );
            }
        }
        if self.cfg.targets.is_empty() {
            return fail(
                self.n,
                "nothing to watch: add a [system] or [target LABEL] section",
                b"",
            );
        }
        #[cfg(feature = "forecast")]
        for &(ti, ri, line) in self.eta_lines.iter() {
            use crate::policy::forecast::{fallback, limit_rule, Fallback};
            let Some(t) = self.cfg.targets.get(usize::from(ti)) else {
                continue;
            };
            let Some(r) = t.rules.get(usize::from(ri)) else {
                continue;
            };
            let name = self.cfg.field_name(r.field);
            let system = matches!(t.kind, Some(TargetKind::System));
            if limit_rule(&t.rules, r.field).is_none()
                && fallback(r.field, name, system) == Fallback::Nothing
            {
                return fail(
                    line,
                    "an eta rule needs a limit to forecast to: add a crit or warn `FIELD > N` (or `< N`) rule on this field in the section",
                    name,
                );
            }
        }
        let c = &*self.cfg;
        let lists = [&c.on_warn, &c.on_crit].into_iter().chain(
            c.targets
                .iter()
                .flat_map(|t| t.on_warn.iter().chain(t.on_crit.iter())),
        );
        for l in lists {
            if l.contains(&Action::Watchdog) && c.watchdog.is_none() {
                return fail(
                    0,
                    "the watchdog action needs watchdog_device = /dev/watchdog",
                    b"",
                );
            }
        }
        Ok(())
    }
}

/// A config string set in place (a default path).
fn set_str(s: &mut Str, v: &[u8]) {
    s.clear();
    let _ = s.extend_from_slice(v);
}

/// A duration counted in whole seconds (cooldowns, slope windows): `500ms`
/// would be 0 s, silently; `0` is allowed for "no cooldown".
fn dur_s(v: &[u8]) -> Result<u32, Bad<'_>> {
    if v == b"0" {
        return Ok(0);
    }
    let ms =
        parse_duration_ms(v).map_or_else(|| bad("expected a duration like 30s, 10m, 6h", v), Ok)?;
    if !ms.is_multiple_of(1000) {
        return bad(
            "this duration is counted in whole seconds, like 30s or 10m",
            v,
        );
    }
    u32::try_from(ms / 1000).map_or_else(|_| bad("expected a duration like 30s, 10m, 6h", v), Ok)
}

/// A pressure average's limit: a percentage, `10` or `2.5`, in hundredths.
fn centi_value(v: &[u8]) -> Result<(u64, Kind), Bad<'_>> {
    #[cfg(feature = "fields-extra")]
    if let Some(c) = crate::proc::psi::parse_centi(v).filter(|&c| c <= 10_000) {
        return Ok((c, Kind::Absolute));
    }
    bad(
        "a pressure average needs a percentage from 0 to 100 with at most two decimals, like 10 or 2.5 (no % sign)",
        v,
    )
}

/// A limit: kB, N% of MemTotal, or (slope) N/h or N/d kB.
fn rule_value(v: &[u8], slope: bool) -> Result<(u64, Kind), Bad<'_>> {
    let num = |s: &[u8]| parse_u64(s).map_or_else(|| bad("expected a number", v), Ok);
    if slope {
        // kept in kB per day: 20/d is exactly 20, N/h is N x 24
        if let Some(x) = v.strip_suffix(b"/h") {
            let n = num(x)?;
            return n.checked_mul(24).map_or_else(
                || bad("slope limit too large", v),
                |d| Ok((d, Kind::Slope { window_s: 0 })),
            );
        }
        if let Some(x) = v.strip_suffix(b"/d") {
            return Ok((num(x)?, Kind::Slope { window_s: 0 }));
        }
        return bad(
            "a slope limit is kB per hour or day, like 500/h or 2000/d",
            v,
        );
    }
    if let Some(x) = v.strip_suffix(b"%") {
        let p = num(x)?;
        if p > 100 {
            return bad("a percentage is at most 100%", v);
        }
        return Ok((p * 100, Kind::PercentOfRam));
    }
    match parse_u64(v) {
        Some(x) => Ok((x, Kind::Absolute)),
        None => bad(
            "expected a number in kB (no unit), N% of RAM, or for slope N/h",
            v,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &[u8] = b"# a board
interval = 10s
log = /var/log/memdog.log   # comment
on_crit = log, reboot
[system]
warn = MemAvailable < 10% for 3 clear 15%
crit = MemAvailable < 4000
[target hostapd]
name = hostapd
warn = VmRSS > 20000 for 3 clear 18000
crit = VmRSS slope > 500/h over 6h
on_warn = log, signal USR1, exec /usr/bin/logger -t memdog hostapd, big
";

    #[test]
    fn parses_a_full_config() {
        let c = Config::parse_text(GOOD).unwrap();
        assert_eq!(c.interval_ms, 10_000);
        assert_eq!(c.log.as_deref(), Some(&b"/var/log/memdog.log"[..]));
        assert_eq!(c.on_crit[..], [Action::Log, Action::Reboot]);
        assert_eq!(c.targets.len(), 2);
        let sys = &c.targets[0];
        assert_eq!(sys.kind, Some(TargetKind::System));
        assert_eq!(sys.rules[0].kind, Kind::PercentOfRam);
        assert_eq!(
            (sys.rules[0].limit, sys.rules[0].clear, sys.rules[0].for_n),
            (1000, 1500, 3)
        );
        assert_eq!(c.field_name(sys.rules[1].field), b"MemAvailable");
        let h = &c.targets[1];
        assert_eq!(
            h.kind,
            Some(TargetKind::Name(Str::from_slice(b"hostapd").unwrap()))
        );
        assert_eq!(h.rules[1].kind, Kind::Slope { window_s: 6 * 3600 });
        assert_eq!(h.rules[1].limit, 500 * 24, "kept per day");
        let w = h.on_warn.as_ref().unwrap();
        assert_eq!(w[1], Action::Signal(libc::SIGUSR1));
        let Action::Exec(i) = w[2] else {
            panic!("{:?}", w[2])
        };
        assert_eq!(c.exec_line(i), b"/usr/bin/logger -t memdog hostapd, big");
    }

    fn err(text: &str) -> ConfigError {
        Config::parse_text(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn errors_name_the_line_and_the_word() {
        let e = err("interval = 10s\n[target a]\nname = x\nwarn = VmRSS > 12MB\n");
        assert_eq!((e.line, &e.got[..]), (4, &b"12MB"[..]));
        assert_eq!(err("intervall = 10s\n").got[..], b"intervall"[..]);
        assert_eq!(err("[target a]\nname = x\nwran = VmRSS > 1\n").line, 3);
        // four slope rules a section (each keeps a ring per process); other rules up to 8
        let slopes = "[target a]\nname = x\nwarn = VmRSS > 1\n".to_string()
            + &"warn = VmRSS slope > 5/h over 1h\n".repeat(4);
        assert!(Config::parse_text(slopes.as_bytes()).is_ok());
        let e = err(&(slopes + "crit = heap slope > 9/h over 2h\n"));
        assert_eq!(
            (e.line, e.msg),
            (
                8,
                "too many slope and eta rules in this section (at most 4)"
            )
        );
        assert_eq!(
            err("[target a]\nwarn = VmRSS > 1\n").line,
            1,
            "target without pid/name"
        );
        assert_eq!(
            err("[target a]\nname = x\nwarn = VmRSS slope > 5/h\n").msg,
            "a slope rule needs `over DURATION`, like over 6h"
        );
        assert_eq!(
            err("[system]\nwarn = MemAvailable < 5%\non_warn = signal TERM\n").line,
            3
        );
        assert_eq!(
            err("[target a]\nname = x\non_crit = exec rm -rf /\n").got[..],
            b"rm -rf /"[..]
        );
        assert_eq!(
            err("[target a]\nname = x\nwarn = VmRSS > 100 clear 200\n").got[..],
            b"200"[..]
        );
        assert_eq!(
            err("a = \x01\x02\n").msg,
            "control characters in line (binary file?)"
        );
        assert_eq!(
            err(&"x".repeat(600)).msg,
            "line too long (at most 511 bytes)"
        );
        assert_eq!(
            err("# empty\n").msg,
            "nothing to watch: add a [system] or [target LABEL] section"
        );
    }
}
