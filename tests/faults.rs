//! Fault injection on the built binary: signal storms, SIGTERM at random
//! moments, an exec action that daemonizes, a status file longer than the
//! read buffer.

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

fn conf(t: &TempDir, body: &str) -> std::path::PathBuf {
    let p = t.join("c.conf");
    std::fs::write(&p, format!("log = {}\n{body}", t.join("log").display())).unwrap();
    p
}

#[test]
fn sighup_storm_reloads_and_keeps_sampling() {
    let t = TempDir::new("hupstorm");
    let cfg = conf(&t, "interval = 5ms\n[target me]\nself = yes\n");
    let mut md = Command::new(bin())
        .args(["run", "-c", cfg.to_str().unwrap()])
        .spawn()
        .unwrap();
    wait_for(
        || std::fs::read_to_string(t.join("log")).is_ok_and(|l| l.contains("event=start")),
        "start",
    );
    for _ in 0..200 {
        unsafe { kill(md.id() as i32, 1) };
        std::thread::sleep(Duration::from_micros(300));
    }
    let n = std::fs::read_to_string(t.join("log"))
        .unwrap()
        .lines()
        .count();
    wait_for(
        || {
            std::fs::read_to_string(t.join("log"))
                .unwrap()
                .lines()
                .count()
                > n + 10
        },
        "sampling after the storm",
    );
    unsafe { kill(md.id() as i32, 15) };
    assert!(md.wait().unwrap().success());
    let text = std::fs::read_to_string(t.join("log")).unwrap();
    let all = lines(&text);
    assert!(
        all.iter()
            .filter(|l| l.get("status").map(String::as_str) == Some("ok"))
            .count()
            >= 1
    );
}

#[test]
fn sigterm_at_any_moment_leaves_only_whole_lines() {
    let t = TempDir::new("termwrite");
    for i in 0..20u64 {
        let log = t.join(&format!("log{i}"));
        let mut md = Command::new(bin())
            .args([
                "watch",
                "--pid",
                "self",
                "--name",
                "kthreadd",
                "--interval",
                "1ms",
                "--log",
                log.to_str().unwrap(),
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(2_000 + i * 1_700));
        unsafe { kill(md.id() as i32, 15) };
        assert!(md.wait().unwrap().success());
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "run {i}: torn last line"
        );
        lines(&text);
    }
}

