//! /proc/PID/status: Name, State, PPid, Threads and the Vm*/Rss* fields.
//!
//! Fields a kernel does not print are `None`, never 0: kernel threads and
//! zombies have no Vm lines; RssAnon/RssFile/RssShmem appeared in 4.5,
//! VmSwap in 2.6.34, VmPin in 3.2. Separators may be tabs or spaces.

use super::split_key;
use crate::num::is;
use crate::num::{parse_u32, parse_u64_prefix, trim};

/// The memory fields memdog knows, in the kernel's print order.
pub const VM_FIELDS: [&str; 15] = [
    "VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem",
    "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap",
];
pub const NFIELDS: usize = VM_FIELDS.len();

/// Index of a Vm*/Rss* field by its kernel name.
pub fn vm_index(name: &[u8]) -> Option<usize> {
    VM_FIELDS.iter().position(|f| f.as_bytes() == name)
}

/// Capacity for the Name value: the kernel's comm is 15 bytes (TASK_COMM_LEN
/// 16), but status escapes it (`\n` -> `\\n`) and 6.x kworkers print longer
/// names; 64 holds all of that.
pub const NAME_CAP: usize = 64;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Name as the kernel printed it (already escaped by the kernel).
    pub name: heapless::Vec<u8, NAME_CAP>,
    /// State letter: R S D Z T t X I ...
    pub state: Option<u8>,
    pub pid: Option<u32>,
    /// thread group id: the process a thread belongs to (Pid for its leader)
    pub tgid: Option<u32>,
    pub ppid: Option<u32>,
    pub threads: Option<u32>,
    /// kB values indexed like [`VM_FIELDS`].
    pub vm: [Option<u64>; NFIELDS],
    /// Not from status: the sampler's `fds`, Pss, Pss_Anon, Uss, SwapPss
    /// (units::FDS.. order) when a field or rule asks for them; this parser
    /// leaves them None.
    #[cfg(feature = "fields-extra")]
    pub extra: [Option<u64>; N_EXTRA],
}

/// Values in [`Status::extra`].
pub const N_EXTRA: usize = 5;

impl Status {
    pub fn get(&self, field: &str) -> Option<u64> {
        self.vm.get(vm_index(field.as_bytes())?).copied().flatten()
    }

    /// The process (Tgid) this status belongs to when it is a non-leader
    /// thread's (`/proc/TID/status` of a thread: Tgid != Pid); None for a
    /// process, or when either line is missing.
    pub fn thread_of(&self) -> Option<u32> {
        match (self.tgid, self.pid) {
            (Some(g), Some(p)) if g != p => Some(g),
            _ => None,
        }
    }

    /// Parse a whole status file held in memory.
    pub fn parse(buf: &[u8]) -> Status {
        let mut s = Status::default();
        for line in buf.split(|&b| b == b'\n') {
            s.feed_line(line);
        }
        s
    }

