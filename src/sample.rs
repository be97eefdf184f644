//! Reading one process or the system: opens /proc files and streams them
//! through one fixed buffer into the pure parsers of [`crate::proc`].

use crate::proc::maps::{MapsParser, MapsSummary};
use crate::proc::meminfo::Meminfo;
use crate::proc::stat::Stat;
use crate::proc::status::Status;
use crate::proc::{for_each_line, for_each_line_whole, LineStats};
#[cfg(feature = "fields-extra")]
use crate::proc::{psi::Psi, rollup::Rollup};
use crate::sys::{self, Errno, Fd, PathBuf};

/// One read buffer for every /proc file. status is ~1.5 KB on 6.x (more
/// with a long Groups line, which is cut, not needed); a maps line is at most
/// ~100 bytes + a path (PATH_MAX 4096, in practice < 256). Files larger than
/// the buffer stream through it line by line.
pub const READ_BUF: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// the process is gone (ENOENT/ESRCH, or an empty file)
    Gone,
    /// EACCES/EPERM: hidepid, another user's process, no ptrace access
    Denied,
    Io(Errno),
    /// the file did not parse
    Malformed,
}

impl From<Errno> for ReadError {
    fn from(e: Errno) -> ReadError {
        match e.0 {
            libc::ENOENT | libc::ESRCH => ReadError::Gone,
            libc::EACCES | libc::EPERM => ReadError::Denied,
            _ => ReadError::Io(e),
        }
    }
}

pub struct Reader<'r> {
    pub root: &'r [u8],
    /// the caller's: the daemon's is in .bss (watch::Tables), not on the stack
    buf: &'r mut [u8; READ_BUF],
}

