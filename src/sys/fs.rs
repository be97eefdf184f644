//! File kinds, identities and locks: what the outputs need to never rename,
//! replace or truncate a file memdog did not create (a device node, a FIFO,
//! a directory at a rotation name), to notice a deleted or renamed live log,
//! and to refuse a second writer (flock on the log and the pidfile).

use super::raw::nr;
use super::{cstr, raw_write, sys3, sys4, Errno, Fd, PathBuf, CWD};

/// The parts of struct stat that memdog reads: the type and permission
/// bits, the inode and the link count (0 once the file is deleted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub mode: u32,
    pub ino: u64,
    pub nlink: u32,
}

/// What a path is, in the words of an error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Directory,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
    Symlink,
}

impl FileStat {
    pub fn kind(&self) -> Kind {
        match self.mode & 0o170000 {
            0o040000 => Kind::Directory,
            0o020000 => Kind::CharDevice,
            0o060000 => Kind::BlockDevice,
            0o010000 => Kind::Fifo,
            0o140000 => Kind::Socket,
            0o120000 => Kind::Symlink,
            _ => Kind::Regular,
        }
    }
}

impl Kind {
    pub fn word(self) -> &'static [u8] {
        match self {
            Kind::Regular => b"a regular file",
            Kind::Directory => b"a directory",
            Kind::CharDevice => b"a character device",
            Kind::BlockDevice => b"a block device",
            Kind::Fifo => b"a FIFO",
            Kind::Socket => b"a socket",
            Kind::Symlink => b"a symlink",
        }
    }
}

// Offsets in the kernel's struct (stat on 64-bit, stat64 on 32-bit ARM and
// MIPS o32): st_mode, st_nlink (u32 on all but x86_64's u64, read as its
// low half: little endian) and st_ino (on ARM the 32-bit __st_ino: enough
// to tell two files apart, and the 64-bit one sits past a padding that
// differs between ABIs).
#[cfg(target_arch = "x86_64")]
const AT: (usize, usize, usize) = (24, 16, 8);
#[cfg(target_arch = "aarch64")]
const AT: (usize, usize, usize) = (16, 20, 8);
#[cfg(target_arch = "arm")]
const AT: (usize, usize, usize) = (16, 20, 12);
#[cfg(target_arch = "mips")]
const AT: (usize, usize, usize) = (24, 28, 16);

fn decode(st: &[u64; 32]) -> FileStat {
    let b = |at: usize| -> u32 {
        // SAFETY: every offset above + 4 is inside the 256-byte buffer, 4-aligned
        unsafe { st.as_ptr().cast::<u8>().add(at).cast::<u32>().read() }
    };
    let (mode, nlink, ino) = AT;
    #[cfg(target_arch = "arm")]
    let ino = u64::from(b(ino));
    #[cfg(not(target_arch = "arm"))]
    // SAFETY: as above, 8-aligned
    let ino = unsafe { st.as_ptr().cast::<u8>().add(ino).cast::<u64>().read() };
    FileStat {
        mode: b(mode),
        ino,
        nlink: b(nlink),
    }
}

/// fstat(2) of an open file.
pub fn fstat(fd: &Fd) -> Result<FileStat, Errno> {
    #[cfg(target_pointer_width = "64")]
    let n = nr!(SYS_fstat);
    #[cfg(target_pointer_width = "32")]
    let n = nr!(SYS_fstat64);
    let mut st = [0u64; 32];
    sys3(n, fd.0 as usize, st.as_mut_ptr() as usize, 0)?;
    Ok(decode(&st))
}

/// lstat(2): what sits at `path`, a symlink not followed.
pub fn lstat(path: &PathBuf) -> Result<FileStat, Errno> {
    if !path.is_valid() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    #[cfg(target_pointer_width = "64")]
    let n = nr!(SYS_newfstatat);
    #[cfg(all(target_pointer_width = "32", not(target_arch = "mips")))]
    let n = nr!(SYS_fstatat64);
    // libc's musl mips module has no SYS_fstatat64: o32's number (4000 + 293,
    // as in libc's glibc mips module and the kernel's syscall table)
    #[cfg(target_arch = "mips")]
    let n = 4000 + 293;
    let mut st = [0u64; 32];
    let flags = libc::AT_SYMLINK_NOFOLLOW as usize;
    sys4(n, CWD, cstr(path), st.as_mut_ptr() as usize, flags)?;
    Ok(decode(&st))
}

