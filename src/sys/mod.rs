//! The only module with `unsafe`: file descriptors, directory listing, clocks,
//! signals and process control, as thin wrappers over the kernel's system
//! calls ([`raw`]); the C library is left only the process start-up (and,
//! in glibc host builds, the clocks libfaketime intercepts). Everything above
//! this module is safe Rust.
#![allow(unsafe_code)]

use core::ffi::c_char;

pub mod cell;
pub mod fs;
pub mod net;
pub mod path;
mod raw;
pub mod vdso;
pub mod watchdog;
pub use path::PathBuf;
use raw::{check, nr, sc3, sc4, sc6};

/// A system call of up to three arguments, as a Result.
fn sys3(n: usize, a: usize, b: usize, c: usize) -> Result<usize, Errno> {
    check(unsafe { sc3(n, a, b, c) })
}

fn sys4(n: usize, a: usize, b: usize, c: usize, d: usize) -> Result<usize, Errno> {
    check(unsafe { sc4(n, a, b, c, d) })
}

/// A system call retried while a signal interrupts it (EINTR).
fn retry(mut call: impl FnMut() -> Result<usize, Errno>) -> Result<usize, Errno> {
    loop {
        match call() {
            Err(e) if e.0 == libc::EINTR => {}
            other => return other,
        }
    }
}

/// `AT_FDCWD` as a syscall argument.
const CWD: usize = libc::AT_FDCWD as usize;

/// A path argument: the NUL-terminated bytes of a PathBuf.
fn cstr(p: &PathBuf) -> usize {
    p.as_cstr_ptr() as usize
}

/// An errno value, e.g. `Errno(libc::ENOENT)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    /// The errno's name and meaning, for one-line error messages
    /// (`EPIPE: broken pipe`): the name is what a user searches for.
    pub fn text(self) -> &'static str {
        let Some(mut i) = ERRNOS.iter().position(|&e| i32::from(e) == self.0) else {
            return "unrecognised errno";
        };
        // the i-th NUL-ended text
        let mut start = 0;
        for (at, &b) in ERRNO_TEXT.as_bytes().iter().enumerate() {
            if b == 0 {
                if i == 0 {
                    return ERRNO_TEXT.get(start..at).unwrap_or("");
                }
                i -= 1;
                start = at + 1;
            }
        }
        "unrecognised errno"
    }
}

/// The errnos [`Errno::text`] knows (u16: MIPS numbers go past 1000), and
/// their texts in the same order, one string: a table instead of a match
/// arm per errno (a few hundred bytes on Thumb).
const ERRNOS: [u16; 39] = [
    libc::ENOENT as u16,
    libc::EACCES as u16,
    libc::EPERM as u16,
    libc::ESRCH as u16,
    libc::ENOSPC as u16,
    libc::EROFS as u16,
    libc::ELOOP as u16,
    libc::EISDIR as u16,
    libc::ENOTDIR as u16,
    libc::EIO as u16,
    libc::EINVAL as u16,
    libc::EMFILE as u16,
    libc::ENFILE as u16,
    libc::EDQUOT as u16,
    libc::EFBIG as u16,
    libc::EINTR as u16,
    libc::ENAMETOOLONG as u16,
    libc::EPIPE as u16,
    libc::ENOTSOCK as u16,
    libc::ECONNREFUSED as u16,
    libc::EAGAIN as u16,
    libc::ENXIO as u16,
    libc::EBADF as u16,
    libc::EEXIST as u16,
    libc::EBUSY as u16,
    libc::ENODEV as u16,
    libc::ENOTTY as u16,
    libc::ENOMEM as u16,
    libc::ENOEXEC as u16,
    libc::ETXTBSY as u16,
    libc::ENOSYS as u16,
    libc::EOVERFLOW as u16,
    libc::EADDRINUSE as u16,
    libc::EADDRNOTAVAIL as u16,
    libc::ENETUNREACH as u16,
    libc::EMSGSIZE as u16,
    libc::ENOTSUP as u16,
    libc::EMLINK as u16,
    libc::EPROTOTYPE as u16,
];
const ERRNO_TEXT: &str = "ENOENT: no such file or directory\0\
EACCES: permission denied\0\
EPERM: operation not permitted\0\
ESRCH: no such process\0\
ENOSPC: no space left on device\0\
EROFS: read-only file system\0\
ELOOP: is a symlink (refused)\0\
EISDIR: is a directory\0\
ENOTDIR: not a directory\0\
EIO: input/output error\0\
EINVAL: invalid argument\0\
EMFILE: too many open files\0\
ENFILE: too many open files in the system\0\
EDQUOT: disk quota exceeded\0\
EFBIG: file too large\0\
EINTR: interrupted\0\
ENAMETOOLONG: path too long\0\
EPIPE: broken pipe (the reader went away)\0\
ENOTSOCK: not a socket\0\
ECONNREFUSED: connection refused (nothing listens there)\0\
EAGAIN: resource busy, try again\0\
ENXIO: no such device or address\0\
EBADF: bad file descriptor\0\
EEXIST: file exists\0\
EBUSY: device or resource busy\0\
ENODEV: no such device\0\
ENOTTY: not a terminal or not that device (wrong ioctl)\0\
ENOMEM: out of memory\0\
ENOEXEC: not an executable format\0\
ETXTBSY: text file busy\0\
ENOSYS: system call not in this kernel\0\
EOVERFLOW: value too large\0\
EADDRINUSE: address in use\0\
EADDRNOTAVAIL: address not available on this host\0\
ENETUNREACH: network unreachable\0\
EMSGSIZE: message too long\0\
ENOTSUP: not a plain file (a device node or FIFO where memdog writes a file)\0\
EMLINK: the file has other hard links (refused: not memdog's own file)\0\
EPROTOTYPE: wrong socket type (a stream socket where a datagram one was expected?)\0";

