//! `memdog report` regressions: each case of issue 15's "Why" with the
//! verdict it must give; generated logs with a known leak slope, restarts
//! and noise; the shell loop's proc_memlog.txt; bounded memory whatever the
//! length. (The random-world oracle and the permutation property are in
//! tests/report_model.rs.)

mod common;
use common::*;
use std::fmt::Write;
use std::path::Path;
use std::process::Command;

fn iso(t: u64) -> String {
    let (days, sod) = (t / 86_400, t % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// 2026-11-24T10:00:00Z
const T0: u64 = 1_795_514_400;

/// A memdog log: `days` days at 10 min, VmRSS 8000 kB + `rate` kB/h (+-2 %
/// noise), restarted every 7 days (back to 8000), with a warn event.
fn synthetic(days: u64, rate: f64) -> String {
    let mut s = String::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut pid = 100;
    let mut born = 0;
    for i in 0..days * 144 {
        let t = i * 600;
        if t - born >= 7 * 86_400 {
            born = t;
            pid += 1;
            writeln!(
                s,
                "{} up={t}.0 seq={i} event=exit pid={} name=app start=1 reason=gone",
                iso(T0 + t),
                pid - 1
            )
            .unwrap();
        }
        if i == 0 || t == born {
            writeln!(
                s,
                "{} up={t}.0 seq={i} event=start pid={pid} name=app start={t}",
                iso(T0 + t)
            )
            .unwrap();
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let noise = (x % 400) as f64 / 10_000.0 - 0.02;
        let rss = ((8000.0 + rate * (t - born) as f64 / 3600.0) * (1.0 + noise)) as u64;
        writeln!(
            s,
            "{} up={t}.0 seq={i} pid={pid} name=app VmSize={} VmRSS={rss} heap={}",
            iso(T0 + t),
            rss + 4000,
            rss / 2
        )
        .unwrap();
        writeln!(
            s,
            "{} up={t}.0 seq={i} meminfo MemTotal=262144 MemFree=100000 MemAvailable=150000",
            iso(T0 + t)
        )
        .unwrap();
        if i == 300 {
            writeln!(s, "{} up={t}.0 seq={i} event=warn pid={pid} name=app field=VmRSS value={rss} limit=30000 rule=app/1", iso(T0 + t)).unwrap();
        }
    }
    s
}

/// The verdict line of target `name` (the block `== name ...`).
fn block<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .split("\n== ")
        .skip(1)
        .find(|b| b.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("no target {name} in\n{report}"))
}

fn verdict<'a>(report: &'a str, name: &str) -> &'a str {
    block(report, name)
        .lines()
        .find_map(|l| l.trim().strip_prefix("verdict: "))
        .unwrap()
}

fn slope_of(report: &str, target: &str) -> f64 {
    let line = block(report, target)
        .lines()
        .find(|l| l.trim_start().starts_with("VmRSS "))
        .unwrap();
    line.split("slope_kb_h=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn report(args: &[&Path]) -> std::process::Output {
    let mut a = vec!["report"];
    a.extend(args.iter().map(|p| p.to_str().unwrap()));
    memdog(&a)
}

fn maxrss_kb(args: &[&str]) -> (String, u64) {
    let b = bin();
    let mut full = vec!["-f", "maxrss=%M", b.to_str().unwrap()];
    full.extend_from_slice(args);
    let o = run_bounded(Command::new("/usr/bin/time").args(&full));
    assert!(o.status.success(), "{}", stderr(&o));
    let kb = stderr(&o)
        .lines()
        .last()
        .unwrap()
        .strip_prefix("maxrss=")
        .unwrap()
        .parse()
        .unwrap();
    (stdout(&o), kb)
}

#[test]
fn thirty_days_slope_within_5_percent_in_fixed_memory() {
    let t = TempDir::new("report");
    let day1 = t.join("day1.log");
    let month = t.join("month.log");
    std::fs::write(&day1, synthetic(1, 412.0)).unwrap();
    std::fs::write(&month, synthetic(30, 412.0)).unwrap();
    // the same work on both (the SVG too), so only the log's length differs
    let report = |log: &Path, svg: &Path| {
        maxrss_kb(&[
            "report",
            log.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
        ])
    };
    let svg = t.join("r.svg");
    let (r30, m30) = report(&month, &svg);
    let (r1, m1) = report(&day1, &t.join("r1.svg"));
    let s = slope_of(&r30, "app");
    assert!(
        (s - 412.0).abs() <= 412.0 * 0.05,
        "slope {s} vs 412 kB/h\n{r30}"
    );
    assert!(
        block(&r30, "app").contains("restarts=4 lives=5 boots=1"),
        "{r30}"
    );
    assert!(
        verdict(&r30, "app").starts_with("leak likely: VmRSS +4"),
        "{r30}"
    );
    assert_eq!(verdict(&r30, "system"), "no growth");
    assert!((slope_of(&r1, "app") - 412.0).abs() <= 412.0 * 0.05);
    eprintln!("report maxrss: 1 day {m1} kB, 30 days {m30} kB");
    // maxrss of this debug build swings by up to ~300 kB between identical
    // runs; memory that grew with the log would add about the log's size
    let month_bytes = std::fs::metadata(&month).unwrap().len() / 1024;
    assert!(month_bytes > 512, "{month_bytes} kB");
    assert!(
        m30 <= m1 + 512,
        "memory must not grow with the log: {m1} vs {m30} kB for a {month_bytes} kB log"
    );
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("warn 30000") && svg.contains(">start<") && svg.contains("<polyline"));
}

