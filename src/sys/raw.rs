//! Linux system calls without the C library: the syscall instruction of each
//! target, in inline asm, as rustix's linux_raw backend does it. The C
//! library's wrappers each carry errno, thread-cancellation and locking code
//! a single-threaded agent never needs (2-3 KB of a board binary, more on
//! MIPS); here a call is a few instructions at its call site.
//!
//! Every function returns the kernel's value: >= 0 on success, -errno on
//! failure (MIPS reports failure in a3; it is turned into -errno here).
//! [`check`] makes a `Result` of it.
#![allow(clippy::too_many_arguments)]

use super::Errno;
use core::arch::asm;

/// The kernel's return value as a Result: -4095..-1 are errors.
#[inline]
pub fn check(r: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&r) {
        Err(Errno(-r as i32))
    } else {
        Ok(r as usize)
    }
}

#[cfg(target_arch = "x86_64")]
mod arch {
    use super::asm;
    #[inline]
    pub unsafe fn sc6(
        n: usize,
        a: usize,
        b: usize,
        c: usize,
        d: usize,
        e: usize,
        f: usize,
    ) -> isize {
        let r;
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, in("r8") e, in("r9") f, lateout("rcx") _, lateout("r11") _, options(nostack));
        r
    }
    #[inline]
    pub unsafe fn sc4(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
        let r;
        asm!("syscall", inlateout("rax") n as isize => r, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, lateout("rcx") _, lateout("r11") _, options(nostack));
        r
    }
    /// x86_64 signal frames return through sa_restorer (rt_sigreturn);
    /// the kernel requires one.
    pub const SA_RESTORER: usize = 0x0400_0000;
    core::arch::global_asm!(
        ".pushsection .text.memdog_restore_rt,\"ax\",@progbits",
        ".globl memdog_restore_rt",
        ".hidden memdog_restore_rt",
        "memdog_restore_rt:",
        "mov eax, 15",
        "syscall",
        ".popsection",
    );
    extern "C" {
        fn memdog_restore_rt();
    }
    pub fn restorer() -> usize {
        memdog_restore_rt as *const () as usize
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    use super::asm;
    #[inline]
    pub unsafe fn sc6(
        n: usize,
        a: usize,
        b: usize,
        c: usize,
        d: usize,
        e: usize,
        f: usize,
    ) -> isize {
        let r;
        asm!("svc 0", in("x8") n, inlateout("x0") a as isize => r, in("x1") b, in("x2") c,
             in("x3") d, in("x4") e, in("x5") f, options(nostack));
        r
    }
    #[inline]
    pub unsafe fn sc4(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
        let r;
        asm!("svc 0", in("x8") n, inlateout("x0") a as isize => r, in("x1") b, in("x2") c,
             in("x3") d, options(nostack));
        r
    }
    /// The kernel returns from handlers through the vDSO's trampoline.
    pub const SA_RESTORER: usize = 0;
    pub fn restorer() -> usize {
        0
    }
}

/// ARM EABI, in Thumb-2 (armv7), Thumb-1 (armv5te) or ARM code. In Thumb
/// code r7 is the frame pointer and cannot be an asm operand, so the number
/// goes through another register (as musl and rustix do); `movs`, as
/// Thumb-1 has no flag-preserving move between low registers.
#[cfg(target_arch = "arm")]
mod arch {
    use super::asm;
    /// Six arguments leave no low register for the number under Thumb-1:
    /// all of them are loaded from memory, r7 saved on the stack.
    ///
    /// The pointer to them is pinned to r0, which is loaded last. As a
    /// `reg` operand it could be given r7: rustc only refuses r7 named
    /// explicitly, and LLVM hands it out in any function without a frame
    /// pointer. fork() got exactly that (`ldr r7, [r7, #24]` then
    /// `ldr r5, [r7, #20]` read address 120 + 20): SIGSEGV at 0x8c on both
    /// ARM board builds under `run --daemonize`.
    #[inline]
    pub unsafe fn sc6(
        n: usize,
        a: usize,
        b: usize,
        c: usize,
        d: usize,
        e: usize,
        f: usize,
    ) -> isize {
        let args = [a, b, c, d, e, f, n];
        let r;
        asm!("push {{r7}}", "ldr r7, [r0, #24]", "ldr r5, [r0, #20]", "ldr r4, [r0, #16]",
             "ldr r3, [r0, #12]", "ldr r2, [r0, #8]", "ldr r1, [r0, #4]", "ldr r0, [r0]",
             "svc 0", "pop {{r7}}", inlateout("r0") args.as_ptr() => r, lateout("r1") _,
             lateout("r2") _, lateout("r3") _, lateout("r4") _, lateout("r5") _);
        r
    }
    #[inline]
    pub unsafe fn sc4(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
        let r;
        asm!("movs {t}, r7", "movs r7, {n}", "svc 0", "movs r7, {t}", n = in(reg) n, t = out(reg) _,
             inlateout("r0") a as isize => r, in("r1") b, in("r2") c, in("r3") d, options(nostack));
        r
    }
    /// The kernel returns from handlers through its sigpage.
    pub const SA_RESTORER: usize = 0;
    pub fn restorer() -> usize {
        0
    }
}

