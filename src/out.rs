//! Where log lines go: stdout or an append-only file. A line is written
//! whole or not at all; lines that could not be written (full disk,
//! read-only flash) are counted, sampling goes on, and the count is reported
//! with `event=dropped lines=N` once writing works again.

use crate::sys::{self, Errno, Fd, PathBuf};

// one Sink per process: no allocator to box the file variant
#[allow(clippy::large_enum_variant)]
pub enum Dest {
    Stdout,
    File(LogFile),
}

/// fsync at most this often for sample lines (flash wear); event lines
/// (start, exit, warn, crit, actions) are synced when written.
pub const SYNC_EVERY_NS: u64 = 60_000_000_000;

/// A size-bounded log: `path`, then `path.1` .. `path.(files-1)` by rename.
/// Files hold whole lines and each stays within `limit` bytes, so the disk
/// never holds more than limit x files. A device node (/dev/console, a
/// serial port, /dev/null) or a FIFO is a stream: written, never rotated,
/// renamed or replaced.
pub struct LogFile {
    fd: Option<Fd>,
    path: PathBuf,
    size: u64,
    /// bytes per file; 0 = no rotation
    limit: u64,
    files: u32,
    last_sync_ns: u64,
    /// a device node or FIFO: no size, no rotation, no inode checks
    stream: bool,
    /// the live file's inode, to notice it deleted or renamed away
    ino: u64,
    /// the live file was deleted or renamed and a new one opened, or it
    /// was emptied because path.1 is not ours to rotate onto: say so
    pub reopened: Option<&'static [u8]>,
    /// the sample's start checked the live file ([`Sink::take_reopened`]):
    /// the sample's one write need not again (2 of a sample's 8 system
    /// calls); an event line written in between takes the flag, so the
    /// write after it checks
    checked: bool,
    /// a stream (a slow serial console) took part of a line: the rest of
    /// that line, written before anything else, so the console only ever
    /// shows whole lines in order
    tail: heapless::Vec<u8, { crate::line::LINE_CAP }>,
}

/// Why a log cannot be used, for one clear line at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogError {
    Sys(Errno),
    /// the path is a directory or a socket
    Kind(sys::fs::Kind),
    /// another memdog holds the log's lock
    Locked,
    /// `path.N` is not a regular file: rotation would move it
    Slot(u32, sys::fs::Kind),
}

impl From<Errno> for LogError {
    fn from(e: Errno) -> LogError {
        LogError::Sys(e)
    }
}

/// Open the log at `path`: a regular file (created 0640, appended, locked),
/// or an existing device node or FIFO (a stream). Returns the descriptor,
/// its size, whether it is a stream, and its inode.
fn last_byte(path: &PathBuf, size: u64) -> Option<u8> {
    let mut fd = sys::fs::open_read_nonblock(path).ok()?;
    let mut b = [0u8; 1];
    match fd.read_at(&mut b, size - 1) {
        Ok(1) => Some(b[0]),
        _ => None,
    }
}

fn open_log_path(path: &PathBuf, truncate: bool) -> Result<(Fd, u64, bool, u64), LogError> {
    use sys::fs::Kind;
    let kind = match sys::fs::lstat(path) {
        Ok(st) => Some(st.kind()),
        Err(e) if e.0 == libc::ENOENT => None,
        Err(e) => return Err(e.into()),
    };
    match kind {
        None | Some(Kind::Regular) => {
            let fd = if truncate {
                sys::open_truncate(path)?
            } else {
                Fd::open_append(path)?
            };
            if let Err(e) = sys::fs::lock_exclusive(&fd) {
                return Err(if e.0 == libc::EWOULDBLOCK {
                    LogError::Locked
                } else {
                    e.into()
                });
            }
            let st = sys::fs::fstat(&fd)?;
            let mut size = fd.size()?;
            // a log cut short by a reset (its unsynced tail may even come
            // back as zero bytes on ext4) gets a newline first: the next
            // line starts whole instead of being glued to the damage
            if size > 0 && last_byte(path, size) != Some(b'\n') {
                let mut fd = fd;
                if fd.append_whole(b"\n").is_ok() {
                    size += 1;
                }
                return Ok((fd, size, false, st.ino));
            }
            Ok((fd, size, false, st.ino))
        }
        Some(k @ (Kind::CharDevice | Kind::BlockDevice | Kind::Fifo)) => {
            let fd = sys::fs::open_stream(path, k == Kind::Fifo)?;
            Ok((fd, 0, true, 0))
        }
        Some(Kind::Symlink) => Err(Errno(libc::ELOOP).into()),
        Some(k) => Err(LogError::Kind(k)),
    }
}