/// flock(LOCK_EX | LOCK_NB): Err(EWOULDBLOCK) when another process holds it.
/// The lock belongs to the open file: a forked daemon keeps it.
pub fn lock_exclusive(fd: &Fd) -> Result<(), Errno> {
    let how = (libc::LOCK_EX | libc::LOCK_NB) as usize;
    sys3(nr!(SYS_flock), fd.0 as usize, how, 0).map(drop)
}

/// Empty an open file (the pidfile, before its new pid is written). A zero
/// length is zero in every register of the 64-bit call's pair.
pub fn truncate_to_zero(fd: &Fd) -> Result<(), Errno> {
    #[cfg(target_pointer_width = "64")]
    let n = nr!(SYS_ftruncate);
    #[cfg(target_pointer_width = "32")]
    let n = nr!(SYS_ftruncate64);
    sys4(n, fd.0 as usize, 0, 0, 0).map(drop)
}

/// unlink(2)
pub fn unlink(path: &PathBuf) -> Result<(), Errno> {
    if !path.is_valid() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    sys3(nr!(SYS_unlinkat), CWD, cstr(path), 0).map(drop)
}

/// The current directory, to make relative paths absolute before
/// `--daemonize` moves to `/`.
pub fn cwd() -> Result<PathBuf, Errno> {
    let mut b = [0u8; super::path::PATH_CAP];
    let n = sys3(nr!(SYS_getcwd), b.as_mut_ptr() as usize, b.len(), 0)?;
    // the kernel's length counts the NUL
    let len = n.saturating_sub(1);
    Ok(PathBuf::from(b.get(..len).unwrap_or(&[])))
}

/// Open a pidfile to lock and rewrite: created 0644, never through a
/// symlink, not truncated (a running daemon's pid stays until the lock is won).
pub fn open_pidfile(path: &PathBuf) -> Result<Fd, Errno> {
    Fd::open(
        path,
        libc::O_RDWR | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        0o644,
    )
}

/// Open an existing device node or FIFO to write log lines into: never
/// created, never the controlling terminal (/dev/console, a serial port),
/// and non-blocking, so a full pipe or a stuck tty drops lines instead of
/// stopping the watchdog. A FIFO is opened read-write, which never fails
/// for want of a reader (ENXIO) and never blocks.
pub fn open_stream(path: &PathBuf, fifo: bool) -> Result<Fd, Errno> {
    let rw = if fifo { libc::O_RDWR } else { libc::O_WRONLY };
    Fd::open(
        path,
        rw | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        0,
    )
}

/// Open a file to read without ever blocking in open(2): a FIFO (or a
/// symlink to one) given as a config opens at once, and fstat says what it is.
pub fn open_read_nonblock(path: &PathBuf) -> Result<Fd, Errno> {
    Fd::open(path, libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC, 0)
}

/// One write(2): how many bytes went (a non-blocking tty or pipe may take
/// part of a buffer).
pub fn write_once(fd: &Fd, b: &[u8]) -> Result<usize, Errno> {
    raw_write(fd.0, b)
}

/// A pipe for a child's one-line report (`dump --status-fd N`): the read
/// end non-blocking and close-on-exec, the write end inherited by the next
/// child started (the parent closes it right after).
pub fn status_pipe() -> Result<(Fd, Fd), Errno> {
    let mut fds = [0i32; 2];
    let flags = (libc::O_CLOEXEC | libc::O_NONBLOCK) as usize;
    sys3(nr!(SYS_pipe2), fds.as_mut_ptr() as usize, flags, 0)?;
    let (r, w) = (Fd(fds[0]), Fd(fds[1]));
    sys3(nr!(SYS_fcntl), w.0 as usize, libc::F_SETFD as usize, 0)?;
    Ok((r, w))
}

/// Read what is there without waiting (a child's status line).
pub fn read_now<'a>(fd: &Fd, buf: &'a mut [u8]) -> &'a [u8] {
    let n = sys3(
        nr!(SYS_read),
        fd.0 as usize,
        buf.as_mut_ptr() as usize,
        buf.len(),
    )
    .unwrap_or(0);
    buf.get(..n).unwrap_or(&[])
}
