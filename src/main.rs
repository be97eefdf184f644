//! memdog entry point: no_std, no_main, no allocator. Parses argv and hands
//! off to a subcommand; all logic lives in the library.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int};
use memdog::cli::{self, Command};
use memdog::out::{self, exit};
use memdog::sys;

const HELP: &str = "\
memdog - a tiny memory watchdog for embedded Linux

USAGE
  memdog watch TARGET... [--interval D] [--count N] [--fields LIST] [--log FILE] [--proc-root DIR]
  memdog snapshot [--top N] [--sort rss|size|heap|swap] [--proc-root DIR]
  memdog run -c CONFIG [--dry-run] [--daemonize --pidfile FILE] [--count N]
  memdog check CONFIG
  memdog maps PID [--rss] [--proc-root DIR]
  memdog dump PID [--region heap|anon|START-END] [--min-len 10] [--raw FILE] [--max-bytes N] [--top K]
  memdog dump --diff OLD.raw NEW.raw [--top K] [--min-len 10]
  memdog report LOG... [--svg FILE] [--csv FILE] [--target NAME]
  memdog --help | --version

WATCH  one logfmt line per target per sample, then one meminfo line:
  2026-11-24T10:00:00Z up=86400.2 seq=17 pid=3158 name=hostapd VmRSS=1234 VmSize=5678 heap=140
  2026-11-24T10:00:00Z up=86400.2 seq=17 meminfo MemTotal=61440 MemFree=9120 MemAvailable=30412 ...
  Targets (repeatable, up to 16):
    -p, --pid PID        one process; `--pid self` is memdog itself
    -n, --name NAME      every process whose name (comm) is NAME, found again after a restart
        --pidfile FILE   the process whose pid is in FILE, re-read every sample
  Options:
    -i, --interval D     time between samples: 500ms, 600s, 10m, 1h (default 600s; >= 1ms)
    -c, --count N        stop after N samples (default: run until SIGTERM/SIGINT)
    -f, --fields LIST    comma-separated fields (default VmRSS,VmSize,VmHWM,RssAnon,RssFile,VmData,VmSwap,Threads,heap)
                         from status: VmPeak VmSize VmLck VmPin VmHWM VmRSS RssAnon RssFile RssShmem
                                      VmData VmStk VmExe VmLib VmPTE VmSwap Threads
                         from maps:   heap stack stacks nthreadstacks anon file
    -l, --log FILE       append to FILE (created 0640; a symlink is refused) instead of stdout
        --log-size S     rotate at S bytes per file (64k, 1M; default 256k) ...
        --log-files N    ... keeping N files: FILE, FILE.1 .. (default 4)
        --syslog         copy every line to /dev/log (--syslog-socket PATH: another socket)
        --syslog-remote IP:PORT   and/or to a UDP syslog collector (numeric IPv4)
        --textfile FILE  a Prometheus node_exporter textfile, replaced every sample
        --proc-root DIR  read DIR instead of /proc (captured trees, tests)
  Memory is in kB as the kernel prints it. A field the kernel does not have
  is left out, not 0. Events: event=start|exit|wait|dropped|overflow.
  `MemAvailable~=N` marks an estimate on kernels before 3.14.

RUN  the watchdog: samples the targets of CONFIG (see board-configs/default.conf),
  checks thresholds (warn/crit: absolute kB, % of RAM, MemAvailable floor, growth
  slope = leak) and acts (log, signal, exec, watchdog, reboot). Foreground unless
  --daemonize. SIGHUP re-reads CONFIG (a bad one is logged, the old kept);
  SIGTERM/SIGINT exit cleanly. --dry-run logs actions instead of doing them.
  State changes log as: event=warn|crit|clear field=VmRSS value=... limit=... rule=LABEL/N
CHECK  validate CONFIG, print it resolved; errors as FILE:LINE: what, exit 2.

MAPS  where a process's memory is: totals per class (heap, stack, thread stacks,
  anon, file, shm, special) and per file (text/data/bss/ro); --rss adds Rss, Pss
  and Private_Dirty from smaps.
DUMP  what is in it, without gdb: printable strings of the heap (or anon, or a
  range) read from /proc/PID/mem, like `strings -a -n 10` on gdb's `dump memory`;
  --raw FILE saves the bytes; --top K counts repeated strings; --diff shows the
  strings whose count grew most between two --raw dumps: what is leaking.
  Output stops at --max-bytes (default 16 MiB). Needs root or the same uid.

REPORT  read pulled logs (oldest first: memdog.log.3 ... memdog.log; - is stdin;
  the shell loop's proc_memlog.txt too) and print per target first/last/min/max,
  slope in kB/h with R^2 (restarts split the fit), restarts, events and a verdict;
  --svg draws VmRSS over time with limits and events, --csv the binned series.

SNAPSHOT  a table of the N largest processes (default 20, at most 64) and meminfo.

EXIT CODES
  0 success (or stopped by SIGTERM/SIGINT)   1 runtime failure (log, /proc)
  2 bad command line or config                3 process not found
  4 permission denied reading /proc
";

// the C runtime calls this; argv is only read through sys::Args
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: argc/argv come from the C runtime and live for the whole program.
    let args = unsafe { sys::Args::new(argc, argv) };
    match cli::parse(args) {
        Ok(Command::Help) => {
            let _ = sys::write_all(sys::STDOUT, HELP.as_bytes());
            exit::OK
        }
        Ok(Command::Version) => {
            let _ = sys::write_all(
                sys::STDOUT,
                concat!("memdog ", env!("CARGO_PKG_VERSION"), "\n").as_bytes(),
            );
            exit::OK
        }
        Ok(Command::Watch(w)) => memdog::watch::run(w),
        Ok(Command::Snapshot(s)) => memdog::snapshot::run(s),
        Ok(Command::Check(path)) => memdog::daemon::check(path),
        #[cfg(feature = "report")]
        Ok(Command::Report {
            files,
            svg,
            csv,
            target,
        }) => memdog::report::run(&files, svg, csv, target),
        #[cfg(not(feature = "report"))]
        Ok(Command::Report { .. }) => {
            out::error(&[b"report is not in this board build: copy the log to a PC and run memdog report there"]);
            exit::USAGE
        }
        Ok(Command::Maps {
            pid,
            rss,
            proc_root,
        }) => memdog::inspect::maps(proc_root, pid, rss),
        Ok(Command::Dump(d)) => match d.diff {
            Some((old, new)) => memdog::inspect::diff(old, new, d.min_len, d.top.unwrap_or(20)),
            None => memdog::inspect::dump(memdog::inspect::DumpOpts {
                root: d.proc_root,
                pid: d.pid,
                region: d.region,
                min_len: d.min_len,
                raw: d.raw,
                max_bytes: if d.quiet { 0 } else { d.max_bytes },
                top: d.top,
            }),
        },
        Ok(Command::Run(r)) => memdog::daemon::run(
            memdog::daemon::RunOpts {
                config: r.config,
                dry_run: r.dry_run,
                daemonize: r.daemonize,
                pidfile: r.pidfile,
            },
            r.count,
        ),
        Err(e) => {
            out::error(&[e.what.as_bytes(), b": '", e.arg, b"' (try 'memdog --help')"]);
            exit::USAGE
        }
    }
}

// Link the C library explicitly: when a test or bench build turns on the
// libc crate's `std` feature, that crate leaves linking to std, which a
// no_std binary does not have.
#[link(name = "c")]
extern "C" {}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    sys::abort()
}

/// core is prebuilt with unwind tables; an unoptimised build keeps a reference to
/// the personality routine even with panic=abort. It is never called.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
