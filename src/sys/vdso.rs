//! clock_gettime through the kernel's vDSO, without a system call. Board
//! binaries start at `memdog_entry`, not in the C library, so nothing else
//! looks the vDSO up: its address is AT_SYSINFO_EHDR in the auxiliary
//! vector (after envp on the initial stack), the function is found in its
//! ELF dynamic symbol table (DT_HASH, DT_SYMTAB, DT_STRTAB: every vDSO
//! memdog's targets have carries a SysV hash). Anything not found (qemu-user
//! 7.x maps no vDSO; a kernel without one; ARM before the 64-bit time call)
//! leaves the system call, as before. MIPS keeps the system call: its vDSO
//! functions are o32 PIC code that wants `$t9` and `$gp` set by the caller,
//! a path no test here can run (qemu-user has no MIPS vDSO).
//!
//! The image is the kernel's, mapped read-only for this process; the walk
//! still bounds every count (program headers, dynamic entries, symbols).

use core::sync::atomic::{AtomicUsize, Ordering};

/// The function's name per target: the 64-bit time call on 32-bit ARM.
#[cfg(target_arch = "x86_64")]
pub const CLOCK_NAME: &[u8] = b"__vdso_clock_gettime";
#[cfg(target_arch = "aarch64")]
pub const CLOCK_NAME: &[u8] = b"__kernel_clock_gettime";
#[cfg(target_arch = "arm")]
pub const CLOCK_NAME: &[u8] = b"__vdso_clock_gettime64";
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "arm")))]
pub const CLOCK_NAME: &[u8] = b"";

const AT_SYSINFO_EHDR: usize = 33;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_HASH: usize = 4;
const DT_STRTAB: usize = 5;
const DT_SYMTAB: usize = 6;
const STT_FUNC: u8 = 2;
/// Bounds of the walk: a vDSO has 4-6 program headers, ~20 dynamic
/// entries and ~10-30 symbols.
const MAX_PHDRS: usize = 16;
const MAX_DYN: usize = 64;
const MAX_SYMS: usize = 256;
const W: usize = core::mem::size_of::<usize>();

/// Offsets in the ELF header, program header and symbol of this word size.
#[cfg(target_pointer_width = "64")]
mod elf {
    pub const CLASS: u8 = 2;
    pub const E_PHOFF: usize = 32;
    pub const E_PHENTSIZE: usize = 54;
    pub const E_PHNUM: usize = 56;
    pub const P_OFFSET: usize = 8;
    pub const P_VADDR: usize = 16;
    pub const ST_INFO: usize = 4;
    pub const ST_SHNDX: usize = 6;
    pub const ST_VALUE: usize = 8;
    pub const SYM_SIZE: usize = 24;
}
#[cfg(target_pointer_width = "32")]
mod elf {
    pub const CLASS: u8 = 1;
    pub const E_PHOFF: usize = 28;
    pub const E_PHENTSIZE: usize = 42;
    pub const E_PHNUM: usize = 44;
    pub const P_OFFSET: usize = 4;
    pub const P_VADDR: usize = 8;
    pub const ST_INFO: usize = 12;
    pub const ST_SHNDX: usize = 14;
    pub const ST_VALUE: usize = 4;
    pub const SYM_SIZE: usize = 16;
}

/// # Safety
/// `a` must be readable for `size_of::<T>()` bytes.
unsafe fn rd<T: Copy>(a: usize) -> T {
    unsafe { core::ptr::read_unaligned(a as *const T) }
}

/// The address of the function `name` in the ELF image mapped at `base`,
/// or None (no image, not an ELF of this word size, no such function).
///
/// # Safety
/// `base` is 0 or the address of a mapped ELF image whose tables lie in its
/// mapping, as the kernel's vDSO is.
pub unsafe fn lookup(base: usize, name: &[u8]) -> Option<usize> {
    if base == 0 || name.is_empty() {
        return None;
    }
    let ident: [u8; 5] = unsafe { rd(base) };
    if ident != [0x7f, b'E', b'L', b'F', elf::CLASS] {
        return None;
    }
    let phoff: usize = unsafe { rd(base + elf::E_PHOFF) };
    let phent = usize::from(unsafe { rd::<u16>(base + elf::E_PHENTSIZE) });
    let phnum = usize::from(unsafe { rd::<u16>(base + elf::E_PHNUM) });
    let (mut bias, mut dynamic) = (None, None);
    for i in 0..phnum.min(MAX_PHDRS) {
        let ph = base + phoff + i * phent;
        let vaddr: usize = unsafe { rd(ph + elf::P_VADDR) };
        match unsafe { rd::<u32>(ph) } {
            PT_LOAD if bias.is_none() => {
                let off: usize = unsafe { rd(ph + elf::P_OFFSET) };
                bias = Some(base.wrapping_add(off).wrapping_sub(vaddr));
            }
            PT_DYNAMIC => dynamic = Some(vaddr),
            _ => {}
        }
    }
    let bias = bias?;
    let mut d = bias.wrapping_add(dynamic?);
    let (mut hash, mut strtab, mut symtab) = (0, 0, 0);
    for _ in 0..MAX_DYN {
        let (tag, val): (usize, usize) = unsafe { (rd(d), rd(d + W)) };
        match tag {
            0 => break,
            DT_HASH => hash = val,
            DT_STRTAB => strtab = val,
            DT_SYMTAB => symtab = val,
            _ => {}
        }
        d += 2 * W;
    }
    if hash == 0 || strtab == 0 || symtab == 0 {
        return None;
    }
    // the SysV hash table's second word: the number of symbols
    let nsyms = unsafe { rd::<u32>(bias.wrapping_add(hash) + 4) } as usize;
    for i in 0..nsyms.min(MAX_SYMS) {
        let s = bias.wrapping_add(symtab) + i * elf::SYM_SIZE;
        let defined = unsafe { rd::<u16>(s + elf::ST_SHNDX) } != 0;
        if !defined || unsafe { rd::<u8>(s + elf::ST_INFO) } & 0xf != STT_FUNC {
            continue;
        }
        let at = bias.wrapping_add(strtab) + unsafe { rd::<u32>(s) } as usize;
        let same = name
            .iter()
            .enumerate()
            .all(|(k, &c)| unsafe { rd::<u8>(at + k) } == c);
        if same && unsafe { rd::<u8>(at + name.len()) } == 0 {
            return Some(bias.wrapping_add(unsafe { rd::<usize>(s + elf::ST_VALUE) }));
        }
    }
    None
}