impl embedded_io::Error for Errno {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

/// An owned file descriptor, closed on drop.
pub struct Fd(i32);

pub const STDOUT: i32 = 1;
pub const STDERR: i32 = 2;

impl Fd {
    /// Open read-only. O_CLOEXEC so exec'd actions never inherit it.
    pub fn open_read(path: &PathBuf) -> Result<Fd, Errno> {
        Self::open(path, libc::O_RDONLY | libc::O_CLOEXEC, 0)
    }

    /// Open for appending log lines: never follow a symlink (a log path
    /// replaced by a link to /etc/passwd must not be written through).
    pub fn open_append(path: &PathBuf) -> Result<Fd, Errno> {
        Self::open(
            path,
            libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0o640,
        )
    }

    fn open(path: &PathBuf, flags: i32, mode: u32) -> Result<Fd, Errno> {
        if !path.is_valid() {
            return Err(Errno(libc::ENAMETOOLONG));
        }
        // O_LARGEFILE as musl adds it: 32-bit targets read /proc/PID/mem
        // above 2 GB and may hold big files
        let flags = (flags | libc::O_LARGEFILE) as usize;
        let fd = retry(|| sys4(nr!(SYS_openat), CWD, cstr(path), flags, mode as usize))?;
        Ok(Fd(fd as i32))
    }

    /// Write the bytes once (watchdog kicks).
    pub fn write_bytes(&mut self, b: &[u8]) -> Result<(), Errno> {
        write_all(self.0, b)
    }

    /// Borrow a descriptor we do not own (stdout, stderr): not closed on drop.
    pub fn borrowed(fd: i32) -> Borrowed {
        Borrowed(fd)
    }

    pub fn raw(&self) -> i32 {
        self.0
    }

    /// Read from `offset` (pread), for /proc/PID/mem.
    pub fn read_at(&mut self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        let (fd, p, len) = (self.0 as usize, buf.as_mut_ptr() as usize, buf.len());
        retry(|| {
            // 32-bit ABIs pass the 64-bit offset in an aligned register
            // pair (after a pad argument), its words in memory order
            #[cfg(target_pointer_width = "32")]
            let r = {
                let w: [u32; 2] = unsafe { core::mem::transmute(offset) };
                unsafe {
                    sc6(
                        raw::SYS_PREAD64,
                        fd,
                        p,
                        len,
                        0,
                        w[0] as usize,
                        w[1] as usize,
                    )
                }
            };
            #[cfg(target_pointer_width = "64")]
            let r = unsafe { sc4(raw::SYS_PREAD64, fd, p, len, offset as usize) };
            check(r)
        })
    }

    /// Append one whole line or nothing: on a short write (disk filled up
    /// mid-line) the partial tail is cut off again, so a log never holds a
    /// torn line. Meant for files opened with [`Fd::open_append`].
    pub fn append_whole(&mut self, buf: &[u8]) -> Result<(), Errno> {
        let n = match raw_write(self.0, buf) {
            Ok(n) if n == buf.len() => return Ok(()),
            Ok(0) => return Err(Errno(libc::ENOSPC)),
            Ok(n) => n,
            Err(e) => return Err(e),
        };
        if let Ok(end) = self.size() {
            if end >= n as u64 {
                // a log stays far below 2 GB: the 32-bit length call suffices
                let _ = sys3(
                    nr!(SYS_ftruncate),
                    self.0 as usize,
                    (end - n as u64) as usize,
                    0,
                );
            }
        }
        Err(Errno(libc::ENOSPC))
    }

    /// A reader of this file from its start by pread: a held /proc file is
    /// generated afresh by a read at offset 0 (seq_file restarts there), one
    /// system call instead of lseek + read.
    pub fn from_start(&mut self) -> At<'_> {
        At { fd: self, off: 0 }
    }

    /// Size of the file in bytes, by seeking to its end: for the append-only
    /// log (writes go to the end whatever the offset; on 32-bit targets a
    /// file over 2 GB is EOVERFLOW). lseek rather than fstat: musl's fstat
    /// carries a statx fallback of 1.1-1.2 KB.
    pub fn size(&self) -> Result<u64, Errno> {
        let end = sys3(nr!(SYS_lseek), self.0 as usize, 0, libc::SEEK_END as usize)?;
        Ok(end as u64)
    }

    pub fn fsync(&self) -> Result<(), Errno> {
        sys3(nr!(SYS_fsync), self.0 as usize, 0, 0).map(drop)
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        let _ = sys3(nr!(SYS_close), self.0 as usize, 0, 0);
    }
}

/// [`Fd::from_start`]: reads with pread at a running offset.
pub struct At<'f> {
    fd: &'f mut Fd,
    off: u64,
}

impl embedded_io::ErrorType for At<'_> {
    type Error = Errno;
}

impl embedded_io::Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = self.fd.read_at(buf, self.off)?;
        self.off += n as u64;
        Ok(n)
    }
}

/// A descriptor owned by someone else (stdio).
#[derive(Clone, Copy)]
pub struct Borrowed(pub i32);

fn raw_read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    let (p, len) = (buf.as_mut_ptr() as usize, buf.len());
    retry(|| sys3(nr!(SYS_read), fd as usize, p, len))
}

fn raw_write(fd: i32, buf: &[u8]) -> Result<usize, Errno> {
    let (p, len) = (buf.as_ptr() as usize, buf.len());
    retry(|| sys3(nr!(SYS_write), fd as usize, p, len))
}

