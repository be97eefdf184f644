//! memdog entry point: no_std, no_main, no allocator. Parses argv and hands
//! off to a subcommand; all logic lives in the library.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int};
use memdog::cli::{self, Command};
use memdog::out::{self, exit};
use memdog::sys;

/// --help, packed at build time by build.rs (src/help.txt, src/lz.rs)
static HELP_LZ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/help.lz"));
const HELP_LEN: usize = include!(concat!(env!("OUT_DIR"), "/help_len.rs"));

/// Unpacked in a frame of its own: main's stays small.
#[inline(never)]
fn help() {
    let mut text = [0u8; HELP_LEN];
    let n = memdog::lz::expand(HELP_LZ, &mut text);
    let _ = sys::write_all(sys::STDOUT, text.get(..n).unwrap_or(&[]));
}

// the C runtime calls this; argv is only read through sys::Args
#[allow(clippy::not_unsafe_ptr_arg_deref)]
#[no_mangle]
pub extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: argc/argv come from the C runtime and live for the whole program.
    let args = unsafe { sys::Args::new(argc, argv) };
    match cli::parse(args) {
        Ok(Command::Help) => {
            help();
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
