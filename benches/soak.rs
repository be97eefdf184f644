//! `make soak`: run the agent for many samples at a 1 ms interval, with
//! rules evaluated on every sample, against memdog itself and a live
//! leaking child; check that memdog's own VmRSS and open fds stay flat.
//! SOAK_SAMPLES sets the count (default 100 000).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
            "interval = 1ms\nlog = {}\nfields = VmRSS,VmHWM,heap\ncooldown = 1h\n\
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
    std::thread::sleep(Duration::from_millis(300));
    let fds_start = fds(pid);
    let mut fds_max = fds_start;
    while md.try_wait().unwrap().is_none() {
        fds_max = fds_max.max(fds(pid));
        std::thread::sleep(Duration::from_millis(200));
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let self_rss: Vec<(u64, u64)> = text
        .lines()
        .filter(|l| l.contains(" name=memdog ") && l.contains(" VmRSS="))
        .filter_map(|l| {
            let seq = l.split(" seq=").nth(1)?.split(' ').next()?.parse().ok()?;
            let rss = l.split(" VmRSS=").nth(1)?.split(' ').next()?.parse().ok()?;
            Some((seq, rss))
        })
        .collect();
    let at = |s: u64| {
        self_rss
            .iter()
            .find(|(q, _)| *q >= s)
            .map(|x| x.1)
            .unwrap_or(0)
    };
    let (r100, rend) = (at(100), self_rss.last().map(|x| x.1).unwrap_or(0));
    let events = text.lines().filter(|l| l.contains(" event=warn ")).count();
    println!(
        "soak: {n} samples in {secs:.0} s ({:.0} samples/s), {} log lines, {events} warn events",
        n as f64 / secs,
        text.lines().count()
    );
    println!(
        "  memdog VmRSS at sample 100: {r100} kB, at sample {n}: {rend} kB  -> {}",
        if r100 == rend { "flat" } else { "CHANGED" }
    );
    println!(
        "  open fds: {fds_start} at start, {fds_max} at most -> {}",
        if fds_max <= fds_start + 1 {
            "flat"
        } else {
            "GREW"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
    if r100 != rend || fds_max > fds_start + 1 {
        std::process::exit(1);
    }
}
