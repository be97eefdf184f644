//! The Linux watchdog driver's ioctls (include/uapi/linux/watchdog.h): set
//! the timeout, keep alive, read the boot status. Their numbers are built
//! with each architecture's `_IOC` encoding, which is not the same
//! everywhere: asm-generic/ioctl.h (x86, ARM, AArch64) has READ = 2,
//! WRITE = 1 in two direction bits above a 14-bit size; MIPS
//! (arch/mips/include/uapi/asm/ioctl.h, like PowerPC and SPARC) has
//! NONE = 1, READ = 2, WRITE = 4 in three bits above a 13-bit size. So
//! WDIOC_GETBOOTSTATUS is 0x80045702 on ARM and 0x40045702 on MIPS; a
//! board binary with the other's number gets ENOTTY from a real driver.
//!
//! Every driver behind /dev/watchdog (softdog, i6300esb, SoC drivers) goes
//! through watchdog_dev.c, which takes and returns an `int` for each of
//! these. The functions return the kernel's answer; the caller logs it.
//! watchdog_dev.c answers EOPNOTSUPP (= ENOTSUP on Linux, 95) for a call
//! the driver lacks; [`Errno::text`] words 95 for memdog's own use of it
//! (not a plain file), so a caller says "the driver does not support it"
//! itself.

use super::raw::{check, nr, sc3};
use super::{retry, Errno, Fd};

/// `_IOC`'s direction bits and size width, per architecture.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
mod dir {
    pub const READ: u32 = 2;
    pub const WRITE: u32 = 4;
    pub const SIZE_BITS: u32 = 13;
}
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
mod dir {
    pub const READ: u32 = 2;
    pub const WRITE: u32 = 1;
    pub const SIZE_BITS: u32 = 14;
}
pub use dir::{READ as IOC_READ, SIZE_BITS as IOC_SIZE_BITS, WRITE as IOC_WRITE};

/// `_IOC(dir, type, nr, size)`: nr in bits 0-7, type in 8-15, size from
/// bit 16, direction above the size.
pub const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    // the sizes here are an int and a struct of 40 bytes, far below the
    // 8 KiB (MIPS) or 16 KiB the field holds; a bigger one would not compile
    assert!(size < 1 << IOC_SIZE_BITS);
    (dir << (16 + IOC_SIZE_BITS)) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32
}

/// The watchdog driver's ioctl type byte.
const WATCHDOG_IOCTL_BASE: u8 = b'W';
const INT: usize = core::mem::size_of::<i32>();

/// `_IOR('W', 2, int)`: the reasons for the last reset (WDIOF_* bits).
pub const WDIOC_GETBOOTSTATUS: u32 = ioc(IOC_READ, WATCHDOG_IOCTL_BASE, 2, INT);
/// `_IOR('W', 5, int)`: a kick (the kernel ignores the int).
pub const WDIOC_KEEPALIVE: u32 = ioc(IOC_READ, WATCHDOG_IOCTL_BASE, 5, INT);
/// `_IOWR('W', 6, int)`: the timeout in seconds in, the one set out.
pub const WDIOC_SETTIMEOUT: u32 = ioc(IOC_READ | IOC_WRITE, WATCHDOG_IOCTL_BASE, 6, INT);
/// `_IOR('W', 7, int)`: the timeout in seconds now.
pub const WDIOC_GETTIMEOUT: u32 = ioc(IOC_READ, WATCHDOG_IOCTL_BASE, 7, INT);

/// WDIOC_GETBOOTSTATUS bits (linux/watchdog.h): the last reset came from
/// the watchdog itself.
pub const WDIOF_CARDRESET: u32 = 0x0020;
/// The other reasons a driver may report.
pub const WDIOF_OVERHEAT: u32 = 0x0001;
pub const WDIOF_FANFAULT: u32 = 0x0002;
pub const WDIOF_EXTERN1: u32 = 0x0004;
pub const WDIOF_EXTERN2: u32 = 0x0008;
pub const WDIOF_POWERUNDER: u32 = 0x0010;
pub const WDIOF_POWEROVER: u32 = 0x0040;

/// ioctl(fd, cmd, &value): the kernel reads and/or writes the int.
fn ioctl_int(fd: &Fd, cmd: u32, value: &mut i32) -> Result<(), Errno> {
    let p = value as *mut i32 as usize;
    retry(|| check(unsafe { sc3(nr!(SYS_ioctl), fd.raw() as usize, cmd as usize, p) })).map(drop)
}

/// WDIOC_SETTIMEOUT: ask for `secs` and return the timeout the driver
/// actually set, which may differ (rounded to its clock, clamped to its
/// range: softdog takes 1..65535, many SoC drivers far less). EINVAL: out
/// of the driver's range; EOPNOTSUPP: the driver has a fixed timeout.
pub fn set_timeout(fd: &Fd, secs: u32) -> Result<u32, Errno> {
    let mut v = i32::try_from(secs).map_err(|_| Errno(libc::EINVAL))?;
    ioctl_int(fd, WDIOC_SETTIMEOUT, &mut v)?;
    Ok(v as u32)
}

