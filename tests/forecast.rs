//! Forecasts through the built binary: a real leaking child under `memdog
//! run`, whose forecast at the first warn is compared with the time it
//! really takes to reach the limit (the test lets it get there), and the
//! configs `check` refuses for eta rules (one line each).
#![cfg(feature = "forecast")]

mod common;
use common::*;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};

/// Kills and reaps the child when the test ends, pass or fail.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss(pid: u32) -> u64 {
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
}

/// A python child that leaks `kb_per_s` on the wall clock: it tops its
/// leak up to `rate x elapsed` every 20 ms, so a slow tick on a loaded
/// machine is made up at the next one and the true rate stays the rate.
fn leaking_child(kb_per_s: u64) -> Guard {
    let code = "import sys,time\nrate=int(sys.argv[1])*1024;keep=[];have=0;t0=time.monotonic()\n\
                while True:\n    want=int((time.monotonic()-t0)*rate)\n    \
                if want>have: keep.append(b'x'*(want-have)); have=want\n    time.sleep(0.02)\n";
    Guard(
        Command::new("python3")
            .args(["-c", code, &kb_per_s.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .expect("python3"),
    )
}

fn up(l: &BTreeMap<String, String>) -> f64 {
    l["up"].parse().unwrap()
}

#[test]
fn forecast_at_the_first_warn_is_within_20_percent_of_the_real_time_to_the_limit() {
    let t = TempDir::new("eta-child");
    let rate = 3000; // kB/s
    let child = leaking_child(rate);
    let pid = child.0.id();
    // past python's start-up: the leak is under way
    let start = {
        wait_for(|| rss(pid) > 12_000, "python's start-up");
        let r0 = rss(pid);
        wait_for(|| rss(pid) > r0 + 1500, "the leak to get going");
        rss(pid)
    };
    // the limit is ~8 s of leak away: the warn fires after the slope's
    // warm-up (3/4 of 2 s), about 6 s before the limit
    let limit = start + 8 * rate;
    let log = t.join("memdog.log");
    let cfg = t.join("eta.conf");
    std::fs::write(
        &cfg,
        format!(
            "interval = 100ms\nlog = {}\nfields = VmRSS\ncooldown = 60s\n[target app]\npid = {pid}\n\
             warn = VmRSS slope > 1000/h over 2s\n\
             crit = VmRSS eta < 3s over 2s\n\
             crit = VmRSS > {limit}\n",
            log.display()
        ),
    )
    .unwrap();
    let o = run_bounded(Command::new(bin()).args([
        "run",
        "-c",
        cfg.to_str().unwrap(),
        "--count",
        "110",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    drop(child);
    let all = lines(&std::fs::read_to_string(&log).unwrap());
    let ev = |rule: &str| {
        all.iter()
            .find(|l| l.get("rule").map(String::as_str) == Some(rule) && l.contains_key("event"))
            .unwrap_or_else(|| panic!("no event of {rule}: {all:#?}"))
    };
    let (warn, eta, crit) = (ev("app/1"), ev("app/2"), ev("app/3"));
    assert_eq!(warn["event"], "warn");
    assert_eq!(
        (eta["event"].as_str(), crit["event"].as_str()),
        ("crit", "crit")
    );
    // the slope rule's warn says when VmRSS reaches the crit rule's limit
    assert_eq!(warn["to_kb"], limit.to_string(), "{warn:?}");
    let forecast: f64 = warn["eta_s"].parse().unwrap();
    let truth = up(crit) - up(warn);
    let err = (forecast - truth).abs() / truth;
    println!(
        "forecast at first warn {forecast} s, reached the limit {truth:.1} s later: error {:.0} %",
        err * 100.0
    );
    assert!(
        truth > 3.0,
        "the warn came early enough to forecast: {truth}"
    );
    assert!(
        err <= 0.20,
        "forecast {forecast} s, truth {truth:.1} s: {warn:?} {crit:?}"
    );
    // the exhaustion rule fired before the absolute limit, on a forecast under 3 s
    assert!(up(eta) < up(crit), "{eta:?} {crit:?}");
    assert_eq!(eta["field"], "VmRSS");
    assert_eq!(eta["to_kb"], limit.to_string());
    assert_eq!(eta["limit_s"], "3");
    assert!(eta["eta_s"].parse::<u64>().unwrap() < 3, "{eta:?}");
}

/// `check` on `text`: (exit code, stderr with the path as C).
fn check(name: &str, text: &str) -> (Option<i32>, String, String) {
    let t = TempDir::new(name);
    let p = t.join("c.conf");
    std::fs::write(&p, text).unwrap();
    let o = memdog(&["check", p.to_str().unwrap()]);
    let path = p.to_str().unwrap().to_string();
    (o.status.code(), stderr(&o).replace(&path, "C"), stdout(&o))
}

fn refused(name: &str, text: &str, want: &str) {
    let (code, err, _) = check(name, text);
    assert_eq!(code, Some(2), "{name}: accepted\n{text}");
    assert_eq!(err.lines().count(), 1, "{name}: one line: {err}");
    assert!(err.contains(want), "{name}: {err}");
}

#[test]
fn check_refuses_eta_rules_that_could_never_forecast() {
    // a count with no limit rule: nothing to run out of
    refused(
        "count",
        "[target a]\nname = x\nwarn = VmRSS > 9000\nwarn = Threads eta < 1h\n",
        "C:4: an eta rule needs a limit to forecast to",
    );
    // a meminfo key that has no floor or ceiling by itself
    refused(
        "cached",
        "[system]\nwarn = MemAvailable < 5%\ncrit = Cached eta < 6h\n",
        "C:3: an eta rule needs a limit to forecast to",
    );
    // too few samples in the window: the default window is the horizon
    refused(
        "window",
        "interval = 10m\n[target a]\nname = x\ncrit = VmRSS eta < 1h\n",
        "C:4: eta window too short for the interval",
    );
    refused(
        "window2",
        "interval = 10s\n[target a]\nname = x\ncrit = VmRSS eta < 6h over 30s\n",
        "C:4: eta window too short",
    );
    refused(
        "above",
        "[target a]\nname = x\ncrit = VmRSS eta > 6h\n",
        "C:3: eta rules take `<`",
    );
    refused(
        "unit",
        "[target a]\nname = x\ncrit = VmRSS eta < 5000\n",
        "C:3: an eta limit is a duration with its unit",
    );
    refused(
        "clear",
        "[target a]\nname = x\ncrit = VmRSS eta < 6h clear 1h\n",
        "C:3: `clear` must be on the safe side",
    );
    // eta rules keep a ring each: they count with the slope rules
    refused(
        "rings",
        &("[target a]\nname = x\n".to_string()
            + &"warn = VmRSS slope > 5/h over 1h\n".repeat(3)
            + "crit = VmRSS eta < 6h\ncrit = heap eta < 6h\n"),
        "C:7: too many slope and eta rules",
    );
}

#[test]
fn check_shows_where_each_forecast_runs_to() {
    // the limit rule may come after the eta rule; percent limits and the fallbacks
    let (code, err, out) = check(
        "good",
        "interval = 1m\n[system]\nwarn = MemAvailable eta < 6h\ncrit = MemAvailable < 4%\n\
         crit = SwapFree eta < 1d\n[target a]\nname = x\ncrit = VmRSS eta < 12h clear 1d\n\
         warn = VmRSS > 30%\nwarn = heap eta < 12h over 2h\nwarn = Threads > 200\ncrit = Threads eta < 1d\n",
    );
    assert_eq!(code, Some(0), "{err}");
    let want = [
        "  warn: MemAvailable eta < 21600s clear 21600s over_s=21600 to=rule/2 ",
        "  crit: SwapFree eta < 86400s clear 86400s over_s=86400 to=0 ",
        "  crit: VmRSS eta < 43200s clear 86400s over_s=43200 to=rule/2 ",
        "  warn: heap eta < 43200s clear 43200s over_s=7200 to=MemTotal ",
        "  crit: Threads eta < 86400s clear 86400s over_s=86400 to=rule/4 ",
    ];
    for w in want {
        assert!(out.lines().any(|l| l.starts_with(w)), "{w}\n{out}");
    }
}

/// The system's forecast: MemAvailable of a stand-in /proc (a temp dir the
/// test rewrites in place every 20 ms) drains 5000 kB/s toward the crit
/// floor; the eta rule fires on the falling fit, before the floor, with a
/// forecast within 20 % of the time the floor is really reached.
#[test]
fn memavailable_eta_rule_fires_before_the_floor_on_a_draining_system() {
    let t = TempDir::new("eta-sys");
    let meminfo = t.join("meminfo");
    let write = move |avail: u64| {
        // one width for every value, written over in place (same inode,
        // never truncated): memdog may hold the file open and read it any time
        let text = format!("MemTotal: 100000 kB\nMemFree: 30000 kB\nMemAvailable: {avail:>8} kB\n");
        use std::io::{Seek, Write};
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&meminfo)
            .unwrap();
        f.seek(std::io::SeekFrom::Start(0)).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    write(80_000);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let drain = {
        let stop = stop.clone();
        let write = write.clone();
        std::thread::spawn(move || {
            let t0 = std::time::Instant::now();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let gone = (t0.elapsed().as_secs_f64() * 5000.0) as u64;
                write(80_000u64.saturating_sub(gone).max(1000));
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let log = t.join("memdog.log");
    let cfg = t.join("sys.conf");
    std::fs::write(
        &cfg,
        format!(
            "interval = 100ms\nlog = {}\nproc_root = {}\n[system]\n\
             crit = MemAvailable < 20000\nwarn = MemAvailable eta < 6s over 2s\n",
            log.display(),
            t.path().display()
        ),
    )
    .unwrap();
    let o = run_bounded(Command::new(bin()).args([
        "run",
        "-c",
        cfg.to_str().unwrap(),
        "--count",
        "140",
    ]));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    drain.join().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let all = lines(&std::fs::read_to_string(&log).unwrap());
    let ev = |rule: &str| {
        all.iter()
            .find(|l| l.get("rule").map(String::as_str) == Some(rule) && l.contains_key("event"))
            .unwrap_or_else(|| panic!("no event of {rule}: {all:#?}"))
    };
    let (floor, eta) = (ev("system/1"), ev("system/2"));
    assert_eq!(
        (floor["event"].as_str(), eta["event"].as_str()),
        ("crit", "warn")
    );
    assert_eq!(eta["field"], "MemAvailable");
    assert_eq!(eta["to_kb"], "20000", "the crit floor is the goal: {eta:?}");
    assert_eq!(eta["limit_s"], "6");
    let forecast: f64 = eta["eta_s"].parse().unwrap();
    let truth = up(floor) - up(eta);
    println!(
        "MemAvailable forecast at the eta warn {forecast} s, floor reached {truth:.1} s later"
    );
    assert!(forecast < 6.0 && truth > 2.0, "{eta:?} {floor:?}");
    assert!(
        (forecast - truth).abs() / truth <= 0.20,
        "forecast {forecast} s, truth {truth:.1} s"
    );
}

/// The forecast as a metric: a leaking child's textfile carries
/// `memdog_forecast_seconds` for the slope and the eta rule, equal to the
/// gap to the limit over the slope the same textfile shows (within 10 %:
/// the two are rounded on different paths), and passes promtool.
#[test]
#[cfg(feature = "metrics")]
fn the_forecast_is_a_metric_consistent_with_the_slope_and_the_limit() {
    let t = TempDir::new("eta-metric");
    let rate = 2000; // kB/s
    let child = leaking_child(rate);
    let pid = child.0.id();
    wait_for(|| rss(pid) > 12_000, "python's start-up");
    let limit = rss(pid) + 60 * rate; // a minute away: never reached here
    let tf = t.join("memdog.prom");
    let cfg = t.join("m.conf");
    std::fs::write(
        &cfg,
        format!(
            "interval = 100ms\nlog = {}\ntextfile = {}\nfields = VmRSS\n[target app]\npid = {pid}\n\
             warn = VmRSS slope > 1000/h over 2s\n\
             warn = VmRSS eta < 10s over 2s\n\
             crit = VmRSS > {limit}\n",
            t.join("memdog.log").display(),
            tf.display()
        ),
    )
    .unwrap();
    let o = run_bounded(Command::new(bin()).args([
        "run",
        "-c",
        cfg.to_str().unwrap(),
        "--count",
        "40",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    drop(child);
    let text = std::fs::read_to_string(&tf).unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{text}"))
            .rsplit_once(' ')
            .unwrap()
            .1
            .parse()
            .unwrap()
    };
    let resident =
        value("memdog_process_memory_bytes{target=\"app\",name=\"python3\",memtype=\"resident\"}");
    let slope = value("memdog_leak_slope_bytes_per_second{target=\"app\",rule=\"1\"");
    for rule in ["1", "2"] {
        let eta = value(&format!(
            "memdog_forecast_seconds{{target=\"app\",rule=\"{rule}\""
        ));
        let want = (limit as f64 * 1024.0 - resident) / slope;
        println!("rule {rule}: forecast {eta} s, gap over slope {want:.1} s");
        assert!(
            (eta - want).abs() <= 0.10 * want + 1.0,
            "rule {rule}: forecast {eta} s, want {want:.1} s\n{text}"
        );
    }
    promtool_check(&text, "the textfile");
}
