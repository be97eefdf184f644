//! The `fields-extra` fields against real processes and fixture trees:
//! `fds` (entries of /proc/PID/fd), the smaps_rollup fields (Pss, Pss_Anon,
//! Uss, SwapPss) and the pressure fields (psi_*), including kernels that
//! lack the files (left out, said once, never a 0), and slope rules on
//! the counts fds and Threads.
#![cfg(feature = "fields-extra")]

mod common;
use common::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// Kills and reaps a child when the test ends, pass or fail.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A python child driven a step at a time: it prints a word when parked,
/// and goes on when a line arrives on its stdin.
struct Stepped {
    child: Guard,
    to: ChildStdin,
    from: BufReader<ChildStdout>,
}

impl Stepped {
    fn start(code: &str) -> Stepped {
        let mut c = Command::new("python3")
            .args(["-c", code])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let to = c.stdin.take().unwrap();
        let from = BufReader::new(c.stdout.take().unwrap());
        Stepped {
            child: Guard(c),
            to,
            from,
        }
    }
    fn pid(&self) -> u32 {
        self.child.0.id()
    }
    /// Wait for the child's next word.
    fn parked(&mut self) -> String {
        let mut l = String::new();
        self.from.read_line(&mut l).unwrap();
        l.trim().to_string()
    }
    fn go(&mut self) {
        writeln!(self.to, "go").unwrap();
        self.to.flush().unwrap();
    }
}

fn log_lines(log: &Path) -> Vec<BTreeMap<String, String>> {
    lines(&std::fs::read_to_string(log).unwrap_or_default())
}