macro_rules! impl_io {
    ($t:ty) => {
        impl embedded_io::ErrorType for $t {
            type Error = Errno;
        }
        impl embedded_io::Read for $t {
            fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
                raw_read(self.0, buf)
            }
        }
        impl embedded_io::Write for $t {
            fn write(&mut self, buf: &[u8]) -> Result<usize, Errno> {
                if buf.is_empty() {
                    return Ok(0);
                }
                match raw_write(self.0, buf)? {
                    0 => Err(Errno(libc::ENOSPC)),
                    n => Ok(n),
                }
            }
            fn flush(&mut self) -> Result<(), Errno> {
                Ok(())
            }
        }
    };
}
impl_io!(Fd);
impl_io!(Borrowed);

/// Open an existing file or device for writing (the watchdog device, or a
/// stand-in file in tests). No O_CREAT: a missing device is an error.
pub fn open_write(path: &PathBuf) -> Result<Fd, Errno> {
    Fd::open(path, libc::O_WRONLY | libc::O_APPEND | libc::O_CLOEXEC, 0)
}

/// Replace a small file's contents and fsync it (the reset-reason file:
/// written just before the board is reset, so it must reach the flash).
/// Only a plain file with no other name is rewritten: O_NOFOLLOW stops
/// symlinks, not hard links (boards often lack fs.protected_hardlinks), and
/// a FIFO there must not block the watchdog action.
pub fn write_file_synced(path: &PathBuf, data: &[u8]) -> Result<(), Errno> {
    let fd = Fd::open(
        path,
        libc::O_WRONLY | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
        0o644,
    )?;
    let st = fs::fstat(&fd)?;
    if st.kind() != fs::Kind::Regular {
        return Err(Errno(libc::ENOTSUP));
    }
    if st.nlink > 1 {
        return Err(Errno(libc::EMLINK));
    }
    fs::truncate_to_zero(&fd)?;
    write_all(fd.0, data)?;
    fd.fsync()
}

/// Create (or truncate) a file for writing, never through a symlink
/// (memory dumps are 0600: they hold the process's secrets).
pub fn create_file(path: &PathBuf, mode: u32) -> Result<Fd, Errno> {
    Fd::open(
        path,
        libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        mode,
    )
}

/// Create a file that must not exist yet (O_EXCL: never opens, truncates or
/// follows anything already there).
pub fn create_new(path: &PathBuf, mode: u32) -> Result<Fd, Errno> {
    Fd::open(
        path,
        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        mode,
    )
}

/// Open a log file emptied (rotation with a single file).
pub fn open_truncate(path: &PathBuf) -> Result<Fd, Errno> {
    Fd::open(
        path,
        libc::O_WRONLY
            | libc::O_APPEND
            | libc::O_CREAT
            | libc::O_TRUNC
            | libc::O_NOFOLLOW
            | libc::O_CLOEXEC,
        0o640,
    )
}

/// rename(2)
pub fn rename(from: &PathBuf, to: &PathBuf) -> Result<(), Errno> {
    if !from.is_valid() || !to.is_valid() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    sys4(nr!(SYS_renameat), CWD, cstr(from), CWD, cstr(to)).map(drop)
}

/// A unix datagram socket connected to `path` (the local syslog, /dev/log).
pub fn unix_dgram_connect(path: &PathBuf) -> Result<Fd, Errno> {
    let fd = socket(libc::AF_UNIX)?;
    let mut addr: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let p = path.as_bytes();
    if p.len() >= addr.sun_path.len() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    for (d, s) in addr.sun_path.iter_mut().zip(p) {
        *d = *s as libc::c_char;
    }
    connect(fd, &addr)
}

