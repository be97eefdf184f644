//! `memdog snapshot`: a one-shot table of every process's memory, like a
//! tiny ps for memory, with the system's meminfo totals.

use crate::cli::{Snapshot, SortKey, MAX_TOP};
use crate::line::Line;
use crate::out::{self, exit};
use crate::proc::meminfo::Available;
use crate::proc::stat::COMM_CAP;
use crate::sample::{Pids, ReadError, Reader};
use crate::sys;

#[derive(Clone, Default)]
struct Row {
    pid: u32,
    comm: heapless::Vec<u8, COMM_CAP>,
    rss: Option<u64>,
    size: Option<u64>,
    swap: Option<u64>,
    heap: Option<u64>,
    threads: Option<u32>,
}

impl Row {
    fn key(&self, k: SortKey) -> u64 {
        match k {
            SortKey::Rss => self.rss,
            SortKey::Size => self.size,
            SortKey::Swap => self.swap,
            SortKey::Heap => self.heap,
        }
        .unwrap_or(0)
    }
}

/// Sort descending by the key, ties by pid, so output is the same on every machine.
fn before(a: &Row, b: &Row, k: SortKey) -> bool {
    (a.key(k), core::cmp::Reverse(a.pid)) > (b.key(k), core::cmp::Reverse(b.pid))
}

fn cell(l: &mut Line, v: Option<u64>, width: usize) {
    l.cell(v, width);
}

// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn run(opts: Snapshot) -> i32 {
    let mut buf = [0u8; crate::sample::READ_BUF];
    let mut reader = Reader::new(opts.proc_root, &mut buf);
    let meminfo = match reader.meminfo() {
        Ok(m) => m,
        Err(e) => {
            out::error(&[
                b"cannot read ",
                opts.proc_root,
                b"/meminfo: ",
                crate::watch::err_word(e),
            ]);
            return if e == ReadError::Denied {
                exit::DENIED
            } else {
                exit::FAILURE
            };
        }
    };
    let pids = match Pids::open(opts.proc_root) {
        Ok(p) => p,
        Err(_) => {
            out::error(&[b"cannot list ", opts.proc_root]);
            return exit::FAILURE;
        }
    };
    let top = opts.top.min(MAX_TOP);
    let mut rows: heapless::Vec<Row, MAX_TOP> = heapless::Vec::new();
    let (mut nproc, mut rss_total, mut denied) = (0u64, 0u64, 0u64);
    for pid in pids {
        let Ok(st) = reader.stat(pid) else { continue };
        let mut row = Row {
            pid,
            comm: st.comm.clone(),
            ..Row::default()
        };
        match reader.status(pid) {
            Ok(s) => {
                row.rss = s.get("VmRSS");
                row.size = s.get("VmSize");
                row.swap = s.get("VmSwap");
                row.threads = s.threads;
            }
            Err(ReadError::Denied) => denied += 1,
            Err(_) => continue, // vanished between listing and reading
        }
        nproc += 1;
        rss_total += row.rss.unwrap_or(0);
        if opts.sort == SortKey::Heap {
            row.heap = reader
                .maps(pid, None)
                .ok()
                .filter(|m| m.mappings > 0)
                .map(|m| m.heap_kb);
        }
        // insertion into a fixed top-N array
        let pos = rows
            .iter()
            .position(|r| before(&row, r, opts.sort))
            .unwrap_or(rows.len());
        if pos < top {
            if rows.len() == top {
                rows.pop();
            }
            let _ = rows.insert(pos, row);
        }
    }
    if opts.sort != SortKey::Heap {
        for r in rows.iter_mut() {
            r.heap = reader
                .maps(r.pid, None)
                .ok()
                .filter(|m| m.mappings > 0)
                .map(|m| m.heap_kb);
        }
    }

    let mut l = Line::new();
    let print = |l: &mut Line| {
        let _ = sys::write_all(sys::STDOUT, l.finish());
        l.clear();
    };
    l.push(b"    PID NAME                 VmRSS    VmSize    VmSwap      heap Threads");
    print(&mut l);
    for r in rows.iter() {
        cell(&mut l, Some(u64::from(r.pid)), 7);
        l.push(b" ");
        let start = l.as_bytes().len();
        l.push_escaped(&r.comm);
        for _ in (l.as_bytes().len() - start)..16 {
            l.push(b" ");
        }
        cell(&mut l, r.rss, 10);
        cell(&mut l, r.size, 10);
        cell(&mut l, r.swap, 10);
        cell(&mut l, r.heap, 10);
        cell(&mut l, r.threads.map(u64::from), 8);
        print(&mut l);
    }
    l.push(b"processes=");
    l.push_u64(nproc);
    l.kv(b"rss_total", rss_total);
    if denied > 0 {
        l.kv(b"denied", denied);
    }
    print(&mut l);
    l.push(b"meminfo");
    for key in [
        &b"MemTotal"[..],
        b"MemFree",
        b"Buffers",
        b"Cached",
        b"SwapTotal",
        b"SwapFree",
    ] {
        if let Some(v) = meminfo.get(key) {
            l.kv(key, v);
        }
    }
    match meminfo.available() {
        Some(Available::Kernel(v)) => l.kv(b"MemAvailable", v),
        Some(Available::Estimated(v)) => l.kv(b"MemAvailable~", v),
        None => {}
    }
    print(&mut l);
    exit::OK
}
