//! The only module with `unsafe`: file descriptors, directory listing, clocks,
//! signals and process control, as thin wrappers over libc. Everything above
//! this module is safe Rust.
#![allow(unsafe_code)]

use core::ffi::c_char;

pub mod path;
pub use path::PathBuf;

/// An errno value, e.g. `Errno(libc::ENOENT)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    fn last() -> Errno {
        Errno(errno())
    }
    /// Short text for an errno, for one-line error messages.
    pub fn text(self) -> &'static str {
        match self.0 {
            libc::ENOENT => "no such file or directory",
            libc::EACCES => "permission denied",
            libc::EPERM => "operation not permitted",
            libc::ESRCH => "no such process",
            libc::ENOSPC => "no space left on device",
            libc::EROFS => "read-only file system",
            libc::ELOOP => "is a symlink (refused)",
            libc::EISDIR => "is a directory",
            libc::ENOTDIR => "not a directory",
            libc::EIO => "input/output error",
            libc::EINVAL => "invalid argument",
            libc::EMFILE | libc::ENFILE => "too many open files",
            libc::EDQUOT => "disk quota exceeded",
            libc::EFBIG => "file too large",
            libc::EINTR => "interrupted",
            libc::ENAMETOOLONG => "path too long",
            _ => "system error",
        }
    }
}