/// A UDP socket connected to ip:port (remote syslog).
pub fn udp_connect(ip: [u8; 4], port: u16) -> Result<Fd, Errno> {
    let fd = socket(libc::AF_INET)?;
    let mut addr: libc::sockaddr_in = unsafe { core::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_port = port.to_be();
    addr.sin_addr.s_addr = u32::from_ne_bytes(ip);
    connect(fd, &addr)
}

/// A datagram socket of `family`, close-on-exec.
fn socket(family: i32) -> Result<Fd, Errno> {
    let ty = libc::SOCK_DGRAM | libc::SOCK_CLOEXEC;
    let fd = sys3(nr!(SYS_socket), family as usize, ty as usize, 0)?;
    Ok(Fd(fd as i32))
}

fn connect<A>(fd: Fd, addr: &A) -> Result<Fd, Errno> {
    let (a, len) = (addr as *const A as usize, core::mem::size_of::<A>());
    sys3(nr!(SYS_connect), fd.0 as usize, a, len)?;
    Ok(fd)
}

/// One datagram, never blocking the sampler.
pub fn send(fd: &Fd, data: &[u8]) -> Result<(), Errno> {
    let flags = (libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) as usize;
    let (p, len) = (data.as_ptr() as usize, data.len());
    check(unsafe { sc6(nr!(SYS_sendto), fd.0 as usize, p, len, flags, 0, 0) }).map(drop)
}

/// The node name (uname -n), for remote syslog.
pub fn hostname() -> heapless::Vec<u8, 64> {
    // struct new_utsname: six fields of 65 bytes, the node name second
    let mut u = [0u8; 6 * 65];
    let mut v = heapless::Vec::new();
    if sys3(nr!(SYS_uname), u.as_mut_ptr() as usize, 0, 0).is_ok() {
        for &c in u
            .get(65..130)
            .unwrap_or(&[])
            .iter()
            .take_while(|&&c| c != 0)
        {
            if v.push(c).is_err() {
                break;
            }
        }
    }
    if v.is_empty() {
        let _ = v.extend_from_slice(b"-");
    }
    v
}

/// Effective user id (config StrictModes check).
pub fn geteuid() -> u32 {
    // ARM's old geteuid (49) is the 16-bit one
    #[cfg(target_arch = "arm")]
    let n = nr!(SYS_geteuid32);
    #[cfg(not(target_arch = "arm"))]
    let n = nr!(SYS_geteuid);
    sys3(n, 0, 0, 0).unwrap_or(0) as u32
}

/// Permission bits of an open file ([`fs::fstat`], the bare syscall: musl's
/// fstat goes through fstatat with a statx fallback, 1.1-1.2 KB).
pub fn mode_of(fd: &Fd) -> Result<u32, Errno> {
    fs::fstat(fd).map(|st| st.mode & 0o7777)
}

/// Arguments and environment for an exec, as NUL-terminated strings in one
/// fixed buffer. 16 arguments and 12 variables in 1 KiB cover an action's
/// command line and the MEMDOG_* variables.
pub struct ExecArgs {
    buf: [u8; 1024],
    len: usize,
    argv: [usize; 17],
    argc: usize,
    envp: [usize; 13],
    envc: usize,
}

impl Default for ExecArgs {
    fn default() -> Self {
        Self::new()
    }
}

impl ExecArgs {
    pub fn new() -> ExecArgs {
        ExecArgs {
            buf: [0; 1024],
            len: 0,
            argv: [0; 17],
            argc: 0,
            envp: [0; 13],
            envc: 0,
        }
    }

    fn put(&mut self, parts: &[&[u8]]) -> Option<usize> {
        let start = self.len;
        for p in parts {
            // a NUL inside: a plain loop, as slice::contains is a 128-byte memchr
            if !p.iter().all(|&b| b != 0) {
                return None;
            }
            let dst = self.buf.get_mut(self.len..self.len + p.len())?;
            dst.copy_from_slice(p);
            self.len += p.len();
        }
        *self.buf.get_mut(self.len)? = 0;
        self.len += 1;
        Some(start)
    }

    /// Add an argument; false when the fixed space is used up.
    pub fn arg(&mut self, a: &[u8]) -> bool {
        if self.argc >= self.argv.len() - 1 {
            return false;
        }
        match self.put(&[a]) {
            Some(off) => {
                self.argv[self.argc] = off;
                self.argc += 1;
                true
            }
            None => false,
        }
    }

    /// Add `KEY=value`.
    pub fn env(&mut self, k: &[u8], v: &[u8]) -> bool {
        if self.envc >= self.envp.len() - 1 {
            return false;
        }
        match self.put(&[k, b"=", v]) {
            Some(off) => {
                self.envp[self.envc] = off;
                self.envc += 1;
                true
            }
            None => false,
        }
    }

    /// Start the program in a new process group (so a timeout kills all it
    /// started). Never waits; the caller reaps with [`reap`].
    pub fn spawn(&self) -> Result<u32, Errno> {
        if self.argc == 0 {
            return Err(Errno(libc::EINVAL));
        }
        let base = self.buf.as_ptr() as *const c_char;
        let mut argv: [*const c_char; 17] = [core::ptr::null(); 17];
        let mut envp: [*const c_char; 13] = [core::ptr::null(); 13];
        for (i, off) in self.argv.iter().take(self.argc).enumerate() {
            argv[i] = unsafe { base.add(*off) };
        }
        for (i, off) in self.envp.iter().take(self.envc).enumerate() {
            envp[i] = unsafe { base.add(*off) };
        }
        let pid = fork()?;
        if pid == 0 {
            let _ = sys3(nr!(SYS_setpgid), 0, 0, 0);
            // default signal dispositions for the child
            for sig in [libc::SIGPIPE, libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
                signals::set(sig, libc::SIG_DFL);
            }
            // stdin and stdout on /dev/null: an action's output must never
            // mix into a log written to stdout (stderr stays memdog's)
            null_stdio(2);
            let (a, e) = (argv.as_ptr() as usize, envp.as_ptr() as usize);
            let _ = sys3(nr!(SYS_execve), argv[0] as usize, a, e);
            exit(127);
        }
        Ok(pid)
    }
}

/// Reap one finished child without blocking: (pid, exit code or 128+signal).
pub fn reap() -> Option<(u32, i32)> {
    let mut status = 0i32;
    let st = &mut status as *mut i32 as usize;
    let pid = sys4(nr!(SYS_wait4), usize::MAX, st, libc::WNOHANG as usize, 0).ok()?;
    if pid == 0 {
        return None;
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        -1
    };
    Some((pid as u32, code))
}

/// Signal a whole process group.
pub fn kill_group(pgid: u32, sig: i32) {
    let _ = kill_raw(-(pgid as i32), sig);
}

/// Is `path` an executable file? (checked before fork so a typo is a clear log line)
pub fn executable(path: &PathBuf) -> bool {
    path.is_valid() && sys4(nr!(SYS_faccessat), CWD, cstr(path), libc::X_OK as usize, 0).is_ok()
}

/// sync(2), then reboot(2). Only returns on failure.
pub fn reboot() -> Errno {
    let _ = sys3(nr!(SYS_sync), 0, 0, 0);
    let (m1, m2) = (
        libc::LINUX_REBOOT_MAGIC1 as usize,
        libc::LINUX_REBOOT_MAGIC2 as usize,
    );
    match sys4(nr!(SYS_reboot), m1, m2, libc::RB_AUTOBOOT as usize, 0) {
        Err(e) => e,
        Ok(_) => Errno(libc::EINVAL),
    }
}

/// fork(2) as the bare syscall: clone(SIGCHLD), which is fork on every
/// architecture (the other arguments are zero, so their per-arch order does
/// not matter). musl's fork() takes its internal locks and runs the atfork
/// and thread bookkeeping of a threaded program, which links in its rwlock,
/// futex wait and vDSO lookup: 3-4 KB of a board binary that never starts a
/// thread. musl's own view of the thread id stays the parent's in the child,
/// so nothing here may use raise() or abort() (see `abort`).
pub fn fork() -> Result<u32, Errno> {
    let sigchld = libc::SIGCHLD as usize;
    check(unsafe { sc6(nr!(SYS_clone), sigchld, 0, 0, 0, 0, 0) }).map(|pid| pid as u32)
}

/// Detach from the terminal for busybox init: fork, then [`detach`] in the
/// child. Returns in the child; the parent exits 0.
pub fn daemonize() -> Result<(), Errno> {
    if fork()? > 0 {
        exit(0);
    }
    detach();
    Ok(())
}

/// The child's half of daemonizing: a session of its own (no controlling
/// terminal), `/` as its directory (no mount kept busy), stdio on /dev/null.
pub fn detach() {
    let _ = sys3(nr!(SYS_setsid), 0, 0, 0);
    let _ = sys3(nr!(SYS_chdir), c"/".as_ptr() as usize, 0, 0);
    null_stdio(3);
}

/// Put /dev/null on descriptors 0..n (n = 2: stdin and stdout).
fn null_stdio(n: usize) {
    let null = c"/dev/null".as_ptr() as usize;
    if let Ok(null) = sys4(nr!(SYS_openat), CWD, null, libc::O_RDWR as usize, 0) {
        for fd in 0..n {
            if null != fd {
                let _ = sys3(nr!(SYS_dup3), null, fd, 0);
            }
        }
        if null > 2 {
            let _ = sys3(nr!(SYS_close), null, 0, 0);
        }
    }
}

/// Write all of `buf` to a stream (stdout, a pipe), retrying short writes.
pub fn write_all(fd: i32, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match raw_write(fd, buf)? {
            0 => return Err(Errno(libc::ENOSPC)),
            n => buf = buf.get(n..).unwrap_or(&[]),
        }
    }
    Ok(())
}

