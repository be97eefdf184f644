//! Where log lines go: stdout or an append-only file. A line is written
//! whole or not at all; lines that could not be written (full disk,
//! read-only flash) are counted, sampling goes on, and the count is reported
//! with `event=dropped lines=N` once writing works again.

use crate::sys::{self, Errno, Fd, PathBuf};

pub enum Dest {
    Stdout,
    File(Fd),
}

pub struct Sink {
    dest: Dest,
    /// lines lost since the last successful write
    pub dropped: u64,
    /// lines lost in total
    pub dropped_total: u64,
    pub written: u64,
    /// the first write error, for a one-time notice on stderr
    pub last_error: Option<Errno>,
}

impl Sink {
    pub fn stdout() -> Sink {
        Sink {
            dest: Dest::Stdout,
            dropped: 0,
            dropped_total: 0,
            written: 0,
            last_error: None,
        }
    }

    /// Open a log file for appending; a symlink is refused (ELOOP).
    pub fn file(path: &[u8]) -> Result<Sink, Errno> {
        let p = PathBuf::from(path);
        let fd = Fd::open_append(&p)?;
        Ok(Sink {
            dest: Dest::File(fd),
            ..Sink::stdout()
        })
    }

    /// Write one finished line (ending in '\n'). Returns false if it was dropped.
    pub fn write_line(&mut self, line: &[u8]) -> bool {
        let r = match &mut self.dest {
            Dest::Stdout => sys::write_all(sys::STDOUT, line),
            Dest::File(fd) => fd.append_whole(line),
        };
        match r {
            Ok(()) => {
                self.written += 1;
                true
            }
            Err(e) => {
                self.dropped += 1;
                self.dropped_total += 1;
                if self.last_error.is_none() {
                    self.last_error = Some(e);
                }
                false
            }
        }
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