/// Why #1: a leaking python3 and a flat python3 in one log (and a handful of
/// short-lived `sh`) are separate lives, not 49 restarts of one flat target.
#[test]
fn same_named_processes_are_separate_lives() {
    let t = TempDir::new("samename");
    let mut s = String::new();
    writeln!(
        s,
        "{} up=100.0 seq=1 event=start pid=500 name=python3 start=9000",
        iso(T0)
    )
    .unwrap();
    writeln!(
        s,
        "{} up=100.0 seq=1 event=start pid=501 name=python3 start=9001",
        iso(T0)
    )
    .unwrap();
    let mut sh = 900;
    for i in 0..200u64 {
        let (t, up) = (T0 + i * 600, 100 + i * 600);
        // memdog writes a name target's processes in pid order
        writeln!(
            s,
            "{} up={up}.0 seq={} pid=500 name=python3 VmRSS={}",
            iso(t),
            i + 1,
            20_000 + i * 20
        )
        .unwrap();
        writeln!(
            s,
            "{} up={up}.0 seq={} pid=501 name=python3 VmRSS={}",
            iso(t),
            i + 1,
            30_000 + (i % 3) * 10
        )
        .unwrap();
        if i % 10 == 0 {
            sh += 1;
            writeln!(
                s,
                "{} up={up}.0 seq={} event=start pid={sh} name=sh start={up}",
                iso(t),
                i + 1
            )
            .unwrap();
        }
        writeln!(
            s,
            "{} up={up}.0 seq={} pid={sh} name=sh VmRSS=300",
            iso(t),
            i + 1
        )
        .unwrap();
    }
    let f = t.join("memdog.log");
    std::fs::write(&f, s).unwrap();
    let o = report(&[&f]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        block(&out, "python3").contains("restarts=0 lives=2"),
        "{out}"
    );
    // +20 kB per 10 min = +120 kB/h, on pid 500 alone
    assert_eq!(
        verdict(&out, "python3"),
        "leak likely: VmRSS +120 kB/h over 33 h, R^2=1.00 (the life of pid 500)",
        "{out}"
    );
    assert!(block(&out, "sh").contains("restarts=19 lives=20"), "{out}");
    assert_eq!(verdict(&out, "sh"), "no growth");
    // the leak ranks first
    assert!(
        out.lines().nth(2).unwrap().starts_with("leak")
            && out.lines().nth(2).unwrap().ends_with("python3"),
        "{out}"
    );
}

/// Two weeks of a 120 kB/h leak, rotated into memdog.log .1 .2 .3
fn rotated(t: &TempDir) -> Vec<std::path::PathBuf> {
    let log = synthetic(14, 120.0).replace("restart", "");
    let lines: Vec<&str> = log.lines().collect();
    let n = lines.len();
    let mut paths = vec![];
    for (k, part) in lines.chunks(n.div_ceil(4)).enumerate() {
        // oldest is .3
        let name = match 3 - k {
            0 => "memdog.log".to_string(),
            r => format!("memdog.log.{r}"),
        };
        let p = t.join(&name);
        std::fs::write(&p, part.join("\n") + "\n").unwrap();
        paths.push(p);
    }
    paths.reverse(); // the glob's order: memdog.log memdog.log.1 .2 .3
    paths
}