/// WDIOC_GETTIMEOUT: the timeout in seconds now in force.
pub fn timeout(fd: &Fd) -> Result<u32, Errno> {
    let mut v = 0;
    ioctl_int(fd, WDIOC_GETTIMEOUT, &mut v)?;
    Ok(v as u32)
}

/// WDIOC_KEEPALIVE: one kick, as writing a byte to the device is.
/// EOPNOTSUPP: the driver has no keepalive ioctl (kick by write then).
pub fn keepalive(fd: &Fd) -> Result<(), Errno> {
    let mut v = 0;
    ioctl_int(fd, WDIOC_KEEPALIVE, &mut v)
}

/// WDIOC_GETBOOTSTATUS: the WDIOF_* reasons for the last reset, as the
/// driver recorded them at boot ([`WDIOF_CARDRESET`]: the watchdog reset the
/// board). 0 from a driver that cannot tell.
pub fn boot_status(fd: &Fd) -> Result<u32, Errno> {
    let mut v = 0;
    ioctl_int(fd, WDIOC_GETBOOTSTATUS, &mut v)?;
    Ok(v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The kernel's numbers per architecture, from its own headers (zig's
    // copy of include/uapi/linux/watchdog.h compiled for each target, and
    // golang.org/x/sys/unix's zerrors_linux_mips.go, generated from them):
    // GETSUPPORT, GETBOOTSTATUS, KEEPALIVE, SETTIMEOUT, GETTIMEOUT,
    // GETTIMELEFT. Run by `make cross-test` under qemu for armv7, big-endian
    // mips and aarch64, and on the host for x86_64.
    #[cfg(any(target_arch = "mips", target_arch = "mips64"))]
    const KERNEL: [u32; 6] = [
        0x4028_5700,
        0x4004_5702,
        0x4004_5705,
        0xc004_5706,
        0x4004_5707,
        0x4004_570a,
    ];
    #[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
    const KERNEL: [u32; 6] = [
        0x8028_5700,
        0x8004_5702,
        0x8004_5705,
        0xc004_5706,
        0x8004_5707,
        0x8004_570a,
    ];

    #[test]
    fn watchdog_ioctl_numbers_are_the_kernels() {
        // struct watchdog_info: u32 options, u32 firmware_version, u8 identity[32]
        let getsupport = ioc(IOC_READ, b'W', 0, 40);
        let gettimeleft = ioc(IOC_READ, b'W', 10, 4);
        let ours = [
            getsupport,
            WDIOC_GETBOOTSTATUS,
            WDIOC_KEEPALIVE,
            WDIOC_SETTIMEOUT,
            WDIOC_GETTIMEOUT,
            gettimeleft,
        ];
        for (o, k) in ours.iter().zip(KERNEL) {
            assert_eq!(*o, k, "{o:#010x} vs the kernel's {k:#010x}");
        }
    }

    // The encoder against other ioctls whose per-architecture values the
    // libc crate spells out as literals: termios2 is 44 bytes on most
    // targets and 48 on MIPS, so this checks the size field's place, and
    // the READ and WRITE bits separately.
    #[test]
    fn ioc_matches_libc_literals() {
        let t2 = core::mem::size_of::<libc::termios2>();
        assert_eq!(ioc(IOC_READ, b'T', 0x2a, t2) as libc::Ioctl, libc::TCGETS2);
        assert_eq!(ioc(IOC_WRITE, b'T', 0x2b, t2) as libc::Ioctl, libc::TCSETS2);
        assert_eq!(
            ioc(IOC_WRITE, b'T', 0x2c, t2) as libc::Ioctl,
            libc::TCSETSW2
        );
    }

    // The system call path: a file that is no watchdog answers each ioctl
    // with the kernel's ENOTTY. The other targets' tests run under
    // qemu-user, which answers ENOSYS itself for an ioctl it has no
    // translation for (the watchdog's), so the number never reaches a
    // kernel there: a real driver's answers are checked on the emulated
    // boards (softdog, i6300esb).
    #[test]
    fn a_plain_file_is_no_watchdog() {
        let d = std::env::temp_dir().join(format!("memdog-wdt-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let f = d.join("not-a-watchdog");
        std::fs::write(&f, b"").unwrap();
        let p = super::super::PathBuf::from(f.to_str().unwrap().as_bytes());
        let fd = super::super::open_write(&p).unwrap();
        #[cfg(target_arch = "x86_64")]
        let no = [libc::ENOTTY];
        #[cfg(not(target_arch = "x86_64"))]
        let no = [libc::ENOTTY, libc::ENOSYS];
        let refused = |r: Result<(), Errno>| matches!(r, Err(Errno(e)) if no.contains(&e));
        assert!(refused(set_timeout(&fd, 30).map(drop)));
        assert!(refused(timeout(&fd).map(drop)));
        assert!(refused(keepalive(&fd)));
        assert!(refused(boot_status(&fd).map(drop)));
        // past i32: refused before any ioctl
        assert_eq!(set_timeout(&fd, u32::MAX), Err(Errno(libc::EINVAL)));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
