//! Issue 13, "the watchdog never silently stops watching": one regression
//! test of the built binary per item, each written to fail if the bug came
//! back (every one fails against the binary built from aefdec8^, the commit
//! before the fixes). Only temp dirs are touched: device nodes are made with
//! mknod inside them, FIFOs with mkfifo, and every process a test starts is
//! killed by its pid when the test ends.

mod common;
use common::*;
use std::borrow::BorrowMut;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

type Line = BTreeMap<String, String>;

fn signal(pid: u32, sig: i32) {
    unsafe { libc::kill(pid as i32, sig) };
}

/// The processes a test started: killed and reaped when it ends, pass or fail.
#[derive(Default)]
struct Kids(Vec<Child>);

impl Kids {
    fn spawn(&mut self, cmd: &mut Command) -> u32 {
        let c = spawn_retry(cmd);
        let pid = c.id();
        self.0.push(c);
        pid
    }
    fn sleep(&mut self) -> u32 {
        self.spawn(Command::new("sleep").arg("300"))
    }
    /// Kill one of ours and reap it (so it is gone, not a zombie).
    fn end(&mut self, pid: u32) {
        let i = self
            .0
            .iter()
            .position(|c| c.id() == pid)
            .expect("one of ours");
        let mut c = self.0.swap_remove(i);
        let _ = c.kill();
        let _ = c.wait();
    }
    fn child(&mut self, pid: u32) -> &mut Child {
        self.0
            .iter_mut()
            .find(|c| c.id() == pid)
            .expect("one of ours")
    }
}

impl Drop for Kids {
    fn drop(&mut self) {
        for c in self.0.iter_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A `run --daemonize` daemon (not our child): SIGKILLed by its pid when
/// the test ends if it is still a memdog.
struct Daemon(u32);

impl Drop for Daemon {
    fn drop(&mut self) {
        if comm(self.0).as_deref() == Some("memdog") {
            signal(self.0, libc::SIGKILL);
        }
    }
}

/// Files a regression could create outside the temp dir: removed at the end.
struct RemoveOnDrop(Vec<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn comm(pid: u32) -> Option<String> {
    let c = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    Some(c.trim_end().to_string())
}

/// Gone, or a zombie nobody reaped yet.
fn dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z')),
    }
}

fn md() -> Command {
    Command::new(bin())
}

/// Run to completion within `secs`; None when it had to be killed (it hung).
fn run_within(mut cmd: impl BorrowMut<Command>, secs: u64) -> Option<Output> {
    let cmd = cmd.borrow_mut();
    let mut child = spawn_retry(cmd.stdout(Stdio::piped()).stderr(Stdio::piped()));
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (stdout, stderr) = (t_out.join().unwrap(), t_err.join().unwrap());
    status.map(|status| Output {
        status,
        stdout,
        stderr,
    })
}

fn finished(mut cmd: impl BorrowMut<Command>, secs: u64) -> Output {
    let cmd = cmd.borrow_mut();
    run_within(&mut *cmd, secs)
        .unwrap_or_else(|| panic!("memdog hung (killed after {secs} s): {cmd:?}"))
}

/// The one line memdog wrote to stderr (it must be exactly one).
fn one_line(o: &Output) -> String {
    let e = stderr(o);
    let ls: Vec<&str> = e.lines().collect();
    assert_eq!(ls.len(), 1, "exactly one error line, got {e:?}");
    assert!(ls[0].starts_with("memdog: "), "{e:?}");
    assert!(
        !ls[0].contains(":0:"),
        "a file-level error as line 0: {e:?}"
    );
    ls[0].to_string()
}

/// The complete (newline-terminated) lines of a log, each parsed; a
/// torn line or a forged field fails the test.
fn log_of(path: &Path) -> Vec<Line> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let whole = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    lines(whole)
}

fn is_ev(l: &Line, e: &str) -> bool {
    l.get("event").map(String::as_str) == Some(e)
}

fn events<'a>(ls: &'a [Line], e: &str) -> Vec<&'a Line> {
    ls.iter().filter(|l| is_ev(l, e)).collect()
}

fn pid_of(l: &Line) -> u32 {
    l["pid"].parse().unwrap()
}

fn max_seq(ls: &[Line]) -> u64 {
    ls.iter()
        .filter_map(|l| l.get("seq")?.parse().ok())
        .max()
        .unwrap_or(0)
}