impl LogFile {
    fn numbered(&self, k: u32) -> PathBuf {
        let mut p = self.path.clone();
        p.push(b".").push_u32(k);
        p
    }

    /// `path.k` is ours to rename: absent, or a regular file.
    fn rotatable(&self, k: u32) -> Result<(), LogError> {
        match sys::fs::lstat(&self.numbered(k)) {
            Ok(st) if st.kind() != sys::fs::Kind::Regular => Err(LogError::Slot(k, st.kind())),
            _ => Ok(()),
        }
    }

    fn reopen_at(&mut self, truncate: bool) -> Result<(), Errno> {
        self.fd = None;
        let (fd, size, stream, ino) = open_log_path(&self.path, truncate).map_err(|e| match e {
            LogError::Sys(e) => e,
            LogError::Locked => Errno(libc::EWOULDBLOCK),
            _ => Errno(libc::EISDIR),
        })?;
        self.fd = Some(fd);
        self.size = size;
        self.stream = stream;
        self.ino = ino;
        Ok(())
    }

    /// path.(n-2) -> path.(n-1) ... path -> path.1, then a fresh path. A
    /// name that is not a regular file (someone's directory, FIFO or
    /// symlink, put there after start) is never moved nor renamed over.
    /// With path.1 taken that way the live file cannot move: it starts
    /// again empty (it is ours), and the next sample says so.
    fn rotate(&mut self) -> Result<(), Errno> {
        if self.files <= 1 {
            return self.reopen_at(true);
        }
        // fsync what this file still holds unsynced before it is renamed away:
        // a reset later would otherwise leave a run of zero bytes inside it
        // (seen on ext4 under qemu-system), not just a lost tail
        if let Some(fd) = self.fd.take() {
            let _ = fd.fsync();
        }
        for k in (1..self.files - 1).rev() {
            if self.rotatable(k).is_ok() && self.rotatable(k + 1).is_ok() {
                let _ = sys::rename(&self.numbered(k), &self.numbered(k + 1));
            }
        }
        if self.rotatable(1).is_err() {
            self.reopen_at(true)?;
            self.reopened = Some(b"rotation-blocked");
            return Ok(());
        }
        sys::rename(&self.path, &self.numbered(1))?;
        self.reopen_at(false)
    }