/// Why #2: the README's `memdog.log*` glob order (newest first), a file given
/// twice, a file of the `.3 .2 .1 log` recipe that does not exist.
#[test]
fn file_order_duplicates_and_missing_files_do_not_change_the_verdict() {
    let t = TempDir::new("glob");
    let glob = rotated(&t);
    let refs: Vec<&Path> = glob.iter().map(|p| p.as_path()).collect();
    let o = report(&refs);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    // 7-day lives: the leak shows in each life and pooled; restarts are not growth
    assert!(
        verdict(&out, "app").starts_with("leak likely: VmRSS +12"),
        "{out}"
    );
    assert!(verdict(&out, "app").contains("over 335 h"), "{out}");
    assert!(block(&out, "app").contains("restarts=1 lives=2"), "{out}");
    // oldest first, a duplicate, and a .4 that is not there: the same report
    let mut other: Vec<&Path> = refs.iter().rev().copied().collect();
    other.push(refs[1]);
    let copy = t.join("copy-of-memdog.log.1");
    std::fs::copy(refs[1], &copy).unwrap();
    other.push(&copy);
    let missing = t.join("memdog.log.4");
    other.insert(0, &missing);
    let svg = t.join("r.svg");
    let mut args = vec!["report", "--svg", svg.to_str().unwrap()];
    args.extend(other.iter().map(|p| p.to_str().unwrap()));
    let o2 = memdog(&args);
    assert_eq!(stdout(&o2), out);
    assert_eq!(o2.status.code(), Some(0));
    let err = stderr(&o2);
    assert!(
        err.contains("skipping ")
            && err.contains("memdog.log.4: ")
            && err.contains("no such file or directory"),
        "{err}"
    );
    assert!(err.contains("duplicate lines"), "{err}");
    // the chart's time axis is the whole two weeks, in wall time
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(
        svg.contains("2026-11-24T10:00:00Z") && svg.contains("(335.8 h)"),
        "{svg}"
    );
}