/// Wait until `n` more samples than now are in the log.
fn wait_samples(log: &Path, n: u64) {
    let from = max_seq(&log_of(log));
    wait_for(|| max_seq(&log_of(log)) >= from + n, "more samples");
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// Replace a file atomically, as a daemon writes its pidfile.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// mknod a character device node in a temp dir; None (said loudly) where
/// that is not allowed (no CAP_MKNOD, a nodev mount is fine: it is never opened
/// as a device here unless it opens).
fn mknod_null(path: &Path) -> Option<()> {
    let ok = Command::new("mknod")
        .args([s(path), "c", "1", "3"])
        .status()
        .is_ok_and(|st| st.success());
    if !ok {
        eprintln!("SKIPPED: mknod {} c 1 3 failed (not root?)", path.display());
        return None;
    }
    Some(())
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(s(path)).status().unwrap();
    assert!(st.success(), "mkfifo {}", path.display());
}

// --- 1 ---------------------------------------------------------------------

/// A daemon restarted by its init within one interval (new pid in the
/// pidfile, old one killed before memdog's next sample), 20 times: every
/// replaced pid gets `event=exit reason=replaced`, and every new life is
/// judged (its own warn): rule slots are freed when a life ends.
#[test]
fn pidfile_restarts_log_exit_replaced_and_every_life_is_judged() {
    let t = TempDir::new("ns-pidfile");
    let (pf, log, cfg) = (t.join("app.pid"), t.join("log"), t.join("c.conf"));
    let mut kids = Kids::default();
    let mut cur = kids.sleep();
    replace(&pf, &format!("{cur}\n"));
    write(
        &cfg,
        &format!(
            "interval = 20ms\nlog = {}\nfields = VmRSS\ncooldown = 1h\n\
             [target app]\npidfile = {}\nwarn = VmRSS > 1\n",
            s(&log),
            s(&pf)
        ),
    );
    let m = kids.spawn(md().args(["run", "-c", s(&cfg)]).stderr(Stdio::null()));
    let warned = |pid: u32| {
        events(&log_of(&log), "warn")
            .iter()
            .any(|l| pid_of(l) == pid)
    };
    wait_for(|| warned(cur), "the first life's warn");
    let mut pids = vec![cur];
    for _ in 0..20 {
        let next = kids.sleep();
        replace(&pf, &format!("{next}\n"));
        kids.end(cur);
        cur = next;
        pids.push(cur);
        wait_for(|| warned(cur), "a warn for the new life (its rules judged)");
    }
    signal(m, libc::SIGTERM);
    assert!(kids.child(m).wait().unwrap().success());
    let all = log_of(&log);
    for (i, &p) in pids.iter().enumerate() {
        let warns = events(&all, "warn");
        let n = warns.iter().filter(|l| pid_of(l) == p).count();
        assert_eq!(n, 1, "one warn for life {i} (pid {p})");
        if i + 1 < pids.len() {
            let exits: Vec<_> = events(&all, "exit")
                .into_iter()
                .filter(|l| pid_of(l) == p)
                .collect();
            assert_eq!(exits.len(), 1, "one exit for replaced pid {p}: {exits:?}");
            assert_eq!(exits[0]["reason"], "replaced", "{:?}", exits[0]);
        }
    }
}

/// A `pidfile` target whose path is a FIFO (or becomes one): reading it
/// must not block the sampling of everything else (and under `run`, the
/// watchdog's kicks); it is a target waiting with a reason.
#[test]
fn pidfile_target_that_is_a_fifo_never_blocks_sampling() {
    let t = TempDir::new("ns-pidfifo");
    let fifo = t.join("app.pid");
    mkfifo(&fifo);
    let o = run_within(
        watch_self(&["--pidfile", s(&fifo), "--interval", "20ms", "--count", "3"]),
        10,
    )
    .expect("memdog blocked on a FIFO pidfile");
    assert!(o.status.success(), "{}", stderr(&o));
    let ls = lines(&stdout(&o));
    assert_eq!(max_seq(&ls), 3);
    let w = events(&ls, "wait");
    assert_eq!(w.len(), 1, "{ls:?}");
    assert_eq!(w[0]["pidfile"], s(&fifo));
}

// --- 2 ---------------------------------------------------------------------

/// 12 processes of one name, 8 rule slots: all 12 are sampled; the 8 with a
/// slot are judged, each of the other 4 gets one `event=overflow what=rules
/// limit=8 judged=no` line for its life (not one per sample). A slot freed by
/// an exit goes to a waiting process at once, and a 13th process is told too.
#[test]
fn name_target_past_the_rule_slots_names_each_unjudged_life_once() {
    let t = TempDir::new("ns-many");
    let name = format!("nsov{}", std::process::id() % 100_000);
    let exe = t.join(&name);
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let (log, cfg) = (t.join("log"), t.join("c.conf"));
    write(
        &cfg,
        &format!(
            "interval = 20ms\nlog = {}\nfields = VmRSS\ncooldown = 1h\n\
             [target many]\nname = {name}\nwarn = VmRSS > 1\n",
            s(&log)
        ),
    );
    let mut kids = Kids::default();
    let procs: Vec<u32> = (0..12)
        .map(|_| kids.spawn(Command::new(&exe).arg("300")))
        .collect();
    wait_for(
        || {
            procs
                .iter()
                .all(|p| comm(*p).as_deref() == Some(name.as_str()))
        },
        "the 12 copies exec'd",
    );
    let m = kids.spawn(md().args(["run", "-c", s(&cfg)]).stderr(Stdio::null()));
    let pids_of =
        |ls: &[Line], e: &str| -> Vec<u32> { events(ls, e).iter().map(|l| pid_of(l)).collect() };
    wait_for(
        || {
            let ls = log_of(&log);
            pids_of(&ls, "warn").len() >= 8 && pids_of(&ls, "overflow").len() >= 4
        },
        "8 warns and 4 overflows",
    );
    wait_samples(&log, 10);
    let ls = log_of(&log);
    for p in &procs {
        let n = ls
            .iter()
            .filter(|l| !l.contains_key("event") && l.get("pid") == Some(&p.to_string()))
            .count();
        assert!(n >= 10, "pid {p} sampled {n} times");
    }
    let warned: BTreeSet<u32> = pids_of(&ls, "warn").into_iter().collect();
    let over = pids_of(&ls, "overflow");
    let denied: BTreeSet<u32> = over.iter().copied().collect();
    assert_eq!(pids_of(&ls, "warn").len(), 8, "8 judged, one warn each");
    assert_eq!(
        over.len(),
        4,
        "one overflow line per unjudged life: {over:?}"
    );
    assert_eq!(denied.len(), 4);
    assert!(warned.is_disjoint(&denied));
    let all: BTreeSet<u32> = warned.union(&denied).copied().collect();
    assert_eq!(all, procs.iter().copied().collect());
    for l in events(&ls, "overflow") {
        assert_eq!(
            (&*l["what"], &*l["limit"], &*l["judged"], &*l["name"]),
            ("rules", "8", "no", name.as_str()),
            "{l:?}"
        );
    }
    // a judged one exits: its slot goes to one of the 4 at its next sample
    let gone = *warned.iter().next().unwrap();
    kids.end(gone);
    wait_for(
        || {
            pids_of(&log_of(&log), "warn")
                .iter()
                .any(|p| denied.contains(p))
        },
        "a waiting process judged once a slot is free",
    );
    // a 13th life, slots full again: told once
    let late = kids.spawn(Command::new(&exe).arg("300"));
    wait_for(
        || pids_of(&log_of(&log), "overflow").contains(&late),
        "the 13th process's overflow line",
    );
    wait_samples(&log, 10);
    signal(m, libc::SIGTERM);
    assert!(kids.child(m).wait().unwrap().success());
    let ls = log_of(&log);
    let over = pids_of(&ls, "overflow");
    assert_eq!(over.len(), 5, "still once per life: {over:?}");
    assert_eq!(over.iter().filter(|&&p| p == late).count(), 1);
    assert_eq!(
        pids_of(&ls, "warn").len(),
        9,
        "8 + the one that got the freed slot"
    );
}

/// Rule slots go only to processes with rules to judge: 12 processes of a
/// rule-less target take none, so `self`'s rule is judged and nothing
/// overflows; slots are shared by all targets, so with a judged target
/// full, another target's process is the one told it is not judged.
#[test]
fn rule_slots_go_only_to_processes_with_rules_and_are_shared_by_targets() {
    let t = TempDir::new("ns-slots");
    let name = format!("nsfr{}", std::process::id() % 100_000);
    let exe = t.join(&name);
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let mut kids = Kids::default();
    let procs: Vec<u32> = (0..12)
        .map(|_| kids.spawn(Command::new(&exe).arg("300")))
        .collect();
    wait_for(
        || {
            procs
                .iter()
                .all(|p| comm(*p).as_deref() == Some(name.as_str()))
        },
        "the 12 copies exec'd",
    );
    let log = t.join("log");
    let cfg = t.join("c.conf");
    let run = |cfg_text: String| -> Vec<Line> {
        let _ = std::fs::remove_file(&log);
        write(&cfg, &cfg_text);
        let o = finished(md().args(["run", "-c", s(&cfg), "--count", "4"]), 30);
        assert!(o.status.success(), "{}", stderr(&o));
        log_of(&log)
    };
    let head = format!(
        "interval = 20ms\nlog = {}\nfields = VmRSS\ncooldown = 1h\n",
        s(&log)
    );
    // the many first (their specs come first), without rules
    let ls = run(format!(
        "{head}[target many]\nname = {name}\n[target me]\nself = yes\nwarn = VmRSS > 1\n"
    ));
    assert!(
        events(&ls, "overflow").is_empty(),
        "{:?}",
        events(&ls, "overflow")
    );
    assert_eq!(events(&ls, "warn").len(), 1, "self judged");
    // the many with a rule take all 8 slots; self is told once
    let ls = run(format!(
        "{head}[target many]\nname = {name}\nwarn = VmRSS > 1\n[target me]\nself = yes\nwarn = VmRSS > 1\n"
    ));
    let over = events(&ls, "overflow");
    assert_eq!(over.len(), 5, "4 of the many + self, once each: {over:?}");
    assert_eq!(events(&ls, "warn").len(), 8);
    let me: Vec<_> = over.iter().filter(|l| l["name"] == "memdog").collect();
    assert_eq!(me.len(), 1, "{over:?}");
}

/// A pidfile target not running says why, once per spell of waiting (the
/// reason of its start: a reason changing within a spell is not
/// re-logged): pidfile-missing, pid-dead, pidfile-garbage; running it is
/// followed (start), dead again it exits and waits again with its reason.
#[test]
fn pidfile_target_waits_with_its_reason_once_per_spell() {
    let t = TempDir::new("ns-wait");
    let (pf, log) = (t.join("app.pid"), t.join("log"));
    let mut kids = Kids::default();
    kids.spawn(
        watch_self(&["--interval", "20ms", "--fields", "VmRSS", "--log", s(&log)])
            .args(["--pidfile", s(&pf)])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let waits = || -> Vec<String> {
        events(&log_of(&log), "wait")
            .iter()
            .filter(|l| l.contains_key("pidfile"))
            .map(|l| l["reason"].clone())
            .collect()
    };
    let follow = |kids: &mut Kids| {
        let app = kids.sleep();
        replace(&pf, &format!("{app}\n"));
        wait_for(
            || {
                events(&log_of(&log), "start")
                    .iter()
                    .any(|l| pid_of(l) == app)
            },
            "the target followed",
        );
        app
    };
    let exited = |app: u32| {
        wait_for(
            || {
                events(&log_of(&log), "exit")
                    .iter()
                    .any(|l| pid_of(l) == app)
            },
            "its exit",
        )
    };
    // spell 1: no pidfile, then garbage, then a dead pid: one line
    wait_for(|| waits().len() == 1, "the first wait");
    replace(&pf, "not a pid\n");
    wait_samples(&log, 3);
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    replace(&pf, &format!("{dead}\n"));
    wait_samples(&log, 3);
    assert_eq!(waits(), ["pidfile-missing"], "once per spell");
    // spell 2: the daemon ran and died, its pid left in the file
    let app = follow(&mut kids);
    kids.end(app);
    exited(app);
    wait_for(|| waits().len() == 2, "waiting again");
    // spell 3: garbage written while it ran, then it died
    let app = follow(&mut kids);
    replace(&pf, "garbage\n");
    wait_samples(&log, 3);
    assert_eq!(waits().len(), 2, "no wait while the target runs");
    kids.end(app);
    exited(app);
    wait_for(|| waits().len() == 3, "waiting a third time");
    wait_samples(&log, 3);
    assert_eq!(waits(), ["pidfile-missing", "pid-dead", "pidfile-garbage"]);
}

// --- 3 ---------------------------------------------------------------------

/// SIGHUP: a bad config changes nothing (`status=error kept=old`, no new
/// start, no second warn, seq goes on); a good one with the same rules keeps
/// their state (no second warn) and seq; a changed rule starts afresh.
#[test]
fn sighup_keeps_seq_and_rule_state_and_a_changed_rule_starts_afresh() {
    let t = TempDir::new("ns-hup");
    let (log, cfg) = (t.join("log"), t.join("c.conf"));
    let head = format!(
        "interval = 30ms\nlog = {}\nfields = VmRSS\ncooldown = 1h\n[target me]\nself = yes\n",
        s(&log)
    );
    write(&cfg, &format!("{head}warn = VmRSS > 1\n"));
    let mut kids = Kids::default();
    let m = kids.spawn(md().args(["run", "-c", s(&cfg)]).stderr(Stdio::null()));
    let count = |e: &str| events(&log_of(&log), e).len();
    let reloads = |status: &str| {
        log_of(&log)
            .iter()
            .filter(|l| is_ev(l, "reload") && l["status"] == status)
            .count()
    };
    wait_for(|| count("warn") == 1, "the first warn");
    wait_samples(&log, 3);

    write(&cfg, &format!("{head}warn = VmRSS > lots\n"));
    signal(m, libc::SIGHUP);
    wait_for(|| reloads("error") == 1, "the failed reload's line");
    wait_samples(&log, 5);
    let ls = log_of(&log);
    let bad = events(&ls, "reload")[0];
    assert_eq!(bad["kept"], "old", "{bad:?}");
    assert_eq!(
        (count("warn"), count("start")),
        (1, 1),
        "a failed reload changed state"
    );

    // the same rules, written differently
    write(
        &cfg,
        &format!("# reworded\n{head}warn =   VmRSS > 1   # the same rule\n"),
    );
    signal(m, libc::SIGHUP);
    wait_for(|| reloads("ok") == 1, "the good reload's line");
    wait_samples(&log, 5);
    assert_eq!(
        (count("warn"), count("start")),
        (1, 1),
        "an unchanged rule lost its state"
    );

    write(&cfg, &format!("{head}warn = VmRSS > 2\n"));
    signal(m, libc::SIGHUP);
    wait_for(|| reloads("ok") == 2, "the second good reload");
    wait_for(|| count("warn") == 2, "the changed rule fires afresh");
    wait_samples(&log, 3);
    signal(m, libc::SIGTERM);
    assert!(kids.child(m).wait().unwrap().success());
    let ls = log_of(&log);
    assert_eq!(events(&ls, "warn").len(), 2);
    assert_eq!(
        events(&ls, "start").len(),
        1,
        "no start re-logged by a reload"
    );
    assert_eq!(events(&ls, "agent-start").len(), 1);
    let seqs: Vec<u64> = ls.iter().map(|l| l["seq"].parse().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] <= w[1]),
        "seq never restarts: {seqs:?}"
    );
    let samples = ls
        .iter()
        .filter(|l| l.contains_key("VmRSS") && !l.contains_key("event"));
    let sample_seqs: Vec<u64> = samples.map(|l| l["seq"].parse().unwrap()).collect();
    let distinct: BTreeSet<_> = sample_seqs.iter().collect();
    assert_eq!(
        distinct.len(),
        sample_seqs.len(),
        "one sample per seq: {sample_seqs:?}"
    );
}