/// MIPS o32: number in v0, arguments in a0-a3 and, from the fifth, on the
/// stack at 16($sp); a3 comes back nonzero on failure with the positive
/// errno in v0. The call clobbers v1, t0-t9 (and hi/lo, which hold nothing
/// across an asm statement).
#[cfg(target_arch = "mips")]
mod arch {
    use super::asm;
    #[inline]
    pub unsafe fn sc6(
        n: usize,
        a: usize,
        b: usize,
        c: usize,
        d: usize,
        e: usize,
        f: usize,
    ) -> isize {
        let (r, err): (isize, usize);
        asm!("addiu $sp, $sp, -32", "sw $8, 16($sp)", "sw $9, 20($sp)", "syscall",
             "addiu $sp, $sp, 32", inlateout("$8") e => _, inlateout("$9") f => _,
             inlateout("$2") n as isize => r, in("$4") a, in("$5") b, in("$6") c,
             inlateout("$7") d => err, lateout("$3") _,
             lateout("$10") _, lateout("$11") _, lateout("$12") _, lateout("$13") _,
             lateout("$14") _, lateout("$15") _, lateout("$24") _, lateout("$25") _);
        if err != 0 {
            -r
        } else {
            r
        }
    }
    #[inline]
    pub unsafe fn sc4(n: usize, a: usize, b: usize, c: usize, d: usize) -> isize {
        let (r, err): (isize, usize);
        asm!("syscall", inlateout("$2") n as isize => r, in("$4") a, in("$5") b, in("$6") c,
             inlateout("$7") d => err, lateout("$3") _, lateout("$8") _, lateout("$9") _,
             lateout("$10") _, lateout("$11") _, lateout("$12") _, lateout("$13") _,
             lateout("$14") _, lateout("$15") _, lateout("$24") _, lateout("$25") _,
             options(nostack));
        if err != 0 {
            -r
        } else {
            r
        }
    }
    /// MIPS has no sa_restorer: the kernel provides the return trampoline.
    pub const SA_RESTORER: usize = 0;
}

#[cfg(not(target_arch = "mips"))]
pub use arch::restorer;
pub use arch::{sc4, sc6, SA_RESTORER};

/// Up to three arguments: the four-argument call with a zero fourth.
#[inline]
pub unsafe fn sc3(n: usize, a: usize, b: usize, c: usize) -> isize {
    unsafe { sc4(n, a, b, c, 0) }
}

/// Calls the libc crate does not name for these targets: pread64 on MIPS,
/// and the 64-bit time calls of 32-bit ARM and MIPS (Linux 5.1).
#[cfg(target_arch = "mips")]
pub const SYS_PREAD64: usize = 4000 + 200;
#[cfg(not(target_arch = "mips"))]
pub const SYS_PREAD64: usize = libc::SYS_pread64 as usize;
#[cfg(target_arch = "arm")]
pub const SYS_CLOCK_GETTIME64: usize = 403;
#[cfg(target_arch = "mips")]
pub const SYS_CLOCK_GETTIME64: usize = 4000 + 403;
#[cfg(target_arch = "arm")]
pub const SYS_CLOCK_NANOSLEEP_TIME64: usize = 407;
#[cfg(target_arch = "mips")]
pub const SYS_CLOCK_NANOSLEEP_TIME64: usize = 4000 + 407;

/// Syscall numbers as usize (the libc crate names them as c_long).
macro_rules! nr {
    ($name:ident) => {
        libc::$name as usize
    };
}
pub(crate) use nr;
