//! memdog entry point: no_std, no_main, no allocator. Parses argv and hands
//! off to a subcommand; all logic lives in the library.
#![no_std]
#![no_main]
// global_asm (the entry point) is unstable on MIPS; cross builds set RUSTC_BOOTSTRAP
#![cfg_attr(target_arch = "mips", feature(asm_experimental_arch))]

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

/// A subcommand that this build leaves out (a cargo feature, docs/size.md):
/// one line saying where to run it, and the usage exit code.
#[inline(never)]
fn left_out(hint: &[u8]) -> c_int {
    out::error(&[hint]);
    exit::USAGE
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
                concat!(
                    "memdog ",
                    env!("CARGO_PKG_VERSION"),
                    " (features: ",
                    include_str!(concat!(env!("OUT_DIR"), "/features.txt")),
                    ")\n"
                )
                .as_bytes(),
            );
            exit::OK
        }
        #[cfg(feature = "watch")]
        Ok(Command::Watch(w)) => memdog::watch::run(w),
        #[cfg(not(feature = "watch"))]
        Ok(Command::Watch(_)) => exit::USAGE,
        Ok(Command::LeftOut(hint)) => left_out(hint.as_bytes()),
        #[cfg(feature = "snapshot")]
        Ok(Command::Snapshot(s)) => memdog::snapshot::run(s),
        #[cfg(not(feature = "snapshot"))]
        Ok(Command::Snapshot(_)) => left_out(b"snapshot is not in this board build (make cross CROSS_FEATURES=snapshot puts it back); per process: memdog watch --name NAME --count 1"),
        Ok(Command::Check(path)) => memdog::daemon::check(path),
        Ok(Command::Log(path)) => memdog::daemon::print_log(path),
        #[cfg(feature = "report")]
        Ok(Command::Report {
            files,
            svg,
            csv,
            targets,
        }) => memdog::report::run(&files, svg, csv, &targets),
        #[cfg(not(feature = "report"))]
        Ok(Command::Report { .. }) => {
            left_out(b"report is not in this board build: copy the log to a PC and run memdog report there")
        }
        #[cfg(feature = "maps")]
        Ok(Command::Maps {
            pid,
            rss,
            proc_root,
        }) => memdog::inspect::maps(proc_root, pid, rss),
        #[cfg(not(feature = "maps"))]
        Ok(Command::Maps { .. }) => left_out(b"maps is not in this board build: copy /proc/PID/maps (smaps for --rss) to DIR/PID/ on a PC and run memdog maps PID --proc-root DIR there"),
        // --diff of two saved dumps is a PC-side tool (feature report)
        #[cfg(not(feature = "dump"))]
        Ok(Command::Dump(memdog::cli::Dump {
            diff: Some((old, new)),
            min_len,
            top,
            ..
        })) => memdog::inspect::diff(old, new, min_len, top.unwrap_or(20)),
        #[cfg(not(feature = "dump"))]
        Ok(Command::Dump(_)) => left_out(memdog::inspect::NO_DUMP.as_bytes()),
        #[cfg(all(feature = "dump", not(feature = "dump-top")))]
        Ok(Command::Dump(d)) if d.top.is_some() && d.diff.is_none() => left_out(b"dump --top is not in this board build: save the dump with --raw FILE, copy it to a PC and run memdog dump --diff /dev/null FILE there"),
        #[cfg(feature = "dump")]
        Ok(Command::Dump(d)) => match d.diff {
            Some((old, new)) => memdog::inspect::diff(old, new, d.min_len, d.top.unwrap_or(20)),
            None => memdog::inspect::dump(memdog::inspect::DumpOpts {
                root: d.proc_root,
                pid: d.pid,
                region: d.region,
                min_len: d.min_len,
                raw: d.raw,
                max_bytes: if d.quiet { 0 } else { d.max_bytes },
                #[cfg(feature = "dump-top")]
                top: d.top,
                #[cfg(not(feature = "dump-top"))]
                top: None,
                status_fd: d.status_fd,
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
            if e.arg.is_empty() {
                out::error(&[e.what.as_bytes(), b" (try 'memdog --help')"]);
            } else {
                out::error(&[e.what.as_bytes(), b": '", e.arg, b"' (try 'memdog --help')"]);
            }
            exit::USAGE
        }
    }
}