/// Read a whole small file into `buf`. Returns the bytes read and whether
/// the file was longer than the buffer (the rest is left unread).
pub fn read_file<'a>(path: &PathBuf, buf: &'a mut [u8]) -> Result<(&'a [u8], bool), Errno> {
    // non-blocking: a FIFO where a pidfile should be reads empty at once
    // instead of stopping the daemon (and its watchdog kicks) in open(2)
    let mut fd = fs::open_read_nonblock(path)?;
    let mut len = 0;
    while len < buf.len() {
        let n = embedded_io::Read::read(&mut fd, &mut buf[len..])?;
        if n == 0 {
            return Ok((&buf[..len], false));
        }
        len += n;
    }
    // buffer full: is there more?
    let mut probe = [0u8; 1];
    let more = embedded_io::Read::read(&mut fd, &mut probe)? > 0;
    Ok((&buf[..len], more))
}

/// Directory listing through getdents64: musl's and uClibc's opendir
/// allocate, and the agent has no allocator.
pub struct Dir {
    fd: Fd,
    // 2 KiB holds ~80 /proc entries per syscall; /proc of a board has 100-300.
    buf: [u8; 2048],
    pos: usize,
    len: usize,
}

impl Dir {
    pub fn open(path: &PathBuf) -> Result<Dir, Errno> {
        let fd = Fd::open(
            path,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            0,
        )?;
        Ok(Dir {
            fd,
            buf: [0; 2048],
            pos: 0,
            len: 0,
        })
    }

    /// Next entry name (without NUL), or None at the end or on error.
    pub fn next_name(&mut self) -> Option<&[u8]> {
        self.next_entry().ok().flatten()
    }

    /// Next entry name, None at the end; an error is an error (a count
    /// must not pass a failed read off as the end).
    pub fn next_entry(&mut self) -> Result<Option<&[u8]>, Errno> {
        if self.pos >= self.len {
            let (fd, p) = (self.fd.0 as usize, self.buf.as_mut_ptr() as usize);
            match sys3(nr!(SYS_getdents64), fd, p, self.buf.len())? {
                0 => return Ok(None),
                n => self.len = n,
            }
            self.pos = 0;
        }
        Ok(self.entry())
    }

    fn entry(&mut self) -> Option<&[u8]> {
        let (name, reclen) = dirent(self.buf.get(self.pos..self.len)?)?;
        if reclen == 0 {
            self.pos = self.len;
            return None;
        }
        self.pos += reclen;
        Some(name)
    }
}

/// The first record of a getdents64 batch: its name (without NUL) and its
/// length (0: a broken batch, stop).
fn dirent(rec: &[u8]) -> Option<(&[u8], usize)> {
    // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
    let reclen = u16::from_ne_bytes([*rec.get(16)?, *rec.get(17)?]) as usize;
    let name = rec.get(19..reclen.min(rec.len())).unwrap_or(&[]);
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    Some((name.get(..end)?, reclen))
}

/// Entries of a process's fd directory besides `.` and `..` (its open
/// descriptors), counted by getdents64 through `buf` (the sampler's read
/// buffer: no directory buffer of its own on the stack): nothing is kept,
/// so there is no limit on the count. The kernel fills a batch until the
/// next record does not fit, and a record here is at most 32 bytes (a name
/// of up to 10 digits): a batch that left 64 bytes free was the last,
/// which saves the getdents64 that only returns 0.
#[cfg(feature = "fields-extra")]
pub fn count_fds(path: &PathBuf, buf: &mut [u8]) -> Result<u32, Errno> {
    let dir = Fd::open(
        path,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    )?;
    let mut n = 0u32;
    loop {
        let (fd, p) = (dir.0 as usize, buf.as_mut_ptr() as usize);
        let got = sys3(nr!(SYS_getdents64), fd, p, buf.len())?.min(buf.len());
        if got == 0 {
            return Ok(n);
        }
        let mut pos = 0;
        while let Some((name, reclen)) = buf.get(pos..got).and_then(dirent) {
            if reclen == 0 {
                break;
            }
            if name != b"." && name != b".." {
                n = n.saturating_add(1);
            }
            pos += reclen;
        }
        if buf.len() - got >= 64 {
            return Ok(n);
        }
    }
}