/// The vDSO clock_gettime found at start, 0 for none: the board's
/// single thread sets it once, before anything reads a clock.
static CLOCK: AtomicUsize = AtomicUsize::new(0);

/// Find the vDSO from the process's initial stack (argc, argv, NULL, envp,
/// NULL, auxv pairs) and remember its clock_gettime.
///
/// # Safety
/// `sp` is the initial stack pointer the kernel handed to the entry point.
pub unsafe fn init_from_stack(sp: *const usize) {
    let argc = unsafe { *sp };
    let mut p = unsafe { sp.add(argc + 2) };
    while unsafe { *p } != 0 {
        p = unsafe { p.add(1) };
    }
    p = unsafe { p.add(1) };
    let mut base = 0;
    loop {
        let (ty, val) = unsafe { (*p, *p.add(1)) };
        if ty == 0 {
            break;
        }
        if ty == AT_SYSINFO_EHDR {
            base = val;
        }
        p = unsafe { p.add(2) };
    }
    CLOCK.store(
        unsafe { lookup(base, CLOCK_NAME) }.unwrap_or(0),
        Ordering::Relaxed,
    );
}

/// clock_gettime through the function at `f` (a vDSO clock_gettime with a
/// 64-bit `struct timespec`); None when it fails.
///
/// # Safety
/// `f` is 0 or such a function.
pub unsafe fn call(f: usize, clock_id: i32) -> Option<(i64, u32)> {
    if f == 0 {
        return None;
    }
    type Gettime = unsafe extern "C" fn(i32, *mut [i64; 2]) -> i32;
    let g: Gettime = unsafe { core::mem::transmute::<usize, Gettime>(f) };
    let mut ts = [0i64; 2];
    (unsafe { g(clock_id, &mut ts) } == 0).then_some((ts[0], ts[1] as u32))
}

/// The clock by the vDSO found at start, None where there is none (then
/// the caller makes the system call).
pub fn clock(clock_id: i32) -> Option<(i64, u32)> {
    unsafe { call(CLOCK.load(Ordering::Relaxed), clock_id) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vdso_base() -> usize {
        unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) as usize }
    }

    // the real vDSO of this process: the lookup finds clock_gettime and it
    // tells the same time as the C library's; under qemu-user (no vDSO,
    // make cross-test) the lookup must say None rather than guess
    #[test]
    // tv_sec is i32 in the libc crate's 32-bit musl timespec, i64 elsewhere
    #[allow(clippy::useless_conversion)]
    fn finds_and_calls_the_vdso_clock() {
        let base = vdso_base();
        if base == 0 || CLOCK_NAME.is_empty() {
            eprintln!("SKIP finds_and_calls_the_vdso_clock: no vDSO here (qemu-user) or none used on this target");
            assert_eq!(unsafe { lookup(base, CLOCK_NAME) }, None);
            return;
        }
        let f = unsafe { lookup(base, CLOCK_NAME) }.expect("clock_gettime in the vDSO");
        for id in [
            libc::CLOCK_MONOTONIC,
            libc::CLOCK_REALTIME,
            libc::CLOCK_BOOTTIME,
        ] {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            assert_eq!(unsafe { libc::clock_gettime(id, &mut ts) }, 0);
            let (s, ns) = unsafe { call(f, id) }.expect("vDSO call");
            assert!(ns < 1_000_000_000);
            assert!(
                (s - i64::from(ts.tv_sec)).abs() <= 1,
                "clock {id}: {s} vs {}",
                ts.tv_sec
            );
        }
        // a clock id no kernel has: an error, not a time
        assert_eq!(unsafe { call(f, 4242) }, None);
    }

    #[test]
    fn unknown_names_and_non_elf_images_are_none() {
        let base = vdso_base();
        if base != 0 {
            assert_eq!(unsafe { lookup(base, b"__vdso_no_such_call") }, None);
            // a prefix of a real name is not that name
            assert_eq!(unsafe { lookup(base, b"__vdso_clock") }, None);
        }
        let junk = [0u8; 256];
        assert_eq!(unsafe { lookup(junk.as_ptr() as usize, b"x") }, None);
        let mut other_class = [0u8; 256];
        other_class[..5].copy_from_slice(&[0x7f, b'E', b'L', b'F', 3 - elf::CLASS]);
        assert_eq!(unsafe { lookup(other_class.as_ptr() as usize, b"x") }, None);
        assert_eq!(unsafe { lookup(0, b"x") }, None);
    }
}