    /// Is the live file still at its path? Deleted (a user freeing flash)
    /// or renamed away (logrotate without copytruncate): open a new one.
    fn check_live(&mut self) {
        let Some(fd) = self.fd.as_ref() else { return };
        if self.stream {
            return;
        }
        let why: &'static [u8] = match (sys::fs::fstat(fd), sys::fs::lstat(&self.path)) {
            (Ok(st), _) if st.nlink == 0 => b"deleted",
            (_, Err(e)) if e.0 == libc::ENOENT => b"renamed",
            (_, Ok(st)) if st.ino != self.ino => b"replaced",
            _ => return,
        };
        if self.reopen_at(false).is_ok() {
            self.reopened = Some(why);
        }
    }

    /// A device node or FIFO, non-blocking: a partial write leaves the rest
    /// of its line in `tail`, finished before any later line; the lines
    /// after it are dropped (counted by the caller). The cut line counts as
    /// written: it is delivered whole, later.
    fn write_stream(&mut self, data: &[u8]) -> (u64, Result<(), Errno>) {
        let Some(fd) = self.fd.as_ref() else {
            return (0, Err(Errno(libc::EBADF)));
        };
        if !self.tail.is_empty() {
            match sys::fs::write_once(fd, &self.tail) {
                Ok(n) if n == self.tail.len() => self.tail.clear(),
                Ok(n) => {
                    let rest = self.tail.get(n..).unwrap_or(&[]);
                    let mut t = heapless::Vec::new();
                    let _ = t.extend_from_slice(rest);
                    self.tail = t;
                    return (0, Err(Errno(libc::EAGAIN)));
                }
                Err(e) => return (0, Err(e)),
            }
        }
        let lines = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count() as u64;
        match sys::fs::write_once(fd, data) {
            Ok(n) if n == data.len() => (lines(data), Ok(())),
            Ok(n) => {
                let (sent, rest) = data.split_at(n.min(data.len()));
                let mut done = lines(sent);
                if !sent.ends_with(b"\n") && !sent.is_empty() {
                    let end = rest
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(rest.len(), |i| i + 1);
                    if self
                        .tail
                        .extend_from_slice(rest.get(..end).unwrap_or(&[]))
                        .is_ok()
                    {
                        done += 1;
                    }
                }
                (done, Err(Errno(libc::EAGAIN)))
            }
            Err(e) => (0, Err(e)),
        }
    }

    /// Write whole lines; returns how many lines of `data` were written.
    fn write(&mut self, data: &[u8]) -> (u64, Result<(), Errno>) {
        if self.stream && self.fd.is_some() {
            return self.write_stream(data);
        }
        if !core::mem::take(&mut self.checked) {
            self.check_live();
        }
        if self.fd.is_none() {
            if let Err(e) = self.reopen_at(false) {
                return (0, Err(e));
            }
        }
        let mut done = 0u64;
        let mut rest = data;
        while !rest.is_empty() {
            // the longest run of whole lines that fits in this file
            let room = if self.limit == 0 || self.stream {
                u64::MAX
            } else {
                self.limit.saturating_sub(self.size)
            };
            let mut take = 0usize;
            let mut lines = 0u64;
            for (i, &b) in rest.iter().enumerate() {
                if b == b'\n' {
                    if (i + 1) as u64 > room {
                        break;
                    }
                    take = i + 1;
                    lines += 1;
                }
            }
            if take == 0 {
                if self.size == 0 {
                    // one line longer than a whole file: cannot be kept whole
                    let skip = rest
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(rest.len(), |i| i + 1);
                    rest = rest.get(skip..).unwrap_or(&[]);
                    continue;
                }
                if let Err(e) = self.rotate() {
                    return (done, Err(e));
                }
                continue;
            }
            let Some(fd) = self.fd.as_mut() else {
                return (done, Err(Errno(libc::EBADF)));
            };
            if let Err(e) = fd.append_whole(rest.get(..take).unwrap_or(&[])) {
                return (done, Err(e));
            }
            self.size += take as u64;
            done += lines;
            rest = rest.get(take..).unwrap_or(&[]);
        }
        (done, Ok(()))
    }

    fn sync(&mut self, force: bool) {
        if self.stream {
            return; // a tty or a pipe has nothing to sync
        }
        let now = sys::monotonic_ns();
        if force || now.saturating_sub(self.last_sync_ns) >= SYNC_EVERY_NS {
            if let Some(fd) = self.fd.as_ref() {
                let _ = fd.fsync();
            }
            self.last_sync_ns = now;
        }
    }
}

/// Lines of one tick are gathered and written with one write(2): a tick
/// with a target and meminfo is ~350 bytes; 4 KiB holds a dozen targets.
/// A line that does not fit flushes the batch first; batches hold whole
/// lines only, so a line is never split across writes.
pub const BATCH_CAP: usize = 4096;

pub struct Sink {
    dest: Dest,
    batch: [u8; BATCH_CAP],
    len: usize,
    /// data lines in the batch
    pending: u64,
    /// the batch starts with an `event=dropped` notice
    notice: bool,
    /// the batch holds an event line: fsync it
    urgent: bool,
    /// lines lost since the last successful write
    pub dropped: u64,
    /// lines lost in total
    pub dropped_total: u64,
    pub written: u64,
    /// the first write error, for a one-time notice on stderr
    pub last_error: Option<Errno>,
    /// copies of every line to syslog (local /dev/log and/or remote UDP)
    #[cfg(feature = "syslog")]
    pub syslog: heapless::Vec<crate::syslog::Syslog, 2>,
    /// stdout is a pipe whose reader went away (EPIPE): time to stop
    pub broken: bool,
}

impl Sink {
    fn with(dest: Dest) -> Sink {
        Sink {
            dest,
            batch: [0; BATCH_CAP],
            len: 0,
            pending: 0,
            notice: false,
            urgent: false,
            dropped: 0,
            dropped_total: 0,
            written: 0,
            last_error: None,
            #[cfg(feature = "syslog")]
            syslog: heapless::Vec::new(),
            broken: false,
        }
    }

