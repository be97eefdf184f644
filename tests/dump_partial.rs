//! A dump knows when it is incomplete, reads only mapped readable ranges and
//! never spins through unmapped space; maps classifies guard-page regions,
//! deleted files and shared anonymous memory by the evidence.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct Kid(Child);
impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// pid 42 in a proc root: `maps` as given, `mem` a sparse file holding
/// `data[i]` at address `at[i]`.
fn fake(root: &Path, maps: &str, data: &[(u64, &[u8])]) {
    let dir = root.join("42");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("maps"), maps).unwrap();
    std::fs::write(
        dir.join("status"),
        "Name:\tfake\nTgid:\t42\nPid:\t42\nThreads:\t1\n",
    )
    .unwrap();
    let f = std::fs::File::create(dir.join("mem")).unwrap();
    for (at, d) in data {
        f.write_all_at(d, *at).unwrap();
    }
}

fn filled(n: usize, word: &str) -> Vec<u8> {
    let mut v = Vec::new();
    while v.len() + word.len() < n {
        v.extend_from_slice(word.as_bytes());
        v.push(0);
    }
    v.resize(n, 0);
    v
}

/// A process whose memory ends before its maps say (it exited mid-read, as
/// /proc/PID/mem then reads as end of file): exit 5, one line with the bytes
/// read, the raw file left as .partial, the status line says partial=1.
#[test]
fn short_memory_is_a_partial_dump() {
    let t = TempDir::new("partial");
    let root = t.join("proc");
    let heap = filled(0x8000, "first-half-string");
    fake(
        &root,
        "00010000-00030000 rw-p 00000000 00:00 0          [heap]\n",
        &[(0x10000, &heap)],
    );
    let raw = t.join("heap.raw");
    let status = t.join("status.txt");
    let sh = format!(
        "exec '{}' dump 42 --proc-root '{}' --raw '{}' --quiet --status-fd 3 3>'{}'",
        bin().display(),
        root.display(),
        raw.display(),
        status.display()
    );
    let o = run_bounded(Command::new("sh").args(["-c", &sh]));
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "--quiet writes nothing on stdout");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "is partial: read 32768 of 131072 bytes in 1 regions (the process exited or exec'd mid-dump: its memory is gone)"
        ),
        "{err}"
    );
    let partial = t.join("heap.raw.partial");
    assert!(err.contains(partial.to_str().unwrap()), "{err}");
    assert!(
        !raw.exists(),
        "an incomplete dump never takes the whole name"
    );
    assert_eq!(std::fs::read(&partial).unwrap(), heap);
    let st = std::fs::read_to_string(&status).unwrap();
    let l = &lines(&st)[0];
    assert_eq!(l["bytes"], "32768");
    assert_eq!(l["of"], "131072");
    assert_eq!(l["partial"], "1");
    assert_eq!(l["file"], partial.to_str().unwrap());
    assert!(l["strings"].parse::<u64>().unwrap() > 1000);

    // the same dump again: the stale .partial is not replaced
    let o = memdog(&[
        "dump",
        "42",
        "--proc-root",
        root.to_str().unwrap(),
        "--raw",
        raw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("heap.raw.partial"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&partial).unwrap(), heap);
}

