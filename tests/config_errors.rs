//! `memdog check` (and so `run`) refuses every config that could never do
//! what it says: one test per case of issue 13, each run through the built
//! binary, each asserting exit 2 and one line naming the file, the line and
//! the cause. And the command-line messages the issue listed.

mod common;
use common::*;

/// Write `text` as a config, run `check` on it: (exit code, stderr).
fn check(name: &str, text: &[u8]) -> (Option<i32>, String) {
    let t = TempDir::new(name);
    let p = t.join("c.conf");
    std::fs::write(&p, text).unwrap();
    let o = memdog(&["check", p.to_str().unwrap()]);
    let err = stderr(&o);
    (o.status.code(), err.replace(p.to_str().unwrap(), "C"))
}

fn refused(name: &str, text: &str, want: &str) {
    let (code, err) = check(name, text.as_bytes());
    assert_eq!(code, Some(2), "{name}: accepted\n{text}");
    assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
    assert!(err.contains(want), "{name}: {err}");
    assert!(
        !err.contains(":0:") && !err.contains(": ''"),
        "{name}: {err}"
    );
}

#[test]
fn a_meminfo_key_the_kernel_does_not_have_is_refused() {
    refused(
        "typo",
        "[system]\nwarn = MemAvailabel < 99%\n",
        "C:2: not a /proc/meminfo key",
    );
    // a process field in [system], a meminfo key in a target: the wrong kind
    refused(
        "kind1",
        "[system]\nwarn = VmRSS > 100\n",
        "not a /proc/meminfo key",
    );
    refused(
        "kind2",
        "[target a]\nname = x\nwarn = MemFree < 100\n",
        "unknown field",
    );
    let (code, _) = check(
        "good",
        b"[system]\nwarn = MemAvailable < 10%\ncrit = Committed_AS > 900000\n",
    );
    assert_eq!(code, Some(0));
}

#[test]
fn a_slope_window_too_short_for_the_interval_is_refused() {
    refused(
        "window",
        "interval = 10m\n[target a]\nname = x\nwarn = VmRSS slope > 5/h over 1h\n",
        "it must hold 8 samples",
    );
    let (code, _) = check(
        "window-ok",
        b"interval = 10m\n[target a]\nname = x\nwarn = VmRSS slope > 5/h over 70m\n",
    );
    assert_eq!(code, Some(0), "7 intervals hold 8 samples");
}

#[test]
fn a_slope_per_day_keeps_its_precision() {
    let t = TempDir::new("perday");
    let p = t.join("c.conf");
    std::fs::write(
        &p,
        "[target a]\nname = x\nwarn = VmRSS slope > 20/d over 2d\n",
    )
    .unwrap();
    let o = memdog(&["check", p.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(
        stdout(&o).contains("VmRSS slope > 0.83kB/h"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn actions_without_what_they_need_are_refused() {
    refused(
        "wd",
        "on_crit = log, watchdog\n[system]\nwarn = MemFree < 5%\n",
        "watchdog_device",
    );
    refused(
        "dumpdir",
        "dump_dir = /nonexistent-memdog-dir\n[target a]\nname = x\non_crit = dump\n",
        "dump_dir to be an existing directory",
    );
    refused(
        "execdump",
        "[target a]\nname = x\non_warn = exec /bin/false, dump\n",
        "exec takes the rest of the line",
    );
    // an exec's argument may hold a `#` and a comma that is not an action
    let (code, _) = check(
        "exec-ok",
        b"[target a]\nname = x\nwarn = VmRSS > 1\non_warn = exec /usr/bin/logger -t memdog#1 a, b  # comment\n",
    );
    assert_eq!(code, Some(0));
}

#[test]
fn what_cannot_be_meant_is_refused() {
    refused(
        "pct",
        "[target a]\nname = x\nwarn = Threads > 5%\n",
        "a count, not kB",
    );
    refused("below0", "[system]\nwarn = MemFree < 0\n", "never fire");
    refused(
        "above100",
        "[system]\nwarn = MemFree > 100%\n",
        "never fire",
    );
    refused(
        "dupkey",
        "interval = 1s\ninterval = 2s\n[system]\nwarn = MemFree < 5%\n",
        "set twice",
    );
    refused(
        "duplabel",
        "[target a]\nname = x\n[target a]\nname = y\n",
        "two sections with this label",
    );
    refused("dupsys", "[system]\n[system]\n", "[system] appears twice");
    refused(
        "dupact",
        "[target a]\nname = x\non_warn = log\non_warn = log\n",
        "set twice in this section",
    );
    refused("fields", "fields = ,\n[system]\n", "at least one field");
    refused("cooldown", "cooldown = 500ms\n[system]\n", "whole seconds");
    refused("logsize", "log_size = 4T\n[system]\n", "from 1k to 1G");
}

#[test]
fn a_byte_order_mark_is_not_an_unknown_key() {
    let (code, err) = check(
        "bom",
        b"\xef\xbb\xbf# saved by an editor\n[system]\nwarn = MemFree < 5%\n",
    );
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn command_line_words_and_messages() {
    // one size rule for --log-size and log_size
    let o = memdog(&["watch", "--pid", "self", "--log-size", "4T"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("from 1k to 1G") && stderr(&o).contains("'4T'"),
        "{}",
        stderr(&o)
    );
    let t = TempDir::new("cli1k");
    let log = t.join("l");
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--count",
        "1",
        "--log-size",
        "1k",
        "--log",
        log.to_str().unwrap(),
    ]);
    assert!(
        o.status.success(),
        "1k is the minimum for both: {}",
        stderr(&o)
    );
    // SUBCOMMAND --help is help, exit 0
    for sub in [
        "watch", "run", "check", "dump", "maps", "snapshot", "report", "log",
    ] {
        let o = memdog(&[sub, "--help"]);
        assert!(o.status.success(), "{sub} --help: {}", stderr(&o));
        assert!(stdout(&o).contains("USAGE"), "{sub}");
    }
    // an error without an argument has no empty quotes
    let o = memdog(&["maps"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("''"), "{}", stderr(&o));
}