/// Nanoseconds since boot (CLOCK_BOOTTIME, counts suspend; falls back to
/// CLOCK_MONOTONIC on kernels before 2.6.39).
pub fn boottime_ns() -> u64 {
    clock_ns(libc::CLOCK_BOOTTIME).unwrap_or_else(monotonic_ns)
}

/// CLOCK_MONOTONIC in ns: the scheduling clock, immune to wall-clock jumps.
pub fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC).unwrap_or(0)
}

/// Wall clock: seconds and nanoseconds since the epoch.
pub fn realtime() -> (i64, u32) {
    clock(libc::CLOCK_REALTIME).unwrap_or((0, 0))
}

fn clock_ns(clock_id: libc::clockid_t) -> Option<u64> {
    let (s, ns) = clock(clock_id)?;
    Some((s as u64).wrapping_mul(1_000_000_000) + u64::from(ns))
}

/// clock_gettime(2) on 64-bit musl (board) builds: through the vDSO that
/// [`vdso::init_from_stack`] found (a sample reads the clocks 6 times: 6
/// system calls saved), else by syscall. Not musl's clock_gettime: its
/// lookup is ~1.4 KB of a board binary.
#[cfg(all(target_pointer_width = "64", target_env = "musl"))]
fn clock(clock_id: libc::clockid_t) -> Option<(i64, u32)> {
    if let Some(t) = vdso::clock(clock_id) {
        return Some(t);
    }
    let mut ts = [0i64; 2];
    let p = ts.as_mut_ptr() as usize;
    sys3(nr!(SYS_clock_gettime), clock_id as usize, p, 0).ok()?;
    Some((ts[0], ts[1] as u32))
}

/// clock_gettime(2) on 64-bit glibc (host) builds: libc's, through the vDSO
/// (and visible to libfaketime, which the wall-clock tests use).
#[cfg(all(target_pointer_width = "64", not(target_env = "musl")))]
fn clock(clock_id: libc::clockid_t) -> Option<(i64, u32)> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    if unsafe { libc::clock_gettime(clock_id, &mut ts) } != 0 {
        return None;
    }
    Some((ts.tv_sec, ts.tv_nsec as u32))
}

/// clock_gettime(2) on 32-bit targets: by syscall, with a 64-bit time_t. The
/// libc crate's 32-bit `timespec` binds musl's time32 `clock_gettime`, which
/// fails with EOVERFLOW from 2038 on: ARM and MIPS boards would log 1970.
/// clock_gettime64 came with Linux 5.1; older kernels get the 32-bit call.
/// ARM asks the vDSO's `__vdso_clock_gettime64` first (none on MIPS: see
/// [`vdso`]).
#[cfg(target_pointer_width = "32")]
fn clock(clock_id: libc::clockid_t) -> Option<(i64, u32)> {
    #[cfg(target_arch = "arm")]
    if let Some(t) = vdso::clock(clock_id) {
        return Some(t);
    }
    // struct __kernel_timespec: two 64-bit fields
    let mut ts = [0i64; 2];
    let id = clock_id as usize;
    if sys3(raw::SYS_CLOCK_GETTIME64, id, ts.as_mut_ptr() as usize, 0).is_err() {
        let mut t32 = [0i32; 2];
        sys3(nr!(SYS_clock_gettime), id, t32.as_mut_ptr() as usize, 0).ok()?;
        ts = [i64::from(t32[0]), i64::from(t32[1])];
    }
    Some((ts[0], ts[1] as u32))
}

/// Sleep until the CLOCK_MONOTONIC deadline `ns`. Returns early (false) if a
/// signal arrived, so the caller can look at its flags. Board (musl) builds
/// make the bare syscall: musl's clock_nanosleep is a thread cancellation
/// point and links in that machinery; 32-bit ones use the 64-bit time call
/// (Linux 5.1+, where the 32-bit one may be configured out) and fall back.
#[cfg(target_env = "musl")]
pub fn sleep_until_monotonic(ns: u64) -> bool {
    let ts = [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64];
    let sleep = |n: usize, ts: usize| {
        let (mono, abs) = (libc::CLOCK_MONOTONIC as usize, libc::TIMER_ABSTIME as usize);
        sys4(n, mono, abs, ts, 0)
    };
    #[cfg(target_pointer_width = "32")]
    {
        match sleep(raw::SYS_CLOCK_NANOSLEEP_TIME64, ts.as_ptr() as usize) {
            Ok(_) => return true,
            Err(e) if e.0 != libc::ENOSYS => return false,
            Err(_) => {}
        }
        let t32 = [ts[0] as i32, ts[1] as i32];
        sleep(nr!(SYS_clock_nanosleep), t32.as_ptr() as usize).is_ok()
    }
    #[cfg(target_pointer_width = "64")]
    sleep(nr!(SYS_clock_nanosleep), ts.as_ptr() as usize).is_ok()
}

/// glibc (host) builds: libc's, which libfaketime sees.
#[cfg(not(target_env = "musl"))]
pub fn sleep_until_monotonic(ns: u64) -> bool {
    let ts = libc::timespec {
        #[allow(deprecated)] // libc still names 32-bit musl time_t; musl 1.2 keeps the time32 symbols
        tv_sec: (ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as _,
    };
    let r = unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            core::ptr::null_mut(),
        )
    };
    r == 0
}