/// Whole: exit 0, nothing on stdout with --quiet, the raw file under its name,
/// `partial=0` on the status descriptor.
#[test]
fn whole_dump_contract() {
    let t = TempDir::new("whole");
    let root = t.join("proc");
    let heap = filled(0x20000, "whole-heap-string");
    fake(
        &root,
        "00010000-00030000 rw-p 00000000 00:00 0          [heap]\n",
        &[(0x10000, &heap)],
    );
    let raw = t.join("heap.raw");
    let status = t.join("status.txt");
    let sh = format!(
        "exec '{}' dump 42 --proc-root '{}' --raw '{}' --quiet --status-fd 3 3>'{}'",
        bin().display(),
        root.display(),
        raw.display(),
        status.display()
    );
    let o = run_bounded(Command::new("sh").args(["-c", &sh]));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!((stdout(&o).as_str(), stderr(&o).as_str()), ("", ""));
    assert_eq!(std::fs::read(&raw).unwrap(), heap);
    assert!(!t.join("heap.raw.partial").exists());
    let l = &lines(&std::fs::read_to_string(&status).unwrap())[0];
    assert_eq!(
        (l["bytes"].as_str(), l["partial"].as_str()),
        ("131072", "0")
    );
    assert_eq!(l["file"], raw.to_str().unwrap());
    // an existing file is never replaced
    let o = memdog(&[
        "dump",
        "42",
        "--proc-root",
        root.to_str().unwrap(),
        "--raw",
        raw.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1);
}

/// `--region 0-ffffffffffffffff` reads the mapped readable ranges only:
/// the raw file is exactly their bytes, gaps and ---p never written, and
/// `--max-bytes 100` ends at once instead of spinning through 2^64 bytes.
#[test]
fn ranges_are_clipped_to_mapped_readable_memory() {
    let t = TempDir::new("clip");
    let root = t.join("proc");
    let a = filled(0x2000, "region-a-string");
    let b = filled(0x3000, "region-b-string");
    let hidden = filled(0x1000, "never-read-guard");
    fake(
        &root,
        "00010000-00012000 rw-p 00000000 00:00 0 \n\
         00012000-00013000 ---p 00000000 00:00 0 \n\
         7f000000-7f003000 r--p 00000000 08:01 12 /lib/x.so\n\
         7fff0000-7fff1000 r--p 00000000 00:00 0 [vvar]\n",
        &[(0x10000, &a), (0x12000, &hidden), (0x7f000000, &b)],
    );
    let raw = t.join("all.raw");
    let o = memdog(&[
        "dump",
        "42",
        "--proc-root",
        root.to_str().unwrap(),
        "--region",
        "0-ffffffffffffffff",
        "--raw",
        raw.to_str().unwrap(),
        "--max-bytes",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&raw).unwrap(),
        [a.clone(), b.clone()].concat()
    );
    assert!(stdout(&o).len() <= 100);
    // without --raw the cap stops the reading too
    let o = memdog(&[
        "dump",
        "42",
        "--proc-root",
        root.to_str().unwrap(),
        "--region",
        "0-ffffffffffffffff",
        "--max-bytes",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).len(), 100);
    assert!(stderr(&o).contains("--max-bytes"), "{}", stderr(&o));
    // a range inside one mapping, and one over a gap
    let part = t.join("part.raw");
    let o = memdog(&[
        "dump",
        "42",
        "--proc-root",
        root.to_str().unwrap(),
        "--region",
        "11000-7f001000",
        "--raw",
        part.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&part).unwrap(),
        [&a[0x1000..], &b[..0x1000]].concat()
    );
    // nothing mapped there
    let o = memdog(&[
        "dump",
        "42",
        "--proc-root",
        root.to_str().unwrap(),
        "--region",
        "20000-30000",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("nothing mapped and readable"),
        "{}",
        stderr(&o)
    );
}

/// More regions than the old 64-entry list: all are read (streamed from maps).
#[test]
fn anon_covers_every_region() {
    let t = TempDir::new("many");
    let root = t.join("proc");
    let mut maps = String::new();
    let mut data = Vec::new();
    let mut want = Vec::new();
    for i in 0..300u64 {
        let at = 0x1000_0000 + i * 0x2000;
        maps.push_str(&format!(
            "{at:08x}-{:08x} rw-p 00000000 00:00 0 \n",
            at + 0x1000
        ));
        let d = filled(0x1000, &format!("anon-region-{i:04}"));
        want.extend_from_slice(&d);
        data.push((at, d));
    }
    let refs: Vec<(u64, &[u8])> = data.iter().map(|(a, d)| (*a, d.as_slice())).collect();
    fake(&root, &maps, &refs);
    let raw = t.join("anon.raw");
    let o = memdog(&[
        "dump",
        "42",
        "--proc-root",
        root.to_str().unwrap(),
        "--region",
        "anon",
        "--raw",
        raw.to_str().unwrap(),
        "--top",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&raw).unwrap(), want);
    assert!(
        stdout(&o).starts_with("strings=72000 counted=300 "),
        "{}",
        stdout(&o)
    );
}

const BIG: &str = r#"
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void) {
    size_t n = (size_t)1 << 30;
    char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return 1;
    strcpy(p, "BIG-REGION-MARKER");
    printf("ready\n");
    fflush(stdout);
    pause();
    return 0;
}
"#;

fn cc(t: &TempDir, name: &str, src: &str, extra: &[&str]) -> std::path::PathBuf {
    let (c, exe) = (t.join(&format!("{name}.c")), t.join(name));
    std::fs::write(&c, src).unwrap();
    let st = Command::new("gcc")
        .args(["-O0", "-o", exe.to_str().unwrap(), c.to_str().unwrap()])
        .args(extra)
        .status()
        .expect("gcc");
    assert!(st.success());
    exe
}

fn start(exe: &Path, args: &[&str]) -> Kid {
    let mut c = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(c.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    Kid(c)
}

/// A real process killed while its 1 GiB region is being read.
#[test]
fn process_killed_mid_dump() {
    let t = TempDir::new("killed");
    let exe = cc(&t, "big", BIG, &[]);
    let mut kid = start(&exe, &[]);
    let pid = kid.0.id().to_string();
    let raw = t.join("big.raw");
    let partial = t.join("big.raw.partial");
    let dump = Command::new(bin())
        .args([
            "dump",
            &pid,
            "--region",
            "anon",
            "--raw",
            raw.to_str().unwrap(),
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(
        || {
            std::fs::metadata(&partial)
                .map(|m| m.len() > 1 << 20)
                .unwrap_or(false)
        },
        "the dump to be under way",
    );
    kid.0.kill().unwrap();
    kid.0.wait().unwrap();
    let o = dump.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is partial: read "), "{err}");
    assert!(
        err.contains("the process exited or exec'd mid-dump"),
        "{err}"
    );
    let read: u64 = err
        .split("read ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        std::fs::metadata(&partial).unwrap().len(),
        read,
        "the line says the bytes in the file"
    );
    assert!(read < 1 << 30, "{err}");
    assert!(!raw.exists());
}

const GUARDS: &str = r#"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <fcntl.h>
static void *idle(void *a) { (void)a; pause(); return 0; }
int main(int argc, char **argv) {
    int guards = atoi(argv[1]), threads = atoi(argv[2]);
    long pg = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < guards; i++) {
        /* a guard-page allocator: one PROT_NONE page below each object */
        char *p = mmap(0, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return 1;
        mprotect(p, pg, PROT_NONE);
        p[pg] = 1;
    }
    /* a mapped data file, deleted, with an anonymous mapping right after it */
    char path[] = "/tmp/memdog-deleted-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 8 * pg)) return 1;
    char *f = mmap(0, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mmap(f, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
    f[0] = 1; f[8 * pg] = 1;
    unlink(path);
    /* shared anonymous memory: /dev/zero (deleted) */
    char *s = mmap(0, 256 * pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    memset(s, 1, 256 * pg);
    for (int i = 0; i < threads; i++) { pthread_t th; pthread_create(&th, 0, idle, 0); }
    sleep(1);
    printf("ready\n");
    fflush(stdout);
    pause();
    return 0;
}
"#;

fn row(out: &str, name: &str) -> Vec<u64> {
    let l = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} row: {out}"));
    l.split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect()
}

/// 100 guard-page regions in a one-thread process are not thread stacks; 5
/// real pthreads still are; a deleted data file has no bss; shared anonymous
/// memory is shm; maps --rss rows add up to smaps' Rss.
#[test]
fn maps_classifies_by_the_evidence() {
    let t = TempDir::new("guards");
    let exe = cc(&t, "guards", GUARDS, &["-pthread"]);
    let kid = start(&exe, &["100", "0"]);
    let pid = kid.0.id().to_string();
    let out = stdout(&memdog(&["maps", &pid]));
    assert!(
        out.contains(" thread_stacks=0 Threads=1 guarded_anon=100 "),
        "{out}"
    );
    assert!(
        out.contains("guard-page allocations, not thread stacks"),
        "{out}"
    );
    assert_eq!(row(&out, "guarded-anon")[1], 100);
    assert_eq!(row(&out, "thread-stacks"), [0, 0]);
    // shared anonymous: 256 pages of /dev/zero (deleted) are shm, not a file
    assert!(row(&out, "shm")[0] >= 1024, "{out}");
    assert!(!out.contains("/dev/zero"), "{out}");
    // the deleted data file: data, no bss; the anonymous mapping after it is anon
    let f = out
        .lines()
        .find(|l| l.contains("memdog-deleted-"))
        .unwrap_or_else(|| panic!("{out}"));
    let cols: Vec<u64> = f
        .split_whitespace()
        .take(4)
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!((cols[1], cols[2]), (8 * 4, 0), "{f}");
    assert!(f.ends_with("(deleted)\""), "{f}");
    let w = memdog(&[
        "watch",
        "--pid",
        &pid,
        "--count",
        "1",
        "--fields",
        "nthreadstacks,Threads",
    ]);
    let l = lines(&stdout(&w));
    let s = l.iter().find(|l| l.contains_key("nthreadstacks")).unwrap();
    assert_eq!(
        (s["nthreadstacks"].as_str(), s["Threads"].as_str()),
        ("0", "1")
    );

    // --rss: each row's Rss is within its kB, and the rows add up to smaps
    let r = stdout(&memdog(&["maps", &pid, "--rss"]));
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let field = |k: &str| -> u64 {
        smaps
            .lines()
            .filter_map(|l| l.strip_prefix(k))
            .map(|v| v.split_whitespace().next().unwrap().parse::<u64>().unwrap())
            .sum()
    };
    let mut rss = 0;
    for name in [
        "heap",
        "stack",
        "thread-stacks",
        "guarded-anon",
        "anon",
        "bss",
        "file",
        "shm",
        "special",
    ] {
        let v = row(&r, name);
        assert!(v[2] <= v[0], "{name}: Rss {} > {} kB\n{r}", v[2], v[0]);
        rss += v[2];
    }
    // the process is idle: smaps read twice gives the same Rss
    assert_eq!(rss, field("Rss:"), "{r}");
    drop(kid);

    // 5 real pthreads are thread stacks (guarded regions <= Threads - 1)
    let kid = start(&exe, &["0", "5"]);
    let out = stdout(&memdog(&["maps", &kid.0.id().to_string()]));
    assert!(
        out.contains(" thread_stacks=5 Threads=6 guarded_anon=0 "),
        "{out}"
    );
    drop(kid);
    // both at once: the count cannot tell them apart, so none is claimed a stack
    let kid = start(&exe, &["100", "5"]);
    let out = stdout(&memdog(&["maps", &kid.0.id().to_string()]));
    assert!(
        out.contains(" thread_stacks=0 Threads=6 guarded_anon=105 "),
        "{out}"
    );
}

/// Tgid from real status captures: a leader's is its Pid (the parse side of
/// refusing `watch --pid TID`).
#[test]
fn status_tgid_from_real_captures() {
    for (dir, pid) in [
        ("gopsutil-x86/proc", "1505894"),
        ("prometheus-procfs/proc", "26231"),
        ("gopsutil-mips64/proc", "2549"),
    ] {
        let text = std::fs::read(shared_samples().join(dir).join(pid).join("status")).unwrap();
        let s = memdog::proc::status::Status::parse(&text);
        assert_eq!(s.tgid, s.pid, "{dir}/{pid}");
        assert_eq!(s.tgid, Some(pid.parse().unwrap()));
        assert_eq!(s.thread_of(), None);
    }
    // a non-leader thread of a real process: /proc/PID/task/TID/status
    let me = std::process::id();
    let h = std::thread::spawn(|| {
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
        let text = std::fs::read(format!("/proc/{tid}/status")).unwrap();
        memdog::proc::status::Status::parse(&text)
    });
    let s = h.join().unwrap();
    assert_eq!(s.thread_of(), Some(me));
}

const PAST_EOF: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long pg = sysconf(_SC_PAGESIZE);
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    char page[65536];
    memset(page, 0, sizeof page);
    strcpy(page, "FIRST-PAGE-OF-THE-FILE");
    if (fd < 0 || write(fd, page, pg) != pg) return 1;
    /* four pages mapped over a one-page file: pages 2-4 are past its end */
    char *p = mmap(0, 4 * pg, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return 1;
    printf("%lx-%lx\n", (unsigned long)p, (unsigned long)(p + 4 * pg));
    printf("ready\n");
    fflush(stdout);
    pause();
    return 0;
}
"#;

/// A real EIO: a file mapping past its file's end cannot be read through
/// /proc/PID/mem. The dump reads what it can, says which region failed and
/// with which errno, and is partial.
#[test]
fn unreadable_pages_make_a_partial_dump() {
    let t = TempDir::new("eio");
    let exe = cc(&t, "pasteof", PAST_EOF, &[]);
    let mut c = Command::new(&exe)
        .arg(t.join("data.bin"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut r = BufReader::new(c.stdout.take().unwrap());
    let kid = Kid(c);
    let (mut range, mut ready) = (String::new(), String::new());
    r.read_line(&mut range).unwrap();
    r.read_line(&mut ready).unwrap();
    assert_eq!(ready, "ready\n");
    let range = range.trim();
    let raw = t.join("f.raw");
    let o = memdog(&[
        "dump",
        &kid.0.id().to_string(),
        "--region",
        range,
        "--raw",
        raw.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert_eq!(stdout(&o), "FIRST-PAGE-OF-THE-FILE\n");
    let page = std::fs::metadata(t.join("f.raw.partial")).unwrap().len();
    assert!(
        err.contains(&format!("is partial: read {page} of {} bytes in 1 regions (1 regions unreadable, the first {range}: EIO", 4 * page)),
        "{err}"
    );
    assert!(!raw.exists());
}

/// Model: random maps layouts (gaps, ---p, r--p, [vvar], files) in a fake
/// proc root, a random `--region START-END` or `anon`, and a mem file that
/// may end early (the process gone). The raw file must be exactly the
/// readable selected bytes up to where memory ends, the exit code 5 exactly
/// when something selected was not read, and the line's counts right.
#[test]
fn reading_matches_a_model_of_the_maps() {
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }
    for seed in 1..=120u64 {
        let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let t = TempDir::new(&format!("model{seed}"));
        let root = t.join("proc");
        let mut maps = String::new();
        let mut at = 0x10000u64;
        // (start, end, readable, anon, bytes)
        let mut regions: Vec<(u64, u64, bool, bool, Vec<u8>)> = Vec::new();
        for i in 0..1 + r.below(12) {
            at += r.below(3) * 0x1000; // a gap, or adjacent
            let len = (1 + r.below(4)) * 0x1000;
            let (perms, path, readable, anon) = match r.below(5) {
                0 => ("---p", "", false, false),
                1 => ("r--p", "/lib/libx.so", true, false),
                2 => ("r--p", "[vvar]", false, false),
                _ => ("rw-p", "", true, true),
            };
            let inode = if path.starts_with('/') { 7 } else { 0 };
            maps.push_str(&format!(
                "{at:08x}-{:08x} {perms} 00000000 00:00 {inode} {path}\n",
                at + len
            ));
            let bytes: Vec<u8> = (0..len)
                .map(|j| (i as u8).wrapping_mul(31) ^ (j as u8) | 1)
                .collect();
            regions.push((at, at + len, readable, anon, bytes));
            at += len;
        }
        let mem_end = if r.below(3) == 0 {
            0x10000 + r.below(at - 0x10000)
        } else {
            u64::MAX
        };
        let data: Vec<(u64, Vec<u8>)> = regions
            .iter()
            .filter(|g| g.0 < mem_end)
            .map(|g| (g.0, g.4[..(g.1.min(mem_end) - g.0) as usize].to_vec()))
            .collect();
        let refs: Vec<(u64, &[u8])> = data.iter().map(|(a, d)| (*a, d.as_slice())).collect();
        fake(&root, &maps, &refs);
        let (region, lo, hi, anon_only) = if r.below(3) == 0 {
            ("anon".to_string(), 0, u64::MAX, true)
        } else {
            let lo = r.below(at + 0x1000);
            let hi = lo + 1 + r.below(at + 0x2000 - lo);
            (format!("{lo:x}-{hi:x}"), lo, hi, false)
        };
        // the model
        let mut want = Vec::new();
        let (mut wanted, mut nregions, mut partial) = (0u64, 0u64, false);
        for (s, e, readable, anon, bytes) in &regions {
            if !readable || (anon_only && !anon) {
                continue;
            }
            let (a, b) = ((*s).max(lo), (*e).min(hi));
            if a >= b || partial {
                if a < b {
                    wanted += b - a;
                    nregions += 1;
                }
                continue;
            }
            wanted += b - a;
            nregions += 1;
            let got_end = b.min(mem_end.max(a));
            want.extend_from_slice(&bytes[(a - s) as usize..(got_end - s) as usize]);
            if got_end < b {
                partial = true;
            }
        }
        let raw = t.join("out.raw");
        let o = memdog(&[
            "dump",
            "42",
            "--proc-root",
            root.to_str().unwrap(),
            "--region",
            &region,
            "--raw",
            raw.to_str().unwrap(),
            "--quiet",
        ]);
        let err = stderr(&o);
        let ctx = format!("seed {seed} region {region} mem_end {mem_end:x}\n{maps}{err}");
        if wanted == 0 {
            assert_eq!(o.status.code(), Some(3), "{ctx}");
            continue;
        }
        let file = if partial {
            t.join("out.raw.partial")
        } else {
            raw.clone()
        };
        assert_eq!(o.status.code(), Some(if partial { 5 } else { 0 }), "{ctx}");
        assert_eq!(std::fs::read(&file).unwrap(), want, "{ctx}");
        if partial {
            // regions after the end are counted in "of" and "regions" too
            let line = format!(
                "read {} of {wanted} bytes in {nregions} regions",
                want.len()
            );
            assert!(err.contains(&line), "{line}\n{ctx}");
            assert!(!raw.exists());
        } else {
            assert_eq!(err, "", "{ctx}");
        }
    }
}
