//! The log on disk: rotation within its budget, whole lines, continuous
//! sequence across files; a full disk loses lines, never the sampling.

mod common;
use common::*;
use std::process::Command;

fn seqs(text: &str) -> Vec<u64> {
    lines(text)
        .iter()
        .map(|l| l["seq"].parse().unwrap())
        .collect()
}

#[test]
fn rotation_keeps_the_budget_whole_lines_and_a_continuous_sequence() {
    let t = TempDir::new("rotate");
    let log = t.join("memdog.log");
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--interval",
        "1ms",
        "--count",
        "700",
        "--log",
        log.to_str().unwrap(),
        "--log-size",
        "4k",
        "--log-files",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let names = ["memdog.log.2", "memdog.log.1", "memdog.log"];
    let mut total = 0;
    let mut all = String::new();
    for n in names {
        let text = std::fs::read_to_string(t.join(n)).unwrap_or_else(|_| panic!("{n} exists"));
        assert!(text.len() <= 4096, "{n} is {} bytes", text.len());
        assert!(text.ends_with('\n'), "{n} ends in a newline");
        lines(&text); // every line parses: none was split
        total += text.len();
        all.push_str(&text);
    }
    assert!(!t.join("memdog.log.3").exists(), "only log_files files");
    assert!(total <= 3 * 4096);
    let s = seqs(&all);
    // what is kept is at most a tenth of what was written: >= 10x the budget went through
    let kept_ticks = s.last().unwrap() - s.first().unwrap() + 1;
    assert!(kept_ticks * 10 <= 700, "kept {kept_ticks} of 700 samples");
    assert!(
        s.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1),
        "continuous across files: {s:?}"
    );
    assert_eq!(*s.last().unwrap(), 700);
}

#[test]
fn dev_full_drops_lines_but_not_samples() {
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--interval",
        "1ms",
        "--count",
        "50",
        "--log",
        "/dev/full",
    ]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("no space left on device"),
        "{}",
        stderr(&o)
    );
}

/// A 64 KiB tmpfs filled up, then freed: sampling never stops and the
/// dropped-line count is exact.
#[test]
fn full_disk_then_space_again() {
    let t = TempDir::new("enospc");
    let mnt = t.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let ok = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=64k",
            "tmpfs",
            mnt.to_str().unwrap(),
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: cannot mount a tmpfs here (not root?); skipped");
        return;
    }
    let _u = Umount(mnt.clone());
    let log = mnt.join("memdog.log");
    std::fs::write(&log, "").unwrap();
    // fill the file system
    let filler = mnt.join("filler");
    let _ = std::fs::write(&filler, vec![b'x'; 128 * 1024]);
    let mut md = Command::new(bin())
        .args([
            "watch",
            "--pid",
            "self",
            "--interval",
            "20ms",
            "--fields",
            "VmRSS",
            "--log",
            log.to_str().unwrap(),
            "--log-size",
            "1M",
        ])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let before = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&filler).unwrap();
    wait_for(
        || {
            std::fs::read_to_string(&log)
                .unwrap()
                .contains("event=dropped")
        },
        "the dropped notice",
    );
    wait_for(
        || std::fs::read_to_string(&log).unwrap().lines().count() > before.lines().count() + 6,
        "more samples",
    );
    unsafe { kill(md.id() as i32, 15) };
    assert!(md.wait().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    let ls = lines(&text);
    let notice = ls
        .iter()
        .position(|l| l.get("event").map(String::as_str) == Some("dropped"))
        .unwrap();
    let s: u64 = ls[notice]["seq"].parse().unwrap();
    let n: u64 = ls[notice]["lines"].parse().unwrap();
    assert!(n > 0);
    // every tick before the notice made 2 lines (sample + meminfo), the first one a start event too
    let made = 2 * (s - 1) + 1;
    let kept = ls[..notice].len() as u64;
    assert_eq!(
        kept + n,
        made,
        "dropped count exact: kept {kept} + dropped {n} = made {made}"
    );
    // sampling never stopped: every seq from the notice on is there
    let after = seqs(
        text[text.find("event=dropped").unwrap()..]
            .split_once('\n')
            .unwrap()
            .1,
    );
    assert!(after.windows(2).all(|w| w[1] <= w[0] + 1));
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

/// A log whose end was lost to a reset (no newline, or zero bytes where
/// unsynced lines were): memdog's first line after it starts on a line of
/// its own, never glued to the damage.
#[test]
fn a_log_cut_by_a_reset_gets_a_newline_before_new_lines() {
    let t = TempDir::new("cutlog");
    let log = t.join("memdog.log");
    for tail in [
        &b"2026-12-01T10:00:00Z up=5.0 seq=3 pid=1 name=x VmRSS=12"[..],
        b"ok line\n\0\0\0\0",
    ] {
        std::fs::write(&log, tail).unwrap();
        let o = memdog(&[
            "watch",
            "--pid",
            "self",
            "--count",
            "1",
            "--log",
            log.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{o:?}");
        let text = std::fs::read(&log).unwrap();
        assert!(
            text.starts_with(tail),
            "the old bytes are kept as they were"
        );
        let rest = &text[tail.len()..];
        assert_eq!(
            rest.first(),
            Some(&b'\n'),
            "a newline ends the damaged line"
        );
        let rest = String::from_utf8_lossy(&rest[1..]);
        assert!(
            rest.starts_with("20") && rest.contains("event=start"),
            "{rest}"
        );
        assert!(rest.lines().all(|l| l.contains(" seq=1 ")), "{rest}");
    }
}
