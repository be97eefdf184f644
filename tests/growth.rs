//! `memdog report`'s kind of growth and forecast: which part of VmRSS grows
//! (RssAnon: a leak; RssFile: cache; RssShmem: shared memory; VmSwap while
//! VmRSS is flat: a leak going to swap), on real processes logged by `memdog
//! watch` and on the fixture logs of tests/fixtures/growth (gen.py), and the
//! ETA line against the limit the log names. A fill-and-flush trace must not
//! read as a leak, a staircase of growth with flat steps must.
#![cfg(feature = "report")]

mod common;
use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/growth")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

/// The report's block of target `name`: (verdict, growth, eta) lines.
fn judged(out: &str, name: &str) -> (String, Option<String>, Option<String>) {
    let block = out
        .split("\n== ")
        .skip(1)
        .find(|b| b.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("no target {name} in\n{out}"));
    let line = |key: &str| {
        block
            .lines()
            .find_map(|l| l.trim().strip_prefix(key).map(str::to_string))
    };
    (line("verdict: ").unwrap(), line("growth: "), line("eta: "))
}

fn report(files: &[&str]) -> String {
    let mut a = vec!["report"];
    a.extend_from_slice(files);
    let o = memdog(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

/// The number after `prefix` in `s` (up to a blank).
fn number_after(s: &str, prefix: &str) -> f64 {
    s.split(prefix)
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn fixture_anon_leak_reads_as_a_leak_with_its_eta() {
    let out = report(&[&fixture("anon.log")]);
    let (v, g, eta) = judged(&out, "app");
    assert!(v.starts_with("leak likely: VmRSS +100 kB/h"), "{out}");
    assert_eq!(
        g.as_deref(),
        Some("anon (RssAnon +100 kB/h): heap or anonymous maps: a leak likely")
    );
    // to the limit the agent forecast to (to_kb=30000 of its warn), from the
    // last VmRSS at the measured slope
    let eta = eta.unwrap();
    assert!(
        eta.starts_with("VmRSS reaches 30000 kB in ")
            && eta.contains("(the limit memdog forecast to in the log; last 14985 kB)"),
        "{eta}"
    );
    let h = number_after(&eta, "kB in ");
    let truth = (30_000.0 - 14_985.0) / 100.0;
    assert!((h - truth).abs() / truth < 0.02, "{h} h vs {truth} h");
    // the leaking process ranks first, as `leak`
    assert!(out.lines().nth(2).unwrap().starts_with("leak "), "{out}");
}

#[test]
fn fixture_file_pages_read_as_cache_not_a_leak() {
    let out = report(&[&fixture("file.log")]);
    let (v, g, eta) = judged(&out, "app");
    assert!(v.starts_with("grows in file pages: VmRSS +300 kB/h"), "{v}");
    assert!(v.ends_with("not a leak by itself"), "{v}");
    assert!(g.unwrap().starts_with("file (RssFile +300 kB/h)"));
    assert_eq!(eta, None, "no forecast for a cache");
    assert!(out.lines().nth(2).unwrap().starts_with("cache "), "{out}");
}

#[test]
fn fixture_shmem_and_swap_growth_are_named() {
    let out = report(&[&fixture("shmem.log")]);
    let (v, g, eta) = judged(&out, "app");
    assert!(v.starts_with("leak likely: VmRSS +150 kB/h"), "{v}");
    assert!(g.unwrap().starts_with("shmem (RssShmem +150 kB/h)"));
    // no limit in the log: MemTotal of the host's meminfo lines, and it says so
    let eta = eta.unwrap();
    assert!(
        eta.contains("reaches 262144 kB in") && eta.contains("(MemTotal: no limit in the log"),
        "{eta}"
    );
    let out = report(&[&fixture("swap.log")]);
    let (v, g, eta) = judged(&out, "app");
    // VmRSS is flat: the VmRSS verdict alone would say "no growth"
    assert!(v.starts_with("leak likely: VmSwap +80 kB/h"), "{out}");
    assert_eq!(
        g.as_deref(),
        Some("swap (VmSwap +80 kB/h): VmRSS flat while swap grows: a leak going to swap")
    );
    assert_eq!(eta, None);
}

#[test]
fn a_fill_and_flush_is_no_leak_and_a_staircase_is_one() {
    let out = report(&[&fixture("sawtooth.log")]);
    let (v, g, eta) = judged(&out, "app");
    assert!(
        !v.starts_with("leak") && !v.starts_with("grows in file"),
        "{v}"
    );
    assert_eq!((g, eta), (None, None), "{out}");
    let out = report(&[&fixture("staircase.log")]);
    let (v, g, _) = judged(&out, "app");
    assert!(v.starts_with("leak likely: VmRSS +3"), "{v}");
    assert!(g.unwrap().starts_with("anon (RssAnon +3"));
}

/// Kills and reaps the child when the test ends, pass or fail.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_kb(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| {
            l.strip_prefix(key)?
                .strip_prefix(':')?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// A python child that grows `kb_per_s` on the wall clock the way `how`
/// says: `anon` (bytes objects), `file` (touching pages of an mmap'd file,
/// as a process reading a big file through mmap does), `shmem` (writing
/// pages of a shared memfd mapping).
fn grower(how: &str, kb_per_s: u64, file: &Path) -> Guard {
    let code = r#"
import mmap, os, sys, time
how = sys.argv[1]; rate = int(sys.argv[2]) * 1024; path = sys.argv[3]
n = 64 << 20; pg = 4096
if how == 'file':
    fd = os.open(path, os.O_RDONLY); m = mmap.mmap(fd, n, prot=mmap.PROT_READ)
elif how == 'shmem':
    fd = os.memfd_create('grow'); os.ftruncate(fd, n); m = mmap.mmap(fd, n)
keep = []; have = 0; t0 = time.monotonic(); s = 0
while True:
    want = min(int((time.monotonic() - t0) * rate), n - pg)
    if how == 'anon':
        if want > have: keep.append(b'x' * (want - have))
    else:
        for off in range(have - have % pg, want, pg):
            if how == 'file': s += m[off]
            else: m[off] = 1
    have = max(have, want)
    time.sleep(0.02)
"#;
    Guard(
        Command::new("python3")
            .args([
                "-c",
                code,
                how,
                &kb_per_s.to_string(),
                file.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("python3"),
    )
}

/// Log a growing child with `memdog watch` for 4 s, then report the log.
fn watch_and_report(how: &str, field: &str) -> (String, Option<String>, String) {
    let t = TempDir::new(&format!("growth-{how}"));
    let data = t.join("big.dat");
    std::fs::write(&data, vec![7u8; 64 << 20]).unwrap();
    let child = grower(how, 4000, &data);
    let pid = child.0.id();
    // past python's start-up, with the growth under way
    wait_for(|| status_kb(pid, "VmRSS") > 8000, "python's start-up");
    let f0 = status_kb(pid, field);
    wait_for(|| status_kb(pid, field) > f0 + 1000, "the growth to start");
    let log = t.join("memdog.log");
    let o = memdog(&[
        "watch",
        "--pid",
        &pid.to_string(),
        "--interval",
        "100ms",
        "--count",
        "40",
        "--fields",
        "VmRSS,RssAnon,RssFile,RssShmem,VmSwap,heap",
        "--log",
        log.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    drop(child);
    let out = report(&[log.to_str().unwrap()]);
    let name = out
        .lines()
        .nth(2)
        .and_then(|l| l.split(' ').next_back())
        .unwrap()
        .to_string();
    let (v, g, _) = judged(&out, &name);
    println!(
        "{how}: verdict: {v}\n{how}: growth: {}",
        g.as_deref().unwrap_or("-")
    );
    (v, g, out)
}

#[test]
fn real_anon_leak_file_cache_fill_and_shmem_growth() {
    let (v, g, out) = watch_and_report("anon", "RssAnon");
    assert!(v.starts_with("leak likely: VmRSS +"), "{out}");
    assert!(
        g.as_deref().unwrap_or("").starts_with("anon (RssAnon +"),
        "{out}"
    );
    let (v, g, out) = watch_and_report("file", "RssFile");
    assert!(v.starts_with("grows in file pages: VmRSS +"), "{out}");
    assert!(
        g.as_deref().unwrap_or("").starts_with("file (RssFile +"),
        "{out}"
    );
    let (v, g, out) = watch_and_report("shmem", "RssShmem");
    assert!(v.starts_with("leak likely: VmRSS +"), "{out}");
    assert!(
        g.as_deref().unwrap_or("").starts_with("shmem (RssShmem +"),
        "{out}"
    );
}