pub fn getpid() -> u32 {
    sys3(nr!(SYS_getpid), 0, 0, 0).unwrap_or(0) as u32
}

/// Send `sig` to `pid`. Signal 0 probes existence.
pub fn kill(pid: u32, sig: i32) -> Result<(), Errno> {
    kill_raw(pid as i32, sig)
}

/// kill(2) with a signed pid (negative: a process group).
fn kill_raw(pid: i32, sig: i32) -> Result<(), Errno> {
    sys3(nr!(SYS_kill), pid as isize as usize, sig as usize, 0).map(drop)
}

/// Terminate now with `code` (no atexit handlers: we have none).
pub fn exit(code: i32) -> ! {
    loop {
        let _ = sys3(nr!(SYS_exit_group), code as usize, 0, 0);
    }
}

/// Abort on panic: the agent's contract is not to panic, this is the backstop.
/// Like abort(3) but without raise(): musl's raise signals its cached thread
/// id, which after the bare `fork` is the parent's.
pub fn abort() -> ! {
    signals::set(libc::SIGABRT, libc::SIG_DFL);
    let _ = kill(getpid(), libc::SIGABRT);
    exit(134)
}

/// The process arguments as byte slices.
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
    i: usize,
}

impl Args {
    /// # Safety
    /// `argv` must point to `argc` NUL-terminated strings that live for the
    /// whole program, as main's arguments do.
    pub unsafe fn new(argc: i32, argv: *const *const c_char) -> Args {
        Args {
            argc: argc.max(0) as usize,
            argv,
            i: 1,
        }
    }
}

impl Iterator for Args {
    type Item = &'static [u8];
    fn next(&mut self) -> Option<&'static [u8]> {
        if self.i >= self.argc || self.argv.is_null() {
            return None;
        }
        let p = unsafe { *self.argv.add(self.i) };
        self.i += 1;
        if p.is_null() {
            return None;
        }
        Some(unsafe { core::ffi::CStr::from_ptr(p) }.to_bytes())
    }
}

/// Signals the agent reacts to, recorded by async-signal-safe handlers.
pub mod signals {
    #[cfg(not(target_arch = "mips"))]
    use super::raw::restorer;
    use super::raw::{sc4, SA_RESTORER};
    use core::sync::atomic::{AtomicBool, Ordering};

    /// The kernel's struct sigaction (not the C library's): handler, flags,
    /// restorer, then a 64-bit mask; MIPS puts the flags first, has no
    /// restorer and a 128-bit mask.
    #[cfg(not(target_arch = "mips"))]
    #[repr(C)]
    struct KSigaction {
        handler: usize,
        flags: usize,
        restorer: usize,
        mask: [u32; 2],
    }
    #[cfg(target_arch = "mips")]
    #[repr(C)]
    struct KSigaction {
        flags: u32,
        handler: usize,
        mask: [u32; 4],
    }

    /// rt_sigaction(2): `handler` is a function, SIG_DFL or SIG_IGN; no
    /// SA_RESTART (a sleep must be cut short), nothing blocked in the handler.
    pub(super) fn set(sig: i32, handler: usize) {
        #[cfg(not(target_arch = "mips"))]
        let sa = KSigaction {
            handler,
            flags: SA_RESTORER,
            restorer: restorer(),
            mask: [0; 2],
        };
        #[cfg(target_arch = "mips")]
        let sa = KSigaction {
            flags: SA_RESTORER as u32,
            handler,
            mask: [0; 4],
        };
        let (n, p) = (
            super::nr!(SYS_rt_sigaction),
            &sa as *const KSigaction as usize,
        );
        let size = core::mem::size_of_val(&sa.mask);
        unsafe { sc4(n, sig as usize, p, 0, size) };
    }

    static STOP: AtomicBool = AtomicBool::new(false);
    static HUP: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_stop(_: i32) {
        STOP.store(true, Ordering::Relaxed);
    }
    extern "C" fn on_hup(_: i32) {
        HUP.store(true, Ordering::Relaxed);
    }

    /// Install SIGTERM/SIGINT (stop) and SIGHUP (reload) handlers without
    /// SA_RESTART, so a sleep is cut short; ignore SIGPIPE (a closed pipe on
    /// stdout is an error value, not death).
    /// Like [`install`] but SIGHUP keeps its default (hang up): for `watch`
    /// in a terminal, which has no config to reload.
    pub fn install_stop_only() {
        install();
        set(libc::SIGHUP, libc::SIG_DFL);
    }

    pub fn install() {
        let stop = on_stop as *const () as usize;
        set(libc::SIGTERM, stop);
        set(libc::SIGINT, stop);
        set(libc::SIGHUP, on_hup as *const () as usize);
        set(libc::SIGPIPE, libc::SIG_IGN);
    }

    pub fn stop_requested() -> bool {
        STOP.load(Ordering::Relaxed)
    }

    /// A SIGHUP came and is not taken yet (the endpoint's loop returns to
    /// the daemon's, which takes it).
    pub fn hup_pending() -> bool {
        HUP.load(Ordering::Relaxed)
    }

    /// Load and clear rather than swap: ARMv5 has no atomic swap (it would
    /// take the kernel's cmpxchg helper), and a SIGHUP that lands between the
    /// two just joins this reload, which reads the config afterwards. The
    /// flags are Relaxed: handler and loop run on the one thread, and a
    /// SeqCst store is a helper call on ARMv5 too.
    pub fn take_hup() -> bool {
        let hup = HUP.load(Ordering::Relaxed);
        if hup {
            HUP.store(false, Ordering::Relaxed);
        }
        hup
    }
}

