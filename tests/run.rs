//! `memdog run` end to end: real leaking and flat child processes, exec
//! actions with their environment, timeouts, SIGHUP reloads, SIGTERM, and a
//! watchdog device stood in for by a plain file.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
const SIGHUP: i32 = 1;
const SIGTERM: i32 = 15;

fn start(cfg: &Path, extra: &[&str]) -> Child {
    Command::new(bin())
        .args(["run", "-c", cfg.to_str().unwrap()])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn log_lines(log: &Path) -> Vec<BTreeMap<String, String>> {
    lines(&std::fs::read_to_string(log).unwrap_or_default())
}

fn count_events(log: &Path, ev: &str) -> usize {
    log_lines(log)
        .iter()
        .filter(|l| l.get("event").map(String::as_str) == Some(ev))
        .count()
}

/// Kills and reaps the child when the test ends, pass or fail.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
impl std::ops::Deref for Guard {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

/// A python child whose heap grows `kb_per_tick` every 50 ms (0 = flat but
/// noisy: a 2-6 MB buffer reallocated every tick).
fn python_child(kb_per_tick: u32) -> Guard {
    let code = "import sys,time\nstep=int(sys.argv[1]);keep=[];i=0\nwhile True:\n    if step: keep.append(b'x'*(step*1024))\n    else: keep=[b'y'*((2+(i*7)%5)<<20)]\n    i+=1\n    time.sleep(0.05)\n";
    Guard(
        Command::new("python3")
            .args(["-c", code, &kb_per_tick.to_string()])
            // a fixed mmap threshold: every big buffer is mapped and
            // unmapped, so the flat child's RSS really goes up and down
            .env("MALLOC_MMAP_THRESHOLD_", "131072")
            .spawn()
            .expect("python3"),
    )
}

fn hook_script(t: &TempDir) -> (PathBuf, PathBuf) {
    let script = t.join("hook.sh");
    let out = t.join("hook.env");
    std::fs::write(
        &script,
        "#!/bin/sh\nenv | grep '^MEMDOG_' | sort > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, out)
}

fn leak_config(t: &TempDir, pid: u32) -> (PathBuf, PathBuf, PathBuf) {
    let (script, out) = hook_script(t);
    let log = t.join("memdog.log");
    let cfg = t.join("leak.conf");
    std::fs::write(
        &cfg,
        format!(
            "interval = 100ms\nlog = {}\nfields = VmRSS\n[target app]\npid = {pid}\n\
             warn = VmRSS slope > 20000/h over 3s\non_warn = log, exec {} {}\n",
            log.display(),
            script.display(),
            out.display()
        ),
    )
    .unwrap();
    (cfg, log, out)
}

#[test]
fn slope_rule_catches_a_real_leak_and_exec_sees_the_env() {
    let t = TempDir::new("leak");
    let child = python_child(512);
    let (cfg, log, env_out) = leak_config(&t, child.id());
    let mut md = start(&cfg, &["--count", "45"]);
    assert!(md.wait().unwrap().success());
    wait_for(|| env_out.exists(), "the exec'd hook to write its env");
    let all = log_lines(&log);
    let warn: Vec<_> = all
        .iter()
        .filter(|l| l.get("event").map(String::as_str) == Some("warn"))
        .collect();
    assert_eq!(warn.len(), 1, "one warn, then cooldown: {all:?}");
    let seq: u64 = warn[0]["seq"].parse().unwrap();
    // warm-up is 3/4 of the 3 s window = 23 samples at 100 ms; it must fire soon after
    assert!((20..=32).contains(&seq), "fired at sample {seq}");
    assert_eq!(warn[0]["field"], "VmRSS");
    assert!(warn[0]["slope_kb_h"].parse::<u64>().unwrap() > 20000);
    assert_eq!(warn[0]["rule"], "app/1");
    let env = std::fs::read_to_string(&env_out).unwrap();
    for want in [
        format!("MEMDOG_PID={}", child.id()),
        "MEMDOG_EVENT=warn".into(),
        "MEMDOG_LEVEL=warn".into(),
        "MEMDOG_FIELD=VmRSS".into(),
        format!("MEMDOG_NAME={}", warn[0]["name"]),
        "MEMDOG_LIMIT=20000".into(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing in {env}");
    }
    assert!(env.contains("MEMDOG_VALUE="));
    assert_eq!(count_events(&log, "exec-exit"), 1, "the hook was reaped");
}

#[test]
fn noisy_but_flat_process_fires_nothing() {
    let t = TempDir::new("flat");
    let child = python_child(0);
    // past python's start-up, whose climb to its working size (slow on a
    // loaded machine) is real growth, not the flat noise under test
    let rss = |pid: u32| -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        s.lines()
            .find_map(|l| {
                l.strip_prefix("VmRSS:")?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    };
    wait_for(|| rss(child.id()) > 15_000, "python's start-up");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let (cfg, log, env_out) = leak_config(&t, child.id());
    let mut md = start(&cfg, &["--count", "60"]);
    assert!(md.wait().unwrap().success());
    drop(child);
    let rss: Vec<u64> = log_lines(&log)
        .iter()
        .filter_map(|l| l.get("VmRSS")?.parse().ok())
        .collect();
    let (lo, hi) = (rss.iter().min().unwrap(), rss.iter().max().unwrap());
    assert!(hi - lo > 2000, "the child really is noisy: {lo}..{hi}");
    assert_eq!(count_events(&log, "warn"), 0, "{rss:?}");
    assert!(!env_out.exists());
}

fn write_cfg(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn sighup_reloads_a_good_config_and_keeps_the_old_on_a_bad_one() {
    let t = TempDir::new("hup");
    let log = t.join("log");
    let cfg = t.join("c.conf");
    let base = format!(
        "interval = 30ms\nlog = {}\n[target me]\nself = yes\n",
        log.display()
    );
    write_cfg(&cfg, &base);
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let mut md = start(&cfg, &[]);
    wait_for(|| count_events(&log, "start") == 1, "first start");
    write_cfg(
        &cfg,
        &format!("{base}[target other]\npid = {}\n", sleeper.id()),
    );
    unsafe { kill(md.id() as i32, SIGHUP) };
    wait_for(
        || {
            std::fs::read_to_string(&log)
                .unwrap()
                .contains(&format!("event=start pid={} ", sleeper.id()))
        },
        "the new target",
    );
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("event=reload status=ok"));
    write_cfg(&cfg, &format!("{base}warn = VmRSS > lots\n"));
    unsafe { kill(md.id() as i32, SIGHUP) };
    wait_for(
        || {
            std::fs::read_to_string(&log)
                .unwrap()
                .contains("event=reload status=error")
        },
        "the reload error",
    );
    let n = log_lines(&log).len();
    wait_for(
        || log_lines(&log).len() > n + 4,
        "sampling goes on with the old config",
    );
    let after: Vec<_> = log_lines(&log).into_iter().skip(n).collect();
    assert!(
        after
            .iter()
            .any(|l| l.get("pid") == Some(&sleeper.id().to_string())),
        "old config (with 'other') still in force"
    );
    let err = log_lines(&log)
        .into_iter()
        .find(|l| l.get("status").map(String::as_str) == Some("error"))
        .unwrap();
    assert_eq!(err["line"], "5");
    assert_eq!(err["got"], "lots");
    unsafe { kill(md.id() as i32, SIGTERM) };
    assert!(md.wait().unwrap().success());
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
}

#[test]
fn exec_that_hangs_is_killed_and_one_that_is_missing_is_logged() {
    let t = TempDir::new("exec");
    let log = t.join("log");
    let cfg = t.join("c.conf");
    write_cfg(
        &cfg,
        &format!(
            "interval = 50ms\nlog = {}\nexec_timeout = 300ms\ncooldown = 1h\n[target me]\nself = yes\n\
             warn = VmRSS > 1\ncrit = VmSize > 1\non_warn = exec /bin/sleep 100\non_crit = exec /nonexistent/hook --x\n",
            log.display()
        ),
    );
    let mut md = start(&cfg, &["--count", "20"]);
    assert!(md.wait().unwrap().success(), "the agent went on to the end");
    let all = log_lines(&log);
    let ev = |e: &str| {
        all.iter()
            .filter(|l| l.get("event").map(String::as_str) == Some(e))
            .cloned()
            .collect::<Vec<_>>()
    };
    let actions = ev("action");
    let sleep = actions
        .iter()
        .find(|a| a["cmd"] == "/bin/sleep 100")
        .unwrap();
    let child: i32 = sleep["child"].parse().unwrap();
    let timeout = ev("exec-timeout");
    assert_eq!(timeout.len(), 1, "{all:?}");
    assert_eq!(timeout[0]["child"], child.to_string());
    assert_eq!(ev("exec-exit")[0]["status"], "137", "SIGKILL");
    assert!(unsafe { kill(child, 0) } != 0, "the hung child is gone");
    let missing = actions
        .iter()
        .find(|a| a["cmd"] == "/nonexistent/hook --x")
        .unwrap();
    assert_eq!(missing["error"], "not-executable");
    let samples = all.iter().filter(|l| l.contains_key("meminfo")).count();
    assert_eq!(samples, 20, "sampling never blocked");
}

#[test]
fn watchdog_is_fed_while_healthy_and_magic_closed_on_sigterm() {
    let t = TempDir::new("wd");
    let dev = t.join("watchdog");
    std::fs::write(&dev, b"").unwrap();
    let cfg = t.join("c.conf");
    write_cfg(
        &cfg,
        &format!(
            "interval = 200ms\nlog = {}\nwatchdog_device = {}\nwatchdog_kick = 20ms\n[target me]\nself = yes\n",
            t.join("log").display(),
            dev.display()
        ),
    );
    let mut md = start(&cfg, &[]);
    wait_for(|| std::fs::read(&dev).unwrap().len() >= 10, "kicks");
    unsafe { kill(md.id() as i32, SIGTERM) };
    assert!(md.wait().unwrap().success());
    let bytes = std::fs::read(&dev).unwrap();
    assert_eq!(bytes.last(), Some(&b'V'), "magic close");
    assert!(bytes[..bytes.len() - 1].iter().all(|&b| b == 0));
    let log = std::fs::read_to_string(t.join("log")).unwrap();
    assert!(log.ends_with('\n'));
}

#[test]
fn watchdog_action_writes_the_reason_and_stops_feeding() {
    let t = TempDir::new("wdstop");
    let dev = t.join("watchdog");
    std::fs::write(&dev, b"").unwrap();
    let reason = t.join("reset-reason");
    let cfg = t.join("c.conf");
    write_cfg(
        &cfg,
        &format!(
            "interval = 50ms\nlog = {}\nwatchdog_device = {}\nwatchdog_kick = 10ms\nreset_reason = {}\n\
             [target me]\nself = yes\ncrit = VmRSS > 1 for 5\non_crit = log, watchdog\n",
            t.join("log").display(),
            dev.display(),
            reason.display()
        ),
    );
    let mut md = start(&cfg, &[]);
    wait_for(|| reason.exists(), "the reset reason");
    let kicks = std::fs::read(&dev).unwrap().len();
    assert!(kicks > 0);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        std::fs::read(&dev).unwrap().len(),
        kicks,
        "no kick after the watchdog action"
    );
    unsafe { kill(md.id() as i32, SIGTERM) };
    assert!(md.wait().unwrap().success());
    assert!(
        !std::fs::read(&dev).unwrap().contains(&b'V'),
        "no magic close: the board must reset"
    );
    let r = std::fs::read_to_string(&reason).unwrap();
    assert!(
        r.contains("crit VmRSS=") && r.contains("name=memdog"),
        "{r}"
    );
}

#[test]
fn dry_run_logs_actions_without_doing_them() {
    let t = TempDir::new("dry");
    let log = t.join("log");
    let cfg = t.join("c.conf");
    let mut victim = Command::new("sleep").arg("30").spawn().unwrap();
    write_cfg(
        &cfg,
        &format!("interval = 20ms\nlog = {}\n[target v]\npid = {}\ncrit = VmSize > 1\non_crit = signal KILL, reboot\n", log.display(), victim.id()),
    );
    let mut md = start(&cfg, &["--dry-run", "--count", "3"]);
    assert!(md.wait().unwrap().success());
    assert!(victim.try_wait().unwrap().is_none(), "not killed");
    victim.kill().unwrap();
    victim.wait().unwrap();
    let acts: Vec<_> = log_lines(&log)
        .into_iter()
        .filter(|l| l.get("event").map(String::as_str) == Some("action"))
        .collect();
    assert_eq!(acts.len(), 2);
    assert!(acts.iter().all(|a| a["dry_run"] == "1"));
}

#[test]
fn check_prints_the_resolved_config_and_rejects_bad_ones() {
    let o = memdog(&[
        "check",
        concat!(env!("CARGO_MANIFEST_DIR"), "/board-configs/default.conf"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("warn: MemAvailable < 10% clear 15%"));
    let t = TempDir::new("check");
    let bad = t.join("bad.conf");
    std::fs::write(
        &bad,
        "interval = 1s\n[target x]\nname = foo\nwarn = VmRSS > 12MB\n",
    )
    .unwrap();
    let o = memdog(&["check", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1);
    assert!(e.contains("bad.conf:4: ") && e.contains("'12MB'"), "{e}");
    let o = memdog(&["run", "-c", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let o = memdog(&["check", t.join("missing.conf").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no such file"), "{}", stderr(&o));
    // like sshd's StrictModes: root refuses a world-writable config
    let ww = t.join("ww.conf");
    std::fs::write(&ww, "[target x]\nname = foo\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ww, std::fs::Permissions::from_mode(0o666)).unwrap();
    let o = memdog(&["check", ww.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("world-writable"));
}

#[test]
fn dump_action_saves_the_heap_of_the_process() {
    let t = TempDir::new("dumpaction");
    let log = t.join("log");
    let cfg = t.join("c.conf");
    let victim = Guard(Command::new("sleep").arg("30").spawn().unwrap());
    write_cfg(
        &cfg,
        &format!(
            "interval = 50ms\nlog = {}\ndump_dir = {}\ncooldown = 1h\n[target v]\npid = {}\ncrit = VmSize > 1\non_crit = log, dump\n",
            log.display(),
            t.path().display(),
            victim.id()
        ),
    );
    let mut md = start(&cfg, &[]);
    wait_for(
        || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("event=dump-done")
        },
        "the dump to finish",
    );
    unsafe { kill(md.id() as i32, SIGTERM) };
    assert!(md.wait().unwrap().success());
    let all = log_lines(&log);
    let act = all
        .iter()
        .find(|l| l.get("action").map(String::as_str) == Some("dump"))
        .unwrap();
    let file = std::path::PathBuf::from(&act["file"]);
    assert!(file.starts_with(t.path()), "{file:?}");
    let exit = all
        .iter()
        .find(|l| l.get("event").map(String::as_str) == Some("dump-done"))
        .unwrap();
    assert_eq!(exit["status"], "0");
    assert_eq!(exit["file"], act["file"], "the outcome names the file");
    let heap = std::fs::read_to_string(format!("/proc/{}/maps", victim.id())).unwrap();
    let line = heap.lines().find(|l| l.ends_with("[heap]")).unwrap();
    let (a, b) = line
        .split_whitespace()
        .next()
        .unwrap()
        .split_once('-')
        .unwrap();
    let size = u64::from_str_radix(b, 16).unwrap() - u64::from_str_radix(a, 16).unwrap();
    assert_eq!(
        std::fs::metadata(&file).unwrap().len(),
        size,
        "the whole [heap]"
    );
}

/// `on_crit = dump, signal USR2` (save the heap, then restart the daemon):
/// the signal waits until the dump is whole, and the dump's outcome is an
/// event line with its bytes and file.
#[test]
fn dump_then_signal_runs_in_order_and_logs_the_outcome() {
    let t = TempDir::new("dumpsig");
    // a process that leaks, and exits on SIGUSR2 (the "restart")
    let code = "import signal,sys,time\nsignal.signal(signal.SIGUSR2, lambda *a: sys.exit(0))\nkeep=[]\nwhile True:\n    keep.append(b'leaked-object-%d' % len(keep) * 100)\n    time.sleep(0.01)\n";
    let child = Guard(
        Command::new("python3")
            .args(["-c", code])
            .spawn()
            .expect("python3"),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = t.join("memdog.log");
    let cfg = t.join("d.conf");
    std::fs::write(
        &cfg,
        format!(
            "interval = 200ms\nlog = {}\nfields = VmRSS\ndump_dir = {}\n[target app]\npid = {}\n\
             crit = VmRSS > 1\non_crit = dump, signal USR2\n",
            log.display(),
            t.path().display(),
            child.id()
        ),
    )
    .unwrap();
    let mut md = start(&cfg, &["--count", "3"]);
    assert!(md.wait().unwrap().success());
    let all = log_lines(&log);
    let pos = |f: &dyn Fn(&BTreeMap<String, String>) -> bool| all.iter().position(f);
    let act = |w: &'static str| {
        move |l: &BTreeMap<String, String>| l.get("action").map(String::as_str) == Some(w)
    };
    let dump = pos(&act("dump")).expect("a dump action");
    let done =
        pos(&|l| l.get("event").map(String::as_str) == Some("dump-done")).expect("event=dump-done");
    let sig = pos(&act("signal")).expect("a signal action");
    assert!(
        dump < done && done < sig,
        "dump, its outcome, then the signal: {all:?}"
    );
    let d = &all[done];
    assert_eq!(d["status"], "0", "{d:?}");
    assert_eq!(d["partial"], "0", "{d:?}");
    let file = &d["file"];
    let size = std::fs::metadata(file).expect("the raw dump").len();
    assert!(size > 0);
    assert_eq!(
        d["bytes"],
        size.to_string(),
        "the line's bytes are the file's"
    );
    assert!(!Path::new(&format!("{file}.partial")).exists());
}

/// `watchdog_device = procd:UBUS` (OpenWrt, where procd owns /dev/watchdog):
/// the watchdog action writes the reason, then runs `UBUS call system
/// watchdog {"stop": true}` with no shell; the next start logs the
/// previous reset's reason once, and empties the file.
#[test]
fn procd_watchdog_action_and_the_previous_reset_line() {
    let t = TempDir::new("procd");
    let ubus = t.join("ubus");
    let args = t.join("ubus.args");
    std::fs::write(
        &ubus,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done > {}\n",
            args.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ubus, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (log, reason, cfg) = (t.join("memdog.log"), t.join("reason"), t.join("w.conf"));
    std::fs::write(
        &cfg,
        format!(
            "interval = 100ms\nlog = {}\nwatchdog_device = procd:{}\nreset_reason = {}\n[target me]\npid = self\ncrit = VmRSS > 1\non_crit = log, watchdog\n",
            log.display(), ubus.display(), reason.display()
        ),
    )
    .unwrap();
    assert!(start(&cfg, &["--count", "2"]).wait().unwrap().success());
    assert_eq!(
        std::fs::read_to_string(&args).unwrap(),
        "[call]\n[system]\n[watchdog]\n[{\"stop\": true}]\n",
        "one argument each, the JSON whole"
    );
    let why = std::fs::read_to_string(&reason).unwrap();
    assert!(
        why.contains("memdog crit VmRSS=") && why.contains("limit=1"),
        "{why}"
    );
    let all = log_lines(&log);
    let act = all
        .iter()
        .find(|l| l.get("action").map(String::as_str) == Some("watchdog"))
        .unwrap();
    assert_eq!(act["feeding"], "procd-stop");
    // the next start says why the board was reset, once
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("crit = VmRSS > 1\n", ""),
    )
    .unwrap();
    for round in 0..2 {
        assert!(start(&cfg, &["--count", "1"]).wait().unwrap().success());
        let w: Vec<_> = log_lines(&log)
            .into_iter()
            .filter(|l| l.get("event").map(String::as_str) == Some("watchdog"))
            .collect();
        let last = w.last().unwrap();
        assert_eq!(last["device"], "procd");
        if round == 0 {
            assert_eq!(last["previous_reset"], why.trim_end(), "{last:?}");
        } else {
            assert!(!last.contains_key("previous_reset"), "told once: {last:?}");
        }
    }
}

/// A watchdog device that is not a real driver (a plain file here): the
/// timeout ioctl's failure is logged with its errno, not hidden.
#[test]
fn watchdog_timeout_answer_or_error_is_logged() {
    let t = TempDir::new("wdtimeout");
    let (log, dev, cfg) = (t.join("memdog.log"), t.join("watchdog"), t.join("w.conf"));
    std::fs::write(&dev, "").unwrap();
    std::fs::write(
        &cfg,
        format!(
            "interval = 100ms\nlog = {}\nwatchdog_device = {}\nwatchdog_timeout = 30s\n[system]\nwarn = MemFree < 1\n",
            log.display(), dev.display()
        ),
    )
    .unwrap();
    assert!(start(&cfg, &["--count", "1"]).wait().unwrap().success());
    let all = log_lines(&log);
    let w = all
        .iter()
        .find(|l| l.get("event").map(String::as_str) == Some("watchdog"))
        .unwrap();
    assert_eq!(w["asked_s"], "30");
    assert!(w["timeout_error"].starts_with("ENOTTY"), "{w:?}");
    assert!(w["bootstatus_error"].starts_with("ENOTTY"), "{w:?}");
    // bad values are config errors
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("30s", "500ms"),
    )
    .unwrap();
    let o = memdog(&["check", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

/// `memdog log -c CONFIG`: the rotated set, oldest first, one stream.
#[test]
fn log_subcommand_prints_the_rotated_set_oldest_first() {
    let t = TempDir::new("logcmd");
    let (log, cfg) = (t.join("m.log"), t.join("l.conf"));
    std::fs::write(
        &cfg,
        format!("interval = 10ms\nlog = {}\nlog_size = 2k\nlog_files = 4\n[system]\nwarn = MemFree < 1\n", log.display()),
    )
    .unwrap();
    assert!(start(&cfg, &["--count", "40"]).wait().unwrap().success());
    assert!(t.join("m.log.3").exists(), "rotated into 4 files");
    let o = memdog(&["log", "-c", cfg.to_str().unwrap()]);
    assert!(o.status.success());
    let mut want = String::new();
    for f in ["m.log.3", "m.log.2", "m.log.1", "m.log"] {
        want += &std::fs::read_to_string(t.join(f)).unwrap();
    }
    assert_eq!(stdout(&o), want);
    let seqs: Vec<u64> = lines(&want)
        .iter()
        .filter_map(|l| l.get("seq")?.parse().ok())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "oldest first");
}

/// The dump action on a process killed mid-dump logs what `dump` itself
/// says: status 5, partial=1, the bytes read, and the `.partial` file.
#[test]
fn dump_action_on_a_process_killed_mid_dump_logs_it_partial() {
    // tmpfs: a 300 MB raw dump must not hit the disk
    let shm = std::path::Path::new("/dev/shm");
    if !shm.is_dir() {
        eprintln!("SKIPPED: no /dev/shm for a 300 MB dump");
        return;
    }
    let dir = shm.join(format!("memdog-test-dumpkill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // a heap of 300 MB of small objects (brk heap, not mmap), touched
    let code = "import time\nkeep=[bytes(1000) for _ in range(300000)]\nprint('ready', flush=True)\ntime.sleep(60)\n";
    let mut py = Command::new("python3")
        .args(["-c", code])
        .env("MALLOC_MMAP_THRESHOLD_", "1048576")
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(py.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let (log, cfg) = (dir.join("memdog.log"), dir.join("d.conf"));
    std::fs::write(
        &cfg,
        format!(
            "interval = 100ms\nlog = {}\nfields = VmRSS,heap\ndump_dir = {}\nexec_timeout = 60s\n[target app]\npid = {}\ncrit = heap > 1000\non_crit = dump\n",
            log.display(), dir.display(), py.id()
        ),
    )
    .unwrap();
    let mut md = start(&cfg, &[]);
    wait_for(
        || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("action=dump")
        },
        "the dump action",
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    let _ = py.kill(); // mid-dump: 300 MB take longer than 20 ms to read
    let _ = py.wait();
    wait_for(
        || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("event=dump-done")
        },
        "the dump's outcome",
    );
    unsafe { kill(md.id() as i32, SIGTERM) };
    assert!(md.wait().unwrap().success());
    let all = log_lines(&log);
    let d = all
        .iter()
        .find(|l| l.get("event").map(String::as_str) == Some("dump-done"))
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(d["status"], "5", "{d:?}");
    assert_eq!(d["partial"], "1", "{d:?}");
    assert!(d["file"].ends_with(".raw.partial"), "{d:?}");
    let (bytes, of): (u64, u64) = (d["bytes"].parse().unwrap(), d["of"].parse().unwrap());
    assert!(bytes < of, "{d:?}");
}
