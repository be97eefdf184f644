//! Where log lines go: stdout or an append-only file. A line is written
//! whole or not at all; lines that could not be written (full disk,
//! read-only flash) are counted, sampling goes on, and the count is reported
//! with `event=dropped lines=N` once writing works again.

use crate::sys::{self, Errno, Fd, PathBuf};

pub enum Dest {
    Stdout,
    File(Fd),
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
    /// lines lost since the last successful write
    pub dropped: u64,
    /// lines lost in total
    pub dropped_total: u64,
    pub written: u64,
    /// the first write error, for a one-time notice on stderr
    pub last_error: Option<Errno>,
}

impl Sink {
    fn with(dest: Dest) -> Sink {
        Sink {
            dest,
            batch: [0; BATCH_CAP],
            len: 0,
            pending: 0,
            notice: false,
            dropped: 0,
            dropped_total: 0,
            written: 0,
            last_error: None,
        }
    }

    pub fn stdout() -> Sink {
        Sink::with(Dest::Stdout)
    }

    /// Open a log file for appending; a symlink is refused (ELOOP).
    pub fn file(path: &[u8]) -> Result<Sink, Errno> {
        let p = PathBuf::from(path);
        Ok(Sink::with(Dest::File(Fd::open_append(&p)?)))
    }

    /// Queue one finished line (ending in '\n'); [`Sink::flush`] writes it.
    pub fn write_line(&mut self, line: &[u8]) {
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
        if self.len + line.len() > BATCH_CAP {
            self.flush();
        }
        match self.batch.get_mut(self.len..self.len + line.len()) {
            Some(dst) => {
                dst.copy_from_slice(line);
                self.len += line.len();
            }
            None => {
                // longer than the batch (cannot happen with LINE_CAP < BATCH_CAP)
                let _ = write_to(&mut self.dest, line);
            }
        }
    }

    /// Write the batch. On failure its data lines are counted as dropped.
    pub fn flush(&mut self) {
        if self.len == 0 {
            return;
        }
        let n = core::mem::replace(&mut self.len, 0);
        let r = write_to(&mut self.dest, self.batch.get(..n).unwrap_or(&[]));
        match r {
            Ok(()) => {
                self.written += self.pending;
                if self.notice {
                    self.dropped = 0;
                }
            }
            Err(e) => {
                self.dropped += self.pending;
                self.dropped_total += self.pending;
                if self.last_error.is_none() {
                    self.last_error = Some(e);
                }
            }
        }
        self.pending = 0;
        self.notice = false;
    }
}

fn write_to(dest: &mut Dest, data: &[u8]) -> Result<(), Errno> {
    match dest {
        Dest::Stdout => sys::write_all(sys::STDOUT, data),
        Dest::File(fd) => fd.append_whole(data),
    }
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