    pub fn stdout() -> Sink {
        Sink::with(Dest::Stdout)
    }

    /// A sink for `log`: stdout when None, else the file opened for
    /// appending (a symlink is refused: ELOOP), `limit` bytes per file
    /// (0 = unbounded) and `files` files in all; a device node or FIFO is
    /// written as a stream. Built in place: a Sink returned through a
    /// Result is one more 4 KiB copy on the stack.
    pub fn open(&mut self, log: Option<&[u8]>, limit: u64, files: u32) -> Result<(), LogError> {
        let Some(path) = log else {
            self.dest = Dest::Stdout;
            return Ok(());
        };
        let p = PathBuf::from(path);
        let (fd, size, stream, ino) = open_log_path(&p, false)?;
        let f = LogFile {
            fd: Some(fd),
            path: p,
            size,
            limit,
            files: files.max(1),
            last_sync_ns: sys::monotonic_ns(),
            stream,
            ino,
            reopened: None,
            checked: false,
            tail: heapless::Vec::new(),
        };
        if !stream {
            for k in 1..f.files {
                f.rotatable(k)?;
            }
        }
        self.dest = Dest::File(f);
        Ok(())
    }

    /// SIGHUP: close the log and open its path again at the next write
    /// (after an external logrotate).
    pub fn reopen(&mut self) {
        if let Dest::File(f) = &mut self.dest {
            f.fd = None;
        }
    }

    /// The live log was deleted or renamed and a new one opened since the
    /// last call: why. Looks at the path first, so a sample that starts by
    /// asking puts the notice first in the new file, before its own lines.
    pub fn take_reopened(&mut self) -> Option<&'static [u8]> {
        match &mut self.dest {
            Dest::File(f) => {
                f.check_live();
                f.checked = true;
                f.reopened.take()
            }
            Dest::Stdout => None,
        }
    }

    /// Queue an event line: like [`Sink::write_line`], and the batch is fsynced.
    pub fn write_event(&mut self, line: &[u8]) {
        self.write_line(line);
        self.urgent = true;
    }

    /// Queue one finished line (ending in '\n'); [`Sink::flush`] writes it.
    pub fn write_line(&mut self, line: &[u8]) {
        #[cfg(feature = "syslog")]
        for s in self.syslog.iter_mut() {
            s.send(line);
        }
        self.queue(line);
        self.pending += 1;
    }

    /// Queue the `event=dropped` notice; it counts as delivered with the batch.
    pub fn write_notice(&mut self, line: &[u8]) {
        if self.len > 0 {
            self.flush();
        }
        self.queue(line);
        self.notice = true;
    }

    fn queue(&mut self, line: &[u8]) {
        if append(&mut self.batch, &mut self.len, line) {
            return;
        }
        self.flush();
        if !append(&mut self.batch, &mut self.len, line) {
            // longer than the batch (cannot happen with LINE_CAP < BATCH_CAP)
            let _ = write_to(&mut self.dest, line);
        }
    }

    /// Write the batch. On failure its data lines are counted as dropped.
    pub fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        let n = core::mem::replace(&mut self.len, 0);
        let data = self.batch.get(..n).unwrap_or(&[]);
        let (done, r) = match &mut self.dest {
            Dest::Stdout => match sys::write_all(sys::STDOUT, data) {
                Ok(()) => (u64::MAX, Ok(())),
                Err(e) => {
                    self.broken |= e.0 == libc::EPIPE;
                    (0, Err(e))
                }
            },
            Dest::File(f) => {
                let r = f.write(data);
                if r.1.is_ok() {
                    f.sync(self.urgent);
                }
                r
            }
        };
        // the notice line, if any, is the first line of the batch
        let notice_lines = u64::from(self.notice);
        let data_done = done.saturating_sub(notice_lines).min(self.pending);
        if done > 0 && self.notice {
            self.dropped = 0;
        }
        self.written += data_done;
        if let Err(e) = r {
            let lost = self.pending - data_done;
            self.dropped += lost;
            self.dropped_total += lost;
            if self.last_error.is_none() {
                self.last_error = Some(e);
            }
        }
        self.pending = 0;
        self.notice = false;
        self.urgent = false;
    }
}

