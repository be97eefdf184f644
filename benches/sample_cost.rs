//! `make bench`, part 1: what one sample costs, in CPU time, for memdog, for
//! the bare kernel floor and for the shell loop users run today; and how
//! much memory memdog itself holds while watching.
//!
//! All are measured in this one run on this machine, as CPU time (user +
//! system, from getrusage/wait4) divided by the number of samples.
//!
//! The floor makes exactly memdog's own system calls per sample, at the
//! same pacing: `strace -f -c` counts memdog's calls per sample (the
//! difference of two runs of N and 2N samples, so start-up cancels out),
//! and the floor (this bench binary re-run as a child with MEMDOG_FLOOR
//! set: held status and meminfo read by pread, the log's fstat + lstat
//! once a sample and the write, clock_nanosleep to an absolute
//! deadline, clocks through the vDSO) is counted the same way; the two
//! tables are printed side by side and a difference is a loud line.

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

/// The floor, in a child of its own (MEMDOG_FLOOR=PID,N,LOG,BYTES): per
/// sample the system calls memdog makes for one target and the system,
/// by bare syscall(2) so the C library adds none. Prints its loop's CPU
/// time in microseconds.
fn floor_child(spec: &str) {
    let mut it = spec.split(',');
    let pid: u32 = it.next().unwrap().parse().unwrap();
    let n: u64 = it.next().unwrap().parse().unwrap();
    let log = it.next().unwrap().to_string();
    let bytes: usize = it.next().unwrap().parse().unwrap();
    let c = |s: &str| std::ffi::CString::new(s).unwrap();
    let (status, meminfo, logp) = (
        c(&format!("/proc/{pid}/status")),
        c("/proc/meminfo"),
        c(&log),
    );
    let open = |p: &std::ffi::CString, flags: i32| unsafe {
        libc::open(p.as_ptr(), flags | libc::O_CLOEXEC, 0o640)
    };
    let sfd = open(&status, libc::O_RDONLY);
    let mfd = open(&meminfo, libc::O_RDONLY);
    let lfd = open(&logp, libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT);
    assert!(sfd >= 0 && mfd >= 0 && lfd >= 0);
    let line = vec![b'x'; bytes.max(1)];
    let mut buf = [0u8; 4096];
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let live = |st: &mut libc::stat| unsafe {
        libc::syscall(libc::SYS_fstat, lfd, st as *mut libc::stat);
        libc::syscall(
            libc::SYS_newfstatat,
            libc::AT_FDCWD,
            logp.as_ptr(),
            st as *mut libc::stat,
            libc::AT_SYMLINK_NOFOLLOW,
        );
    };
    let mut deadline = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut deadline) };
    let t0 = self_cpu();
    for _ in 0..n {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        unsafe {
            // the clocks memdog reads, through glibc's vDSO: no system call
            libc::clock_gettime(libc::CLOCK_REALTIME, &mut now);
            libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now);
        }
        live(&mut st);
        for fd in [sfd, mfd] {
            let r = unsafe { libc::syscall(libc::SYS_pread64, fd, buf.as_mut_ptr(), buf.len(), 0) };
            assert!(r > 0);
        }
        unsafe { libc::syscall(libc::SYS_write, lfd, line.as_ptr(), line.len()) };
        deadline.tv_nsec += 10_000_000;
        if deadline.tv_nsec >= 1_000_000_000 {
            deadline.tv_nsec -= 1_000_000_000;
            deadline.tv_sec += 1;
        }
        unsafe {
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now);
            libc::syscall(
                libc::SYS_clock_nanosleep,
                libc::CLOCK_MONOTONIC,
                libc::TIMER_ABSTIME,
                &deadline as *const libc::timespec,
                std::ptr::null_mut::<libc::timespec>(),
            );
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now);
        }
    }
    println!("{}", (self_cpu() - t0).as_micros());
}