/// SIGHUP with a target removed from the config: each of its processes
/// ends with `event=exit reason=unwatched` (not silently); put back, it is
/// followed again; a changed log path says `restart_needed=outputs` (the
/// log is opened once) and lines keep going to the old log.
#[test]
fn sighup_removing_a_target_ends_its_lives_and_an_output_change_says_restart_needed() {
    let t = TempDir::new("ns-hup2");
    let (log, cfg) = (t.join("log"), t.join("c.conf"));
    let mut kids = Kids::default();
    let other = kids.sleep();
    let me = format!(
        "interval = 30ms\nlog = {}\n[target me]\nself = yes\n",
        s(&log)
    );
    let with_other = format!("{me}[target other]\npid = {other}\n");
    write(&cfg, &with_other);
    let m = kids.spawn(md().args(["run", "-c", s(&cfg)]).stderr(Stdio::null()));
    let of = |e: &str| -> Vec<Line> {
        events(&log_of(&log), e)
            .into_iter()
            .filter(|l| pid_of(l) == other)
            .cloned()
            .collect()
    };
    wait_for(|| of("start").len() == 1, "the other target followed");
    write(&cfg, &me);
    signal(m, libc::SIGHUP);
    wait_for(|| of("exit").len() == 1, "its exit once unwatched");
    assert_eq!(of("exit")[0]["reason"], "unwatched");
    wait_samples(&log, 3);
    let ls = log_of(&log);
    let cut = ls.iter().rposition(|l| is_ev(l, "exit")).unwrap();
    let after: Vec<_> = ls[cut + 1..]
        .iter()
        .filter(|l| l.get("pid") == Some(&other.to_string()))
        .collect();
    assert!(
        after.is_empty(),
        "still sampled after it left the config: {after:?}"
    );
    write(&cfg, &with_other);
    signal(m, libc::SIGHUP);
    wait_for(|| of("start").len() == 2, "followed again");

    let moved = t.join("elsewhere.log");
    write(&cfg, &with_other.replace(s(&log), s(&moved)));
    signal(m, libc::SIGHUP);
    wait_for(
        || {
            log_of(&log).iter().any(|l| {
                is_ev(l, "reload") && l.get("restart_needed").map(String::as_str) == Some("outputs")
            })
        },
        "restart_needed=outputs",
    );
    wait_samples(&log, 3);
    assert!(!moved.exists(), "a log opened behind the daemon's back");
    signal(m, libc::SIGTERM);
    assert!(kids.child(m).wait().unwrap().success());
}

/// A good SIGHUP reload that changes `interval` takes it: from 400 ms to
/// 20 ms, 20 more samples come well within the 5 s the wait allows (at the
/// old interval they would take 8 s).
#[test]
fn sighup_with_a_new_interval_takes_it() {
    let t = TempDir::new("ns-hupint");
    let (log, cfg) = (t.join("log"), t.join("c.conf"));
    let body = format!(
        "log = {}\nfields = VmRSS\n[target me]\nself = yes\n",
        s(&log)
    );
    write(&cfg, &format!("interval = 400ms\n{body}"));
    let mut kids = Kids::default();
    let m = kids.spawn(md().args(["run", "-c", s(&cfg)]).stderr(Stdio::null()));
    wait_for(|| max_seq(&log_of(&log)) >= 1, "the first sample");
    write(&cfg, &format!("interval = 20ms\n{body}"));
    signal(m, libc::SIGHUP);
    wait_for(|| !events(&log_of(&log), "reload").is_empty(), "the reload");
    let at = max_seq(&log_of(&log));
    wait_for(
        || max_seq(&log_of(&log)) >= at + 20,
        "20 samples at the new interval",
    );
}

/// A SIGHUP reload whose textfile cannot be written (its directory is
/// missing) must say so in the log (a textfile at start is checked and
/// refused); a silent `status=ok` leaves the exporter reading nothing.
#[test]
fn sighup_with_an_unusable_textfile_says_so() {
    let t = TempDir::new("ns-huptf");
    let (log, cfg) = (t.join("log"), t.join("c.conf"));
    let body = format!(
        "interval = 30ms\nlog = {}\n[target me]\nself = yes\n",
        s(&log)
    );
    write(&cfg, &body);
    let mut kids = Kids::default();
    let m = kids.spawn(md().args(["run", "-c", s(&cfg)]).stderr(Stdio::null()));
    wait_for(|| max_seq(&log_of(&log)) >= 1, "the first sample");
    let tf = t.join("nodir/m.prom");
    write(&cfg, &format!("textfile = {}\n{body}", s(&tf)));
    signal(m, libc::SIGHUP);
    wait_for(|| !events(&log_of(&log), "reload").is_empty(), "the reload");
    wait_samples(&log, 5);
    let ls = log_of(&log);
    assert!(
        ls.iter().any(|l| l.values().any(|v| v.contains(s(&tf)))),
        "no line names the unusable textfile: {:?}",
        events(&ls, "reload")
    );
}

// --- 4 ---------------------------------------------------------------------

/// `memdog run` says it (re)started, so a memdog restart is never taken for
/// a restart of what it watches; a second run on the same log says so again.
#[test]
fn run_writes_agent_start_first() {
    let t = TempDir::new("ns-agent");
    let (log, cfg) = (t.join("log"), t.join("c.conf"));
    write(
        &cfg,
        &format!(
            "interval = 10ms\nlog = {}\n[target me]\nself = yes\n",
            s(&log)
        ),
    );
    let mut pids = vec![];
    for _ in 0..2 {
        let mut c = spawn_retry(
            md().args(["run", "-c", s(&cfg), "--count", "2"])
                .stderr(Stdio::null()),
        );
        pids.push(c.id());
        assert!(c.wait().unwrap().success());
    }
    let ls = log_of(&log);
    let starts: Vec<usize> = (0..ls.len())
        .filter(|&i| is_ev(&ls[i], "agent-start"))
        .collect();
    assert_eq!(starts.len(), 2, "{ls:?}");
    assert_eq!(starts[0], 0, "the first line of a run");
    for (k, &i) in starts.iter().enumerate() {
        let l = &ls[i];
        assert_eq!(l["mode"], "run", "{l:?}");
        assert_eq!(l["agent_pid"], pids[k].to_string(), "{l:?}");
        assert!(!l["version"].is_empty());
        // it comes before that run's first sample
        assert!(ls[i + 1..]
            .iter()
            .any(|x| x.get("seq").map(String::as_str) == Some("1")));
    }
}

// --- 5 ---------------------------------------------------------------------

/// `run` checks what `watch` checks, at once: no /proc at `proc_root` is
/// exit 1 with a hint naming it, a `pid =` target that is not running is
/// exit 3; it never loops forever logging nothing useful.
#[test]
fn run_exits_1_without_proc_and_3_for_a_missing_pid() {
    let t = TempDir::new("ns-preflight");
    let (log, cfg) = (t.join("log"), t.join("c.conf"));
    let noproc = t.join("no-such-proc");
    write(
        &cfg,
        &format!(
            "interval = 10ms\nlog = {}\nproc_root = {}\n[target me]\nself = yes\n",
            s(&log),
            s(&noproc)
        ),
    );
    let o = finished(md().args(["run", "-c", s(&cfg)]), 10);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(s(&noproc)), "names the proc_root: {e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("ENOENT: no such file or directory"), "{e}");
    assert!(e.contains("is proc mounted?"), "with a hint: {e}");

    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    write(
        &cfg,
        &format!(
            "interval = 10ms\nlog = {}\n[target app]\npid = {pid}\n",
            s(&log)
        ),
    );
    let o = finished(md().args(["run", "-c", s(&cfg)]), 10);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(&pid.to_string()), "{}", stderr(&o));
}