impl<'r> Reader<'r> {
    pub fn new(root: &'r [u8], buf: &'r mut [u8; READ_BUF]) -> Reader<'r> {
        Reader { root, buf }
    }

    fn stream(&mut self, path: &PathBuf, f: impl FnMut(&[u8])) -> Result<LineStats, ReadError> {
        let mut fd = Fd::open_read(path)?;
        let st = for_each_line(&mut fd, self.buf, f)?;
        Ok(st)
    }

    pub fn stat(&mut self, pid: u32) -> Result<Stat, ReadError> {
        let path = PathBuf::proc_file(self.root, pid, b"stat");
        let (data, _) = sys::read_file(&path, self.buf)?;
        if data.is_empty() {
            return Err(ReadError::Gone);
        }
        Stat::parse(data).map_err(|_| ReadError::Malformed)
    }

    pub fn status(&mut self, pid: u32) -> Result<Status, ReadError> {
        let mut fd = self.open_status(pid)?;
        self.status_of(&mut fd)
    }

    /// Open /proc/PID/status to hold: the descriptor stays bound to that
    /// process, so after it exits reads fail (ESRCH) even if the pid number is
    /// reused, and each sample costs a read instead of open+read+close.
    pub fn open_status(&mut self, pid: u32) -> Result<Fd, ReadError> {
        Ok(Fd::open_read(&PathBuf::proc_file(
            self.root, pid, b"status",
        ))?)
    }

    /// Read a held status descriptor from the start. An empty read is a
    /// process that is gone.
    pub fn status_of(&mut self, fd: &mut Fd) -> Result<Status, ReadError> {
        let mut s = Status::default();
        let st = for_each_line_whole(&mut fd.from_start(), &mut self.buf[..], |l| s.feed_line(l))?;
        if st.lines == 0 {
            return Err(ReadError::Gone);
        }
        Ok(s)
    }

    /// The maps summary; `threads` (status `Threads:`) decides whether
    /// guarded anonymous regions are thread stacks (see proc::maps).
    pub fn maps(&mut self, pid: u32, threads: Option<u32>) -> Result<MapsSummary, ReadError> {
        let path = PathBuf::proc_file(self.root, pid, b"maps");
        let mut p = MapsParser::default();
        self.stream(&path, |l| p.feed_line(l))?;
        Ok(p.sum.resolve(threads))
    }

    /// Open descriptors of the process: entries of /proc/PID/fd.
    #[cfg(feature = "fields-extra")]
    pub fn fds(&mut self, pid: u32) -> Result<u64, ReadError> {
        let path = PathBuf::proc_file(self.root, pid, b"fd");
        Ok(u64::from(sys::count_fds(&path, &mut self.buf[..])?))
    }

    /// /proc/PID/smaps_rollup; Ok(None) when there is no such file (ENOENT
    /// at open): an old kernel (before 4.14) or a process gone, which the
    /// caller tells apart. ESRCH (no mm: a kernel thread, an exiting
    /// process) and a file without one `Key: N kB` line are a process gone.
    #[cfg(feature = "fields-extra")]
    pub fn rollup(&mut self, pid: u32) -> Result<Option<Rollup>, ReadError> {
        let path = PathBuf::proc_file(self.root, pid, b"smaps_rollup");
        let mut fd = match Fd::open_read(&path) {
            Ok(fd) => fd,
            Err(e) if e.0 == libc::ENOENT => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        // made whole by one show (about 1 KB): a short read is the end
        let mut r = Rollup::default();
        for_each_line_whole(&mut fd, self.buf, |l| r.feed_line(l))?;
        if r.lines == 0 {
            return Err(ReadError::Gone);
        }
        Ok(Some(r))
    }

    /// Does `<root>/PID` still exist (after an ENOENT inside it)?
    #[cfg(feature = "fields-extra")]
    pub fn pid_dir_exists(&self, pid: u32) -> bool {
        sys::fs::lstat(&PathBuf::proc_file(self.root, pid, b"stat")).is_ok()
    }

    /// /proc/pressure/memory, held open like meminfo.
    #[cfg(feature = "fields-extra")]
    pub fn open_psi(&mut self) -> Result<Fd, Errno> {
        let mut path = PathBuf::from(self.root);
        path.push(b"/pressure/memory");
        Fd::open_read(&path)
    }

    /// Read a held pressure file from the start (pread at 0). EOPNOTSUPP
    /// is a kernel booted with psi=0.
    #[cfg(feature = "fields-extra")]
    pub fn psi_of(&mut self, fd: &mut Fd) -> Result<Psi, Errno> {
        let mut p = Psi::default();
        for_each_line_whole(&mut fd.from_start(), self.buf, |l| p.feed_line(l))?;
        Ok(p)
    }

    pub fn open_meminfo(&mut self) -> Result<Fd, ReadError> {
        let mut path = PathBuf::from(self.root);
        path.push(b"/meminfo");
        Ok(Fd::open_read(&path)?)
    }

    pub fn meminfo(&mut self) -> Result<Meminfo, ReadError> {
        let mut fd = self.open_meminfo()?;
        let mut m = Meminfo::default();
        self.meminfo_of(&mut fd, &mut m)?;
        Ok(m)
    }

    /// Read a held /proc/meminfo descriptor from the start into `m`, in
    /// place: a Meminfo is 2-3 KB, and returned by value it sat in two
    /// stack frames of every sample.
    pub fn meminfo_of(&mut self, fd: &mut Fd, m: &mut Meminfo) -> Result<(), ReadError> {
        m.clear();
        for_each_line_whole(&mut fd.from_start(), &mut self.buf[..], |l| m.feed_line(l))?;
        if m.is_empty() {
            return Err(ReadError::Malformed);
        }
        Ok(())
    }

    /// The pid written in a pidfile (first line, blanks trimmed).
    pub fn pidfile(&mut self, path: &[u8]) -> Result<u32, ReadError> {
        let p = PathBuf::from(path);
        let (data, _) = sys::read_file(&p, &mut self.buf[..])?;
        let first = data.split(|&b| b == b'\n').next().unwrap_or(&[]);
        match crate::num::parse_u32(first) {
            Some(pid) if pid > 0 => Ok(pid),
            _ => Err(ReadError::Malformed),
        }
    }
}

/// Every numeric entry of the proc root, i.e. every process id.
pub struct Pids {
    dir: sys::Dir,
}

impl Pids {
    pub fn open(root: &[u8]) -> Result<Pids, ReadError> {
        Ok(Pids {
            dir: sys::Dir::open(&PathBuf::from(root))?,
        })
    }
}

impl Iterator for Pids {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        loop {
            let name = self.dir.next_name()?;
            if name.first().is_some_and(|b| b.is_ascii_digit()) {
                if let Some(p) = crate::num::parse_u32(name) {
                    return Some(p);
                }
            }
        }
    }
}