/// Board (musl) builds start here, not in the C library: `memdog_entry`
/// (the ELF entry point, set by build.rs; zig cc links musl's crt1 anyway,
/// and --gc-sections drops its unreferenced _start) hands the
/// initial stack (argc, argv..., NULL, envp...) to `memdog_start`, which
/// calls `main` and exits with its code. musl's start-up (TLS, auxv,
/// init_array, atexit) serves threads, locales and constructors this binary
/// does not have, and is 1.5-2.5 KB of it. glibc host builds keep the C
/// start-up.
#[cfg(target_env = "musl")]
mod start {
    #[cfg(target_arch = "x86_64")]
    core::arch::global_asm!(
        ".globl memdog_entry",
        "memdog_entry:",
        "xor ebp, ebp",
        "mov rdi, rsp",
        "and rsp, -16",
        "call memdog_start",
        "ud2",
    );
    #[cfg(target_arch = "aarch64")]
    core::arch::global_asm!(
        ".globl memdog_entry",
        "memdog_entry:",
        "mov x29, #0",
        "mov x30, #0",
        "mov x0, sp",
        "and x1, x0, #-16",
        "mov sp, x1",
        "bl memdog_start",
        "brk #0",
    );
    // in ARM state, which every ARM core the targets cover runs; the call
    // into Thumb code becomes a BLX at link time
    #[cfg(target_arch = "arm")]
    core::arch::global_asm!(
        ".arm",
        ".globl memdog_entry",
        "memdog_entry:",
        "mov fp, #0",
        "mov lr, #0",
        "mov r0, sp",
        "bic r1, r0, #15",
        "mov sp, r1",
        "bl memdog_start",
        "udf #0",
    );
    // o32: $gp for any GOT access, 16 bytes of argument save area
    #[cfg(target_arch = "mips")]
    core::arch::global_asm!(
        ".set push",
        ".set noreorder",
        ".globl memdog_entry",
        "memdog_entry:",
        "lui $gp, %hi(_gp)",
        "addiu $gp, $gp, %lo(_gp)",
        "move $fp, $0",
        "move $4, $sp",
        "addiu $8, $0, -16",
        "and $sp, $sp, $8",
        "addiu $sp, $sp, -16",
        "jal memdog_start",
        "nop",
        "break",
        ".set pop",
    );

    /// `sp` is the process's initial stack pointer, as the kernel set it up.
    #[no_mangle]
    extern "C" fn memdog_start(sp: *const usize) -> ! {
        // SAFETY: the kernel puts argc at sp and argv's pointers after it
        let argc = unsafe { *sp } as core::ffi::c_int;
        let argv = unsafe { sp.add(1) } as *const *const core::ffi::c_char;
        // the clocks through the vDSO (the auxiliary vector is on this stack)
        #[cfg(not(target_arch = "mips"))]
        unsafe {
            memdog::sys::vdso::init_from_stack(sp)
        };
        memdog::sys::exit(super::main(argc, argv))
    }
}

/// memmove for the board binaries, in a few dozen bytes instead of the
/// 700 of compiler_builtins' word-wise one: the agent moves little (a
/// partial line to the front of its read buffer, a table row), so forward
/// moves go to memcpy (compiler_builtins' memcpy is the very forward copy its
/// memmove uses for them) and the rare backward one copies bytes. Volatile
/// accesses keep LLVM from turning the loop back into a memmove call.
#[cfg(target_env = "musl")]
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    extern "C" {
        fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    }
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // dst before src, or no overlap: a forward copy is right
        return unsafe { memcpy(dst, src, n) };
    }
    let mut i = n;
    while i > 0 {
        i -= 1;
        unsafe { dst.add(i).write_volatile(src.add(i).read_volatile()) };
    }
    dst
}

/// 64-bit division for 32-bit MIPS board binaries: compiler_builtins'
/// helpers share a 780-byte `u64_div_rem`; these share [`udivmod64`], a
/// shift-and-subtract loop (memdog divides a few times per sample).
/// Rust checks for a zero divisor (and i64::MIN / -1) before it calls them.
///
/// [`udivmod64`]: memdog::num::udivmod64
#[cfg(all(target_env = "musl", target_arch = "mips"))]
mod div64 {
    use memdog::num::{divmod64, udivmod64};

    /// `name(a, b)` is `.field` (0: quotient, 1: remainder) of `f(a, b)`.
    macro_rules! helper {
        ($name:ident, $t:ty, $f:ident, $field:tt) => {
            #[no_mangle]
            extern "C" fn $name(a: $t, b: $t) -> $t {
                $f(a, b).$field
            }
        };
    }
    helper!(__udivdi3, u64, udivmod64, 0);
    helper!(__umoddi3, u64, udivmod64, 1);
    helper!(__divdi3, i64, divmod64, 0);
    helper!(__moddi3, i64, divmod64, 1);
}

/// The same for ARM board binaries: the EABI's `__aeabi_uldivmod` and
/// `__aeabi_ldivmod` (compiler_builtins' asm shims) call these two.
#[cfg(all(target_env = "musl", target_arch = "arm"))]
mod div64 {
    use memdog::num::{divmod64, udivmod64};

    #[no_mangle]
    unsafe extern "C" fn __udivmoddi4(n: u64, d: u64, rem: *mut u64) -> u64 {
        let (q, r) = udivmod64(n, d);
        // SAFETY: a caller that wants the remainder passes a valid pointer
        if let Some(rem) = unsafe { rem.as_mut() } {
            *rem = r;
        }
        q
    }

    #[no_mangle]
    unsafe extern "C" fn __divmoddi4(a: i64, b: i64, rem: *mut i64) -> i64 {
        let (q, r) = divmod64(a, b);
        // SAFETY: as above
        if let Some(rem) = unsafe { rem.as_mut() } {
            *rem = r;
        }
        q
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