#[cfg(test)]
mod tests {
    // Run under qemu for ARM and big-endian MIPS by `make cross-test`: there
    // it checks the clock_gettime64 syscall path of 32-bit targets.
    #[test]
    fn clocks_agree_with_std() {
        let (s, ns) = super::realtime();
        let std_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!((s - std_s).abs() <= 2, "{s} vs {std_s}");
        assert!(ns < 1_000_000_000);
        let (m1, b) = (super::monotonic_ns(), super::boottime_ns());
        assert!(m1 > 0 && b >= m1, "{m1} {b}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let m2 = super::monotonic_ns();
        assert!(m2 - m1 >= 20_000_000, "{m1} {m2}");
    }

    // mode_of reads st_mode at a per-arch offset of the kernel's struct and
    // size() seeks to the end: checked on the host and, by `make
    // cross-test`, under qemu for ARM and big-endian MIPS.
    #[test]
    fn mode_and_size_of_an_open_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tmp("mode");
        for (mode, len) in [(0o602u32, 0usize), (0o640, 5000), (0o4755, 17)] {
            let f = dir.join(format!("f{mode:o}"));
            std::fs::write(&f, vec![b'x'; len]).unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            let fd = super::Fd::open_append(&path(&f)).unwrap();
            assert_eq!(super::mode_of(&fd).unwrap(), mode, "{f:?}");
            assert_eq!(super::Fd::size(&fd).unwrap(), len as u64);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("memdog-sys-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn path(p: &std::path::Path) -> super::PathBuf {
        super::PathBuf::from(p.to_str().unwrap().as_bytes())
    }

    // rt_sigaction with the kernel's struct layout of each architecture:
    // a handler that never runs, or runs at a wrong address, fails here
    #[test]
    fn signal_handler_runs() {
        super::signals::install();
        super::kill(super::getpid(), libc::SIGHUP).unwrap();
        let t = std::time::Instant::now();
        while !super::signals::take_hup() {
            assert!(t.elapsed().as_secs() < 5, "SIGHUP handler never ran");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    // pread64 with an offset past 4 GB: the 64-bit offset travels as a
    // register pair on 32-bit ABIs, in memory order (big-endian MIPS)
    #[test]
    fn read_at_a_64_bit_offset() {
        use std::io::{Seek, SeekFrom, Write};
        let d = tmp("pread");
        let f = d.join("sparse");
        let mut w = std::fs::File::create(&f).unwrap();
        let off = (5u64 << 30) + 12345;
        w.seek(SeekFrom::Start(off)).unwrap();
        w.write_all(b"memdog").unwrap();
        drop(w);
        let mut fd = super::Fd::open_read(&path(&f)).unwrap();
        let mut buf = [0u8; 16];
        let n = fd.read_at(&mut buf, off).unwrap();
        assert_eq!(&buf[..n], b"memdog");
        std::fs::remove_dir_all(&d).unwrap();
    }

    // socket, connect and sendto (MSG_DONTWAIT) to a unix datagram socket
    #[test]
    fn datagram_to_a_unix_socket() {
        let d = tmp("dgram");
        let sock = d.join("log");
        let rx = std::os::unix::net::UnixDatagram::bind(&sock).unwrap();
        let fd = super::unix_dgram_connect(&path(&sock)).unwrap();
        super::send(&fd, b"<13>memdog: hello").unwrap();
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"<13>memdog: hello");
        std::fs::remove_dir_all(&d).unwrap();
    }

    // a child holding 0, 100 and 700 extra descriptors (700 entries are
    // about 10 batches of the 2 KiB buffer, past the end-of-directory
    // shortcut): count_fds agrees with std's read_dir of the same directory
    #[cfg(feature = "fields-extra")]
    #[test]
    fn count_fds_over_several_batches() {
        use std::io::{BufRead, Write};
        for extra in [0, 100, 700] {
            let code = format!(
                "import os,sys,resource\nresource.setrlimit(resource.RLIMIT_NOFILE,(2048,2048))\n\
                 k=[os.open('/dev/null',os.O_RDONLY) for _ in range({extra})]\nprint('ok',flush=True)\nsys.stdin.readline()\n"
            );
            let mut c = std::process::Command::new("python3")
                .args(["-c", &code])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            std::io::BufReader::new(c.stdout.as_mut().unwrap())
                .read_line(&mut line)
                .unwrap();
            let dir = format!("/proc/{}/fd", c.id());
            let want = std::fs::read_dir(&dir).unwrap().count() as u32;
            let got =
                super::count_fds(&path(std::path::Path::new(&dir)), &mut [0u8; 4096]).unwrap();
            writeln!(c.stdin.as_mut().unwrap()).unwrap();
            c.wait().unwrap();
            assert_eq!(got, want, "{extra} extra descriptors");
            assert!(got >= extra, "{got}");
        }
    }

    // execve from the bare fork, in a new process group, exit code back
    #[test]
    fn spawn_execs_and_exits() {
        for (prog, code) in [("/bin/true", 0), ("/bin/false", 1)] {
            let mut a = super::ExecArgs::new();
            assert!(a.arg(prog.as_bytes()));
            let pid = a.spawn().unwrap();
            let mut status = 0;
            assert_eq!(
                unsafe { libc::waitpid(pid as i32, &mut status, 0) },
                pid as i32
            );
            assert!(libc::WIFEXITED(status), "{prog}: {status:#x}");
            assert_eq!(libc::WEXITSTATUS(status), code, "{prog}");
        }
    }

    // the bare fork: the child runs, exits with its own code, and is reaped
    #[test]
    fn bare_fork_and_wait() {
        let pid = super::fork().unwrap();
        if pid == 0 {
            super::exit(42);
        }
        let mut status = 0;
        let r = unsafe { libc::waitpid(pid as i32, &mut status, 0) };
        assert_eq!(r, pid as i32);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 42);
    }
}