    /// Take one line of the file. Unknown keys and malformed values are ignored.
    pub fn feed_line(&mut self, line: &[u8]) {
        let Some((key, val)) = split_key(line) else {
            return;
        };
        match key {
            kw if is(kw, b"Name") => {
                // the kernel writes one tab; a name may itself start with a
                // space. Pasted copies use spaces instead: strip them all.
                let v = match val.strip_prefix(b"\t") {
                    Some(v) => v,
                    None => crate::num::trim_start(val),
                };
                let v = v.strip_suffix(b"\r").unwrap_or(v);
                self.name.clear();
                let n = v.len().min(NAME_CAP);
                let _ = self.name.extend_from_slice(v.get(..n).unwrap_or(&[]));
            }
            kw if is(kw, b"State") => self.state = trim(val).first().copied(),
            kw if is(kw, b"Pid") => self.pid = parse_u32(val),
            kw if is(kw, b"Tgid") => self.tgid = parse_u32(val),
            kw if is(kw, b"PPid") => self.ppid = parse_u32(val),
            kw if is(kw, b"Threads") => self.threads = parse_u32(val),
            // most of status's ~55 lines are neither (Sig*, Cap*, Cpus_*):
            // one byte tells, before a search of the 15 names
            kw if !matches!(kw.first(), Some(b'V' | b'R')) => {}
            _ => {
                if let Some(i) = vm_index(key) {
                    // "%8lu kB"
                    if let Some((v, _)) = parse_u64_prefix(val) {
                        if let Some(slot) = self.vm.get_mut(i) {
                            *slot = Some(v);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE_5X: &[u8] = b"Name:\thostapd\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t3158\nNgid:\t0\nPid:\t3158\nPPid:\t1\n\
VmPeak:\t    5800 kB\nVmSize:\t    5678 kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\nVmHWM:\t    1300 kB\n\
VmRSS:\t    1234 kB\nRssAnon:\t     400 kB\nRssFile:\t     834 kB\nRssShmem:\t       0 kB\nVmData:\t     500 kB\n\
VmStk:\t     132 kB\nVmExe:\t     400 kB\nVmLib:\t    2000 kB\nVmPTE:\t      20 kB\nVmSwap:\t       0 kB\nThreads:\t1\n";

    #[test]
    fn parses_every_field() {
        let s = Status::parse(SAMPLE_5X);
        assert_eq!(&s.name[..], b"hostapd");
        assert_eq!(s.state, Some(b'S'));
        assert_eq!((s.pid, s.ppid, s.threads), (Some(3158), Some(1), Some(1)));
        assert_eq!(s.get("VmRSS"), Some(1234));
        assert_eq!(s.get("VmSize"), Some(5678));
        assert_eq!(s.get("RssFile"), Some(834));
        assert_eq!(s.get("VmSwap"), Some(0));
        assert!(s.vm.iter().all(|v| v.is_some()));
    }

    #[test]
    fn a_thread_names_its_process() {
        assert_eq!(Status::parse(SAMPLE_5X).thread_of(), None);
        let t = Status::parse(b"Name:\tworker\nTgid:\t3158\nPid:\t3161\nThreads:\t4\n");
        assert_eq!(
            (t.tgid, t.pid, t.thread_of()),
            (Some(3158), Some(3161), Some(3158))
        );
        // pre-2.6.x or pasted text without Tgid: not known to be a thread
        assert_eq!(Status::parse(b"Pid:\t3161\n").thread_of(), None);
    }

    #[test]
    fn kernel_thread_has_no_vm_fields() {
        let s = Status::parse(
            b"Name:\tkthreadd\nState:\tS (sleeping)\nPid:\t2\nPPid:\t0\nThreads:\t1\n",
        );
        assert!(s.vm.iter().all(|v| v.is_none()));
        assert_eq!(s.get("VmRSS"), None);
    }

    #[test]
    fn spaces_instead_of_tabs_and_no_final_newline() {
        let s = Status::parse(b"Name: kube-proxy\nVmRSS:     42652 kB\nThreads: 7");
        assert_eq!(&s.name[..], b"kube-proxy");
        assert_eq!(s.get("VmRSS"), Some(42652));
        assert_eq!(s.threads, Some(7));
    }

    #[test]
    fn name_separators() {
        assert_eq!(
            &Status::parse(b"Name:  two spaces\n").name[..],
            b"two spaces"
        );
        assert_eq!(
            &Status::parse(b"Name:\t lead\n").name[..],
            b" lead",
            "after the kernel's tab, spaces are the name's"
        );
    }

    #[test]
    fn garbage_is_ignored_not_a_panic() {
        let s = Status::parse(
            b"VmRSS:\tlots kB\n:\n\xff\xfe:\x00\nVmSize:\t99999999999999999999999 kB\n",
        );
        assert_eq!(s.get("VmRSS"), None);
        assert_eq!(s.get("VmSize"), None);
    }
}