// --- 6 ---------------------------------------------------------------------

fn daemon_cfg(t: &TempDir, log: &str) -> PathBuf {
    let cfg = t.join("d.conf");
    write(
        &cfg,
        &format!("interval = 50ms\nlog = {log}\n[target me]\nself = yes\n"),
    );
    cfg
}

/// `run -d --pidfile DIR/x.pid` with DIR missing: one line naming ENOENT,
/// a non-zero exit, and no daemon left running (nothing opens the log).
#[test]
fn daemonize_with_an_unwritable_pidfile_fails_naming_enoent() {
    let t = TempDir::new("ns-pidfail");
    let log = t.join("log");
    let cfg = daemon_cfg(&t, s(&log));
    let pf = t.join("missing-dir/memdog.pid");
    let o = finished(
        md().args(["run", "-c", s(&cfg), "--daemonize", "--pidfile", s(&pf)]),
        10,
    );
    assert_ne!(o.status.code(), Some(0), "init must see the failure");
    let l = one_line(&o);
    assert!(l.contains(s(&pf)) && l.contains("ENOENT"), "{l}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!log.exists(), "a daemon ran after all");
}

/// The pidfile names the daemon as soon as `run -d` returns (a stale one
/// is rewritten whole); a second
/// `run -d` with it is refused naming that pid (one daemon only); SIGTERM
/// removes the pidfile.
#[test]
fn daemonize_pidfile_is_ready_on_return_locked_and_removed_at_exit() {
    let t = TempDir::new("ns-pidlock");
    let log = t.join("log");
    let cfg = daemon_cfg(&t, s(&log));
    let pf = t.join("memdog.pid");
    // a stale pidfile (its daemon died without removing it), longer than
    // any pid: taken over and rewritten whole
    write(&pf, "4000000000\n\n");
    let o = finished(
        md().args(["run", "-c", s(&cfg), "-d", "--pidfile", s(&pf)]),
        10,
    );
    let text = std::fs::read_to_string(&pf).unwrap_or_default();
    let daemon: u32 = text
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("pidfile not ready when the parent returned: {text:?}"));
    let _guard = Daemon(daemon);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(text, format!("{daemon}\n"));
    assert_eq!(comm(daemon).as_deref(), Some("memdog"), "pid {daemon}");
    wait_for(
        || !events(&log_of(&log), "start").is_empty(),
        "the daemon samples",
    );

    let o2 = finished(
        md().args(["run", "-c", s(&cfg), "-d", "--pidfile", s(&pf)]),
        10,
    );
    if o2.status.success() {
        // a regression: stop the second daemon too (its pid is in the file)
        std::thread::sleep(Duration::from_millis(300));
        let again = std::fs::read_to_string(&pf).unwrap_or_default();
        let _second = again
            .trim()
            .parse()
            .ok()
            .filter(|&p| p != daemon)
            .map(Daemon);
        panic!("a second daemon started: pidfile now {again:?}");
    }
    let l = one_line(&o2);
    assert!(
        l.contains(&format!("pid {daemon}")),
        "names the running pid: {l}"
    );
    assert_eq!(std::fs::read_to_string(&pf).unwrap(), text, "pidfile kept");
    std::thread::sleep(Duration::from_millis(200));
    let agents = events(&log_of(&log), "agent-start").len();
    assert_eq!(agents, 1, "only one memdog writes the log");

    signal(daemon, libc::SIGTERM);
    wait_for(|| dead(daemon), "the daemon to stop");
    assert!(!pf.exists(), "pidfile removed at exit");
}

/// After --daemonize (which moves to /), a relative `log =` and a relative
/// `-c` resolve against the start directory, also when SIGHUP re-reads it.
#[test]
fn daemonize_resolves_relative_paths_against_the_start_dir() {
    let t = TempDir::new("ns-relative");
    let logname = format!("ns-rel-{}.log", std::process::id());
    let pidname = format!("ns-rel-{}.pid", std::process::id());
    let tfname = format!("ns-rel-{}.prom", std::process::id());
    // a regression would write these into /: removed again whatever happens
    let _in_root = RemoveOnDrop(vec![
        Path::new("/").join(&logname),
        Path::new("/").join(&pidname),
        Path::new("/").join(&tfname),
    ]);
    write(
        &t.join("rel.conf"),
        &format!(
            "interval = 50ms\nlog = {logname}\ntextfile = {tfname}\n[target me]\nself = yes\n"
        ),
    );
    let log = t.join(&logname);
    let o = finished(
        md().current_dir(t.path())
            .args(["run", "-c", "rel.conf", "-d", "--pidfile", &pidname]),
        10,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let read_pid = |p: PathBuf| std::fs::read_to_string(p).ok()?.trim().parse::<u32>().ok();
    let Some(pid) = read_pid(t.join(&pidname)) else {
        // a regression: the daemon may have put it in /; stop that daemon too
        std::thread::sleep(Duration::from_millis(300));
        let _stray = read_pid(Path::new("/").join(&pidname)).map(Daemon);
        panic!("no pidfile in the start dir when run -d returned");
    };
    let _guard = Daemon(pid);
    wait_for(
        || max_seq(&log_of(&log)) >= 2,
        "samples in the relative log",
    );
    wait_for(
        || std::fs::read_to_string(t.join(&tfname)).is_ok_and(|x| x.contains("memdog_")),
        "the relative textfile in the start dir",
    );
    assert!(!Path::new("/").join(&logname).exists(), "log went to /");
    assert!(!Path::new("/").join(&tfname).exists(), "textfile went to /");
    assert!(!Path::new("/").join(&pidname).exists(), "pidfile went to /");

    let mut kids = Kids::default();
    let other = kids.sleep();
    write(
        &t.join("rel.conf"),
        &format!(
            "interval = 50ms\nlog = {logname}\ntextfile = {tfname}\n[target me]\nself = yes\n[target other]\npid = {other}\n"
        ),
    );
    signal(pid, libc::SIGHUP);
    wait_for(
        || {
            events(&log_of(&log), "start")
                .iter()
                .any(|l| pid_of(l) == other)
        },
        "the re-read relative config's new target",
    );
    let ls = log_of(&log);
    let r = events(&ls, "reload");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["status"], "ok", "{:?}", r[0]);
    signal(pid, libc::SIGTERM);
    wait_for(|| dead(pid), "the daemon to stop");
    assert!(!t.join(&pidname).exists());
}

