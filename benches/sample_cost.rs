//! `make bench`, part 1: what one sample costs, in CPU time, for memdog, for
//! the bare kernel floor and for the shell loop users run today; and how
//! much memory memdog itself holds while watching.
//!
//! All three are measured in this one run on this machine, as CPU time
//! (user + system, from getrusage/wait4) divided by the number of samples.

use std::process::{Command, Stdio};
use std::time::Duration;

// reaped by wait4 below, which also returns its rusage
#[allow(clippy::zombie_processes)]
fn cpu_of_child(mut cmd: Command) -> Duration {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
    assert_eq!(r, child.id() as i32);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed"
    );
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_micros(t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64)
}

fn self_cpu() -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn us(d: Duration, n: u64) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

/// memdog's own VmRSS after a few samples of watching `pid`.
fn rss_of_memdog(bin: &str, pid: u32) -> Option<u64> {
    // a log of its own in a temp dir, never a system path
    let log = std::env::temp_dir().join(format!("memdog-bench-rss-{}.log", std::process::id()));
    let mut md = Command::new(bin)
        .args([
            "watch",
            "--pid",
            &pid.to_string(),
            "--interval",
            "100ms",
            "--log",
        ])
        .arg(&log)
        .spawn()
        .ok()?;
    std::thread::sleep(Duration::from_millis(700));
    let status = std::fs::read_to_string(format!("/proc/{}/status", md.id())).ok()?;
    let _ = md.kill();
    let _ = md.wait();
    let _ = std::fs::remove_file(&log);
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let root = env!("CARGO_MANIFEST_DIR");
    let host = format!("{root}/target/release/memdog");
    let stat = format!("{root}/dist/x86_64-unknown-linux-musl/memdog");
    let n: u64 = std::env::var("BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let shell_n: u64 = (n / 5).max(20);

    let mut target = Command::new("sleep").arg("600").spawn().expect("sleep");
    let pid = target.id();

    // memdog: status + meminfo per sample, at the shortest interval it takes
    let bin = if std::path::Path::new(&stat).exists() {
        stat.clone()
    } else {
        host.clone()
    };
    // logs in a temp dir of this run, never a system path; the shell loop
    // below appends to one there too, so both pay the same file writes
    let dir = std::env::temp_dir().join(format!("memdog-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let md_log = dir.join("memdog.log");
    let sh_log = dir.join("proc_memlog.txt");
    let mut cmd = Command::new(&bin);
    cmd.args([
        "watch",
        "--pid",
        &pid.to_string(),
        "--fields",
        "VmRSS,VmSize",
        "--interval",
        "10ms",
    ])
    .args(["--count", &n.to_string(), "--log", md_log.to_str().unwrap()]);
    let memdog = cpu_of_child(cmd);

    // floor: bare open+read+close of the same two files, same count; once in
    // a tight loop (caches warm), once paced at memdog's 10 ms interval (every
    // sample wakes from a sleep with cold caches, as memdog's do)
    let status = std::ffi::CString::new(format!("/proc/{pid}/status")).unwrap();
    let meminfo = std::ffi::CString::new("/proc/meminfo").unwrap();
    let mut buf = [0u8; 4096];
    let bare = |buf: &mut [u8; 4096]| {
        for p in [&status, &meminfo] {
            let fd = unsafe { libc::open(p.as_ptr(), libc::O_RDONLY) };
            assert!(fd >= 0);
            while unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
            unsafe { libc::close(fd) };
        }
    };
    let t0 = self_cpu();
    for _ in 0..n {
        bare(&mut buf);
    }
    let floor_tight = self_cpu() - t0;
    let paced = |work: &mut dyn FnMut()| {
        let mut deadline = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut deadline) };
        let t0 = self_cpu();
        for _ in 0..n {
            deadline.tv_nsec += 10_000_000;
            if deadline.tv_nsec >= 1_000_000_000 {
                deadline.tv_nsec -= 1_000_000_000;
                deadline.tv_sec += 1;
            }
            unsafe {
                libc::clock_nanosleep(
                    libc::CLOCK_MONOTONIC,
                    libc::TIMER_ABSTIME,
                    &deadline,
                    std::ptr::null_mut(),
                )
            };
            work();
        }
        self_cpu() - t0
    };
    let floor = paced(&mut || bare(&mut buf));
    let wake = paced(&mut || {});

    // the shell loop from the seed write-up, with interval=0
    let script = format!(
        "pid={pid}; interval=0; log='{log}'; i=0; while [ $i -lt {shell_n} ]; do \
         DATE=$(date '+%Y-%m-%d-%H:%M:%S'); echo $DATE >> $log; \
         cat /proc/$pid/status | grep -e VmRSS >> $log; cat /proc/$pid/status | grep -e VmSize >> $log; \
         echo >> $log; sleep $interval; i=$((i+1)); done",
        log = sh_log.display()
    );
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(&script);
    let shell = cpu_of_child(sh);
    let _ = std::fs::remove_dir_all(&dir);

    let (m, f, ft, s) = (
        us(memdog, n),
        us(floor, n),
        us(floor_tight, n),
        us(shell, shell_n),
    );
    let kind = if bin == stat {
        "static musl"
    } else {
        "host glibc"
    };
    println!("per-sample CPU time (user+sys), one target, status + meminfo, {n} samples at 10 ms:");
    println!("  memdog watch ({kind:<11})                     {m:>9.2} us");
    println!("  kernel floor: open+read+close x2, paced at 10 ms {f:>9.2} us");
    println!("  kernel floor: same, tight loop (warm caches)     {ft:>9.2} us");
    println!(
        "  of which waking from the sleep alone            {:>9.2} us",
        us(wake, n)
    );
    println!("  shell loop (date, cat|grep x2, sleep; {shell_n} runs)  {s:>9.2} us");
    println!("  memdog/floor = {:.2} (goal <= 1.5; vs tight loop {:.2})   shell/memdog = {:.0} (goal >= 100)", m / f, m / ft, s / m);

    println!("memdog's own VmRSS while watching one process:");
    for (what, b) in [("host glibc dynamic", &host), ("static musl x86_64", &stat)] {
        match rss_of_memdog(b, pid) {
            Some(kb) => println!("  {what:<20} {kb} kB  ({b})"),
            None => println!("  {what:<20} not built ({b}; run `make cross`)"),
        }
    }
    let _ = target.kill();
    let _ = target.wait();
}