/// System calls per sample by name: `strace -f -c` of `cmd` at `n` and
/// at `2n` samples (`args(n)` gives its arguments), the difference / n.
/// None when strace is not installed.
fn syscalls_per_sample(
    prog: &str,
    args: &dyn Fn(u64) -> Vec<String>,
    envs: &dyn Fn(u64) -> Vec<(String, String)>,
    n: u64,
) -> Option<std::collections::BTreeMap<String, f64>> {
    let count = |k: u64| -> Option<std::collections::BTreeMap<String, u64>> {
        let out =
            std::env::temp_dir().join(format!("memdog-bench-strace-{}-{k}", std::process::id()));
        let st = Command::new("strace")
            .args(["-f", "-c", "-o"])
            .arg(&out)
            .arg(prog)
            .args(args(k))
            .envs(envs(k))
            .stdout(Stdio::null())
            .status()
            .ok()?;
        assert!(st.success(), "strace of {prog} failed");
        let text = std::fs::read_to_string(&out).ok()?;
        let _ = std::fs::remove_file(&out);
        let mut m = std::collections::BTreeMap::new();
        // % time  seconds  usecs/call  calls  [errors]  syscall
        for l in text.lines() {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() >= 5 && w[0].parse::<f64>().is_ok() && w.last() != Some(&"total") {
                let calls: u64 = w[3].parse().ok()?;
                m.insert(w.last()?.to_string(), calls);
            }
        }
        Some(m)
    };
    let (a, b) = (count(n)?, count(2 * n)?);
    Some(
        b.iter()
            .map(|(k, &v)| {
                (
                    k.clone(),
                    (v as f64 - *a.get(k).unwrap_or(&0) as f64) / n as f64,
                )
            })
            .filter(|(_, v)| v.abs() >= 0.5)
            .collect(),
    )
}