/// Append `b` to a batch `buf[..*len]`; false, and nothing copied, when it
/// does not fit (flush, then try again).
pub fn append(buf: &mut [u8], len: &mut usize, b: &[u8]) -> bool {
    match buf.get_mut(*len..*len + b.len()) {
        Some(d) => {
            d.copy_from_slice(b);
            *len += b.len();
            true
        }
        None => false,
    }
}

fn write_to(dest: &mut Dest, data: &[u8]) -> Result<(), Errno> {
    match dest {
        Dest::Stdout => sys::write_all(sys::STDOUT, data),
        Dest::File(f) => f.write(data).1,
    }
}

/// Point a sink at `log` (stdout when None); an unusable log is one clear
/// error at start. Returns the exit code on failure, like [`attach_syslog`].
pub fn open_log(sink: &mut Sink, log: Option<&[u8]>, limit: u64, files: u32) -> Result<(), i32> {
    let path = log.unwrap_or_default();
    sink.open(log, limit, files).map_err(|e| {
        match e {
            LogError::Sys(e) => error(&[b"cannot open log ", path, b": ", e.text().as_bytes()]),
            LogError::Kind(k) => error(&[
                b"cannot use log ",
                path,
                b": it is ",
                k.word(),
                b" (give a file, a device node like /dev/console, or a FIFO)",
            ]),
            LogError::Locked => error(&[
                b"log ",
                path,
                b" is being written by another memdog (its lock is held): give each instance its own log",
            ]),
            LogError::Slot(k, kind) => {
                let mut b = [0u8; 20];
                error(&[
                    b"cannot rotate log ",
                    path,
                    b": ",
                    path,
                    b".",
                    crate::num::fmt_u64(u64::from(k), &mut b),
                    b" is ",
                    kind.word(),
                    b", not a log memdog rotated: move it away or choose another log path",
                ])
            }
        }
        exit::FAILURE
    })
}

/// What is wrong with a textfile path, if anything: it must be a plain file
/// (it is replaced every sample) in a directory that exists.
pub fn textfile_problem(path: &[u8]) -> Option<&'static str> {
    if !cfg!(feature = "metrics") {
        return Some(crate::metrics::NO_METRICS);
    }
    // the sample's temp file, PATH.tmp: anything but a leftover of ours
    // (a regular file) there is someone's, and a FIFO would block the open
    let mut tmp = PathBuf::from(path);
    tmp.push(b".tmp");
    if let Ok(st) = sys::fs::lstat(&tmp) {
        use sys::fs::Kind;
        match st.kind() {
            Kind::Regular => {}
            Kind::Fifo => return Some("its temp file (the path + .tmp) is a FIFO, not memdog's: move it away or choose another textfile path"),
            Kind::Directory => return Some("its temp file (the path + .tmp) is a directory, not memdog's: move it away or choose another textfile path"),
            _ => return Some("its temp file (the path + .tmp) is not a plain file, not memdog's: move it away or choose another textfile path"),
        }
    }
    match sys::fs::lstat(&PathBuf::from(path)) {
        Ok(st) if st.kind() == sys::fs::Kind::Regular => return None,
        Ok(st) => {
            use sys::fs::Kind;
            return Some(match st.kind() {
                Kind::Symlink => "it is a symlink (refused, like the log's)",
                Kind::CharDevice => "it is a character device; a textfile is replaced every sample, so give a plain file path",
                Kind::Fifo => "it is a FIFO; a textfile is replaced every sample, so give a plain file path",
                Kind::BlockDevice => "it is a block device; a textfile is replaced every sample, so give a plain file path",
                _ => "it is not a plain file; a textfile is replaced every sample, so give a plain file path",
            });
        }
        Err(e) if e.0 != libc::ENOENT => return Some(e.text()),
        Err(_) => {}
    }
    let dir = match path.iter().rposition(|&b| b == b'/') {
        Some(0) => &b"/"[..],
        Some(i) => path.get(..i).unwrap_or(b"."),
        None => b".",
    };
    match sys::fs::lstat(&PathBuf::from(dir)) {
        Ok(st) if st.kind() == sys::fs::Kind::Directory => None,
        _ => Some(
            "the textfile's directory does not exist (create it, e.g. mkdir -p, or fix the path)",
        ),
    }
}