/// Every start-up failure of `run -d` (log, textfile, watchdog device) is
/// one line and a non-zero exit from the parent, and no daemon is left.
#[test]
fn daemonize_reports_each_start_failure_before_the_parent_returns() {
    let t = TempDir::new("ns-dfail");
    let out = t.join("out.log");
    let cases = [
        (format!("log = {}", s(&t.join("nodir/log"))), "ENOENT"),
        (
            format!(
                "log = {}\ntextfile = {}",
                s(&out),
                s(&t.join("nodir/m.prom"))
            ),
            "does not exist",
        ),
        (
            format!(
                "log = {}\nwatchdog_device = {}",
                s(&out),
                s(&t.join("nowd"))
            ),
            "ENOENT",
        ),
    ];
    for (i, (keys, want)) in cases.iter().enumerate() {
        let cfg = t.join(&format!("{i}.conf"));
        write(
            &cfg,
            &format!("interval = 50ms\n{keys}\n[target me]\nself = yes\n"),
        );
        let pf = t.join(&format!("{i}.pid"));
        let o = finished(
            md().args(["run", "-c", s(&cfg), "-d", "--pidfile", s(&pf)]),
            10,
        );
        if o.status.success() {
            // a regression: a daemon runs; stop it by the pid it wrote
            std::thread::sleep(Duration::from_millis(300));
            let text = std::fs::read_to_string(&pf).unwrap_or_default();
            let _d = text.trim().parse().ok().map(Daemon);
            panic!("{keys}: run -d returned 0 (pidfile {text:?})");
        }
        assert_eq!(o.status.code(), Some(1), "{keys}: {}", stderr(&o));
        let l = one_line(&o);
        assert!(l.contains(want), "{keys}: {l}");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(log_of(&out).is_empty(), "a daemon ran: {:?}", log_of(&out));
}

/// A failed `run -d` leaves no pidfile behind that it created itself (an
/// init script's `status` would find an empty pidfile of no daemon).
#[test]
fn failed_daemonize_leaves_no_pidfile_it_created() {
    let t = TempDir::new("ns-dfailpid");
    let cfg = t.join("c.conf");
    write(
        &cfg,
        &format!(
            "interval = 50ms\nlog = {}\n[target me]\nself = yes\n",
            s(&t.join("nodir/log"))
        ),
    );
    let pf = t.join("memdog.pid");
    let o = finished(
        md().args(["run", "-c", s(&cfg), "-d", "--pidfile", s(&pf)]),
        10,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!pf.exists(), "left {:?}", std::fs::read_to_string(&pf));
}

/// `run -d` with the log on stdout (no `log =`, no syslog): once detached
/// stdout is /dev/null, so every line would be lost while the parent
/// reports success. It must be refused at start.
#[test]
fn daemonize_with_the_log_on_stdout_is_refused() {
    let t = TempDir::new("ns-dstdout");
    let cfg = t.join("c.conf");
    write(
        &cfg,
        "interval = 50ms\n[target me]\nself = yes\nwarn = VmRSS > 1\n",
    );
    let pf = t.join("memdog.pid");
    let o = finished(
        md().args(["run", "-c", s(&cfg), "-d", "--pidfile", s(&pf)]),
        10,
    );
    let text = std::fs::read_to_string(&pf).unwrap_or_default();
    let _d = text.trim().parse().ok().map(Daemon);
    assert_ne!(
        o.status.code(),
        Some(0),
        "a daemon logging into /dev/null started"
    );
    assert!(one_line(&o).contains("log"));
}

/// Without --daemonize the pidfile names memdog itself while it runs and is
/// removed at SIGTERM; a symlink as pidfile is refused (ELOOP), and the
/// file it points to is left alone.
#[test]
fn foreground_run_writes_and_removes_its_pidfile_and_refuses_a_symlink() {
    let t = TempDir::new("ns-fgpid");
    let log = t.join("log");
    let cfg = daemon_cfg(&t, s(&log));
    let pf = t.join("memdog.pid");
    let mut kids = Kids::default();
    let m = kids.spawn(
        md().args(["run", "-c", s(&cfg), "--pidfile", s(&pf)])
            .stderr(Stdio::null()),
    );
    wait_for(
        || std::fs::read_to_string(&pf).is_ok_and(|x| x == format!("{m}\n")),
        "the pidfile naming memdog",
    );
    signal(m, libc::SIGTERM);
    assert!(kids.child(m).wait().unwrap().success());
    assert!(!pf.exists(), "pidfile left after SIGTERM");

    let target = t.join("precious");
    write(&target, "mine\n");
    let link = t.join("link.pid");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = finished(
        md().args(["run", "-c", s(&cfg), "-d", "--pidfile", s(&link)]),
        10,
    );
    assert_eq!(o.status.code(), Some(1));
    let l = one_line(&o);
    assert!(l.contains(s(&link)) && l.contains("ELOOP"), "{l}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "mine\n");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

// --- 7 ---------------------------------------------------------------------

fn watch_self(extra: &[&str]) -> Command {
    let mut c = md();
    c.args(["watch", "--pid", "self"]).args(extra);
    c
}

/// `--log` on a device node is a stream: more than log_size bytes go
/// through and it is never renamed or replaced.
#[test]
fn log_on_a_char_device_is_written_never_rotated() {
    let t = TempDir::new("ns-chardev");
    let dev = t.join("null");
    if mknod_null(&dev).is_none() {
        return;
    }
    let before = std::fs::symlink_metadata(&dev).unwrap();
    let args = ["--interval", "1ms", "--count", "60"];
    let o = finished(
        watch_self(&args).args(["--log", s(&dev), "--log-size", "2k", "--log-files", "2"]),
        30,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    // what the same run writes: several times the 2k log_size
    let out = finished(&mut watch_self(&args), 30);
    assert!(out.stdout.len() > 3 * 2048, "{} bytes", out.stdout.len());
    let after = std::fs::symlink_metadata(&dev).unwrap();
    assert!(after.file_type().is_char_device(), "replaced by a file");
    assert_eq!(
        (after.ino(), after.rdev()),
        (before.ino(), before.rdev()),
        "not the same node"
    );
    let names: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["null"], "rotation left files: {names:?}");
}

/// `--log` on a FIFO: a reader gets whole lines; with no reader memdog
/// neither blocks nor stops sampling (the pipe fills, lines are dropped).
#[test]
fn log_on_a_fifo_reaches_its_reader_and_never_blocks_without_one() {
    use std::os::unix::fs::OpenOptionsExt;
    let t = TempDir::new("ns-fifo");
    let fifo = t.join("fifo");
    mkfifo(&fifo);
    // the reader: opened first, read-write so it never waits for a writer
    let mut rd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let o = finished(
        watch_self(&["--interval", "10ms", "--count", "3", "--log", s(&fifo)]),
        10,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut got = Vec::new();
    let _ = std::io::Read::read_to_end(&mut rd, &mut got); // WouldBlock once drained
    let text = String::from_utf8(got).unwrap();
    let ls = lines(&text);
    assert_eq!(max_seq(&ls), 3, "{text}");
    assert_eq!(
        ls.iter().filter(|l| l.contains_key("VmRSS")).count(),
        3,
        "{text}"
    );
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());

    // nobody reads: 400 samples (well past a 64 KiB pipe) still finish
    let lonely = t.join("lonely");
    mkfifo(&lonely);
    let o = run_within(
        &mut watch_self(&["--interval", "1ms", "--count", "400", "--log", s(&lonely)]),
        30,
    )
    .expect("memdog blocked on a FIFO nobody reads");
    assert!(o.status.code().is_some_and(|c| c <= 1), "{:?}", o.status);
    let e = stderr(&o);
    assert!(e.is_empty() || e.contains("EAGAIN"), "{e}");
    assert!(std::fs::symlink_metadata(&lonely)
        .unwrap()
        .file_type()
        .is_fifo());
}

/// Someone's directory at LOG.1: rotation would move it, so the log is
/// refused at start with one clear line, and the directory is untouched.
#[test]
fn directory_at_a_rotation_name_is_refused_at_start() {
    let t = TempDir::new("ns-slotdir");
    let log = t.join("log");
    std::fs::create_dir(t.join("log.1")).unwrap();
    write(&t.join("log.1/keep"), "mine\n");
    let o = finished(
        watch_self(&["--count", "1", "--log", s(&log), "--log-files", "3"]),
        10,
    );
    assert_eq!(o.status.code(), Some(1));
    let l = one_line(&o);
    assert!(
        l.contains(&format!("{}.1", s(&log))) && l.contains("directory"),
        "{l}"
    );
    assert_eq!(
        std::fs::read_to_string(t.join("log.1/keep")).unwrap(),
        "mine\n"
    );
    assert!(!t.join("log.2").exists());
    assert!(stdout(&o).is_empty(), "sampled anyway");
}

/// A socket is no log: refused at start, left alone.
#[test]
fn socket_as_log_is_refused() {
    let t = TempDir::new("ns-sock");
    let sock = t.join("sock");
    let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let o = finished(watch_self(&["--count", "1", "--log", s(&sock)]), 10);
    assert_eq!(o.status.code(), Some(1));
    let l = one_line(&o);
    assert!(l.contains(s(&sock)) && l.contains("socket"), "{l}");
    assert!(std::fs::symlink_metadata(&sock)
        .unwrap()
        .file_type()
        .is_socket());
}

/// Someone's FIFO or symlink put at a rotation name after start: rotation
/// never renames onto it nor moves it. With LOG.1 taken the live file (ours)
/// starts again empty, within its budget, and says so.
#[test]
fn foreign_files_at_rotation_names_after_start_are_never_replaced() {
    let t = TempDir::new("ns-slotlater");
    let log = t.join("log");
    let precious = t.join("precious");
    write(&precious, "mine\n");
    let mut kids = Kids::default();
    let m = kids.spawn(
        watch_self(&["--interval", "15ms", "--log", s(&log)])
            .args(["--log-size", "2k", "--log-files", "3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for(|| max_seq(&log_of(&log)) >= 1, "samples");
    // (a rotation may already have made them: ours to remove)
    wait_for(
        || {
            let _ = std::fs::remove_file(t.join("log.2"));
            Command::new("mkfifo")
                .arg(t.join("log.2"))
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success()
        },
        "a FIFO at log.2",
    );
    wait_for(
        || {
            let _ = std::fs::remove_file(t.join("log.1"));
            std::os::unix::fs::symlink(&precious, t.join("log.1")).is_ok()
        },
        "a symlink at log.1",
    );
    // ~300 bytes a sample: 40 samples are 6 times the 2k log_size
    wait_samples(&log, 40);
    let l1 = std::fs::symlink_metadata(t.join("log.1")).unwrap();
    assert!(l1.file_type().is_symlink(), "log.1 replaced");
    assert_eq!(std::fs::read_link(t.join("log.1")).unwrap(), precious);
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "mine\n");
    let l2 = std::fs::symlink_metadata(t.join("log.2")).unwrap();
    assert!(l2.file_type().is_fifo(), "log.2 replaced");
    assert!(
        std::fs::metadata(&log).unwrap().len() <= 2048,
        "over budget"
    );
    assert!(!t.join("log.3").exists());
    wait_for(
        || {
            log_of(&log)
                .iter()
                .any(|l| is_ev(l, "log-reopened") && l["reason"] == "rotation-blocked")
        },
        "the notice that the live log started again",
    );
    signal(m, libc::SIGTERM);
    assert!(kids.child(m).wait().unwrap().success());
}

/// A node that is not a plain file appearing at the textfile path while
/// memdog runs is left alone: the sample's temp file is dropped, not
/// renamed over it.
#[test]
fn textfile_path_taken_by_a_fifo_while_running_is_not_replaced() {
    let t = TempDir::new("ns-tfmid");
    let tf = t.join("m.prom");
    let mut kids = Kids::default();
    kids.spawn(
        watch_self(&["--interval", "20ms", "--textfile", s(&tf)])
            .args(["--log", s(&t.join("log"))])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for(
        || std::fs::read_to_string(&tf).is_ok_and(|x| x.contains("memdog_process_memory_bytes")),
        "the textfile",
    );
    // memdog renames a new textfile in every 20 ms: remove and mkfifo until
    // the FIFO wins the race
    wait_for(
        || {
            let _ = std::fs::remove_file(&tf);
            Command::new("mkfifo")
                .arg(s(&tf))
                .status()
                .unwrap()
                .success()
        },
        "a FIFO at the textfile path",
    );
    wait_samples(&t.join("log"), 15);
    assert!(
        std::fs::symlink_metadata(&tf)
            .unwrap()
            .file_type()
            .is_fifo(),
        "replaced"
    );
    let left: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "m.prom" && n != "log")
        .collect();
    assert!(
        left.is_empty() || left.len() == 1,
        "temp files pile up: {left:?}"
    );
}

/// A private pty (a devpts instance mounted in the temp dir, so no /dev
/// path is used), opened with the master side unread: the stand-in for a
/// slow serial console. Returns the master and the slave's path, or None
/// (said loudly) where devpts cannot be mounted. Drop the master before
/// the Umount (it is busy while a pty is open).
fn private_pty(t: &TempDir) -> Option<(Umount, std::fs::File, PathBuf)> {
    use std::os::fd::FromRawFd;
    let pts = t.join("pts");
    std::fs::create_dir(&pts).unwrap();
    let ok = Command::new("mount")
        .args([
            "-t",
            "devpts",
            "-o",
            "newinstance,ptmxmode=0666",
            "devpts",
            s(&pts),
        ])
        .status()
        .is_ok_and(|st| st.success());
    if !ok {
        eprintln!("SKIPPED: cannot mount a private devpts instance (needs root)");
        return None;
    }
    let guard = Umount(pts.clone());
    let ptmx = std::ffi::CString::new(s(&pts.join("ptmx"))).unwrap();
    let m = unsafe {
        libc::open(
            ptmx.as_ptr(),
            // close-on-exec: a process another test spawns meanwhile must not
            // inherit the master (it would keep the devpts mount busy)
            libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    assert!(m >= 0, "open ptmx");
    let (mut unlock, mut n) = (0i32, 0u32);
    assert_eq!(unsafe { libc::ioctl(m, libc::TIOCSPTLCK, &mut unlock) }, 0);
    assert_eq!(unsafe { libc::ioctl(m, libc::TIOCGPTN, &mut n) }, 0);
    let slave = pts.join(n.to_string());
    let sl = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave)
        .unwrap();
    // raw: no \n -> \r\n, no echo, so the master reads exactly what was written
    unsafe {
        use std::os::fd::AsRawFd;
        let mut tio: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(sl.as_raw_fd(), &mut tio), 0);
        libc::cfmakeraw(&mut tio);
        assert_eq!(libc::tcsetattr(sl.as_raw_fd(), libc::TCSANOW, &tio), 0);
    }
    drop(sl);
    Some((guard, unsafe { std::fs::File::from_raw_fd(m) }, slave))
}

/// A log on a tty whose output buffer fills (a slow or stopped serial
/// console). A non-blocking tty may take part of a line; memdog then
/// writes the rest of that line before anything else, so the console shows
/// whole lines in order, later lines are dropped whole (counted), and the
/// error names EAGAIN, not ENOSPC. Stopped for good, the console ends in at
/// most one unfinished line, never a line spliced into another; drained
/// again, the cut line is completed first.
#[test]
fn log_on_a_full_tty_keeps_whole_lines() {
    let t = TempDir::new("ns-tty");
    // dropped in reverse: the master is closed before the unmount
    let Some((_umount, mut master, slave)) = private_pty(&t) else {
        return;
    };
    let check = |text: &str| {
        let (whole, cut) = match text.rfind('\n') {
            Some(i) => (&text[..=i], &text[i + 1..]),
            None => ("", text),
        };
        for l in whole.lines() {
            assert!(
                logfmt(l).is_some_and(|m| m["ts"].ends_with('Z') && m.contains_key("seq")),
                "not a whole line: {l:?}"
            );
        }
        assert!(!cut.contains('\n'));
        whole.len()
    };
    let o = finished(
        watch_self(&["--interval", "1ms", "--count", "600", "--log", s(&slave)]),
        60,
    );
    let mut got = Vec::new();
    let _ = std::io::Read::read_to_end(&mut master, &mut got); // WouldBlock once drained
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(got.len() > 4096, "the tty took {} bytes", got.len());
    check(&text);
    assert!(!stderr(&o).contains("ENOSPC"), "{}", stderr(&o));
    // a slow console, read while memdog writes: partial writes happen
    // (the tty is full when reading starts), yet every line is whole
    let mut md = watch_self(&["--interval", "2ms", "--count", "600", "--log", s(&slave)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300)); // the tty fills up
    let mut all = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while md.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        let mut b = [0u8; 512];
        if let Ok(n) = std::io::Read::read(&mut master, &mut b) {
            all.extend_from_slice(&b[..n]);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = md.kill();
    let _ = md.wait();
    let mut b = [0u8; 65536];
    while let Ok(n @ 1..) = std::io::Read::read(&mut master, &mut b) {
        all.extend_from_slice(&b[..n]);
    }
    // the first run may have left its cut line: the slow run starts after it
    let text = String::from_utf8_lossy(&all).into_owned();
    let text = match text.find("seq=1 ") {
        Some(i) => &text[text[..i].rfind('\n').map_or(0, |j| j + 1)..],
        None => &text[..],
    };
    assert!(
        check(text) > 4096,
        "the slow console got {} bytes",
        text.len()
    );
}

/// The textfile's temp name (PATH.tmp): a hard link someone put there is
/// never truncated through (the file it links to keeps its bytes); a FIFO
/// there is refused at start, and one appearing while memdog runs never
/// blocks the sampling.
#[test]
fn textfile_temp_name_never_truncates_through_a_link_nor_blocks_on_a_fifo() {
    let t = TempDir::new("ns-tftmp");
    let other = t.join("other");
    write(&other, "secret\n");
    let tf = t.join("a.prom");
    std::fs::hard_link(&other, t.join("a.prom.tmp")).unwrap();
    let o = finished(
        watch_self(&["--count", "2", "--interval", "10ms", "--textfile", s(&tf)]),
        10,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        "secret\n",
        "truncated through a link"
    );
    assert!(std::fs::read_to_string(&tf)
        .unwrap()
        .contains("memdog_samples_total 2"));

    let tf = t.join("b.prom");
    let tmp = t.join("b.prom.tmp");
    mkfifo(&tmp);
    let o = run_within(watch_self(&["--count", "1", "--textfile", s(&tf)]), 10)
        .expect("blocked opening a FIFO at the temp name");
    assert_eq!(o.status.code(), Some(1));
    let l = one_line(&o);
    assert!(
        l.contains(s(&tf)) && l.contains(".tmp") && l.contains("FIFO"),
        "{l}"
    );
    std::fs::remove_file(&tmp).unwrap();

    let log = t.join("log");
    let mut kids = Kids::default();
    kids.spawn(
        watch_self(&["--interval", "20ms", "--textfile", s(&tf), "--log", s(&log)])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for(|| tf.exists(), "the textfile");
    // the temp name exists only within a sample: retry until the FIFO is made
    wait_for(
        || {
            Command::new("mkfifo")
                .arg(&tmp)
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success()
        },
        "a FIFO at the temp name",
    );
    wait_samples(&log, 10);
    assert!(std::fs::symlink_metadata(&tmp)
        .unwrap()
        .file_type()
        .is_fifo());
}

/// The `watchdog` action's reset_reason file (default /tmp/memdog.reset-reason,
/// in a world-writable dir): a hard link someone put at that name must not
/// have the file it links to truncated and overwritten by a root memdog.
#[test]
fn reset_reason_never_truncates_through_a_hard_link() {
    let t = TempDir::new("ns-reason");
    let dev = t.join("watchdog");
    write(&dev, "");
    let other = t.join("other");
    write(&other, "secret\n");
    let reason = t.join("reset-reason");
    std::fs::hard_link(&other, &reason).unwrap();
    let (log, cfg) = (t.join("log"), t.join("c.conf"));
    write(
        &cfg,
        &format!(
            "interval = 20ms\nlog = {}\nwatchdog_device = {}\nwatchdog_kick = 10ms\nreset_reason = {}\n\
             [target me]\nself = yes\ncrit = VmRSS > 1\non_crit = log, watchdog\n",
            s(&log),
            s(&dev),
            s(&reason)
        ),
    );
    let o = finished(md().args(["run", "-c", s(&cfg), "--count", "3"]), 20);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !events(&log_of(&log), "action").is_empty(),
        "the watchdog action ran"
    );
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        "secret\n",
        "truncated through a link"
    );
}

// --- 8 ---------------------------------------------------------------------

fn watch_bg(kids: &mut Kids, log: &Path) -> u32 {
    kids.spawn(
        watch_self(&["--interval", "150ms", "--log", s(log)])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// Right after a sample was written: the next one is an interval away, so a
/// file operation now happens between two samples.
fn just_after_a_sample(log: &Path) {
    let n = max_seq(&log_of(log));
    wait_for(
        || {
            let ls = log_of(log);
            ls.iter()
                .any(|l| l.contains_key("meminfo") && l["seq"] == (n + 1).to_string())
        },
        "a complete sample",
    );
}

/// The live log deleted (a user freeing flash): the next sample goes into
/// a new file at the path, which starts by saying why.
#[test]
fn deleted_live_log_is_reopened_and_starts_with_the_notice() {
    let t = TempDir::new("ns-deleted");
    let log = t.join("log");
    let mut kids = Kids::default();
    watch_bg(&mut kids, &log);
    wait_for(|| max_seq(&log_of(&log)) >= 2, "samples");
    just_after_a_sample(&log);
    let last = max_seq(&log_of(&log));
    std::fs::remove_file(&log).unwrap();
    wait_for(
        || max_seq(&log_of(&log)) >= last + 2,
        "a new file at the path",
    );
    let ls = log_of(&log);
    assert!(is_ev(&ls[0], "log-reopened"), "first line: {:?}", ls[0]);
    assert_eq!(ls[0]["reason"], "deleted");
    assert_eq!(
        ls[0]["seq"],
        (last + 1).to_string(),
        "at the very next sample"
    );
    assert!(
        events(&ls, "dropped").is_empty(),
        "nothing was lost: {ls:?}"
    );
    assert_eq!(events(&ls, "log-reopened").len(), 1);
}

/// The live log renamed away (logrotate without copytruncate): a new file
/// at the path starting with `reason=renamed`; the renamed file keeps its
/// lines, intact, and gets nothing more.
#[test]
fn renamed_live_log_is_reopened_and_the_old_lines_stay_intact() {
    let t = TempDir::new("ns-renamed");
    let (log, old) = (t.join("log"), t.join("log.old"));
    let mut kids = Kids::default();
    watch_bg(&mut kids, &log);
    wait_for(|| max_seq(&log_of(&log)) >= 2, "samples");
    just_after_a_sample(&log);
    let before = std::fs::read(&log).unwrap();
    let last = max_seq(&log_of(&log));
    std::fs::rename(&log, &old).unwrap();
    wait_for(
        || max_seq(&log_of(&log)) >= last + 2,
        "a new file at the path",
    );
    let ls = log_of(&log);
    assert!(is_ev(&ls[0], "log-reopened"), "first line: {:?}", ls[0]);
    assert_eq!(ls[0]["reason"], "renamed");
    assert_eq!(ls[0]["seq"], (last + 1).to_string());
    assert_eq!(
        std::fs::read(&old).unwrap(),
        before,
        "the renamed file changed"
    );
    let kept = log_of(&old);
    assert_eq!(max_seq(&kept), last);
    assert!(before.ends_with(b"\n"));
}

/// The log's whole directory removed for a while (flash cleaned up), then
/// made again: sampling never stops, and the new log starts by counting
/// exactly the lines that were lost (2 per missed sample: the process and
/// meminfo lines).
#[test]
fn log_directory_gone_for_a_while_counts_exactly_the_lost_lines() {
    let t = TempDir::new("ns-logdir");
    let dir = t.join("d");
    std::fs::create_dir(&dir).unwrap();
    let log = dir.join("log");
    let mut kids = Kids::default();
    kids.spawn(
        watch_self(&["--interval", "100ms", "--fields", "VmRSS", "--log", s(&log)])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for(|| max_seq(&log_of(&log)) >= 2, "samples");
    just_after_a_sample(&log);
    let last = max_seq(&log_of(&log));
    std::fs::remove_dir_all(&dir).unwrap();
    std::thread::sleep(Duration::from_millis(450));
    std::fs::create_dir(&dir).unwrap();
    wait_for(|| log_of(&log).len() >= 3, "a new log");
    let ls = log_of(&log);
    assert!(is_ev(&ls[0], "dropped"), "first line: {:?}", ls[0]);
    let first: u64 = ls[0]["seq"].parse().unwrap();
    assert!(first > last + 2, "samples were missed: {last} -> {first}");
    let lost: u64 = ls[0]["lines"].parse().unwrap();
    assert_eq!(
        lost,
        2 * (first - 1 - last),
        "lost lines: seq {last} -> {first}"
    );
    // and from there on every sample is there
    let seqs: BTreeSet<u64> = ls.iter().map(|l| l["seq"].parse().unwrap()).collect();
    assert_eq!(seqs.iter().next(), Some(&first));
}

/// logrotate's `create` mode: the live log renamed away and a new empty
/// file made at the path at once: memdog writes into the new file, which
/// starts with `reason=replaced`; the renamed one gets nothing more.
#[test]
fn live_log_replaced_by_a_new_file_is_followed() {
    let t = TempDir::new("ns-replaced");
    let (log, old) = (t.join("log"), t.join("log.1"));
    let mut kids = Kids::default();
    watch_bg(&mut kids, &log);
    wait_for(|| max_seq(&log_of(&log)) >= 2, "samples");
    just_after_a_sample(&log);
    let before = std::fs::read(&log).unwrap();
    let last = max_seq(&log_of(&log));
    std::fs::rename(&log, &old).unwrap();
    write(&log, "");
    wait_for(
        || max_seq(&log_of(&log)) >= last + 2,
        "lines in the new file",
    );
    let ls = log_of(&log);
    assert!(is_ev(&ls[0], "log-reopened"), "first line: {:?}", ls[0]);
    assert_eq!(ls[0]["reason"], "replaced");
    assert_eq!(ls[0]["seq"], (last + 1).to_string());
    assert_eq!(
        std::fs::read(&old).unwrap(),
        before,
        "the rotated file changed"
    );
}

// --- 9 ---------------------------------------------------------------------

/// Two memdogs on one log would rotate each other's files away: the second
/// is refused with one line, and writes nothing into it.
#[test]
fn second_memdog_on_the_same_log_is_refused() {
    let t = TempDir::new("ns-lock");
    let log = t.join("log");
    let mut kids = Kids::default();
    let first = watch_bg(&mut kids, &log);
    wait_for(
        || max_seq(&log_of(&log)) >= 1,
        "the first instance's samples",
    );
    let o = finished(watch_self(&["--count", "1", "--log", s(&log)]), 10);
    assert_eq!(o.status.code(), Some(1));
    let l = one_line(&o);
    assert!(l.contains(s(&log)) && l.contains("another memdog"), "{l}");
    // `run` is refused the same way
    let cfg = t.join("c.conf");
    write(
        &cfg,
        &format!(
            "interval = 10ms\nlog = {}\n[target me]\nself = yes\n",
            s(&log)
        ),
    );
    let o = finished(md().args(["run", "-c", s(&cfg), "--count", "1"]), 10);
    assert_eq!(o.status.code(), Some(1));
    assert!(one_line(&o).contains("another memdog"));
    let ls = log_of(&log);
    let starts = events(&ls, "start");
    assert!(
        starts.iter().all(|l| pid_of(l) == first),
        "a second writer got in: {starts:?}"
    );
    assert!(events(&ls, "agent-start").is_empty());
}

// --- 10 --------------------------------------------------------------------

/// `memdog watch ... | head -1`: memdog ends at the closed pipe, exit 0,
/// quietly, like `yes | head -1`.
#[test]
fn watch_into_head_exits_0_promptly() {
    let mut kids = Kids::default();
    let mut m = spawn_retry(
        watch_self(&["--interval", "10ms"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let out = m.stdout.take().unwrap();
    let mut err = m.stderr.take().unwrap();
    let mpid = m.id();
    kids.0.push(m);
    let head = Command::new("head")
        .arg("-1")
        .stdin(Stdio::from(out))
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let first = String::from_utf8(head.stdout).unwrap();
    assert!(lines(&first).len() == 1, "{first:?}");
    let start = Instant::now();
    let st = loop {
        if let Some(st) = kids.child(mpid).try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "memdog kept running after head exited"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(st.code(), Some(0), "{st:?}");
    let mut e = String::new();
    std::io::Read::read_to_string(&mut err, &mut e).unwrap();
    assert_eq!(e, "", "quiet, like yes | head");
}

// --- 11 --------------------------------------------------------------------

/// An exec action's stdout never mixes into a log written to stdout: not
/// `echo LEAKED` (the brief's case), nor a word that appears nowhere in
/// memdog's own lines (printf joins it from two halves).
#[test]
fn exec_action_output_stays_out_of_a_stdout_log() {
    let t = TempDir::new("ns-execout");
    let cfg = t.join("c.conf");
    write(
        &cfg,
        "interval = 30ms\nfields = VmRSS\ncooldown = 1h\n[target me]\nself = yes\n\
         warn = VmRSS > 1\non_warn = exec /bin/echo LEAKED\n\
         crit = VmSize > 1\non_crit = exec /usr/bin/printf %s%s\\n SECRET WORD\n",
    );
    let o = finished(md().args(["run", "-c", s(&cfg), "--count", "5"]), 30);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.lines().any(|l| l.trim() == "LEAKED"), "{out}");
    assert!(!out.contains("SECRETWORD"), "{out}");
    let ls = lines(&out);
    for l in &ls {
        assert!(
            l["ts"].ends_with('Z') && l.contains_key("up"),
            "not memdog's: {l:?}"
        );
    }
    let a = events(&ls, "action");
    assert_eq!(a.len(), 2, "both execs ran: {out}");
    let exits = events(&ls, "exec-exit");
    assert_eq!(exits.len(), 2, "reaped before memdog exits: {out}");
    assert!(exits.iter().all(|l| l["status"] == "0"), "{out}");
}

/// At exit memdog lets a running exec action finish (up to exec_timeout)
/// and logs its exit; one that outlives exec_timeout is killed and logged,
/// and memdog still exits promptly.
#[test]
fn exit_waits_for_running_actions_up_to_exec_timeout() {
    let t = TempDir::new("ns-execexit");
    let hook = t.join("hook.sh");
    write(&hook, "#!/bin/sh\nsleep \"$1\"\n: > \"$2\"\n");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (pause, timeout, finishes) in [("0.4", "5s", true), ("30", "300ms", false)] {
        let (log, cfg, done) = (t.join("log"), t.join("c.conf"), t.join("done"));
        let _ = std::fs::remove_file(&log);
        let _ = std::fs::remove_file(&done);
        write(
            &cfg,
            &format!(
                "interval = 10ms\nlog = {}\nexec_timeout = {timeout}\ncooldown = 1h\n\
                 [target me]\nself = yes\nwarn = VmRSS > 1\non_warn = exec {} {pause} {}\n",
                s(&log),
                s(&hook),
                s(&done)
            ),
        );
        let o = finished(md().args(["run", "-c", s(&cfg), "--count", "2"]), 20);
        assert!(o.status.success(), "{}", stderr(&o));
        let ls = log_of(&log);
        assert_eq!(done.exists(), finishes, "pause {pause}: {ls:?}");
        let exits = events(&ls, "exec-exit");
        assert_eq!(exits.len(), 1, "its exit logged before memdog's: {ls:?}");
        if finishes {
            assert_eq!(exits[0]["status"], "0");
            assert!(events(&ls, "exec-timeout").is_empty());
        } else {
            assert_eq!(events(&ls, "exec-timeout").len(), 1, "{ls:?}");
            let child: i32 = exits[0]["child"].parse().unwrap();
            assert!(
                unsafe { libc::kill(child, 0) } != 0,
                "the hook outlived memdog"
            );
        }
    }
}

/// While exit waits for a running action (up to exec_timeout), the
/// watchdog is still fed: a clean stop must not reset the board because a
/// hook hangs (a hardware timeout shorter than exec_timeout would).
#[test]
fn watchdog_is_fed_while_exit_waits_for_actions() {
    let t = TempDir::new("ns-wdexit");
    let (log, cfg, dev) = (t.join("log"), t.join("c.conf"), t.join("watchdog"));
    write(&dev, "");
    write(
        &cfg,
        &format!(
            "interval = 50ms\nlog = {}\nwatchdog_device = {}\nwatchdog_kick = 100ms\n\
             exec_timeout = 2s\ncooldown = 1h\n[target me]\nself = yes\nwarn = VmRSS > 1\n\
             on_warn = exec /bin/sleep 100\n",
            s(&log),
            s(&dev)
        ),
    );
    let mut kids = Kids::default();
    let m = kids.spawn(md().args(["run", "-c", s(&cfg)]).stderr(Stdio::null()));
    wait_for(
        || !events(&log_of(&log), "action").is_empty(),
        "the hook running",
    );
    let before = std::fs::read(&dev).unwrap().len();
    signal(m, libc::SIGTERM);
    assert!(kids.child(m).wait().unwrap().success());
    let fed = std::fs::read(&dev).unwrap();
    assert_eq!(fed.last(), Some(&b'V'), "magic close at the end");
    let kicks = fed.len() - 1 - before;
    assert!(kicks >= 5, "{kicks} kicks in the 2 s exit wait");
    assert_eq!(events(&log_of(&log), "exec-timeout").len(), 1);
}

// --- 12 --------------------------------------------------------------------

/// `check` (and `run`) on a FIFO return at once with one error; errors
/// about the whole file are `FILE: msg`, never `FILE:0: msg`.
#[test]
fn check_on_a_fifo_returns_at_once_and_file_errors_have_no_line_zero() {
    let t = TempDir::new("ns-check");
    let fifo = t.join("fifo.conf");
    mkfifo(&fifo);
    for args in [vec!["check", s(&fifo)], vec!["run", "-c", s(&fifo)]] {
        let o = run_within(md().args(&args), 10).expect("blocked on a FIFO");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let l = one_line(&o);
        assert!(l.starts_with(&format!("memdog: {}: ", s(&fifo))), "{l}");
        assert!(l.contains("not a regular file"), "{l}");
    }
    let missing = t.join("missing.conf");
    let o = finished(md().args(["check", s(&missing)]), 10);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        one_line(&o),
        format!("memdog: {}: ENOENT: no such file or directory", s(&missing))
    );
    let o = finished(md().args(["check", t.s()]), 10);
    assert_eq!(o.status.code(), Some(2));
    let l = one_line(&o);
    assert!(l.starts_with(&format!("memdog: {}: ", t.s())), "{l}");
    if unsafe { libc::geteuid() } == 0 {
        let ww = t.join("ww.conf");
        write(&ww, "interval = 1s\n");
        std::fs::set_permissions(&ww, std::fs::Permissions::from_mode(0o666)).unwrap();
        let o = finished(md().args(["check", s(&ww)]), 10);
        assert_eq!(o.status.code(), Some(2));
        let l = one_line(&o);
        assert!(
            l.starts_with(&format!("memdog: {}: config is world-writable", s(&ww))),
            "{l}"
        );
    } else {
        eprintln!("SKIPPED: the world-writable config case needs root");
    }
}

/// `check` on a symlink to a FIFO must not block either (the config
/// loader looks at the link with lstat, then opens what it points to).
#[test]
fn check_on_a_symlink_to_a_fifo_returns_at_once() {
    let t = TempDir::new("ns-checklink");
    let fifo = t.join("fifo");
    mkfifo(&fifo);
    let link = t.join("link.conf");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let o = run_within(md().args(["check", s(&link)]), 5).expect("check blocked on a FIFO");
    assert_eq!(o.status.code(), Some(2));
    assert!(one_line(&o).contains("not a regular file"));
}

// --- 13 --------------------------------------------------------------------

/// `--textfile` (replaced every sample) on a device node or a symlink is
/// refused at start, and so is one in a missing directory; nothing is
/// sampled, and the node and the link are left as they were.
#[test]
fn textfile_on_a_device_a_symlink_or_in_a_missing_dir_is_refused_at_start() {
    let t = TempDir::new("ns-textfile");
    let target = t.join("real.prom");
    write(&target, "# mine\n");
    let link = t.join("link.prom");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut cases = vec![
        (link.clone(), "symlink"),
        (t.join("nodir/x.prom"), "does not exist"),
    ];
    let dev = t.join("dev.prom");
    if mknod_null(&dev).is_some() {
        cases.push((dev.clone(), "character device"));
    }
    for (p, why) in &cases {
        let o = finished(watch_self(&["--count", "1", "--textfile", s(p)]), 10);
        assert_eq!(o.status.code(), Some(1), "{}", p.display());
        let l = one_line(&o);
        assert!(l.contains(s(p)) && l.contains(why), "{l}");
        assert!(stdout(&o).is_empty(), "sampled with a bad textfile");
        // the daemon too
        let cfg = t.join("c.conf");
        write(
            &cfg,
            &format!(
                "interval = 10ms\ntextfile = {}\n[target me]\nself = yes\n",
                s(p)
            ),
        );
        let o = finished(md().args(["run", "-c", s(&cfg), "--count", "1"]), 10);
        assert_eq!(o.status.code(), Some(1), "run, {}", p.display());
        assert!(one_line(&o).contains(why));
    }
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "# mine\n");
    assert!(!t.join("nodir").exists());
    if cases.len() == 3 {
        assert!(std::fs::symlink_metadata(&dev)
            .unwrap()
            .file_type()
            .is_char_device());
    }
}

// --- 14 --------------------------------------------------------------------

/// Every error line names the errno (`ENOENT: no such file or directory`),
/// never "system error".
#[test]
fn error_lines_name_the_errno() {
    let t = TempDir::new("ns-errno");
    let file = t.join("plain");
    write(&file, "");
    let link = t.join("link");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let stream = t.join("stream.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&stream).unwrap();
    let nodir = t.join("nodir/log");
    let under_file = t.join("plain/log");
    let cases: Vec<(Vec<&str>, &str, &Path)> = vec![
        (
            vec!["--log", s(&nodir)],
            "ENOENT: no such file or directory",
            &nodir,
        ),
        (
            vec!["--log", s(&under_file)],
            "ENOTDIR: not a directory",
            &under_file,
        ),
        (vec!["--log", s(&link)], "ELOOP: ", &link),
        (vec!["--syslog-socket", s(&file)], "ECONNREFUSED: ", &file),
        (vec!["--syslog-socket", s(&stream)], "EPROTOTYPE: ", &stream),
    ];
    for (args, want, path) in cases {
        let o = finished(watch_self(&["--count", "1"]).args(&args), 10);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let l = one_line(&o);
        assert!(l.contains(want) && l.contains(s(path)), "{args:?}: {l}");
        assert!(!l.contains("system error"), "{l}");
    }
}
