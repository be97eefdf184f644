//! Init scripts and packaging recipes: the sysv script drives a real daemon
//! in a temporary root; the others are checked as far as this machine allows.

mod common;
use common::*;
use std::process::Command;

fn repo(p: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn script(t: &TempDir, args: &str) -> std::process::Output {
    run_bounded(
        Command::new("sh")
            .arg(repo("board-configs/init/S99memdog"))
            .arg(args)
            .env("MEMDOG", bin())
            .env("CONF", t.join("memdog.conf"))
            .env("PIDFILE", t.join("memdog.pid")),
    )
}

#[test]
fn sysv_script_starts_reports_reloads_and_stops_the_daemon() {
    let t = TempDir::new("sysv");
    let log = t.join("memdog.log");
    std::fs::write(
        t.join("memdog.conf"),
        format!(
            "interval = 50ms\nlog = {}\n[target me]\nself = yes\n",
            log.display()
        ),
    )
    .unwrap();
    let o = script(&t, "start");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("memdog: started (pid "));
    let pid: i32 = std::fs::read_to_string(t.join("memdog.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap(),
        "memdog\n"
    );
    assert!(stdout(&script(&t, "status")).contains("running"));
    assert!(stdout(&script(&t, "start")).contains("already running"));
    wait_for(
        || {
            std::fs::read_to_string(&log)
                .is_ok_and(|l| l.contains(&format!("pid={pid} name=memdog")))
        },
        "samples of the daemon itself",
    );
    assert!(script(&t, "reload").status.success());
    wait_for(
        || {
            std::fs::read_to_string(&log)
                .unwrap()
                .contains("event=reload status=ok")
        },
        "the reload",
    );
    let o = script(&t, "stop");
    assert!(stdout(&o).contains("memdog: stopped"), "{}", stdout(&o));
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the daemon is gone"
    );
    let o = script(&t, "status");
    assert_eq!(o.status.code(), Some(3));
    // a bad config never starts a daemon
    std::fs::write(t.join("memdog.conf"), "bogus = 1\n").unwrap();
    let o = script(&t, "start");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("memdog.conf:1: unknown global key"),
        "{}",
        stderr(&o)
    );
}

/// Seen on the armv7 board (tests/board) with the daemonize crash: the
/// daemon died after creating its pidfile and left it empty, busybox's
/// `kill -0 ""` succeeds, so `status` said "running (pid )" and `start`
/// refused to start. Run by busybox sh, the boards' shell, and by sh.
#[test]
fn sysv_script_an_empty_or_garbled_pidfile_is_no_running_daemon() {
    for shell in ["busybox", "sh"] {
        let t = TempDir::new("sysv-pidfile");
        std::fs::write(t.join("memdog.conf"), "interval = 1s\nlog = -\n[system]\n").unwrap();
        for content in ["", "\n", "x1\n", "12 34\n"] {
            std::fs::write(t.join("memdog.pid"), content).unwrap();
            let mut c = Command::new(shell);
            if shell == "busybox" {
                c.arg("sh");
            }
            let o = run_bounded(
                c.arg(repo("board-configs/init/S99memdog"))
                    .arg("status")
                    .env("MEMDOG", bin())
                    .env("CONF", t.join("memdog.conf"))
                    .env("PIDFILE", t.join("memdog.pid")),
            );
            assert_eq!(
                o.status.code(),
                Some(3),
                "{shell}, pidfile {content:?}: {}",
                stdout(&o)
            );
            assert_eq!(
                stdout(&o),
                "memdog: stopped\n",
                "{shell}, pidfile {content:?}"
            );
        }
    }
}

#[test]
fn scripts_parse_and_the_unit_verifies_where_possible() {
    for s in [
        "board-configs/init/S99memdog",
        "board-configs/init/memdog.procd",
    ] {
        let st = Command::new("sh").arg("-n").arg(repo(s)).status().unwrap();
        assert!(st.success(), "{s} has a shell syntax error");
    }
    let unit = std::fs::read_to_string(repo("board-configs/init/memdog.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/bin/memdog run -c /etc/memdog.conf")
            && unit.contains("Restart=always")
    );
    // verify a copy that points at this build instead of /usr/bin/memdog
    let t = TempDir::new("unit");
    let copy = t.join("memdog.service");
    let local = unit
        .replace("/usr/bin/memdog", bin().to_str().unwrap())
        .replace(
            "/etc/memdog.conf",
            repo("board-configs/default.conf").to_str().unwrap(),
        );
    std::fs::write(&copy, local).unwrap();
    match Command::new("systemd-analyze")
        .args(["verify"])
        .arg(&copy)
        .output()
    {
        Ok(o) => assert!(
            o.status.success() && o.stderr.is_empty(),
            "systemd-analyze verify: {}{}",
            stdout(&o),
            stderr(&o)
        ),
        Err(_) => eprintln!("note: systemd-analyze not installed; unit checked by content only"),
    }
}

/// The Buildroot and OpenWrt recipes install files that `make dist` packs.
#[test]
fn packaging_recipes_name_files_the_tarball_has() {
    let packed = |p: &str| p == "memdog" || repo(p).exists();
    for (file, prefix) in [
        ("cross/buildroot/memdog.mk", "$(@D)/"),
        ("cross/openwrt/Makefile", "$(PKG_BUILD_DIR)/"),
    ] {
        let text = std::fs::read_to_string(repo(file)).unwrap();
        let mut n = 0;
        for w in text
            .split_whitespace()
            .filter_map(|w| w.strip_prefix(prefix))
        {
            assert!(
                packed(w),
                "{file} installs {w}, which the dist tarball does not have"
            );
            n += 1;
        }
        assert!(n >= 3, "{file}: {n} installed files");
    }
}

#[test]
fn every_board_config_is_valid() {
    let mut n = 0;
    for e in std::fs::read_dir(repo("board-configs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "conf") {
            let o = memdog(&["check", p.to_str().unwrap()]);
            assert!(o.status.success(), "{}: {}", p.display(), stderr(&o));
            n += 1;
        }
    }
    assert!(n >= 4, "default + 3 board profiles");
}