/// Why #3: a log spanning a reboot: two boots side by side on the wall
/// clock, not overlaid on uptime; the CSV keeps both times, boots in order.
#[test]
fn a_reboot_is_two_boots_on_the_wall_clock() {
    let t = TempDir::new("reboot");
    let mut s = String::new();
    for boot in 0..2u64 {
        // boot 2 starts a week after boot 1
        let epoch = T0 + boot * 7 * 86_400;
        writeln!(
            s,
            "{} up=30.0 seq=1 event=start pid=812 name=hostapd start=2900",
            iso(epoch + 30)
        )
        .unwrap();
        for i in 0..(7 * 144 - 1) {
            let up = 30 + i * 600;
            writeln!(
                s,
                "{} up={up}.0 seq={} pid=812 name=hostapd VmRSS={}",
                iso(epoch + up),
                i + 1,
                5000 + i * 10
            )
            .unwrap();
        }
    }
    let f = t.join("memdog.log");
    std::fs::write(&f, &s).unwrap();
    let csv = t.join("r.csv");
    let o = memdog(&[
        "report",
        f.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let out = stdout(&o);
    assert!(
        block(&out, "hostapd").contains("restarts=0 lives=2 boots=2"),
        "{out}"
    );
    assert!(
        out.starts_with("memdog report: hosts=1 targets=1 lives=2 boots=2"),
        "{out}"
    );
    // +10 kB per 10 min in each boot, over the 2 weeks of wall time
    assert_eq!(
        verdict(&out, "hostapd"),
        "leak likely: VmRSS +60 kB/h over 335 h, R^2=1.00",
        "{out}"
    );
    let csv = std::fs::read_to_string(&csv).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("host,target,boot,wall,up_s,samples,min_kb,mean_kb,max_kb")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() > 100);
    assert!(
        rows.windows(2)
            .all(|w| w[0][3] < w[1][3] && w[0][2] <= w[1][2]),
        "wall time and boot only grow:\n{csv}"
    );
    assert!(
        rows.iter().any(|r| r[2] == "2") && rows.first().unwrap()[4] == "30.0",
        "{csv}"
    );
}

/// Why #4: a log pulled while memdog writes: the torn last line is skipped
/// and counted, never a sample (`VmRSS=3` of `VmRSS=3412`).
#[test]
fn a_torn_last_line_is_skipped_and_counted() {
    let t = TempDir::new("torn");
    let mut s = String::new();
    for i in 0..48u64 {
        writeln!(
            s,
            "{} up={}.0 seq={} pid=7 name=app VmRSS={}",
            iso(T0 + i * 3600),
            10 + i * 3600,
            i + 1,
            3412 + i * 100
        )
        .unwrap();
    }
    // a field cut short mid-file (a syslog relay's cut), garbage, and the torn tail
    s.push_str(&format!(
        "{} up=999999.0 seq=49 pid=7 name=app VmRSS=\n",
        iso(T0 + 999_999)
    ));
    s.push_str("\u{1}\u{2}%%garbage%%\n");
    s.push_str(&format!(
        "{} up={}.0 seq=49 pid=7 name=app VmRSS=3",
        iso(T0 + 48 * 3600),
        10 + 48 * 3600
    ));
    let f = t.join("memdog.log");
    std::fs::write(&f, &s).unwrap();
    let out = stdout(&report(&[&f]));
    assert!(
        out.starts_with("memdog report: hosts=1 targets=1 lives=1 boots=1 lines=48 skipped=3\n"),
        "{out}"
    );
    assert_eq!(
        verdict(&out, "app"),
        "leak likely: VmRSS +100 kB/h over 47 h, R^2=1.00",
        "{out}"
    );
    assert!(block(&out, "app").contains("min=3412"), "{out}");
}

fn memlog(dated: bool, base: u64, rate: u64) -> String {
    let mut s = String::new();
    for h in 0..48u64 {
        if dated {
            writeln!(s, "2026-11-{:02}-{:02}:00:00", 1 + h / 24, h % 24).unwrap();
        }
        // the README loop's `grep -E 'VmRSS|VmSize'`: VmSize comes first in status
        writeln!(s, "VmSize:\t   {} kB", 20000 + h * rate).unwrap();
        writeln!(s, "VmRSS:\t    {} kB", base + h * rate).unwrap();
        if dated {
            writeln!(s).unwrap();
        }
    }
    s
}

/// Why #5: proc_memlog before a memdog log, two proc_memlog files (one per
/// pid), and the README's own loop (no date lines): every one is a target.
#[test]
fn reads_the_shell_loops_proc_memlog_and_stdin() {
    let t = TempDir::new("memlog");
    let a = t.join("proc_memlog.txt");
    let b = t.join("proc_memlog_2.txt");
    let undated = t.join("undated.txt");
    let log = t.join("memdog.log");
    std::fs::write(&a, memlog(true, 5000, 100)).unwrap();
    std::fs::write(&b, memlog(true, 9000, 0)).unwrap();
    std::fs::write(&undated, memlog(false, 5000, 50)).unwrap();
    std::fs::write(&log, synthetic(1, 412.0)).unwrap();
    let o = report(&[&a, &b, &undated, &log]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    let (an, bn, un) = (
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        undated.to_str().unwrap(),
    );
    assert_eq!(
        verdict(&out, an),
        "leak likely: VmRSS +100 kB/h over 47 h, R^2=1.00",
        "{out}"
    );
    assert_eq!(verdict(&out, bn), "no growth", "{out}");
    assert!(
        verdict(&out, "app").starts_with("leak likely: VmRSS +4"),
        "{out}"
    );
    // no times in the file: one sample per 10 min assumed, and said so
    assert!(block(&out, un).contains("times=assumed-600s"), "{out}");
    assert_eq!(
        verdict(&out, un),
        "leak likely: VmRSS +300 kB/h over 7 h, R^2=1.00",
        "{out}"
    );
    // a file on stdin, redirected or piped
    let alone = stdout(&report(&[&a]));
    let o = Command::new(bin())
        .args(["report", "-"])
        .stdin(std::fs::File::open(&a).unwrap())
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o)
            .replace("== - ", &format!("== {an} "))
            .replace(" -\n", &format!(" {an}\n")),
        alone
    );
    let mut child = Command::new(bin())
        .args(["report", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        synthetic(1, 412.0).as_bytes(),
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        verdict(&stdout(&o), "app").starts_with("leak likely: VmRSS +4"),
        "{}",
        stdout(&o)
    );
}

/// Why #6: what `--syslog` and `--syslog-remote` produce once stored:
/// busybox `logread` output and per-host RFC 3164 files, with and without
/// <PRI>, and RFC 5424: the same verdict as memdog's own log.
#[test]
fn syslog_copies_give_the_same_verdict() {
    let t = TempDir::new("syslog");
    let plain = synthetic(2, 412.0);
    let own = t.join("memdog.log");
    std::fs::write(&own, &plain).unwrap();
    let want = stdout(&report(&[&own]));
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let wrap = |how: u32| -> String {
        let mut s = String::new();
        for l in plain.lines() {
            let (ts, msg) = l.split_once(' ').unwrap();
            let (mo, d, hms) = (&ts[5..7], &ts[8..10], &ts[11..19]);
            let mon = MON[mo.parse::<usize>().unwrap() - 1];
            let d: u32 = d.parse().unwrap();
            let line = match how {
                0 => format!("Tue {mon} {d:2} {hms} 2026 daemon.info memdog[812]: {msg}"),
                1 => format!("{mon} {d:2} {hms} router7 memdog[812]: {msg}"),
                2 => format!("<30>{mon} {d:2} {hms} router7 memdog[812]: {msg}"),
                3 => format!("<30>1 {ts} router7 memdog 812 - - {msg}"),
                // rsyslog's RSYSLOG_FileFormat: RFC 3339 stamps with a zone offset
                5 => format!("{}.123456+00:00 router7 memdog[812]: {msg}", &ts[..19]),
                _ => format!("{mon} {d:2} {hms} memdog[812]: {msg}"),
            };
            s.push_str(&line);
            s.push('\n');
            // other programs share the file
            s.push_str(&format!(
                "{mon} {d:2} {hms} router7 dnsmasq[99]: query[A] example.com\n"
            ));
        }
        s
    };
    for how in 0..6 {
        let f = t.join(&format!("syslog{how}"));
        std::fs::write(&f, wrap(how)).unwrap();
        let o = report(&[&f]);
        let out = stdout(&o);
        assert!(o.status.success(), "format {how}: {}", stderr(&o));
        let with_host = how != 0 && how != 4;
        if with_host {
            assert!(block(&out, "app").contains("host=router7"), "{out}");
        }
        assert_eq!(
            verdict(&out, "app"),
            verdict(&want, "app"),
            "format {how}\n{out}"
        );
        assert_eq!(
            block(&out, "app").replace(" host=router7", ""),
            block(&want, "app"),
            "format {how}"
        );
    }
    // a syslog copy of the same host next to memdog's own log: lines, not doubled
    let f = t.join("syslog0");
    let o = report(&[&own, &f]);
    assert_eq!(stdout(&o), want);
}

/// Why #7: usage: `--target` repeatable; an unknown target or no memdog lines
/// is a message on stderr and exit 1; names escaped once; the overflow line
/// names the dropped targets; a one-bin SVG is drawn sanely.
#[test]
fn usage_messages_escaping_overflow_and_one_bin_svg() {
    let t = TempDir::new("usage");
    let f = t.join("memdog.log");
    let mut s = synthetic(1, 412.0);
    writeln!(
        s,
        "{} up=1.0 seq=1 pid=9 name=\"a\\nb=c \\\"x\\\"\" VmRSS=1",
        iso(T0)
    )
    .unwrap();
    std::fs::write(&f, &s).unwrap();
    let fs = f.to_str().unwrap();
    let o = memdog(&["report", fs, "--target", "nosuch"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            r#"no target nosuch in the logs (targets: "a\nb=c \"x\"", app, system; give"#
        ),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
    let o = memdog(&["report", fs, "--target", "app", "--target", "system"]);
    let out = stdout(&o);
    assert!(
        o.status.success() && out.contains("== app ") && out.contains("== system "),
        "{out}"
    );
    assert!(!out.contains("== \"a"), "{out}");
    // escaped once, as in the log
    let out = stdout(&memdog(&["report", fs]));
    assert!(
        out.contains("\n== \"a\\nb=c \\\"x\\\"\" restarts=0"),
        "{out}"
    );
    let empty = t.join("empty.log");
    std::fs::write(&empty, "hello\n").unwrap();
    let o = memdog(&["report", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no memdog lines in the input"),
        "{}",
        stderr(&o)
    );
    assert_eq!(memdog(&["report"]).status.code(), Some(2));
    assert_eq!(
        memdog(&["report", "/nonexistent.log"]).status.code(),
        Some(1)
    );
    // more targets than the table holds: the overflow line names them
    let mut s = String::new();
    for i in 0..1030u64 {
        writeln!(
            s,
            "{} up={}.0 seq={} pid={} name=p{i:04} VmRSS=1",
            iso(T0 + i),
            i + 1,
            i + 1,
            i + 2
        )
        .unwrap();
    }
    let many = t.join("many.log");
    std::fs::write(&many, s).unwrap();
    let out = stdout(&memdog(&["report", many.to_str().unwrap()]));
    assert!(out.contains("(more targets than the report holds (1024); not reported: p1024, p1025, p1026, p1027, p1028, p1029; use --target NAME)"), "{}", out.lines().last().unwrap());
    let out = stdout(&memdog(&[
        "report",
        many.to_str().unwrap(),
        "--target",
        "p1029",
    ]));
    assert!(
        out.contains("== p1029 ") && !out.contains("more targets"),
        "{out}"
    );
    // one sample: one bin, a dot and a bar, one time label, no empty band
    let one = t.join("one.log");
    std::fs::write(
        &one,
        format!("{} up=5.0 seq=1 pid=3 name=solo VmRSS=1234\n", iso(T0)),
    )
    .unwrap();
    let svg = t.join("one.svg");
    let o = memdog(&[
        "report",
        one.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(
        svg.contains("<circle") && !svg.contains("<polygon") && !svg.contains(" h)</text>"),
        "{svg}"
    );
    assert_eq!(svg.matches("2026-11-24T10:00:00Z").count(), 1, "{svg}");
}

/// Memdog restarting (agent-start) or reloading re-logs `start` for the same
/// processes: not a target restart.
#[test]
fn memdog_restarts_and_reloads_are_not_target_restarts() {
    let t = TempDir::new("agent");
    let mut s = String::new();
    let mut seq = 0;
    for i in 0..100u64 {
        let up = 50 + i * 600;
        seq += 1;
        if i % 25 == 0 {
            seq = 1;
            writeln!(
                s,
                "{} up={up}.0 seq={seq} event=agent-start version=0.1.0 mode=run agent_pid={}",
                iso(T0 + up),
                900 + i
            )
            .unwrap();
            writeln!(
                s,
                "{} up={up}.0 seq={seq} event=start pid=77 name=app start=400",
                iso(T0 + up)
            )
            .unwrap();
        }
        if i % 30 == 7 {
            writeln!(
                s,
                "{} up={up}.0 seq={seq} event=reload status=ok",
                iso(T0 + up)
            )
            .unwrap();
        }
        writeln!(
            s,
            "{} up={up}.0 seq={seq} pid=77 name=app VmRSS={}",
            iso(T0 + up),
            4000 + i
        )
        .unwrap();
    }
    let f = t.join("memdog.log");
    std::fs::write(&f, s).unwrap();
    let out = stdout(&report(&[&f]));
    assert!(
        block(&out, "app").contains("restarts=0 lives=1 boots=1"),
        "{out}"
    );
}

/// A board without an RTC: each boot's first lines are stamped 1970 until
/// NTP steps the clock; rotated across three files given newest first. The
/// boots are told apart, and each is placed on the wall clock it synced to.
#[test]
fn boots_without_rtc_until_ntp_steps_the_clock() {
    let t = TempDir::new("ntp");
    let mut lines = vec![];
    for epoch in [T0, T0 + 3 * 86_400] {
        lines.push(format!(
            "{} up=20.0 seq=1 event=start pid=300 name=app start=1500",
            iso(20)
        ));
        for i in 0..400u64 {
            let up = 20 + i * 600;
            let wall = if up < 300 { up } else { epoch + up };
            lines.push(format!(
                "{} up={up}.0 seq={} pid=300 name=app VmRSS={}",
                iso(wall),
                i + 1,
                5000 + i * 10
            ));
        }
    }
    let n = lines.len();
    let mut files = vec![];
    for (k, part) in lines.chunks(n.div_ceil(3)).enumerate() {
        let p = t.join(&format!("memdog.log.{}", 2 - k));
        std::fs::write(&p, part.join("\n") + "\n").unwrap();
        files.push(p);
    }
    files.reverse();
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let out = stdout(&report(&refs));
    assert!(
        block(&out, "app").contains("restarts=0 lives=2 boots=2"),
        "{out}"
    );
    assert!(
        out.contains("boot=1 samples=400 from=2026-11-24T10:00:20Z"),
        "{out}"
    );
    assert!(
        out.contains("boot=2 samples=400 from=2026-11-27T10:00:20Z"),
        "{out}"
    );
    assert_eq!(
        verdict(&out, "app"),
        "leak likely: VmRSS +60 kB/h over 138 h, R^2=1.00",
        "{out}"
    );
}

/// A fleet: one central syslog file with two boards' lines interleaved, and
/// two boards' own logs named with --host: one table over all, worst first.
#[test]
fn a_fleet_is_one_ranked_table() {
    let t = TempDir::new("fleet");
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut central = String::new();
    for i in 0..100u64 {
        let w = T0 + i * 600;
        let ts = iso(w);
        let stamp = format!(
            "{} {:>2} {}",
            MON[ts[5..7].parse::<usize>().unwrap() - 1],
            ts[8..10].parse::<u32>().unwrap(),
            &ts[11..19]
        );
        for (h, rate) in [("r1", 60), ("r2", 0)] {
            writeln!(
                central,
                "{stamp} {h} memdog[5]: up={}.0 seq={} pid=7 name=app VmRSS={}",
                1000 + i * 600,
                i + 1,
                5000 + i * rate
            )
            .unwrap();
            writeln!(central, "{stamp} {h} dnsmasq[9]: query[A] example.com").unwrap();
        }
    }
    let c = t.join("messages");
    std::fs::write(&c, central).unwrap();
    let (a, b) = (t.join("a.log"), t.join("b.log"));
    std::fs::write(&a, synthetic(2, 412.0)).unwrap();
    std::fs::write(&b, synthetic(2, 0.0)).unwrap();
    let csv = t.join("f.csv");
    let o = memdog(&[
        "report",
        c.to_str().unwrap(),
        "--host",
        "cam1",
        a.to_str().unwrap(),
        "--host",
        "cam2",
        b.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        out.starts_with("memdog report: hosts=4 targets=6 "),
        "{out}"
    );
    let table: Vec<&str> = out.lines().skip(2).take(6).collect();
    assert!(
        table[0].starts_with("leak") && table[0].ends_with(" cam1 app"),
        "{out}"
    );
    assert!(
        table[1].starts_with("leak") && table[1].ends_with(" r1 app"),
        "{out}"
    );
    assert!(table[1].contains("+360"), "{out}");
    assert!(table[2..].iter().all(|l| l.starts_with("flat")), "{out}");
    assert!(out.contains("== app host=r2 restarts=0 lives=1"), "{out}");
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(
        csv.lines().any(|l| l.starts_with("r1,app,1,"))
            && csv.lines().any(|l| l.starts_with("cam2,system,1,")),
        "{csv}"
    );
    // a host= field right after seq= names the host too
    let tagged = t.join("tagged.log");
    std::fs::write(
        &tagged,
        synthetic(1, 0.0)
            .replace(" pid=", " host=cam9 pid=")
            .replace(" meminfo", " host=cam9 meminfo"),
    )
    .unwrap();
    let out = stdout(&memdog(&["report", tagged.to_str().unwrap()]));
    assert!(
        out.contains("== app host=cam9 ") && out.contains("== system host=cam9 "),
        "{out}"
    );
    // more targets than are binned: the report says so
    let mut s = String::new();
    for i in 0..70u64 {
        writeln!(
            s,
            "{} up={}.0 seq=1 pid={} name=p{i} VmRSS=1",
            iso(T0),
            i + 1,
            i + 2
        )
        .unwrap();
    }
    let many = t.join("many.log");
    std::fs::write(&many, s).unwrap();
    let many_csv = t.join("many.csv");
    let out = stdout(&memdog(&[
        "report",
        many.to_str().unwrap(),
        "--csv",
        many_csv.to_str().unwrap(),
    ]));
    assert!(out.contains("(--svg/--csv: the worst 64 of 70 targets are binned (CHARTED); use --target NAME for others)"), "{out}");
}

/// The same RTC-less board through syslog without a year (RFC 3164): its
/// 1970 stamps read as 1 January of this year, which must not make a boot.
#[test]
fn a_year_less_syslog_copy_of_an_unset_clock_is_no_boot() {
    let t = TempDir::new("ntp3164");
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut own = String::new();
    let mut wrapped = String::new();
    for epoch in [T0, T0 + 3 * 86_400] {
        for i in 0..200u64 {
            let up = 20 + i * 600;
            let wall = if up < 300 { up } else { epoch + up };
            let ts = iso(wall);
            let msg = format!(
                "up={up}.0 seq={} pid=300 name=app VmRSS={}",
                i + 1,
                5000 + i * 10
            );
            writeln!(own, "{ts} {msg}").unwrap();
            let (mo, d) = (
                ts[5..7].parse::<usize>().unwrap(),
                ts[8..10].parse::<u32>().unwrap(),
            );
            writeln!(
                wrapped,
                "{} {d:2} {} memdog[4]: {msg}",
                MON[mo - 1],
                &ts[11..19]
            )
            .unwrap();
        }
    }
    let (a, b) = (t.join("own.log"), t.join("messages"));
    std::fs::write(&a, own).unwrap();
    std::fs::write(&b, wrapped).unwrap();
    let mine = stdout(&report(&[&a]));
    assert!(block(&mine, "app").contains("lives=2 boots=2"), "{mine}");
    assert_eq!(stdout(&report(&[&b])), mine);
}

/// A board whose clock is never set boots the same way twice (the same first
/// line, 1970 stamps), and its log is given twice: two boots, not one, not four.
#[test]
fn boots_of_a_clockless_board_and_copies_of_them() {
    let t = TempDir::new("clockless");
    let mut s = String::new();
    for (boot, rate) in [(0u64, 10u64), (1, 0)] {
        writeln!(
            s,
            "{} up=20.0 seq=1 event=start pid=300 name=app start=1500",
            iso(20)
        )
        .unwrap();
        for i in 0..300u64 {
            let up = 20 + i * 600;
            writeln!(
                s,
                "{} up={up}.{boot} seq={} pid=300 name=app VmRSS={}",
                iso(up),
                i + 1,
                5000 + i * rate + boot
            )
            .unwrap();
        }
    }
    let (a, b) = (t.join("memdog.log"), t.join("copy.log"));
    std::fs::write(&a, &s).unwrap();
    std::fs::write(&b, &s).unwrap();
    let one = stdout(&report(&[&a]));
    assert!(
        block(&one, "app").contains("restarts=0 lives=2 boots=2"),
        "{one}"
    );
    assert!(
        verdict(&one, "app").starts_with("leak likely: VmRSS +60 kB/h"),
        "{one}"
    );
    assert_eq!(stdout(&report(&[&b, &a])), one);
}

/// A log captured from a serial console on a PC: CR LF line ends, a bare
/// CR line, terminal noise. The same report as the clean log, noise counted.
#[test]
fn a_serial_console_capture_with_crlf() {
    let t = TempDir::new("crlf");
    let clean = synthetic(2, 412.0);
    let (a, b) = (t.join("clean.log"), t.join("putty.log"));
    std::fs::write(&a, &clean).unwrap();
    std::fs::write(
        &b,
        format!(
            "\r\nroot@board:~# cat /var/log/memdog.log\r\n{}",
            clean.replace('\n', "\r\n")
        ),
    )
    .unwrap();
    let want = stdout(&report(&[&a]));
    let got = stdout(&report(&[&b]));
    assert_eq!(got.replacen("skipped=1", "skipped=0", 1), want);
}

/// A central syslog of two boards, one rebooting, piped on stdin: read in
/// its own order, it gives the report of the same file read as a file.
#[test]
fn interleaved_hosts_on_a_pipe() {
    let t = TempDir::new("pipe");
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut s = String::new();
    for i in 0..200u64 {
        let w = T0 + i * 600;
        let ts = iso(w);
        let stamp = format!(
            "{} {:>2} {}",
            MON[ts[5..7].parse::<usize>().unwrap() - 1],
            ts[8..10].parse::<u32>().unwrap(),
            &ts[11..19]
        );
        // r1 reboots at sample 100 (uptime back to 30 s), r2 runs on
        let up1 = if i < 100 {
            1000 + i * 600
        } else {
            30 + (i - 100) * 600
        };
        if i == 0 || i == 100 {
            writeln!(
                s,
                "{stamp} r1 memdog[5]: up={up1}.0 seq={} event=start pid=7 name=app start=99",
                i + 1
            )
            .unwrap();
        }
        writeln!(
            s,
            "{stamp} r1 memdog[5]: up={up1}.0 seq={} pid=7 name=app VmRSS={}",
            i + 1,
            5000 + (i % 100) * 10
        )
        .unwrap();
        writeln!(
            s,
            "{stamp} r2 memdog[5]: up={}.0 seq={} pid=8 name=app VmRSS=4000",
            5000 + i * 600,
            i + 1
        )
        .unwrap();
    }
    let f = t.join("messages");
    std::fs::write(&f, &s).unwrap();
    let want = stdout(&report(&[&f]));
    assert!(
        want.contains("== app host=r1 restarts=0 lives=2 boots=2"),
        "{want}"
    );
    let mut child = Command::new(bin())
        .args(["report", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), s.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(stdout(&o), want);
}