/// [`textfile_problem`] as one clear error at start.
pub fn check_textfile(path: &[u8]) -> Result<(), i32> {
    if !cfg!(feature = "metrics") {
        error(&[crate::metrics::NO_METRICS.as_bytes()]);
        return Err(exit::USAGE);
    }
    match textfile_problem(path) {
        None => Ok(()),
        Some(why) => {
            error(&[b"cannot use textfile ", path, b": ", why.as_bytes()]);
            Err(exit::FAILURE)
        }
    }
}

/// Attach syslog outputs to a sink; a missing /dev/log or a bad address is
/// a clear error at start, not silence later.
pub fn attach_syslog(
    sink: &mut Sink,
    local: Option<&[u8]>,
    remote: Option<&[u8]>,
) -> Result<(), i32> {
    #[cfg(not(feature = "syslog"))]
    {
        if local.is_some() || remote.is_some() {
            error(&[NO_SYSLOG.as_bytes()]);
            return Err(exit::USAGE);
        }
        let _ = sink;
        Ok(())
    }
    #[cfg(feature = "syslog")]
    attach_syslog_on(sink, local, remote)
}

/// What a build without the `syslog` feature says to `syslog =`,
/// `syslog_remote =`, `--syslog*`.
pub const NO_SYSLOG: &str = "this memdog is built without syslog (cargo feature syslog; board builds: make cross CROSS_FEATURES=syslog): write the log to a file or a device node such as /dev/console";

#[cfg(feature = "syslog")]
fn attach_syslog_on(
    sink: &mut Sink,
    local: Option<&[u8]>,
    remote: Option<&[u8]>,
) -> Result<(), i32> {
    if let Some(p) = local {
        match crate::syslog::Syslog::local(p) {
            Ok(s) => {
                let _ = sink.syslog.push(s);
            }
            Err(e) => {
                error(&[
                    b"cannot connect to syslog at ",
                    p,
                    b": ",
                    e.text().as_bytes(),
                    b" (is syslogd running?)",
                ]);
                return Err(exit::FAILURE);
            }
        }
    }
    if let Some(r) = remote {
        let Some((ip, port)) = crate::units::parse_ipv4_port(r) else {
            return Err(exit::USAGE);
        };
        match crate::syslog::Syslog::remote(ip, port) {
            Ok(s) => {
                let _ = sink.syslog.push(s);
            }
            Err(e) => {
                error(&[
                    b"cannot reach remote syslog ",
                    r,
                    b": ",
                    e.text().as_bytes(),
                ]);
                return Err(exit::FAILURE);
            }
        }
    }
    Ok(())
}

/// One line on stderr, `memdog: ` + the parts, written with one write(2).
pub fn error(parts: &[&[u8]]) {
    let mut l = crate::line::Line::new();
    l.push(b"memdog: ");
    for p in parts {
        l.push(p);
    }
    let _ = sys::write_all(sys::STDERR, l.finish());
}

/// Exit codes, documented in `memdog --help` and README.md.
pub mod exit {
    /// success, or stopped by SIGTERM/SIGINT
    pub const OK: i32 = 0;
    /// runtime failure: cannot open the log, /proc not mounted, I/O error
    pub const FAILURE: i32 = 1;
    /// bad command line or config
    pub const USAGE: i32 = 2;
    /// the process asked for does not exist
    pub const NOT_FOUND: i32 = 3;
    /// permission denied reading /proc (hidepid, another user's process)
    pub const DENIED: i32 = 4;
}

#[cfg(test)]
mod tests {
    use super::append;

    #[test]
    fn append_fills_a_batch_then_refuses_whole() {
        let mut buf = [0u8; 8];
        let mut len = 0;
        assert!(append(&mut buf, &mut len, b"abc"));
        assert!(append(&mut buf, &mut len, b"defgh"));
        assert_eq!((&buf[..], len), (&b"abcdefgh"[..], 8));
        // a full batch takes nothing, not a part: lines stay whole
        assert!(!append(&mut buf, &mut len, b"i"));
        assert_eq!(len, 8);
        len = 6;
        assert!(!append(&mut buf, &mut len, b"xyz"));
        assert_eq!((&buf[..], len), (&b"abcdefgh"[..], 6));
    }
}