impl embedded_io::Error for Errno {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

fn errno() -> i32 {
    unsafe { *libc::__errno_location() }
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
        loop {
            let fd = unsafe { libc::open(path.as_cstr_ptr(), flags, mode as libc::c_uint) };
            if fd >= 0 {
                return Ok(Fd(fd));
            }
            let e = Errno::last();
            if e.0 != libc::EINTR {
                return Err(e);
            }
        }
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
        loop {
            let n = unsafe {
                libc::pread(
                    self.0,
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    offset as libc::off_t,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = Errno::last();
            if e.0 != libc::EINTR {
                return Err(e);
            }
        }
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
        let end = unsafe { libc::lseek(self.0, 0, libc::SEEK_END) };
        if end >= n as libc::off_t {
            unsafe { libc::ftruncate(self.0, end - n as libc::off_t) };
        }
        Err(Errno(libc::ENOSPC))
    }

    /// Seek back to the start, so a held /proc file is generated afresh on the
    /// next read (procps reads /proc/meminfo this way since the 2.x kernels).
    pub fn rewind(&mut self) -> Result<(), Errno> {
        if unsafe { libc::lseek(self.0, 0, libc::SEEK_SET) } == 0 {
            Ok(())
        } else {
            Err(Errno::last())
        }
    }

    /// Size of the file in bytes, by seeking to its end: for the append-only
    /// log (writes go to the end whatever the offset). lseek rather than
    /// fstat: musl's fstat carries a statx fallback of 1.1-1.2 KB.
    pub fn size(&self) -> Result<u64, Errno> {
        match unsafe { libc::lseek(self.0, 0, libc::SEEK_END) } {
            n if n >= 0 => Ok(n as u64),
            _ => Err(Errno::last()),
        }
    }

    pub fn fsync(&self) -> Result<(), Errno> {
        if unsafe { libc::fsync(self.0) } == 0 {
            Ok(())
        } else {
            Err(Errno::last())
        }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        unsafe { libc::close(self.0) };
    }
}

/// A descriptor owned by someone else (stdio).
#[derive(Clone, Copy)]
pub struct Borrowed(pub i32);

fn raw_read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    loop {
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = Errno::last();
        if e.0 != libc::EINTR {
            return Err(e);
        }
    }
}

fn raw_write(fd: i32, buf: &[u8]) -> Result<usize, Errno> {
    loop {
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = Errno::last();
        if e.0 != libc::EINTR {
            return Err(e);
        }
    }
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
pub fn write_file_synced(path: &PathBuf, data: &[u8]) -> Result<(), Errno> {
    let fd = Fd::open(
        path,
        libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        0o644,
    )?;
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
    if unsafe { libc::rename(from.buf_ptr(), to.buf_ptr()) } == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// A unix datagram socket connected to `path` (the local syslog, /dev/log).
pub fn unix_dgram_connect(path: &PathBuf) -> Result<Fd, Errno> {
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    let fd = Fd(fd);
    let mut addr: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let p = path.as_bytes();
    if p.len() >= addr.sun_path.len() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    for (d, s) in addr.sun_path.iter_mut().zip(p) {
        *d = *s as libc::c_char;
    }
    let len = core::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    if unsafe { libc::connect(fd.0, (&addr as *const libc::sockaddr_un).cast(), len) } != 0 {
        return Err(Errno::last());
    }
    Ok(fd)
}

/// A UDP socket connected to ip:port (remote syslog).
pub fn udp_connect(ip: [u8; 4], port: u16) -> Result<Fd, Errno> {
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Errno::last());
    }
    let fd = Fd(fd);
    let mut addr: libc::sockaddr_in = unsafe { core::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_port = port.to_be();
    addr.sin_addr.s_addr = u32::from_ne_bytes(ip);
    let len = core::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    if unsafe { libc::connect(fd.0, (&addr as *const libc::sockaddr_in).cast(), len) } != 0 {
        return Err(Errno::last());
    }
    Ok(fd)
}

/// One datagram, never blocking the sampler.
pub fn send(fd: &Fd, data: &[u8]) -> Result<(), Errno> {
    let n = unsafe {
        libc::send(
            fd.0,
            data.as_ptr().cast(),
            data.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        Err(Errno::last())
    } else {
        Ok(())
    }
}

/// The node name (uname -n), for remote syslog.
pub fn hostname() -> heapless::Vec<u8, 64> {
    let mut u: libc::utsname = unsafe { core::mem::zeroed() };
    let mut v = heapless::Vec::new();
    if unsafe { libc::uname(&mut u) } == 0 {
        for &c in u.nodename.iter().take_while(|&&c| c != 0) {
            if v.push(c as u8).is_err() {
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
    unsafe { libc::geteuid() }
}

/// Permission bits of an open file, by the bare fstat syscall: musl's fstat
/// goes through fstatat with a statx fallback (1.1-1.2 KB). Only st_mode is
/// read, at its offset in the kernel's struct (stat64 on 32-bit ARM and MIPS).
pub fn mode_of(fd: &Fd) -> Result<u32, Errno> {
    #[cfg(target_arch = "x86_64")]
    const MODE_AT: usize = 24; // st_dev, st_ino, st_nlink: 8 bytes each
    #[cfg(any(target_arch = "aarch64", target_arch = "arm"))]
    const MODE_AT: usize = 16; // asm-generic stat; ARM stat64: st_dev 8, pad 4, __st_ino 4
    #[cfg(target_arch = "mips")]
    const MODE_AT: usize = 24; // o32 stat64: st_dev 4, st_pad0 12, st_ino 8
    #[cfg(target_pointer_width = "64")]
    const SYS_FSTAT: libc::c_long = libc::SYS_fstat;
    #[cfg(target_pointer_width = "32")]
    const SYS_FSTAT: libc::c_long = libc::SYS_fstat64;
    // larger than any of these structs (at most 144 bytes), 8-aligned
    let mut st = [0u64; 32];
    if unsafe { libc::syscall(SYS_FSTAT, fd.0, st.as_mut_ptr()) } != 0 {
        return Err(Errno::last());
    }
    // SAFETY: MODE_AT + 4 is inside `st`, and 4-aligned
    let m = unsafe { st.as_ptr().cast::<u8>().add(MODE_AT).cast::<u32>().read() };
    Ok(m & 0o7777)
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
            if p.contains(&0) {
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
            unsafe {
                libc::setpgid(0, 0);
                // default signal dispositions for the child
                libc::signal(libc::SIGPIPE, libc::SIG_DFL);
                libc::signal(libc::SIGTERM, libc::SIG_DFL);
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGHUP, libc::SIG_DFL);
                libc::execve(argv[0], argv.as_ptr(), envp.as_ptr());
                libc::_exit(127);
            }
        }
        Ok(pid)
    }
}

/// Reap one finished child without blocking: (pid, exit code or 128+signal).
pub fn reap() -> Option<(u32, i32)> {
    let mut status = 0;
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid <= 0 {
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
    unsafe { libc::kill(-(pgid as libc::pid_t), sig) };
}

/// Is `path` an executable file? (checked before fork so a typo is a clear log line)
pub fn executable(path: &PathBuf) -> bool {
    path.is_valid() && unsafe { libc::access(path.buf_ptr(), libc::X_OK) } == 0
}

/// sync(2), then reboot(2). Only returns on failure.
pub fn reboot() -> Errno {
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_AUTOBOOT);
    }
    Errno::last()
}

/// fork(2) as the bare syscall: clone(SIGCHLD), which is fork on every
/// architecture (the other arguments are zero, so their per-arch order does
/// not matter). musl's fork() takes its internal locks and runs the atfork
/// and thread bookkeeping of a threaded program, which links in its rwlock,
/// futex wait and vDSO lookup: 3-4 KB of a board binary that never starts a
/// thread. musl's own view of the thread id stays the parent's in the child,
/// so nothing here may use raise() or abort() (see `abort`).
pub fn fork() -> Result<u32, Errno> {
    match unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0) } {
        pid if pid >= 0 => Ok(pid as u32),
        _ => Err(Errno::last()),
    }
}

/// Detach from the terminal for busybox init: fork, setsid, chdir /, stdio
/// to /dev/null. Returns in the child; the parent exits 0.
pub fn daemonize() -> Result<(), Errno> {
    if fork()? > 0 {
        exit(0);
    }
    unsafe {
        libc::setsid();
        libc::chdir(c"/".as_ptr());
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::dup2(null, 1);
            libc::dup2(null, 2);
            if null > 2 {
                libc::close(null);
            }
        }
    }
    Ok(())
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
    let mut fd = Fd::open_read(path)?;
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
        if self.pos >= self.len {
            let n = unsafe {
                libc::syscall(
                    libc::SYS_getdents64,
                    self.fd.0,
                    self.buf.as_mut_ptr(),
                    self.buf.len(),
                )
            };
            if n <= 0 {
                return None;
            }
            self.len = n as usize;
            self.pos = 0;
        }
        // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
        let rec = self.buf.get(self.pos..self.len)?;
        let reclen = u16::from_ne_bytes([*rec.get(16)?, *rec.get(17)?]) as usize;
        if reclen == 0 {
            self.pos = self.len;
            return None;
        }
        let name = rec.get(19..reclen.min(rec.len()))?;
        self.pos += reclen;
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        name.get(..end)
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

/// clock_gettime(2) on 64-bit musl (board) builds: by syscall. musl's goes
/// through the vDSO, whose ELF symbol lookup is ~1.4 KB of a board binary;
/// a sample reads the clock a few times, a syscall is well under 1 us.
#[cfg(all(target_pointer_width = "64", target_env = "musl"))]
fn clock(clock_id: libc::clockid_t) -> Option<(i64, u32)> {
    let mut ts = [0i64; 2];
    if unsafe { libc::syscall(libc::SYS_clock_gettime, clock_id, ts.as_mut_ptr()) } != 0 {
        return None;
    }
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
#[cfg(target_pointer_width = "32")]
fn clock(clock_id: libc::clockid_t) -> Option<(i64, u32)> {
    // struct __kernel_timespec: two 64-bit fields
    let mut ts = [0i64; 2];
    if unsafe { libc::syscall(SYS_CLOCK_GETTIME64, clock_id, ts.as_mut_ptr()) } != 0 {
        let mut t32 = [0i32; 2];
        if unsafe { libc::syscall(libc::SYS_clock_gettime, clock_id, t32.as_mut_ptr()) } != 0 {
            return None;
        }
        ts = [i64::from(t32[0]), i64::from(t32[1])];
    }
    Some((ts[0], ts[1] as u32))
}

/// The libc crate does not name clock_gettime64 for ARM and MIPS musl.
#[cfg(all(target_pointer_width = "32", target_arch = "arm"))]
const SYS_CLOCK_GETTIME64: libc::c_long = 403;
#[cfg(all(target_pointer_width = "32", target_arch = "mips"))]
const SYS_CLOCK_GETTIME64: libc::c_long = 4000 + 403;
#[cfg(all(target_pointer_width = "32", target_arch = "x86"))]
const SYS_CLOCK_GETTIME64: libc::c_long = 403;

/// Sleep until the CLOCK_MONOTONIC deadline `ns`. Returns early (false) if a
/// signal arrived, so the caller can look at its flags. Board (musl) builds
/// make the bare syscall: musl's clock_nanosleep is a thread cancellation
/// point and links in that machinery; 32-bit ones use the 64-bit time call
/// (Linux 5.1+, where the 32-bit one may be configured out) and fall back.
#[cfg(target_env = "musl")]
pub fn sleep_until_monotonic(ns: u64) -> bool {
    let ts = [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64];
    let sleep = |nr: libc::c_long, ts: *const libc::c_void| {
        let (mono, abs) = (libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME);
        unsafe { libc::syscall(nr, mono, abs, ts, core::ptr::null_mut::<i64>()) == 0 }
    };
    #[cfg(target_pointer_width = "32")]
    {
        if sleep(SYS_CLOCK_NANOSLEEP_TIME64, ts.as_ptr().cast()) {
            return true;
        }
        if Errno::last().0 != libc::ENOSYS {
            return false;
        }
        let t32 = [ts[0] as i32, ts[1] as i32];
        sleep(libc::SYS_clock_nanosleep, t32.as_ptr().cast())
    }
    #[cfg(target_pointer_width = "64")]
    sleep(libc::SYS_clock_nanosleep, ts.as_ptr().cast())
}

#[cfg(all(target_pointer_width = "32", target_arch = "arm"))]
const SYS_CLOCK_NANOSLEEP_TIME64: libc::c_long = 407;
#[cfg(all(target_pointer_width = "32", target_arch = "mips"))]
const SYS_CLOCK_NANOSLEEP_TIME64: libc::c_long = 4000 + 407;

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
    unsafe { libc::getpid() as u32 }
}

/// Send `sig` to `pid`. Signal 0 probes existence.
pub fn kill(pid: u32, sig: i32) -> Result<(), Errno> {
    if unsafe { libc::kill(pid as libc::pid_t, sig) } == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// Terminate now with `code` (no atexit handlers: we have none).
pub fn exit(code: i32) -> ! {
    unsafe { libc::_exit(code) }
}

/// Abort on panic: the agent's contract is not to panic, this is the backstop.
/// Like abort(3) but without raise(): musl's raise signals its cached thread
/// id, which after the bare `fork` is the parent's.
pub fn abort() -> ! {
    unsafe {
        libc::signal(libc::SIGABRT, libc::SIG_DFL);
        libc::kill(libc::getpid(), libc::SIGABRT);
        libc::_exit(134)
    }
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
    use core::sync::atomic::{AtomicBool, Ordering};

    static STOP: AtomicBool = AtomicBool::new(false);
    static HUP: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_stop(_: i32) {
        STOP.store(true, Ordering::SeqCst);
    }
    extern "C" fn on_hup(_: i32) {
        HUP.store(true, Ordering::SeqCst);
    }

    /// Install SIGTERM/SIGINT (stop) and SIGHUP (reload) handlers without
    /// SA_RESTART, so a sleep is cut short; ignore SIGPIPE (a closed pipe on
    /// stdout is an error value, not death).
    /// Like [`install`] but SIGHUP keeps its default (hang up): for `watch`
    /// in a terminal, which has no config to reload.
    pub fn install_stop_only() {
        install();
        unsafe { libc::signal(libc::SIGHUP, libc::SIG_DFL) };
    }

    pub fn install() {
        unsafe {
            let mut sa: libc::sigaction = core::mem::zeroed();
            sa.sa_sigaction = on_stop as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGTERM, &sa, core::ptr::null_mut());
            libc::sigaction(libc::SIGINT, &sa, core::ptr::null_mut());
            sa.sa_sigaction = on_hup as *const () as usize;
            libc::sigaction(libc::SIGHUP, &sa, core::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    }

    pub fn stop_requested() -> bool {
        STOP.load(Ordering::SeqCst)
    }

    pub fn take_hup() -> bool {
        HUP.swap(false, Ordering::SeqCst)
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
        let dir = std::env::temp_dir().join(format!("memdog-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (mode, len) in [(0o602u32, 0usize), (0o640, 5000), (0o4755, 17)] {
            let f = dir.join(format!("f{mode:o}"));
            std::fs::write(&f, vec![b'x'; len]).unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
            let p = super::path::PathBuf::from(f.to_str().unwrap().as_bytes());
            let fd = super::Fd::open_append(&p).unwrap();
            assert_eq!(super::mode_of(&fd).unwrap(), mode, "{f:?}");
            assert_eq!(super::Fd::size(&fd).unwrap(), len as u64);
        }
        std::fs::remove_dir_all(&dir).unwrap();
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
