//! Command-line parsing into plain option structs. Arguments are borrowed
//! from argv; nothing is copied or allocated.

use crate::num::is;
pub use crate::units::{
    field_index, parse_duration_ms, Fields, ANON, EXTRA_FIELDS, FDS, FILE, HEAP, NTHREADSTACKS,
    PSI_FULL_AVG10, PSI_SOME_AVG10, PSI_SOME_TOTAL, PSS, PSS_ANON, STACK, STACKS, SWAP_PSS,
    THREADS, USS,
};

/// How many --pid/--name/--pidfile a watch takes; a board watches a handful.
/// Log files one `report` reads (a fleet: one per host and rotation); board
/// builds have no report, and main's one Command stays small there.
#[cfg(feature = "report")]
pub const REPORT_FILES: usize = 256;
#[cfg(not(feature = "report"))]
pub const REPORT_FILES: usize = 1;
/// `--target` names one `report` takes.
pub const REPORT_TARGETS: usize = 16;
pub const MAX_SPECS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spec<'a> {
    Pid(u32),
    /// memdog's own pid (`--pid self`)
    SelfPid,
    Name(&'a [u8]),
    Pidfile(&'a [u8]),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watch<'a> {
    pub specs: heapless::Vec<Spec<'a>, MAX_SPECS>,
    pub interval_ms: u64,
    /// stop after this many samples
    pub count: Option<u64>,
    pub fields: Fields,
    pub log: Option<&'a [u8]>,
    /// bytes per log file before rotation, and files kept
    pub log_size: u64,
    pub log_files: u32,
    /// local syslog socket (/dev/log), remote syslog IP:PORT, Prometheus textfile
    pub syslog: Option<&'a [u8]>,
    pub syslog_remote: Option<&'a [u8]>,
    pub textfile: Option<&'a [u8]>,
    /// the `/metrics` endpoint's ADDR:PORT
    pub metrics_listen: Option<&'a [u8]>,
    pub proc_root: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Rss,
    Size,
    Heap,
    Swap,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot<'a> {
    pub top: usize,
    pub sort: SortKey,
    pub proc_root: &'a [u8],
}

// no allocator to Box the big variant; one Command lives on main's stack
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    Help,
    Version,
    Watch(Watch<'a>),
    /// a subcommand this build leaves out (a cargo feature): main prints
    /// this one line, exit 2
    LeftOut(&'static str),
    Snapshot(Snapshot<'a>),
    Run(Run<'a>),
    Check(&'a [u8]),
    /// `memdog log [-c CONFIG]`: the rotated log set, oldest first
    Log(&'a [u8]),
    Maps {
        pid: u32,
        rss: bool,
        proc_root: &'a [u8],
    },
    Dump(Dump<'a>),
    Report {
        /// each log with the `--host NAME` given before it
        files: heapless::Vec<(&'a [u8], Option<&'a [u8]>), REPORT_FILES>,
        svg: Option<&'a [u8]>,
        csv: Option<&'a [u8]>,
        targets: heapless::Vec<&'a [u8], REPORT_TARGETS>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dump<'a> {
    pub pid: u32,
    pub region: crate::inspect::Region,
    pub min_len: usize,
    pub raw: Option<&'a [u8]>,
    pub max_bytes: u64,
    pub top: Option<usize>,
    pub diff: Option<(&'a [u8], &'a [u8])>,
    /// no strings on stdout (with --raw: just save the bytes)
    pub quiet: bool,
    /// write the dump's one-line outcome (logfmt) to this descriptor
    pub status_fd: Option<i32>,
    pub proc_root: &'a [u8],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run<'a> {
    pub config: &'a [u8],
    pub dry_run: bool,
    pub daemonize: bool,
    pub pidfile: Option<&'a [u8]>,
    /// stop after N samples (tests and trials)
    pub count: Option<u64>,
}

/// A bad command line: `what` is the message, `arg` the offending word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageError<'a> {
    pub what: &'static str,
    pub arg: &'a [u8],
}

pub const DEFAULT_PROC: &[u8] = b"/proc";
/// Snapshot's table is held in a fixed array; 64 rows fill a serial console.
pub const MAX_TOP: usize = 64;

pub fn parse<'a, I: Iterator<Item = &'a [u8]>>(args: I) -> Result<Command<'a>, UsageError<'a>> {
    let mut args = Argv {
        it: args,
        err: UsageError { what: "", arg: b"" },
        help: false,
    };
    let r = command(&mut args);
    if args.help {
        // `memdog watch --help`: help, whatever the rest of the line was
        return Ok(Command::Help);
    }
    match r {
        Ok(c) => Ok(c),
        Err(Fail) => Err(args.err),
    }
}

/// The arguments, and the first error found in them. Parsers return
/// `Result<_, Fail>`, a bare marker: a `?` then only passes a flag up
/// instead of copying a 4-word error through every frame (about 1 KB of a
/// board binary).
struct Argv<'a, I> {
    it: I,
    err: UsageError<'a>,
    /// `-h`/`--help` after a subcommand: parsing stops, help is shown
    help: bool,
}

/// A bad command line; the message is in [`Argv::err`].
struct Fail;

impl<'a, I: Iterator<Item = &'a [u8]>> Argv<'a, I> {
    fn next(&mut self) -> Option<&'a [u8]> {
        let a = self.it.next()?;
        if a == b"--help" || a == b"-h" {
            self.help = true;
            return None;
        }
        Some(a)
    }

    #[inline(never)]
    fn error(&mut self, what: &'static str, arg: &'a [u8]) -> Fail {
        self.err = UsageError { what, arg };
        Fail
    }

    fn fail<T>(&mut self, what: &'static str, arg: &'a [u8]) -> Result<T, Fail> {
        Err(self.error(what, arg))
    }

    /// The value after `flag`.
    #[inline(never)]
    fn value(&mut self, flag: &'a [u8]) -> Result<&'a [u8], Fail> {
        match self.it.next() {
            Some(v) if !v.is_empty() => Ok(v),
            _ => self.fail("option needs a value", flag),
        }
    }
}

fn command<'a, I: Iterator<Item = &'a [u8]>>(args: &mut Argv<'a, I>) -> Result<Command<'a>, Fail> {
    let Some(sub) = args.next() else {
        return Ok(Command::Help);
    };
    match sub {
        kw if is(kw, b"-h") || is(kw, b"--help") || is(kw, b"help") => Ok(Command::Help),
        kw if is(kw, b"-V") || is(kw, b"--version") || is(kw, b"version") => Ok(Command::Version),
        #[cfg(feature = "watch")]
        kw if is(kw, b"watch") => parse_watch(args).map(Command::Watch),
        #[cfg(not(feature = "watch"))]
        kw if is(kw, b"watch") => Ok(Command::LeftOut(NO_WATCH)),
        #[cfg(feature = "snapshot")]
        kw if is(kw, b"snapshot") => parse_snapshot(args).map(Command::Snapshot),
        // a build without the tool parses nothing of it: main says where it is
        #[cfg(not(feature = "snapshot"))]
        kw if is(kw, b"snapshot") => Ok(Command::Snapshot(Snapshot {
            top: 0,
            sort: SortKey::Rss,
            proc_root: DEFAULT_PROC,
        })),
        kw if is(kw, b"run") => parse_run(args).map(Command::Run),
        #[cfg(not(feature = "maps"))]
        kw if is(kw, b"maps") => Ok(Command::Maps {
            pid: 0,
            rss: false,
            proc_root: DEFAULT_PROC,
        }),
        #[cfg(feature = "maps")]
        kw if is(kw, b"maps") => {
            let (mut pid, mut rss, mut root) = (None, false, DEFAULT_PROC);
            while let Some(a) = args.next() {
                match a {
                    kw if is(kw, b"--rss") => rss = true,
                    kw if is(kw, b"--proc-root") => root = args.value(a)?,
                    _ if pid.is_none() => {
                        pid = Some(
                            crate::num::parse_u32(a)
                                .filter(|&p| p > 0)
                                .ok_or_else(|| args.error("maps needs a process id", a))?,
                        )
                    }
                    _ => return args.fail("unknown option for maps", a),
                }
            }
            let pid =
                pid.ok_or_else(|| args.error("maps needs a process id: memdog maps PID", b""))?;
            Ok(Command::Maps {
                pid,
                rss,
                proc_root: root,
            })
        }
        #[cfg(any(feature = "dump", feature = "report"))]
        kw if is(kw, b"dump") => parse_dump(args).map(Command::Dump),
        // without dump and report nothing of it is parsed: main names the
        // feature (and for --diff, where to run it)
        #[cfg(not(any(feature = "dump", feature = "report")))]
        kw if is(kw, b"dump") => {
            let mut diff = None;
            while let Some(a) = args.next() {
                if is(a, b"--diff") {
                    diff = Some((&b""[..], &b""[..]));
                }
            }
            Ok(Command::Dump(Dump {
                pid: 0,
                region: crate::inspect::Region::Heap,
                min_len: 0,
                raw: None,
                max_bytes: 0,
                top: None,
                diff,
                quiet: false,
                status_fd: None,
                proc_root: DEFAULT_PROC,
            }))
        }
        // board builds have no report: no parsing of its options either
        // (main answers with a hint), which keeps its bytes out of them
        #[cfg(not(feature = "report"))]
        kw if is(kw, b"report") => Ok(Command::Report {
            files: heapless::Vec::new(),
            svg: None,
            csv: None,
            targets: heapless::Vec::new(),
        }),
        #[cfg(feature = "report")]
        #[cfg(not(feature = "report"))]
        kw if is(kw, b"report") => Ok(Command::Report {
            files: heapless::Vec::new(),
            svg: None,
            csv: None,
            targets: heapless::Vec::new(),
        }),
        #[cfg(feature = "report")]
        kw if is(kw, b"report") => {
            let (mut files, mut svg, mut csv, mut targets) =
                (heapless::Vec::new(), None, None, heapless::Vec::new());
            let mut host = None;
            while let Some(a) = args.next() {
                match a {
                    kw if is(kw, b"--svg") => svg = Some(args.value(a)?),
                    kw if is(kw, b"--csv") => csv = Some(args.value(a)?),
                    // for the files after it; `--host -` goes back to the lines' own
                    kw if is(kw, b"--host") => host = Some(args.value(a)?).filter(|h| *h != b"-"),
                    kw if is(kw, b"--target") => {
                        let v = args.value(a)?;
                        targets
                            .push(v)
                            .map_err(|_| args.error("too many --target (at most 16)", v))?
                    }
                    _ if a.starts_with(b"-") && a != b"-" => {
                        return args.fail("unknown option for report", a)
                    }
                    _ => files
                        .push((a, host))
                        .map_err(|_| args.error("too many log files (at most 256)", a))?,
                }
            }
            if files.is_empty() {
                return args.fail("report needs log files: memdog report memdog.log.3 ... memdog.log (or - for stdin)", b"");
            }
            Ok(Command::Report {
                files,
                svg,
                csv,
                targets,
            })
        }
        kw if is(kw, b"log") => match (args.next(), args.next()) {
            (None, _) => Ok(Command::Log(b"/etc/memdog.conf")),
            (Some(b"-c"), Some(f)) if !f.starts_with(b"-") => Ok(Command::Log(f)),
            (a, _) => args.fail(
                "log prints the rotated log of a config: memdog log [-c /etc/memdog.conf]",
                a.unwrap_or(b""),
            ),
        },
        kw if is(kw, b"check") => match (args.next(), args.next()) {
            (Some(b"-c"), Some(f)) | (Some(f), None) if !f.starts_with(b"-") => {
                Ok(Command::Check(f))
            }
            (a, _) => args.fail(
                "check needs a config file: memdog check FILE",
                a.unwrap_or(b""),
            ),
        },
        _ => args.fail(
            "unknown command (expected watch, snapshot, run or check)",
            sub,
        ),
    }
}

/// What a build without the `watch` feature says to `memdog watch`.
pub const NO_WATCH: &str = "watch is not in this board build (make cross CROSS_FEATURES=watch puts it back): run -c CONFIG with log = - samples the same to stdout";

#[cfg(feature = "watch")]
fn parse_watch<'a, I: Iterator<Item = &'a [u8]>>(
    args: &mut Argv<'a, I>,
) -> Result<Watch<'a>, Fail> {
    let mut w = Watch {
        specs: heapless::Vec::new(),
        interval_ms: 600_000,
        count: None,
        fields: Fields::default_set(),
        log: None,
        log_size: 256 * 1024,
        log_files: 4,
        syslog: None,
        syslog_remote: None,
        textfile: None,
        metrics_listen: None,
        proc_root: DEFAULT_PROC,
    };
    while let Some(a) = args.next() {
        let spec = match a {
            kw if is(kw, b"--log-size") => {
                let v = args.value(a)?;
                w.log_size = crate::units::parse_log_size(v)
                    .ok_or_else(|| args.error(crate::units::LOG_SIZE_WORDS, v))?;
                None
            }
            kw if is(kw, b"--syslog") => {
                w.syslog = Some(b"/dev/log");
                None
            }
            kw if is(kw, b"--syslog-socket") => {
                w.syslog = Some(args.value(a)?);
                None
            }
            kw if is(kw, b"--syslog-remote") => {
                let v = args.value(a)?;
                if crate::units::parse_ipv4_port(v).is_none() {
                    return args.fail("--syslog-remote needs a numeric IPv4 address and port, like 192.168.1.10:514", v);
                }
                w.syslog_remote = Some(v);
                None
            }
            kw if is(kw, b"--textfile") => {
                w.textfile = Some(args.value(a)?);
                None
            }
            kw if is(kw, b"--metrics-listen") => {
                let v = args.value(a)?;
                if let Some(why) = crate::metrics::check_listen(v) {
                    return args.fail(why, v);
                }
                w.metrics_listen = Some(v);
                None
            }
            kw if is(kw, b"--log-files") => {
                let v = args.value(a)?;
                w.log_files = crate::num::parse_u32(v)
                    .filter(|&n| n.wrapping_sub(1) < 16) // 1..=16, one compare
                    .ok_or_else(|| args.error("--log-files needs a number from 1 to 16", v))?;
                None
            }
            kw if is(kw, b"--pid") || is(kw, b"-p") => {
                let v = args.value(a)?;
                if v == b"self" {
                    Some(Spec::SelfPid)
                } else {
                    match crate::num::parse_u32(v) {
                        Some(p) if p > 0 => Some(Spec::Pid(p)),
                        _ => {
                            return args
                                .fail("--pid needs a process id (a number > 0) or 'self'", v)
                        }
                    }
                }
            }
            kw if is(kw, b"--name") || is(kw, b"-n") => Some(Spec::Name(args.value(a)?)),
            kw if is(kw, b"--pidfile") => Some(Spec::Pidfile(args.value(a)?)),
            kw if is(kw, b"--interval") || is(kw, b"-i") => {
                let v = args.value(a)?;
                w.interval_ms = parse_duration_ms(v).ok_or_else(|| {
                    args.error(
                        "--interval needs a duration from 1ms to 7d, like 600s, 10m, 500ms",
                        v,
                    )
                })?;
                None
            }
            kw if is(kw, b"--count") || is(kw, b"-c") => {
                let v = args.value(a)?;
                match crate::num::parse_u64(v) {
                    Some(n) if n > 0 => w.count = Some(n),
                    _ => return args.fail("--count needs a number of samples > 0", v),
                }
                None
            }
            kw if is(kw, b"--fields") || is(kw, b"-f") => {
                let v = args.value(a)?;
                let mut f = Fields(0);
                for name in v.split(|&b| b == b',').filter(|n| !n.is_empty()) {
                    match field_index(name) {
                        Some(i) => f.0 |= 1 << i,
                        None => {
                            return args
                                .fail("unknown field (see 'memdog --help' for the list)", name)
                        }
                    }
                }
                if f.0 == 0 {
                    return args.fail("--fields needs at least one field", v);
                }
                w.fields = f;
                None
            }
            kw if is(kw, b"--log") || is(kw, b"-l") => {
                w.log = Some(args.value(a)?);
                None
            }
            kw if is(kw, b"--proc-root") => {
                w.proc_root = args.value(a)?;
                None
            }
            _ => return args.fail("unknown option for watch", a),
        };
        if let Some(s) = spec {
            if w.specs.push(s).is_err() {
                return args.fail("too many targets (at most 16)", a);
            }
        }
    }
    Ok(w)
}

#[cfg(any(feature = "dump", feature = "report"))]
fn parse_dump<'a, I: Iterator<Item = &'a [u8]>>(args: &mut Argv<'a, I>) -> Result<Dump<'a>, Fail> {
    let mut d = Dump {
        pid: 0,
        region: crate::inspect::Region::Heap,
        min_len: 10,
        raw: None,
        max_bytes: 16 << 20,
        top: None,
        diff: None,
        quiet: false,
        status_fd: None,
        proc_root: DEFAULT_PROC,
    };
    let num = |v: &[u8], max: u64| crate::num::parse_u64(v).filter(|&n| n > 0 && n <= max);
    while let Some(a) = args.next() {
        match a {
            kw if is(kw, b"--region") => {
                let v = args.value(a)?;
                d.region = crate::inspect::parse_region(v).ok_or_else(|| {
                    args.error("--region needs heap, anon or START-END in hex", v)
                })?;
            }
            kw if is(kw, b"--min-len") || is(kw, b"-n") => {
                let v = args.value(a)?;
                d.min_len = num(v, 256)
                    .ok_or_else(|| args.error("--min-len needs a length from 1 to 256", v))?
                    as usize;
            }
            kw if is(kw, b"--raw") => d.raw = Some(args.value(a)?),
            kw if is(kw, b"--quiet") || is(kw, b"-q") => d.quiet = true,
            kw if is(kw, b"--status-fd") => {
                let v = args.value(a)?;
                d.status_fd = Some(
                    crate::num::parse_u32(v)
                        .filter(|&n| n <= 1023)
                        .ok_or_else(|| {
                            args.error("--status-fd needs an open descriptor number", v)
                        })? as i32,
                );
            }
            kw if is(kw, b"--max-bytes") => {
                let v = args.value(a)?;
                d.max_bytes = num(v, u64::MAX)
                    .ok_or_else(|| args.error("--max-bytes needs a number of bytes > 0", v))?;
            }
            kw if is(kw, b"--top") => {
                let v = args.value(a)?;
                d.top = Some(
                    num(v, 64).ok_or_else(|| args.error("--top needs a number from 1 to 64", v))?
                        as usize,
                );
            }
            kw if is(kw, b"--diff") => {
                let old = args.value(a)?;
                let new = args.value(a)?;
                d.diff = Some((old, new));
            }
            kw if is(kw, b"--proc-root") => d.proc_root = args.value(a)?,
            _ if d.pid == 0 && d.diff.is_none() => {
                d.pid = crate::num::parse_u32(a)
                    .filter(|&p| p > 0)
                    .ok_or_else(|| args.error("dump needs a process id", a))?
            }
            _ => return args.fail("unknown option for dump", a),
        }
    }
    if d.pid == 0 && d.diff.is_none() {
        return args.fail(
            "dump needs a process id: memdog dump PID, or memdog dump --diff OLD NEW",
            b"",
        );
    }
    Ok(d)
}

fn parse_run<'a, I: Iterator<Item = &'a [u8]>>(args: &mut Argv<'a, I>) -> Result<Run<'a>, Fail> {
    let mut r = Run {
        config: b"",
        dry_run: false,
        daemonize: false,
        pidfile: None,
        count: None,
    };
    while let Some(a) = args.next() {
        match a {
            kw if is(kw, b"-c") || is(kw, b"--config") => r.config = args.value(a)?,
            kw if is(kw, b"--dry-run") || is(kw, b"-n") => r.dry_run = true,
            kw if is(kw, b"--daemonize") || is(kw, b"-d") => r.daemonize = true,
            kw if is(kw, b"--pidfile") => r.pidfile = Some(args.value(a)?),
            kw if is(kw, b"--count") => {
                let v = args.value(a)?;
                r.count = Some(
                    crate::num::parse_u64(v)
                        .filter(|&n| n > 0)
                        .ok_or_else(|| args.error("--count needs a number of samples > 0", v))?,
                );
            }
            _ => return args.fail("unknown option for run", a),
        }
    }
    if r.config.is_empty() {
        return args.fail("run needs a config: memdog run -c FILE", b"");
    }
    if r.daemonize && r.pidfile.is_none() {
        return args.fail(
            "--daemonize needs --pidfile FILE so init scripts can find the daemon",
            b"--daemonize",
        );
    }
    Ok(r)
}

#[cfg(feature = "snapshot")]
fn parse_snapshot<'a, I: Iterator<Item = &'a [u8]>>(
    args: &mut Argv<'a, I>,
) -> Result<Snapshot<'a>, Fail> {
    let mut s = Snapshot {
        top: 20,
        sort: SortKey::Rss,
        proc_root: DEFAULT_PROC,
    };
    while let Some(a) = args.next() {
        match a {
            kw if is(kw, b"--top") || is(kw, b"-t") => {
                let v = args.value(a)?;
                match crate::num::parse_u64(v) {
                    Some(n) if n > 0 && n <= MAX_TOP as u64 => s.top = n as usize,
                    _ => return args.fail("--top needs a number from 1 to 64", v),
                }
            }
            kw if is(kw, b"--sort") || is(kw, b"-s") => {
                let v = args.value(a)?;
                s.sort = match v {
                    kw if is(kw, b"rss") => SortKey::Rss,
                    kw if is(kw, b"size") => SortKey::Size,
                    kw if is(kw, b"heap") => SortKey::Heap,
                    kw if is(kw, b"swap") => SortKey::Swap,
                    _ => return args.fail("--sort needs one of rss, size, heap, swap", v),
                };
            }
            kw if is(kw, b"--proc-root") => s.proc_root = args.value(a)?,
            _ => return args.fail("unknown option for snapshot", a),
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proc::status::NFIELDS;

    fn p(args: &[&'static str]) -> Result<Command<'static>, UsageError<'static>> {
        parse(args.iter().map(|a| a.as_bytes()))
    }

    #[test]
    fn watch_full() {
        let Command::Watch(w) = p(&[
            "watch",
            "--pid",
            "12",
            "--name",
            "hostapd",
            "--pidfile",
            "/run/x.pid",
            "--pid",
            "self",
            "--interval",
            "500ms",
            "--count",
            "3",
            "--fields",
            "VmRSS,heap",
            "--log",
            "/tmp/l",
            "--proc-root",
            "/x",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            &w.specs[..],
            &[
                Spec::Pid(12),
                Spec::Name(b"hostapd"),
                Spec::Pidfile(b"/run/x.pid"),
                Spec::SelfPid
            ]
        );
        assert_eq!((w.interval_ms, w.count), (500, Some(3)));
        assert!(
            w.fields.has(field_index(b"VmRSS").unwrap()) && w.fields.has(HEAP) && !w.fields.has(0)
        );
        assert_eq!((w.log, w.proc_root), (Some(&b"/tmp/l"[..]), &b"/x"[..]));
    }

    #[test]
    fn bad_input_names_the_word() {
        assert_eq!(p(&["watch", "--pid", "abc"]).unwrap_err().arg, b"abc");
        assert_eq!(p(&["watch", "--pid", "0"]).unwrap_err().arg, b"0");
        assert_eq!(p(&["watch", "--interval", "ten"]).unwrap_err().arg, b"ten");
        assert_eq!(p(&["watch", "--interval", "0ms"]).unwrap_err().arg, b"0ms");
        assert_eq!(p(&["watch", "--bogus"]).unwrap_err().arg, b"--bogus");
        assert_eq!(
            p(&["watch", "--fields", "VmRSS,Nope"]).unwrap_err().arg,
            b"Nope"
        );
        assert_eq!(p(&["watch", "--pid"]).unwrap_err().arg, b"--pid");
        assert_eq!(p(&["frobnicate"]).unwrap_err().arg, b"frobnicate");
        assert_eq!(p(&["snapshot", "--sort", "cpu"]).unwrap_err().arg, b"cpu");
        assert_eq!(p(&["snapshot", "--top", "65"]).unwrap_err().arg, b"65");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms(b"600s"), Some(600_000));
        assert_eq!(parse_duration_ms(b"10m"), Some(600_000));
        assert_eq!(parse_duration_ms(b"2"), Some(2000));
        assert_eq!(parse_duration_ms(b"1h"), Some(3_600_000));
        assert_eq!(parse_duration_ms(b" 1h"), None);
        assert_eq!(parse_duration_ms(b"1x"), None);
        assert_eq!(parse_duration_ms(b"99999999999999999999"), None);
    }

    #[test]
    fn field_names_round_trip() {
        for i in 0..NFIELDS + EXTRA_FIELDS.len() {
            assert_eq!(field_index(Fields::name(i).as_bytes()), Some(i));
        }
    }
}
