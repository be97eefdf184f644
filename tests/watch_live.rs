//! `memdog watch` against real child processes on this machine's /proc:
//! exits, restarts, pid files, zombies, hostile names.

mod common;
use common::*;
use std::process::{Child, Command, Stdio};

/// Start `memdog watch ARGS --log LOG` in the background.
fn watch_bg(log: &std::path::Path, args: &[&str]) -> Child {
    Command::new(bin())
        .arg("watch")
        .args(args)
        .args(["--log", log.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn read_log(log: &std::path::Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

fn seq_reached(log: &std::path::Path, n: u64) -> bool {
    read_log(log).contains(&format!(" seq={n} "))
}

/// A copy of /bin/sleep named `name`, so its comm is `name` (cut to 15 bytes).
fn sleeper(dir: &TempDir, name: &str) -> std::path::PathBuf {
    let p = dir.path().join(name);
    if !p.exists() {
        std::fs::copy("/bin/sleep", &p).unwrap();
    }
    p
}

fn events(out: &str, ev: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    lines(out)
        .into_iter()
        .filter(|l| l.get("event").map(String::as_str) == Some(ev))
        .collect()
}

#[test]
fn vanished_target_is_logged_and_the_loop_goes_on() {
    let t = TempDir::new("vanish");
    let log = t.join("log");
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id().to_string();
    let mut md = watch_bg(
        &log,
        &["--pid", &pid, "--interval", "50ms", "--count", "12"],
    );
    wait_for(|| seq_reached(&log, 2), "two samples");
    child.kill().unwrap();
    child.wait().unwrap();
    let st = md.wait().unwrap();
    assert!(st.success());
    let out = read_log(&log);
    let all = lines(&out);
    let exit = events(&out, "exit");
    assert_eq!(exit.len(), 1, "{out}");
    assert_eq!(exit[0]["pid"], pid);
    assert_eq!(exit[0]["reason"], "gone");
    // the loop ran to the end, writing meminfo lines after the target died
    let meminfo: Vec<_> = all.iter().filter(|l| l.contains_key("meminfo")).collect();
    assert_eq!(meminfo.len(), 12, "{out}");
    assert!(meminfo
        .iter()
        .all(|l| l["MemTotal"].parse::<u64>().unwrap() > 0));
    let samples: Vec<_> = all
        .iter()
        .filter(|l| l.get("pid") == Some(&pid) && !l.contains_key("event"))
        .collect();
    assert!(samples.len() >= 2 && samples.len() < 12, "{out}");
    assert!(samples
        .iter()
        .all(|l| l["VmRSS"].parse::<u64>().unwrap() > 0));
}

#[test]
fn restarted_process_is_found_again_by_name() {
    let t = TempDir::new("restart");
    let log = t.join("log");
    let name = format!("mdr{}", std::process::id());
    let exe = sleeper(&t, &name);
    let mut a = spawn_retry(Command::new(&exe).arg("30"));
    let mut md = watch_bg(&log, &["--name", &name, "--interval", "40ms"]);
    wait_for(|| seq_reached(&log, 2), "samples of the first process");
    a.kill().unwrap();
    a.wait().unwrap();
    wait_for(|| read_log(&log).contains("event=exit"), "exit event");
    let mut b = spawn_retry(Command::new(&exe).arg("30"));
    let bpid = b.id().to_string();
    wait_for(
        || read_log(&log).contains(&format!("event=start pid={bpid} ")),
        "start of the second process",
    );
    let seq_now = lines(&read_log(&log)).last().unwrap()["seq"]
        .parse::<u64>()
        .unwrap();
    wait_for(
        || seq_reached(&log, seq_now + 2),
        "samples of the second process",
    );
    unsafe { libc_kill(md.id() as i32, 15) };
    assert!(md.wait().unwrap().success(), "SIGTERM is a clean exit");
    b.kill().unwrap();
    b.wait().unwrap();

    let out = read_log(&log);
    let starts = events(&out, "start");
    assert_eq!(starts.len(), 2, "{out}");
    assert_eq!(starts[0]["pid"], a.id().to_string());
    assert_eq!(starts[1]["pid"], bpid);
    assert_ne!(starts[0]["start"], "");
    assert_eq!(events(&out, "exit").len(), 1);
    let b_samples = lines(&out)
        .into_iter()
        .filter(|l| l.get("pid") == Some(&bpid) && l.contains_key("VmRSS"))
        .count();
    assert!(b_samples >= 2, "{out}");
    // every line of a tick shares one seq; seqs are consecutive
    let seqs: Vec<u64> = lines(&out)
        .iter()
        .map(|l| l["seq"].parse().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1),
        "{seqs:?}"
    );
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

#[test]
fn zombie_counts_as_exited() {
    let t = TempDir::new("zombie");
    let log = t.join("log");
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id().to_string();
    let mut md = watch_bg(
        &log,
        &["--pid", &pid, "--interval", "40ms", "--count", "10"],
    );
    wait_for(|| seq_reached(&log, 2), "samples");
    child.kill().unwrap(); // not reaped yet: a zombie while memdog runs
    assert!(md.wait().unwrap().success());
    child.wait().unwrap();
    let out = read_log(&log);
    let exit = events(&out, "exit");
    assert_eq!(exit.len(), 1, "{out}");
    assert_eq!(exit[0]["reason"], "zombie");
}

#[test]
fn pidfile_target_follows_the_file() {
    let t = TempDir::new("pidfile");
    let log = t.join("log");
    let pf = t.join("svc.pid");
    let mut a = Command::new("sleep").arg("30").spawn().unwrap();
    let mut b = Command::new("sleep").arg("30").spawn().unwrap();
    std::fs::write(&pf, format!("{}\n", a.id())).unwrap();
    let mut md = watch_bg(
        &log,
        &["--pidfile", pf.to_str().unwrap(), "--interval", "40ms"],
    );
    wait_for(|| seq_reached(&log, 2), "samples");
    std::fs::write(&pf, format!("{}\n", b.id())).unwrap();
    wait_for(
        || read_log(&log).contains(&format!("event=start pid={} ", b.id())),
        "switch to the new pid",
    );
    std::fs::remove_file(&pf).unwrap();
    b.kill().unwrap();
    b.wait().unwrap();
    wait_for(
        || read_log(&log).contains("event=wait pidfile="),
        "waiting for the pidfile",
    );
    unsafe { libc_kill(md.id() as i32, 2) };
    assert!(md.wait().unwrap().success(), "SIGINT is a clean exit");
    a.kill().unwrap();
    a.wait().unwrap();
    let out = read_log(&log);
    assert_eq!(events(&out, "start").len(), 2, "{out}");
    assert_eq!(
        events(&out, "wait").len(),
        1,
        "one notice, not one per sample: {out}"
    );
}

#[test]
fn hostile_process_name_cannot_forge_a_line_or_a_field() {
    let t = TempDir::new("hostile");
    let log = t.join("log");
    // the file name becomes the comm: newline, '=', quotes, spaces, backslash
    let name = "a\nb=c \"x\" \\ pid=1";
    let exe = sleeper(&t, name);
    let mut child = spawn_retry(Command::new(&exe).arg("30"));
    let pid = child.id().to_string();
    let o = memdog(&[
        "watch",
        "--pid",
        &pid,
        "--count",
        "2",
        "--interval",
        "20ms",
        "--log",
        log.to_str().unwrap(),
    ]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(o.status.success());
    let out = read_log(&log);
    assert_eq!(
        out.lines().count(),
        5,
        "start + 2 samples + 2 meminfo: {out}"
    );
    let comm = &name.as_bytes()[..15];
    for l in lines(&out).iter().filter(|l| l.contains_key("name")) {
        assert_eq!(l["pid"], pid, "pid field not forged");
        assert_eq!(l["name"].as_bytes(), comm);
    }
}

#[test]
fn output_is_one_logfmt_line_per_target_and_sample() {
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--count",
        "3",
        "--interval",
        "10ms",
        "--fields",
        "VmRSS,VmSize,heap,Threads",
    ]);
    assert!(o.status.success());
    let out = stdout(&o);
    let all = lines(&out);
    assert_eq!(all.len(), 1 + 3 * 2, "{out}");
    let s = &all[1];
    assert!(s["ts"].ends_with('Z') && s["ts"].len() == 20, "{out}");
    let keys: Vec<&str> = s.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["Threads", "VmRSS", "VmSize", "heap", "name", "pid", "seq", "ts", "up"]
    );
    assert_eq!(s["name"], "memdog");
    assert_eq!(s["Threads"], "1");
    let up: f64 = s["up"].parse().unwrap();
    assert!(up > 0.0);
}

#[test]
fn invalid_utf8_and_overlong_names_stay_one_line() {
    use std::os::unix::ffi::OsStrExt;
    let t = TempDir::new("badutf8");
    // 20 bytes with invalid UTF-8: the kernel keeps 15
    let name = b"\xff\xfe=\"bad\\name\x01 long-tail";
    let exe = t.path().join(std::ffi::OsStr::from_bytes(name));
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let mut child = spawn_retry(Command::new(&exe).arg("30"));
    let pid = child.id().to_string();
    let o = memdog(&["watch", "--pid", &pid, "--count", "1", "--fields", "VmRSS"]);
    child.kill().unwrap();
    child.wait().unwrap();
    let out = stdout(&o);
    assert!(out.is_ascii(), "escaped to ASCII: {out:?}");
    assert_eq!(out.lines().count(), 3);
    for l in lines(&out).iter().filter(|l| l.contains_key("name")) {
        assert_eq!(l["name"], String::from_utf8_lossy(&name[..15]));
        assert_eq!(l["pid"], pid);
    }
}
