//! `memdog report` of what real syslog daemons store from memdog's syslog
//! outputs: Debian's rsyslog receiving `watch --syslog-remote` on a UDP port
//! of 127.0.0.1 into a per-host file, and busybox syslogd + logread
//! receiving `watch --syslog` in a private mount namespace (a tmpfs on /dev
//! there only). Each report must equal the report of memdog's own log but
//! for the host the wrapper names. `make test` installs both (TEST_PKGS);
//! a missing tool or a kernel without namespaces skips with one loud line.

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The report with the host left out: what must match memdog's own log.
fn without_host(report: &str, host: &str) -> String {
    report
        .replace(&format!(" host={host}"), "")
        .replace(&format!(" {host} "), " ")
        .replace("lives host target", "lives target")
}

fn watch_args(extra: &[&str], log: &str) -> Vec<String> {
    let mut a: Vec<String> = [
        "watch",
        "--pid",
        "self",
        "--interval",
        "100ms",
        "--count",
        "25",
        "--fields",
        "VmRSS,VmSize",
        "--log",
        log,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn wait_for(path: &std::path::Path, lines: usize) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if std::fs::read_to_string(path).is_ok_and(|s| s.lines().count() >= lines) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn rsyslog_per_host_file_of_syslog_remote() {
    if !have("rsyslogd") {
        eprintln!("SKIPPED: rsyslogd not installed (make test installs rsyslog)");
        return;
    }
    let t = TempDir::new("rsyslog");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = t.join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            "global(workDirectory=\"{d}\")\nmodule(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"{port}\")\n\
             template(name=\"perhost\" type=\"string\" string=\"{d}/%HOSTNAME%.log\")\n\
             *.* action(type=\"omfile\" dynaFile=\"perhost\" template=\"RSYSLOG_TraditionalFileFormat\")\n",
            d = t.s()
        ),
    )
    .unwrap();
    let mut rs = Command::new("rsyslogd")
        .args([
            "-n",
            "-f",
            conf.to_str().unwrap(),
            "-i",
            t.join("pid").to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let own = t.join("own.log");
    let remote = format!("127.0.0.1:{port}");
    let a = watch_args(&["--syslog-remote", &remote], own.to_str().unwrap());
    let a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
    let o = memdog(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    let host = String::from_utf8(std::fs::read("/proc/sys/kernel/hostname").unwrap())
        .unwrap()
        .trim()
        .to_string();
    let stored = t.join(&format!("{host}.log"));
    let own_lines = std::fs::read_to_string(&own).unwrap().lines().count();
    let got = wait_for(&stored, own_lines);
    let _ = rs.kill();
    let _ = rs.wait();
    assert!(
        got,
        "rsyslog wrote {} lines of {own_lines}",
        std::fs::read_to_string(&stored)
            .unwrap_or_default()
            .lines()
            .count()
    );
    let first = std::fs::read_to_string(&stored)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(first.contains(&format!(" {host} memdog[")), "{first}");
    let theirs = stdout(&memdog(&["report", stored.to_str().unwrap()]));
    let mine = stdout(&memdog(&["report", own.to_str().unwrap()]));
    assert!(
        theirs.contains(&format!("== memdog host={host} ")),
        "{theirs}"
    );
    assert_eq!(without_host(&theirs, &host), mine);
}

#[test]
fn busybox_logread_of_syslog() {
    if !have("busybox") || !have("unshare") {
        eprintln!("SKIPPED: busybox or unshare not installed (make test installs busybox)");
        return;
    }
    let t = TempDir::new("busybox");
    let own = t.join("own.log");
    let out = t.join("logread.txt");
    let a = watch_args(&["--syslog"], own.to_str().unwrap()).join(" ");
    // /dev is a tmpfs in this mount namespace only: syslogd's /dev/log lives there
    let script = format!(
        "mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 || exit 77\n\
         busybox syslogd -n -C64 & sd=$!\n\
         i=0; while [ ! -S /dev/log ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done\n\
         {bin} {a} > /dev/null || exit 1\n\
         sleep 0.3; busybox logread > {out}; kill $sd; wait $sd 2>/dev/null; exit 0\n",
        bin = bin().display(),
        out = out.display()
    );
    let o = run_bounded(Command::new("unshare").args(["-m", "sh", "-c", &script]));
    if o.status.code() == Some(77) || (!o.status.success() && stderr(&o).contains("unshare")) {
        eprintln!(
            "SKIPPED: no private mount namespace here: {}",
            stderr(&o).trim()
        );
        return;
    }
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("memdog["))
        .unwrap_or_else(|| panic!("{text}"));
    let host = String::from_utf8(std::fs::read("/proc/sys/kernel/hostname").unwrap())
        .unwrap()
        .trim()
        .to_string();
    assert!(line.contains("daemon."), "{line}");
    let theirs = stdout(&memdog(&["report", out.to_str().unwrap()]));
    let mine = stdout(&memdog(&["report", own.to_str().unwrap()]));
    // busybox names the host in its buffer; logread's other lines (syslogd's own) are not memdog's
    let theirs = if theirs.contains(&format!(" host={host} ")) {
        without_host(&theirs, &host)
    } else {
        theirs
    };
    assert_eq!(theirs, mine);
}
