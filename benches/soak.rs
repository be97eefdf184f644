//! `make soak`: run the agent for many samples at a 1 ms interval, with
//! rules evaluated on every sample, against memdog itself and a live
//! leaking child; check that memdog's own VmRSS and open fds stay flat.
//! SOAK_SAMPLES sets the count (default 100 000).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn vmrss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let n: u64 = std::env::var("SOAK_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let bin =
        std::env::var("MEMDOG_BIN").unwrap_or_else(|_| format!("{root}/target/release/memdog"));
    let dir = std::env::temp_dir().join(format!("memdog-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import time\nk=[]\nwhile True:\n    k.append(b'x'*4096)\n    time.sleep(0.01)\n",
        ])
        .spawn()
        .expect("python3");
    let log = dir.join("soak.log");
    let cfg = dir.join("soak.conf");
    std::fs::write(
        &cfg,
        format!(
            "interval = 1ms\nlog = {}\nlog_size = 256k\nlog_files = 4\nfields = VmRSS,VmHWM,heap\ncooldown = 1h\n\
             [system]\nwarn = MemAvailable < 1%\n\
             [target self]\nself = yes\nwarn = VmRSS > 100000\nwarn = VmRSS slope > 1000/h over 10s\n\
             [target child]\npid = {}\nwarn = VmRSS slope > 100/h over 5s\nwarn = heap > 1\n",
            log.display(),
            child.id()
        ),
    )
    .unwrap();
    let start = Instant::now();
    let mut md = Command::new(&bin)
        .args([
            "run",
            "-c",
            cfg.to_str().unwrap(),
            "--count",
            &n.to_string(),
        ])
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = md.id();
    // warm-up: by 2 s every code path has run once, the first log rotations
    // included (their code pages count in VmRSS once touched)
    std::thread::sleep(Duration::from_millis(300));
    let rss_early = vmrss(pid);
    std::thread::sleep(Duration::from_millis(1700));
    let fds_start = fds(pid);
    let rss_start = vmrss(pid);
    let (mut fds_max, mut rss_max, mut rss_last) = (fds_start, rss_start, rss_start);
    let mut disk_max = 0u64;
    while md.try_wait().unwrap().is_none() {
        fds_max = fds_max.max(fds(pid));
        let r = vmrss(pid);
        if r > 0 {
            rss_max = rss_max.max(r);
            rss_last = r;
        }
        let disk: u64 = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with("soak.log"))
            .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .sum();
        disk_max = disk_max.max(disk);
        std::thread::sleep(Duration::from_millis(200));
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let events = text.lines().filter(|l| l.contains(" event=warn ")).count();
    println!("soak: {n} samples in {secs:.0} s ({:.0} samples/s), {events} warn events in the last log file", n as f64 / secs);
    let flat = rss_max == rss_start && rss_last == rss_start;
    println!(
        "  memdog VmRSS (polled every 200 ms): {rss_early} kB at 0.3 s, {rss_start} kB at 2 s (warm), {rss_max} kB at most, {rss_last} kB at the end -> {}",
        if flat { "flat" } else { "CHANGED" }
    );
    println!(
        "  open fds: {fds_start} at start, {fds_max} at most -> {}",
        if fds_max <= fds_start + 1 {
            "flat"
        } else {
            "GREW"
        }
    );
    let budget = 4 * 256 * 1024;
    println!(
        "  log on disk: {disk_max} bytes at most, budget {budget} -> {}",
        if disk_max <= budget {
            "held"
        } else {
            "EXCEEDED"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
    if !flat || fds_max > fds_start + 1 || disk_max > budget {
        std::process::exit(1);
    }
}