fn main() {
    if let Ok(spec) = std::env::var("MEMDOG_FLOOR") {
        return floor_child(&spec);
    }
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
    // and the floor append to files there too, so all pay the same writes
    let dir = std::env::temp_dir().join(format!("memdog-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let md_log = dir.join("memdog.log");
    let fl_log = dir.join("floor.log");
    let sh_log = dir.join("proc_memlog.txt");
    let md_args = |count: u64, log: &std::path::Path| -> Vec<String> {
        [
            "watch",
            "--pid",
            &pid.to_string(),
            "--fields",
            "VmRSS,VmSize",
            "--interval",
            "10ms",
            "--count",
            &count.to_string(),
            "--log",
            log.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let memdog_run = || {
        let _ = std::fs::remove_file(&md_log);
        let mut cmd = Command::new(&bin);
        cmd.args(md_args(n, &md_log));
        cpu_of_child(cmd)
    };
    let mut memdog = memdog_run();
    // the floor writes what memdog wrote per sample
    let line_bytes = std::fs::metadata(&md_log).unwrap().len() / n;
    // what the on-demand fields add (smaps_rollup walks the target's
    // mappings under its mmap lock; fds lists /proc/PID/fd), against the
    // same binary without them: the static one when it has fields-extra
    // (CROSS_FEATURES=fields-extra), else the host build
    let has_extra = |b: &str| {
        let log = dir.join("probe.log");
        let mut a = md_args(1, &log);
        a[4] = "fds".into();
        let ok = Command::new(b)
            .args(a)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let _ = std::fs::remove_file(&log);
        ok
    };
    let xbin = if has_extra(&bin) {
        bin.clone()
    } else {
        host.clone()
    };
    let extra_cost = |fields: &str| -> Option<f64> {
        let log = dir.join("extra.log");
        let mut a = md_args(n, &log);
        if !fields.is_empty() {
            a[4] = format!("VmRSS,VmSize,{fields}");
        }
        let mut cmd = Command::new(&xbin);
        cmd.args(a);
        let c = us(cpu_of_child(cmd), n);
        let _ = std::fs::remove_file(&log);
        Some(c)
    };
    let (with_base, with_rollup, with_fds) = if has_extra(&xbin) {
        (extra_cost(""), extra_cost("Pss,Uss"), extra_cost("fds"))
    } else {
        (None, None, None)
    };

    let me = std::env::current_exe().unwrap();
    let floor_spec = |k: u64| format!("{pid},{k},{},{line_bytes}", fl_log.display());
    let floor_run = || {
        let fl = Command::new(&me)
            .env("MEMDOG_FLOOR", floor_spec(n))
            .output()
            .expect("floor child");
        assert!(fl.status.success(), "floor child failed");
        let floor_us: f64 = String::from_utf8_lossy(&fl.stdout).trim().parse().unwrap();
        Duration::from_micros(floor_us as u64)
    };
    // memdog and the floor alternate BENCH_REPEAT times (default 3) and
    // the least of each counts: on a shared machine other load only ever
    // adds CPU time (cache misses, migrations), so the minimum is the
    // closest to the cost itself, and alternating exposes both to the
    // same spells of load
    let repeat: u32 = std::env::var("BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut floor = floor_run();
    let (mut all_m, mut all_f) = (vec![memdog], vec![floor]);
    for _ in 1..repeat {
        all_m.push(memdog_run());
        all_f.push(floor_run());
    }
    memdog = *all_m.iter().min().unwrap();
    floor = *all_f.iter().min().unwrap();

    // the old floor: open+read+close of the same two files each sample,
    // paced at 10 ms (what a naive loop of memdog's reads costs)
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
    let naive = paced(&mut || bare(&mut buf));
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

    // system calls per sample, memdog's and the floor's (strace slows both:
    // counted in runs of their own, not the timed ones)
    let sn = 100;
    let strace_log = dir.join("strace.log");
    let md_calls = syscalls_per_sample(&bin, &|k| md_args(k, &strace_log), &|_| vec![], sn);
    let fl_calls = syscalls_per_sample(
        me.to_str().unwrap(),
        &|_| vec![],
        &|k| vec![("MEMDOG_FLOOR".to_string(), floor_spec(k))],
        sn,
    );
    let _ = std::fs::remove_dir_all(&dir);

    let (m, f, nv, s) = (
        us(memdog, n),
        us(floor, n),
        us(naive, n),
        us(shell, shell_n),
    );
    let kind = if bin == stat {
        "static musl"
    } else {
        "host glibc"
    };
    println!("per-sample CPU time (user+sys), one target, status + meminfo, {n} samples at 10 ms (memdog and floor: least of {repeat} alternating runs):");
    let list = |v: &[Duration]| {
        v.iter()
            .map(|d| format!("{:.1}", us(*d, n)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "  runs: memdog {} us; floor {} us",
        list(&all_m),
        list(&all_f)
    );
    println!("  memdog watch ({kind:<11})                      {m:>9.2} us");
    println!("  floor: memdog's own system calls, paced at 10 ms  {f:>9.2} us");
    println!("  naive loop: open+read+close x2, paced at 10 ms    {nv:>9.2} us");
    println!(
        "  of which waking from the sleep alone             {:>9.2} us",
        us(wake, n)
    );
    println!("  shell loop (date, cat|grep x2, sleep; {shell_n} runs)   {s:>9.2} us");
    println!(
        "  memdog/floor = {:.2} (goal <= 1.2)   memdog/naive loop = {:.2}   shell/memdog = {:.0} (goal >= 100)",
        m / f,
        m / nv,
        s / m
    );
    match (with_base, with_rollup, with_fds) {
        (Some(b), Some(r), Some(f)) => {
            println!("  on-demand fields ({xbin}):");
            println!("    VmRSS,VmSize                                   {b:>9.2} us");
            println!(
                "    + Pss,Uss (smaps_rollup of `sleep`)            {r:>9.2} us ({:+.2})",
                r - b
            );
            println!(
                "    + fds                                          {f:>9.2} us ({:+.2})",
                f - b
            );
        }
        _ => println!("  on-demand fields: no build here has fields-extra"),
    }
    match (md_calls, fl_calls) {
        (Some(a), Some(b)) => {
            println!("system calls per sample (strace -f -c, runs of {sn} and {} samples, difference / {sn}):", 2 * sn);
            let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            println!("  {:<18} {:>7} {:>7}", "call", "memdog", "floor");
            for k in &names {
                let (x, y) = (a.get(*k).copied().unwrap_or(0.0), b.get(*k).copied().unwrap_or(0.0));
                println!("  {k:<18} {x:>7.2} {y:>7.2}{}", if (x - y).abs() > 0.05 { "   <- DIFFERS" } else { "" });
            }
            let (ta, tb): (f64, f64) = (a.values().sum(), b.values().sum());
            println!("  {:<18} {ta:>7.2} {tb:>7.2}", "total");
            if names.iter().any(|k| (a.get(*k).unwrap_or(&0.0) - b.get(*k).unwrap_or(&0.0)).abs() > 0.05) {
                println!("  FLOOR MISMATCH: the floor does not make memdog's system calls; its ratio is not comparable");
            }
        }
        _ => println!("SKIP system calls per sample: strace is not installed (apt-get install strace; `make bench` does)"),
    }

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