fn max_seq(log: &Path) -> u64 {
    log_lines(log)
        .iter()
        .filter_map(|l| l.get("seq")?.parse().ok())
        .max()
        .unwrap_or(0)
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

fn sample_lines(log: &Path, pid: u32) -> Vec<BTreeMap<String, String>> {
    let p = pid.to_string();
    log_lines(log)
        .into_iter()
        .filter(|l| l.get("pid") == Some(&p) && !l.contains_key("event"))
        .collect()
}

/// 200 descriptors opened, then closed: in each parked phase every sample
/// memdog takes says exactly what /proc/PID/fd holds (read by the test
/// with std's read_dir, the oracle), across getdents64 calls (200 entries
/// do not fit one 2 KiB buffer).
#[test]
fn fds_follow_200_opened_then_closed() {
    let t = TempDir::new("fds200");
    let log = t.join("log");
    let mut child = Stepped::start(
        "import os,sys\nprint('base',flush=True);sys.stdin.readline()\n\
         fds=[os.open('/dev/null',os.O_RDONLY) for _ in range(200)]\n\
         print('open',flush=True);sys.stdin.readline()\n\
         for f in fds: os.close(f)\n\
         print('closed',flush=True);sys.stdin.readline()\n",
    );
    let pid = child.pid();
    let mut md = Guard(
        Command::new(bin())
            .args(["watch", "--pid", &pid.to_string(), "--fields", "VmRSS,fds"])
            .args(["--interval", "30ms", "--log", log.to_str().unwrap()])
            .spawn()
            .unwrap(),
    );
    let mut seen = Vec::new();
    for phase in ["base", "open", "closed"] {
        assert_eq!(child.parked(), phase);
        let want = fd_count(pid);
        let from = max_seq(&log) + 1;
        wait_for(|| max_seq(&log) >= from + 4, "4 samples in the phase");
        let got: Vec<u64> = sample_lines(&log, pid)
            .iter()
            .filter(|l| l["seq"].parse::<u64>().unwrap() > from)
            .map(|l| l["fds"].parse().unwrap())
            .collect();
        assert!(got.len() >= 3, "{phase}: {got:?}");
        // the last sample may be one the test is not sure of (written
        // while it read): all before it are exact
        assert!(
            got.iter().take(3).all(|&n| n as usize == want),
            "{phase}: memdog {got:?}, /proc/{pid}/fd has {want}"
        );
        seen.push(want);
        child.go();
    }
    assert_eq!(seen[1], seen[0] + 200, "{seen:?}");
    assert_eq!(seen[2], seen[0], "{seen:?}");
    let _ = md.0.kill();
}

/// A process sharing 8 MB of anonymous shared memory with its forked
/// child: its Rss counts all of it, its Pss half, its Uss none. memdog's
/// values bracket the test's own reads of smaps_rollup before and after
/// (other processes mapping the same libraries can move Pss a little).
#[test]
fn shared_memory_makes_pss_less_than_rss() {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup");
    if rollup.is_err() {
        eprintln!(
            "SKIP shared_memory_makes_pss_less_than_rss: no smaps_rollup (kernel before 4.14)"
        );
        return;
    }
    let mut child = Stepped::start(
        "import mmap,os,sys\nm=mmap.mmap(-1,8<<20)\nm.write(b'x'*(8<<20))\n\
         if os.fork()==0:\n    m[0:8<<20]=b'y'*(8<<20)\n    sys.stdin.readline();os._exit(0)\n\
         import time;time.sleep(0.3)\nprint('shared',flush=True);sys.stdin.readline()\n",
    );
    assert_eq!(child.parked(), "shared");
    let pid = child.pid();
    let oracle = |key: &str| -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
        let kb = |k: &str| -> u64 {
            text.lines()
                .find(|l| l.split(':').next() == Some(k))
                .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
                .unwrap()
        };
        match key {
            "Uss" => kb("Private_Clean") + kb("Private_Dirty"),
            k => kb(k),
        }
    };
    let keys = ["Pss", "Pss_Anon", "Uss", "SwapPss"];
    let before: Vec<u64> = keys.iter().map(|k| oracle(k)).collect();
    let o = memdog(&[
        "watch",
        "--pid",
        &pid.to_string(),
        "--fields",
        "VmRSS,Pss,Pss_Anon,Uss,SwapPss",
        "--count",
        "2",
        "--interval",
        "50ms",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after: Vec<u64> = keys.iter().map(|k| oracle(k)).collect();
    let out = stdout(&o);
    let samples: Vec<_> = lines(&out)
        .into_iter()
        .filter(|l| l.contains_key("VmRSS"))
        .collect();
    assert_eq!(samples.len(), 2, "{out}");
    for l in &samples {
        let v = |k: &str| -> u64 { l[k].parse().unwrap() };
        for (i, k) in keys.iter().enumerate() {
            let (lo, hi) = (before[i].min(after[i]), before[i].max(after[i]));
            assert!(
                v(k) + 256 >= lo && v(k) <= hi + 256,
                "{k}={} outside {lo}..{hi} (+-256 kB)",
                v(k)
            );
        }
        // half of the 8 MB shared segment is the child's share
        assert!(v("Pss") + 3500 <= v("VmRSS"), "{l:?}");
        assert!(v("Uss") <= v("Pss"), "{l:?}");
    }
    child.go();
}

/// A copy of the 6.18 fixture tree with smaps_rollup for one process and
/// /proc/pressure/memory, values chosen here: memdog logs exactly them,
/// and a [system] rule on psi_some_avg10 and a target rule on Uss fire.
#[test]
fn fixture_tree_with_rollup_and_pressure() {
    let t = TempDir::new("psi-tree");
    let root = t.join("proc");
    let src = fixtures().join("linux-6.18-x86_64");
    assert!(Command::new("cp")
        .args(["-r", src.to_str().unwrap(), root.to_str().unwrap()])
        .status()
        .unwrap()
        .success());
    std::fs::write(
        root.join("23260/smaps_rollup"),
        "5650adb10000-7ffe5a74e000 ---p 00000000 00:00 0    [rollup]\nRss:  13952 kB\nPss:  9001 kB\n\
         Pss_Anon:  7000 kB\nShared_Clean:  4000 kB\nPrivate_Clean:  1200 kB\nPrivate_Dirty:  6800 kB\n\
         Swap:  10 kB\nSwapPss:  5 kB\n",
    )
    .unwrap();
    std::fs::create_dir(root.join("pressure")).unwrap();
    std::fs::write(
        root.join("pressure/memory"),
        "some avg10=12.50 avg60=3.00 avg300=1.00 total=987654321\nfull avg10=0.07 avg60=0.00 avg300=0.00 total=5\n",
    )
    .unwrap();
    let o = memdog(&[
        "watch",
        "--proc-root",
        root.to_str().unwrap(),
        "--pid",
        "23260",
        "--fields",
        "VmRSS,Pss,Pss_Anon,Uss,SwapPss,psi_some_avg10,psi_full_avg10,psi_some_total",
        "--count",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(
            " pid=23260 name=python3 VmRSS=13952 Pss=9001 Pss_Anon=7000 Uss=8000 SwapPss=5\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(" psi_some_avg10=12.50 psi_full_avg10=0.07 psi_some_total=987654321\n"),
        "{out}"
    );
    assert!(!out.contains("unsupported"), "{out}");

    let cfg = t.join("m.conf");
    std::fs::write(
        &cfg,
        format!(
            "interval = 50ms\nproc_root = {}\n[system]\nwarn = psi_some_avg10 > 12.25\n\
             crit = psi_full_avg10 > 0.07\n[target py]\npid = 23260\ncrit = Uss > 7999\nwarn = Pss > 9001\n",
            root.display()
        ),
    )
    .unwrap();
    let o = memdog(&["check", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("warn: psi_some_avg10 > 12.25 clear 12.25"),
        "{}",
        stdout(&o)
    );
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    let o = memdog(&["run", "-c", cfg.to_str().unwrap(), "--count", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let fired: Vec<(String, String)> = lines(&out)
        .into_iter()
        .filter(|l| matches!(l.get("event").map(String::as_str), Some("warn" | "crit")))
        .map(|l| (l["event"].clone(), l["field"].clone()))
        .collect();
    // 12.50 > 12.25 fires; 0.07 > 0.07 and 9001 > 9001 do not; 8000 > 7999 does
    assert_eq!(
        fired,
        vec![
            ("crit".to_string(), "Uss".to_string()),
            ("warn".to_string(), "psi_some_avg10".to_string())
        ],
        "{out}"
    );
}

/// The real 2.6.32 and 3.10 trees have neither smaps_rollup nor
/// /proc/pressure: the fields are left out (never 0), each file is said
/// `unsupported` once, rules on them never fire, and `check` warns.
#[test]
fn old_kernel_trees_say_unsupported_once() {
    for tree in ["linux-2.6.32-armv7", "linux-3.10-mips"] {
        let root = fixtures().join(tree);
        let o = memdog(&[
            "watch",
            "--proc-root",
            root.to_str().unwrap(),
            "--name",
            "hostapd",
            "--fields",
            "VmRSS,Pss,Uss,SwapPss,psi_some_avg10,psi_some_total",
            "--count",
            "3",
            "--interval",
            "10ms",
        ]);
        let out = stdout(&o);
        assert!(o.status.success(), "{tree}: {}", stderr(&o));
        let all = lines(&out);
        let unsupported: Vec<&str> = all
            .iter()
            .filter(|l| l.get("event").map(String::as_str) == Some("unsupported"))
            .map(|l| l["what"].as_str())
            .collect();
        assert_eq!(
            unsupported,
            ["smaps_rollup", "pressure/memory"],
            "{tree}: {out}"
        );
        for l in &all {
            for k in ["Pss", "Uss", "SwapPss", "psi_some_avg10", "psi_some_total"] {
                assert!(!l.contains_key(k), "{tree}: {k} in {l:?}");
            }
        }
        assert_eq!(
            all.iter().filter(|l| l.contains_key("VmRSS")).count(),
            3,
            "{tree}: {out}"
        );

        let t = TempDir::new("oldcfg");
        let cfg = t.join("m.conf");
        std::fs::write(
            &cfg,
            format!(
                "interval = 10ms\nproc_root = {}\n[system]\nwarn = psi_some_avg10 > 0\n\
                 [target h]\nname = hostapd\nwarn = Uss > 0\n",
                root.display()
            ),
        )
        .unwrap();
        let o = memdog(&["check", cfg.to_str().unwrap()]);
        assert!(
            o.status.success(),
            "{tree}: a warning, not an error: {}",
            stderr(&o)
        );
        let err = stderr(&o);
        assert!(
            err.contains("warning: psi_some_avg10, psi_full_avg10, psi_some_total need")
                && err.contains("/pressure/memory (Linux 4.20+ with CONFIG_PSI): ENOENT"),
            "{tree}: {err}"
        );
        assert!(
            err.contains("warning: Pss, Pss_Anon, Uss, SwapPss need")
                && err.contains("(Linux 4.14+)"),
            "{tree}: {err}"
        );
        let o = memdog(&["run", "-c", cfg.to_str().unwrap(), "--count", "3"]);
        let out = stdout(&o);
        assert!(o.status.success(), "{tree}: {}", stderr(&o));
        let ev: Vec<String> = lines(&out)
            .into_iter()
            .filter_map(|l| l.get("event").cloned())
            .filter(|e| matches!(e.as_str(), "unsupported" | "warn" | "crit"))
            .collect();
        assert_eq!(ev, ["unsupported", "unsupported"], "{tree}: {out}");
    }
}

/// Slope rules on counts: a child that starts a thread and opens a
/// descriptor every 50 ms makes `Threads slope` warn and `fds slope`
/// crit; a flat child under the same rules fires nothing.
#[test]
fn thread_and_fd_leaks_fire_slope_rules() {
    let t = TempDir::new("slopes");
    let grow = "import os,threading,time\nfds=[]\nev=threading.Event()\nwhile True:\n    \
                threading.Thread(target=ev.wait,daemon=True).start()\n    \
                fds.append(os.open('/dev/null',os.O_RDONLY))\n    time.sleep(0.05)\n";
    let flat = "import time\nwhile True: time.sleep(1)\n";
    let g = Guard(Command::new("python3").args(["-c", grow]).spawn().unwrap());
    let f = Guard(Command::new("python3").args(["-c", flat]).spawn().unwrap());
    let (gp, fp) = (g.0.id(), f.0.id());
    let log = t.join("log");
    let cfg = t.join("m.conf");
    let rules = "warn = Threads slope > 3600/h over 2s\ncrit = fds slope > 3600/h over 2s\n";
    std::fs::write(
        &cfg,
        format!(
            "interval = 100ms\nlog = {}\n[target grow]\npid = {gp}\n{rules}[target flat]\npid = {fp}\n{rules}",
            log.display()
        ),
    )
    .unwrap();
    let o = memdog(&["run", "-c", cfg.to_str().unwrap(), "--count", "40"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let all = log_lines(&log);
    let fired: Vec<(String, String, String)> = all
        .iter()
        .filter(|l| matches!(l.get("event").map(String::as_str), Some("warn" | "crit")))
        .map(|l| (l["event"].clone(), l["field"].clone(), l["pid"].clone()))
        .collect();
    let gs = gp.to_string();
    assert!(
        fired.contains(&("warn".into(), "Threads".into(), gs.clone())),
        "{fired:?}"
    );
    assert!(
        fired.contains(&("crit".into(), "fds".into(), gs.clone())),
        "{fired:?}"
    );
    assert!(
        fired.iter().all(|f| f.2 == gs),
        "the flat child fired: {fired:?}"
    );
    // the rule on fds had fds read (and logged) without a `fields` line
    assert!(
        all.iter()
            .any(|l| l.get("pid") == Some(&gs) && l.contains_key("fds")),
        "no fds logged"
    );
}