#[test]
fn exec_action_that_daemonizes_does_not_block_or_leak() {
    let t = TempDir::new("daemonizing");
    let marker = t.join("grandchild.pid");
    let script = t.join("hook.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 30 &\necho $! > {}\nexit 0\n",
            marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = conf(&t, &format!("interval = 20ms\ncooldown = 1h\n[target me]\nself = yes\nwarn = VmRSS > 1\non_warn = exec {}\n", script.display()));
    // stdio to /dev/null: the orphaned grandchild keeps inherited fds open
    let st = Command::new(bin())
        .args(["run", "-c", cfg.to_str().unwrap(), "--count", "15"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let text = std::fs::read_to_string(t.join("log")).unwrap();
    let all = lines(&text);
    assert_eq!(
        all.iter().filter(|l| l.contains_key("meminfo")).count(),
        15,
        "sampling went on"
    );
    assert_eq!(
        all.iter()
            .filter(|l| l.get("event").map(String::as_str) == Some("exec-exit"))
            .count(),
        1
    );
    let gc: i32 = std::fs::read_to_string(&marker)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    unsafe { kill(gc, 9) };
}

#[test]
fn status_longer_than_the_read_buffer() {
    let t = TempDir::new("longstatus");
    let root = t.join("proc");
    std::fs::create_dir_all(root.join("7")).unwrap();
    std::fs::write(
        root.join("meminfo"),
        "MemTotal: 1000 kB\nMemFree: 500 kB\nMemAvailable: 600 kB\n",
    )
    .unwrap();
    std::fs::write(
        root.join("7/stat"),
        "7 (big) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 4096 1 0\n",
    )
    .unwrap();
    let groups: String = (0..2000).map(|g| format!("{g} ")).collect();
    std::fs::write(
        root.join("7/status"),
        format!(
            "Name:\tbig\nGroups:\t{groups}\nVmSize:\t  12345 kB\nVmRSS:\t    678 kB\nThreads:\t1\n"
        ),
    )
    .unwrap();
    assert!(std::fs::metadata(root.join("7/status")).unwrap().len() > 8192);
    let o = memdog(&[
        "watch",
        "--proc-root",
        root.to_str().unwrap(),
        "--pid",
        "7",
        "--count",
        "1",
        "--fields",
        "VmRSS,VmSize",
    ]);
    let l = lines(&stdout(&o));
    let s = l.iter().find(|l| l.contains_key("VmRSS")).unwrap();
    assert_eq!(
        (s["VmRSS"].as_str(), s["VmSize"].as_str()),
        ("678", "12345")
    );
}

/// The wall clock jumps forward 3 h, then back 5 h (libfaketime, where
/// installed): sampling keeps its CLOCK_MONOTONIC pace, `up=` and seq stay
/// regular, and the report's slope (from up=) sees no growth.
#[test]
fn wall_clock_jumps_do_not_move_samples_or_slopes() {
    let lib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
    if !std::path::Path::new(lib).exists() {
        eprintln!("note: libfaketime not installed; skipped");
        return;
    }
    let t = TempDir::new("clockjump");
    let ts = t.join("faketime");
    let log = t.join("log");
    std::fs::write(&ts, "+0\n").unwrap();
    let mut md = Command::new(bin())
        .args([
            "watch",
            "--pid",
            "self",
            "--interval",
            "50ms",
            "--fields",
            "VmRSS",
            "--log",
            log.to_str().unwrap(),
        ])
        .env("LD_PRELOAD", lib)
        .env("FAKETIME_TIMESTAMP_FILE", &ts)
        .env("FAKETIME_NO_CACHE", "1")
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(600));
    std::fs::write(&ts, "+3h\n").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    std::fs::write(&ts, "-5h\n").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    unsafe { kill(md.id() as i32, 15) };
    assert!(md.wait().unwrap().success());
    let elapsed = start.elapsed().as_secs_f64();
    let all = lines(&std::fs::read_to_string(&log).unwrap());
    let samples: Vec<_> = all.iter().filter(|l| l.contains_key("VmRSS")).collect();
    let hours: std::collections::BTreeSet<&str> =
        samples.iter().map(|l| &l["ts"][11..13]).collect();
    assert!(hours.len() >= 3, "the wall clock did jump: {hours:?}");
    let n = samples.len() as f64;
    // no burst after the jumps (at most the ticks that fit), no long gap
    // (a loaded CI machine may skip a few ticks; memdog skips, never bursts)
    assert!(
        n <= elapsed / 0.05 + 3.0 && n >= elapsed / 0.05 * 0.6,
        "{n} samples in {elapsed:.2} s at 50 ms"
    );
    let ups: Vec<f64> = samples.iter().map(|l| l["up"].parse().unwrap()).collect();
    assert!(
        ups.windows(2).all(|w| w[1] >= w[0] && w[1] - w[0] <= 0.2),
        "{ups:?}"
    );
    let seqs: Vec<u64> = samples.iter().map(|l| l["seq"].parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
    let r = memdog(&["report", log.to_str().unwrap()]);
    assert!(stdout(&r).contains("verdict: no growth"), "{}", stdout(&r));
}

/// A log in a read-only directory: a clear one-line error at start.
#[test]
fn log_in_a_read_only_directory() {
    let t = TempDir::new("rodir");
    let dir = t.join("ro");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let ok = Command::new("mount")
        .args(["--bind", d, d])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("mount")
            .args(["-o", "remount,ro,bind", d])
            .status()
            .is_ok_and(|s| s.success());
    let _u = Umount(dir.clone());
    if !ok {
        eprintln!("note: cannot bind-mount read-only here; skipped");
        return;
    }
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--count",
        "1",
        "--log",
        dir.join("memdog.log").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("read-only file system"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1);
}

/// Real pid reuse, forced in a new pid namespace (ns_last_pid): the old
/// process is logged as gone and the new one as a new start.
#[test]
fn real_pid_reuse_is_a_new_process() {
    let t = TempDir::new("pidreuse");
    let script = t.join("reuse.sh");
    let log = t.join("log");
    let svc = t.join("reuse-svc");
    std::fs::copy("/bin/sleep", &svc).unwrap();
    std::fs::write(
        &script,
        format!(
            "#!/bin/bash\n{svc} 30 & a=$!\n\"$1\" watch --name reuse-svc --interval 20ms --log \"$2\" & m=$!\nsleep 0.3\nkill $a; wait $a 2>/dev/null\n\
             echo $((a - 1)) > /proc/sys/kernel/ns_last_pid\n{svc} 30 & b=$!\nsleep 0.3\nkill $m $b\necho \"a=$a b=$b\"\n",
            svc = svc.display()
        ),
    )
    .unwrap();
    let o = run_bounded(
        Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "bash"])
            .arg(&script)
            .arg(bin())
            .arg(&log),
    );
    let out = stdout(&o);
    let Some(ab) = out.lines().find(|l| l.starts_with("a=")) else {
        eprintln!(
            "note: cannot make a pid namespace here ({}); skipped",
            stderr(&o)
        );
        return;
    };
    let (a, b) = ab.split_once(' ').unwrap();
    if a[2..] != b[2..] {
        eprintln!("note: the kernel did not reuse the pid ({ab}); skipped");
        return;
    }
    let all = lines(&std::fs::read_to_string(&log).unwrap());
    // a sample may fall between the exit and the new process: event=wait there is right
    let ev: Vec<_> = all
        .iter()
        .filter(|l| l.get("event").is_some_and(|e| e != "wait"))
        .collect();
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert_eq!(
        (
            ev[0]["event"].as_str(),
            ev[1]["event"].as_str(),
            ev[2]["event"].as_str()
        ),
        ("start", "exit", "start")
    );
    assert_eq!(ev[0]["pid"], ev[2]["pid"], "same pid number");
    assert_ne!(ev[0]["start"], ev[2]["start"], "a different process");
    // killed, it is a zombie until bash reaps it: a 20 ms sample may land there
    let reason = ev[1]["reason"].as_str();
    assert!(reason == "gone" || reason == "zombie", "{reason}");
}
