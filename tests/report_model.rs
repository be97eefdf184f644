//! Model-based test of `memdog report`: seeded random worlds of hosts, boots,
//! targets and process lives (leaks, flat ones, restarts with reused pids,
//! same-named processes side by side, memdog restarts, reboots) are written
//! as memdog would (rotated files, syslog copies, duplicates, overlapping
//! slices, damaged and truncated lines, shuffled order), and the report must
//! equal, byte for byte, the one a small oracle computes from the world
//! itself (not from the files). A failing seed prints and replays exactly:
//! `REPORT_SEED=N cargo test --test report_model`.

// the generator indexes parallel tables (specs, slots) by number on purpose
#![allow(clippy::needless_range_loop)]

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 1.0 < p
    }
}

/// One process life as the world knows it.
#[derive(Clone, Debug)]
struct Life {
    host: usize,
    target: String,
    system: bool,
    boot: usize,
    pid: u32,
    start: Option<u64>,
    /// uptime (tenths) of its first and last record, and whether it exited
    first_up: u64,
    last_up: u64,
    exited: bool,
    /// (uptime tenths, wall seconds, VmRSS, VmSize) per sample
    samples: Vec<(u64, i64, u64, u64)>,
}

struct Host {
    name: String,
    /// memdog's own lines, in the order written
    lines: Vec<String>,
    boots: usize,
    /// line ranges stamped before NTP set the clock (1970 + uptime)
    presync: Vec<(usize, usize)>,
}

struct World {
    hosts: Vec<Host>,
    lives: Vec<Life>,
    /// events per (host, target)
    events: BTreeMap<(usize, String), u64>,
    warn_limit: BTreeMap<(usize, String), u64>,
}

fn iso(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let sod = t.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const MON: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WDAY: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// The wrapper stamp `Mmm dd hh:mm:ss`, and busybox logread's `Www Mmm dd hh:mm:ss yyyy`.
fn stamp3164(t: i64, busybox: bool) -> String {
    let (y, m, d) = civil(t.div_euclid(86_400));
    let sod = t.rem_euclid(86_400);
    let hms = format!("{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
    if busybox {
        let wd = WDAY[t.div_euclid(86_400).rem_euclid(7) as usize];
        format!("{wd} {} {d:2} {hms} {y}", MON[m as usize - 1])
    } else {
        format!("{} {d:2} {hms}", MON[m as usize - 1])
    }
}

/// Split a memdog line into (wall, payload from `up=`).
fn split_line(l: &str) -> (i64, &str) {
    let (ts, rest) = l.split_once(' ').unwrap();
    (parse_iso(ts), rest)
}

fn parse_iso(ts: &str) -> i64 {
    let n = |a: usize, b: usize| ts[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19)
}

const NAMES: [&str; 3] = ["app", "python3", "sh"];

/// `no_rtc`: some hosts have no RTC: each boot's first sample is stamped
/// 1970 + uptime, NTP sets the clock before the second.
fn generate(seed: u64, no_rtc: bool) -> World {
    let mut r = Rng(seed);
    let nhosts = 1 + r.below(3) as usize;
    let mut w = World {
        hosts: vec![],
        lives: vec![],
        events: BTreeMap::new(),
        warn_limit: BTreeMap::new(),
    };
    for h in 0..nhosts {
        let name = if h == 0 {
            String::new()
        } else {
            format!("router{h}")
        };
        let mut host = Host {
            name,
            lines: vec![],
            boots: 0,
            presync: vec![],
        };
        // targets: (name, concurrent slots, leak rates per slot, restart chance)
        let ntargets = 1 + r.below(3) as usize;
        let mut specs: Vec<(String, Vec<f64>, f64)> = vec![];
        for k in 0..ntargets {
            let slots = if NAMES[k] == "python3" { 2 } else { 1 };
            let rates = (0..slots)
                .map(|_| [0.0, 0.0, 120.0, 600.0][r.below(4) as usize])
                .collect();
            let restart = [0.0, 0.02, 0.1][r.below(3) as usize];
            specs.push((NAMES[k].to_string(), rates, restart));
        }
        let meminfo = r.chance(0.7);
        let no_rtc = r.chance(0.3) && no_rtc;
        let mut wall = parse_iso("2026-06-01T00:00:00Z") + r.below(86_400) as i64;
        let nboots = 1 + r.below(3) as usize;
        let mut pid_next = 100u32;
        let mut dead_pids: Vec<u32> = vec![];
        for b in 0..nboots {
            host.boots += 1;
            let epoch = wall;
            let up0 = 200 + r.below(1000) * 10 + r.below(10); // tenths
            let nsamples = 12 + r.below(60) as usize;
            let mut seq = 1u64;
            // per slot: the index of its live life in w.lives, and its age origin
            let mut alive: Vec<Vec<Option<(usize, u64)>>> =
                specs.iter().map(|s| vec![None; s.1.len()]).collect();
            let agent_restart_at = if r.chance(0.4) {
                Some(1 + r.below(nsamples as u64 - 1) as usize)
            } else {
                None
            };
            let mut sys_life: Option<usize> = None;
            for i in 0..nsamples {
                let up = up0 + i as u64 * 6000; // 600 s
                let wl = epoch + (up / 10) as i64;
                let shown = if no_rtc && i == 0 {
                    (up / 10) as i64
                } else {
                    wl
                };
                let stamp =
                    |seq: u64| format!("{} up={}.{} seq={seq}", iso(shown), up / 10, up % 10);
                let first_line = host.lines.len();
                let mut out: Vec<String> = vec![];
                if agent_restart_at == Some(i) {
                    // memdog restarted: seq starts again, every followed process is logged again
                    seq = 1;
                    out.push(format!(
                        "{} event=agent-start version=0.1.0 mode=run agent_pid={}",
                        stamp(seq),
                        1000 + r.below(30000)
                    ));
                    for (ti, slots) in alive.iter().enumerate() {
                        for s in slots.iter().flatten() {
                            let l = &w.lives[s.0];
                            out.push(format!(
                                "{} event=start pid={} name={} start={}",
                                stamp(seq),
                                l.pid,
                                specs[ti].0,
                                l.start.unwrap()
                            ));
                            *w.events.entry((h, specs[ti].0.clone())).or_default() += 1;
                        }
                    }
                }
                for (ti, spec) in specs.iter().enumerate() {
                    for si in 0..spec.1.len() {
                        // a live process may die; a dead slot starts one (maybe in the same sample)
                        if let Some((li, _)) = alive[ti][si] {
                            if i > 0 && r.chance(spec.2) {
                                let l = &mut w.lives[li];
                                l.last_up = up;
                                l.exited = true;
                                out.push(format!(
                                    "{} event=exit pid={} name={} start={} reason=gone",
                                    stamp(seq),
                                    l.pid,
                                    spec.0,
                                    l.start.unwrap()
                                ));
                                *w.events.entry((h, spec.0.clone())).or_default() += 1;
                                dead_pids.push(l.pid);
                                alive[ti][si] = None;
                                if r.chance(0.5) {
                                    continue; // restarted a sample later
                                }
                            }
                        }
                        if alive[ti][si].is_none() {
                            // pids are reused, within a boot and across boots
                            let pid = if !dead_pids.is_empty() && r.chance(0.3) {
                                dead_pids[r.below(dead_pids.len() as u64) as usize]
                            } else {
                                pid_next += 1 + r.below(3) as u32;
                                pid_next
                            };
                            dead_pids.retain(|&p| p != pid);
                            let start = up / 10 * 100 + r.below(100);
                            w.lives.push(Life {
                                host: h,
                                target: spec.0.clone(),
                                system: false,
                                boot: b,
                                pid,
                                start: Some(start),
                                first_up: up,
                                last_up: up,
                                exited: false,
                                samples: vec![],
                            });
                            alive[ti][si] = Some((w.lives.len() - 1, up));
                            out.push(format!(
                                "{} event=start pid={pid} name={} start={start}",
                                stamp(seq),
                                spec.0
                            ));
                            *w.events.entry((h, spec.0.clone())).or_default() += 1;
                        }
                    }
                }
                // samples, in pid order like memdog
                let mut lines: Vec<(u32, String)> = vec![];
                for (ti, spec) in specs.iter().enumerate() {
                    for si in 0..spec.1.len() {
                        let Some((li, born)) = alive[ti][si] else {
                            continue;
                        };
                        let age_h = (up - born) as f64 / 36_000.0;
                        let noise = r.below(41) as i64 - 20;
                        let rss = (8000.0 + spec.1[si] * age_h) as i64 + noise;
                        let rss = rss as u64;
                        let l = &mut w.lives[li];
                        l.last_up = up;
                        l.exited = false;
                        l.samples.push((up, wl, rss, rss + 4000));
                        lines.push((
                            l.pid,
                            format!(
                                "{} pid={} name={} VmSize={} VmRSS={rss}",
                                stamp(seq),
                                l.pid,
                                spec.0,
                                rss + 4000
                            ),
                        ));
                        if spec.1[si] > 0.0 && r.chance(0.05) {
                            lines.push((l.pid, format!("{} event=warn pid={} name={} field=VmRSS value={rss} limit=9000 rule={}/1", stamp(seq), l.pid, spec.0, spec.0)));
                            *w.events.entry((h, spec.0.clone())).or_default() += 1;
                            w.warn_limit.insert((h, spec.0.clone()), 9000);
                        }
                    }
                }
                lines.sort_by_key(|x| x.0);
                out.extend(lines.into_iter().map(|x| x.1));
                if meminfo {
                    let avail = 150_000 - (i as u64 * 37) % 500;
                    let li = *sys_life.get_or_insert_with(|| {
                        w.lives.push(Life {
                            host: h,
                            target: "system".into(),
                            system: true,
                            boot: b,
                            pid: 0,
                            start: None,
                            first_up: up,
                            last_up: up,
                            exited: false,
                            samples: vec![],
                        });
                        w.lives.len() - 1
                    });
                    w.lives[li].samples.push((up, wl, avail, 90_000));
                    w.lives[li].last_up = up;
                    out.push(format!(
                        "{} meminfo MemTotal=262144 MemFree=90000 MemAvailable={avail}",
                        stamp(seq)
                    ));
                }
                host.lines.extend(out);
                if no_rtc && i == 0 {
                    host.presync.push((first_line, host.lines.len()));
                }
                seq += 1;
            }
            // the next boot: the board was off a while
            wall = epoch + ((up0 + nsamples as u64 * 6000) / 10) as i64 + 60 + r.below(7200) as i64;
        }
        w.hosts.push(host);
    }
    w
}

/// What lands on disk: files (name, bytes) in a shuffled order, the extra
/// arguments (`--host`), and the damaged lines planted.
struct Files {
    files: Vec<(String, Vec<u8>, Option<String>)>,
    damaged: BTreeSet<Vec<u8>>,
}

fn wrap(l: &str, host: &str, how: u64) -> String {
    let (wall, payload) = split_line(l);
    match how {
        // busybox logread (local /dev/log: no host)
        0 => format!(
            "{} daemon.info memdog[812]: {payload}",
            stamp3164(wall, true)
        ),
        // RFC 3164 as rsyslog stores it per host, with <PRI> sometimes
        1 => format!("{} {host} memdog[812]: {payload}", stamp3164(wall, false)),
        2 => format!(
            "<30>{} {host} memdog[812]: {payload}",
            stamp3164(wall, false)
        ),
        // RFC 5424
        _ => format!(
            "<30>1 {} {} memdog 812 - - {payload}",
            iso(wall),
            if host.is_empty() { "-" } else { host }
        ),
    }
}

/// A file boundary before line `p` must not leave a boot's 1970-stamped lines
/// alone in a file: a stretch with no set clock is its own boot (a known
/// limit, README). Move it past them.
fn past_presync(host: &Host, p: usize) -> usize {
    match host.presync.iter().find(|&&(a, b)| a < p && p <= b) {
        Some(&(_, b)) => (b + 1).min(host.lines.len()),
        None => p,
    }
}

fn files_of(w: &World, seed: u64) -> Files {
    let mut r = Rng(seed ^ 0x5eed);
    let mut files = vec![];
    let mut damaged = BTreeSet::new();
    for (h, host) in w.hosts.iter().enumerate() {
        let n = host.lines.len();
        // rotation: whole lines, oldest file highest number
        let k = 1 + r.below(4) as usize;
        let mut cuts: Vec<usize> = (0..k - 1)
            .map(|_| past_presync(host, r.below(n as u64) as usize))
            .collect();
        cuts.push(0);
        cuts.push(n);
        cuts.sort();
        let pieces: Vec<&[String]> = cuts.windows(2).map(|c| &host.lines[c[0]..c[1]]).collect();
        let wrapped = h > 0 && r.chance(0.5);
        let base = if h == 0 {
            "memdog.log".to_string()
        } else {
            format!("{}.log", host.name)
        };
        let np = pieces.len();
        for (i, p) in pieces.iter().enumerate() {
            let rot = np - 1 - i;
            let name = if rot == 0 {
                base.clone()
            } else {
                format!("{base}.{rot}")
            };
            let mut text = String::new();
            for l in p.iter() {
                if wrapped {
                    text.push_str(&wrap(l, &host.name, 1 + r.below(3)));
                } else {
                    text.push_str(l);
                }
                text.push('\n');
            }
            let mut bytes = text.into_bytes();
            // damage in the live log: garbage, a field cut short, a torn tail
            if rot == 0 && !wrapped {
                if r.chance(0.4) && !p.is_empty() {
                    let g = format!("\x01\x02garbage {h}\n");
                    damaged.insert(g.trim_end_matches('\n').as_bytes().to_vec());
                    bytes.extend_from_slice(g.as_bytes());
                }
                if r.chance(0.4) {
                    if let Some(s) = p.iter().rev().find(|l| l.contains("VmRSS=")) {
                        let cut = format!("{}VmRSS=", &s[..s.find("VmRSS=").unwrap()]);
                        damaged.insert(split_line(&cut).1.as_bytes().to_vec());
                        bytes.extend_from_slice(cut.as_bytes());
                        bytes.push(b'\n');
                    }
                }
            }
            if rot == 0 && r.chance(0.5) && !p.is_empty() {
                let next = if wrapped {
                    wrap(&p[p.len() - 1], &host.name, 1)
                } else {
                    p[p.len() - 1].clone()
                };
                let torn = &next.as_bytes()[..(10 + r.below(next.len() as u64 - 10) as usize)];
                damaged.insert(torn.to_vec());
                bytes.extend_from_slice(torn);
            }
            let flag = if h > 0 && !wrapped {
                Some(host.name.clone())
            } else {
                None
            };
            files.push((format!("h{h}-{name}"), bytes, flag));
        }
        // a copy wrapped by a syslog daemon (no damage: syslog got whole lines)
        if r.chance(0.5) && n > 0 {
            let (a, b) = (r.below(n as u64) as usize, r.below(n as u64) as usize);
            let (a, b) = (a.min(b), past_presync(host, a.max(b) + 1));
            let how = if h == 0 { 0 } else { 1 + r.below(3) };
            let text: String = host.lines[a..b]
                .iter()
                .map(|l| wrap(l, &host.name, how) + "\n")
                .collect();
            files.push((format!("h{h}-syslog"), text.into_bytes(), None));
        }
        // an overlapping slice of the plain log (a second pull)
        if r.chance(0.4) && n > 0 && (h == 0 || !wrapped) {
            let (a, b) = (r.below(n as u64) as usize, r.below(n as u64) as usize);
            let (a, b) = (a.min(b), past_presync(host, a.max(b) + 1));
            let text: String = host.lines[a..b].iter().map(|l| l.clone() + "\n").collect();
            let flag = if h > 0 { Some(host.name.clone()) } else { None };
            files.push((format!("h{h}-slice"), text.into_bytes(), flag));
        }
    }
    // a file given twice under another name
    if r.chance(0.5) {
        let k = r.below(files.len() as u64) as usize;
        let (name, bytes, flag) = files[k].clone();
        files.push((format!("{name}-copy"), bytes, flag));
    }
    // any order
    for i in (1..files.len()).rev() {
        files.swap(i, r.below(i as u64 + 1) as usize);
    }
    Files { files, damaged }
}

// ---- the oracle: the report, from the world -------------------------------

#[derive(Clone, Copy, PartialEq, PartialOrd, Debug)]
enum Level {
    NoSamples,
    Flat,
    Unsteady,
    Leak,
}

#[derive(Clone, Copy, Debug)]
struct V {
    level: Level,
    slope: f64,
    r2: f64,
    hours: f64,
    life: Option<u32>,
    /// the last VmRSS of the life the verdict comes from
    last: Option<u64>,
}

/// Exact least squares over (tenths since the first sample, kB).
fn centred(pts: &[(u64, u64)]) -> (f64, f64, f64) {
    if pts.len() < 2 {
        return (0.0, 0.0, 0.0);
    }
    let n = pts.len() as i128;
    let t0 = pts[0].0;
    let (mut st, mut sv, mut stt, mut stv, mut svv) = (0i128, 0i128, 0i128, 0i128, 0i128);
    for &(t, v) in pts {
        let (t, v) = ((t - t0) as i128, v as i128);
        st += t;
        sv += v;
        stt += t * t;
        stv += t * v;
        svv += v * v;
    }
    let nf = n as f64;
    (
        (n * stt - st * st) as f64 / nf,
        (n * stv - st * sv) as f64 / nf,
        (n * svv - sv * sv) as f64 / nf,
    )
}

fn slope_r2((sxx, sxy, syy): (f64, f64, f64)) -> (f64, f64) {
    if sxx <= 0.0 {
        return (0.0, 0.0);
    }
    let r2 = if syy > 0.0 {
        (sxy * sxy / (sxx * syy)).min(1.0)
    } else {
        0.0
    };
    (sxy / sxx * 36_000.0, r2)
}

fn judge((slope, r2): (f64, f64), hours: f64, first: u64, system: bool, life: Option<u32>) -> V {
    let growth = if system { -slope } else { slope } * hours;
    let floor = (first as f64 * 0.05).max(256.0);
    let level = if growth >= floor && r2 >= 0.6 {
        Level::Leak
    } else if growth >= floor {
        Level::Unsteady
    } else {
        Level::Flat
    };
    V {
        level,
        slope,
        r2,
        hours,
        life,
        last: None,
    }
}

fn signed(v: f64) -> String {
    let m = (v.abs() + 0.5) as u64;
    format!("{}{m}", if v < 0.0 && m > 0 { "-" } else { "+" })
}

fn fixed2(v: f64) -> String {
    let c = (v.clamp(0.0, 1.0) * 100.0 + 0.5) as u64;
    format!("{}.{:02}", c / 100, c % 100)
}

struct T {
    host: usize,
    name: String,
    system: bool,
    lives: Vec<usize>,
    restarts: u64,
    boots: u64,
    v: V,
    span: Option<(i64, i64)>,
}

fn oracle(w: &World, skipped: usize, only: &[String]) -> String {
    let mut targets: BTreeMap<(usize, bool, String), Vec<usize>> = BTreeMap::new();
    for (i, l) in w.lives.iter().enumerate() {
        if !only.is_empty() && !only.contains(&l.target) {
            continue;
        }
        targets
            .entry((l.host, l.system, l.target.clone()))
            .or_default()
            .push(i);
    }
    let mut ts: Vec<T> = vec![];
    for ((host, system, name), lives) in &targets {
        let ls: Vec<&Life> = lives.iter().map(|&i| &w.lives[i]).collect();
        // restarts: per boot, the lives beyond the most alive at once
        let boots: BTreeSet<usize> = ls.iter().map(|l| l.boot).collect();
        let mut restarts = 0u64;
        for &b in &boots {
            let inb: Vec<&&Life> = ls.iter().filter(|l| l.boot == b).collect();
            let most = inb
                .iter()
                .map(|l| {
                    inb.iter()
                        .filter(|o| {
                            std::ptr::eq(**o, *l)
                                || (o.first_up <= l.first_up
                                    && (o.last_up > l.first_up
                                        || (o.last_up == l.first_up && !o.exited)))
                        })
                        .count()
                })
                .max()
                .unwrap_or(0);
            restarts += (inb.len() - most) as u64;
        }
        let all: Vec<(usize, u64, i64, u64)> = ls
            .iter()
            .flat_map(|l| l.samples.iter().map(move |s| (l.boot, s.0, s.1, s.2)))
            .collect();
        let span = if all.is_empty() {
            None
        } else {
            Some((
                all.iter().map(|s| s.2).min().unwrap(),
                all.iter().map(|s| s.2).max().unwrap(),
            ))
        };
        let first = all.iter().map(|s| (s.0, s.1, s.3)).min().map_or(0, |s| s.2);
        let mut p = (0.0, 0.0, 0.0);
        let mut worst: Option<V> = None;
        for l in &ls {
            let pts: Vec<(u64, u64)> = l.samples.iter().map(|s| (s.0, s.2)).collect();
            let c = centred(&pts);
            p = (p.0 + c.0, p.1 + c.1, p.2 + c.2);
            if pts.len() >= 8 {
                let hours = (l.samples.last().unwrap().1 - l.samples[0].1) as f64 / 3600.0;
                let v = V {
                    last: Some(l.samples.last().unwrap().2),
                    ..judge(slope_r2(c), hours, l.samples[0].2, *system, Some(l.pid))
                };
                if worst.is_none_or(|x| (v.level, v.slope) > (x.level, x.slope)) {
                    worst = Some(v);
                }
            }
        }
        let hours = span.map_or(0.0, |(a, b)| (b - a) as f64 / 3600.0);
        let pooled = slope_r2(p);
        let mut v = match all.len() {
            0 => V {
                level: Level::NoSamples,
                slope: 0.0,
                r2: 0.0,
                hours: 0.0,
                life: None,
                last: None,
            },
            1 | 2 => V {
                level: Level::Flat,
                slope: pooled.0,
                r2: pooled.1,
                hours,
                life: None,
                last: None,
            },
            _ => judge(pooled, hours, first, *system, None),
        };
        if let Some(x) = worst {
            if x.level > v.level {
                v = x;
            }
        }
        ts.push(T {
            host: *host,
            name: name.clone(),
            system: *system,
            lives: lives.clone(),
            restarts,
            boots: boots.len() as u64,
            v,
            span,
        });
    }
    let hname = |h: usize| w.hosts[h].name.clone();
    ts.sort_by(|a, b| {
        let sa = if a.system { -a.v.slope } else { a.v.slope };
        let sb = if b.system { -b.v.slope } else { b.v.slope };
        b.v.level
            .partial_cmp(&a.v.level)
            .unwrap()
            .then(sb.total_cmp(&sa))
            .then(hname(a.host).cmp(&hname(b.host)))
            .then(a.system.cmp(&b.system))
            .then(a.name.cmp(&b.name))
    });
    let hosts: BTreeSet<usize> = ts.iter().map(|t| t.host).collect();
    let records: usize = w
        .hosts
        .iter()
        .map(|h| h.lines.iter().collect::<BTreeSet<_>>().len())
        .sum();
    let mut s = String::new();
    writeln!(
        s,
        "memdog report: hosts={} targets={} lives={} boots={} lines={records} skipped={skipped}",
        hosts.len(),
        ts.len(),
        ts.iter().map(|t| t.lives.len()).sum::<usize>(),
        w.hosts.iter().map(|h| h.boots).sum::<usize>()
    )
    .unwrap();
    let multi = hosts.len() > 1 || ts.iter().any(|t| !hname(t.host).is_empty());
    writeln!(
        s,
        "verdict   slope_kb_h   r2  span_h restarts lives {}target",
        if multi { "host " } else { "" }
    )
    .unwrap();
    let word = |t: &T| match (t.v.level, t.system) {
        (Level::Leak, true) => "shrinking",
        (Level::Leak, false) => "leak",
        (Level::Unsteady, _) => "unsteady",
        (Level::Flat, _) => "flat",
        (Level::NoSamples, _) => "none",
    };
    for t in &ts {
        let span = t.span.map_or(0, |(a, b)| (b - a) / 3600);
        write!(
            s,
            "{:<9}{:>11} {:>4} {:>7} {:>8} {:>5} ",
            word(t),
            signed(t.v.slope),
            fixed2(t.v.r2),
            span,
            t.restarts,
            t.lives.len()
        )
        .unwrap();
        if multi {
            let h = hname(t.host);
            write!(s, "{} ", if h.is_empty() { "-".into() } else { h }).unwrap();
        }
        writeln!(s, "{}", t.name).unwrap();
    }
    for t in &ts {
        write!(s, "== {}", t.name).unwrap();
        if !hname(t.host).is_empty() {
            write!(s, " host={}", hname(t.host)).unwrap();
        }
        let ev = w
            .events
            .get(&(t.host, t.name.clone()))
            .copied()
            .unwrap_or(0);
        writeln!(
            s,
            " restarts={} lives={} boots={} events={ev}",
            t.restarts,
            t.lives.len(),
            t.boots
        )
        .unwrap();
        let fields: &[&str] = if t.system {
            &["MemAvailable", "MemFree"]
        } else {
            &["VmRSS", "VmSize"]
        };
        let mut last0 = None;
        for (fi, f) in fields.iter().enumerate() {
            let val = |s: &(u64, i64, u64, u64)| if fi == 0 { s.2 } else { s.3 };
            let all: Vec<(usize, u64, u64)> = t
                .lives
                .iter()
                .flat_map(|&i| {
                    w.lives[i]
                        .samples
                        .iter()
                        .map(move |x| (w.lives[i].boot, x.0, val(x)))
                })
                .collect();
            if all.is_empty() {
                continue;
            }
            let first = all.iter().min().unwrap().2;
            let lastkey = all.iter().map(|x| (x.0, x.1)).max().unwrap();
            let last = all
                .iter()
                .filter(|x| (x.0, x.1) == lastkey)
                .map(|x| x.2)
                .max()
                .unwrap();
            if fi == 0 {
                last0 = Some(last);
            }
            let mut p = (0.0, 0.0, 0.0);
            for &i in &t.lives {
                let c = centred(
                    &w.lives[i]
                        .samples
                        .iter()
                        .map(|x| (x.0, val(x)))
                        .collect::<Vec<_>>(),
                );
                p = (p.0 + c.0, p.1 + c.1, p.2 + c.2);
            }
            let (sl, r2) = slope_r2(p);
            writeln!(
                s,
                "  {f} first={first} last={last} min={} max={} slope_kb_h={} r2={}",
                all.iter().map(|x| x.2).min().unwrap(),
                all.iter().map(|x| x.2).max().unwrap(),
                signed(sl),
                fixed2(r2)
            )
            .unwrap();
        }
        let mut order = t.lives.clone();
        order.sort_by_key(|&i| {
            let l = &w.lives[i];
            (l.boot, l.first_up, l.pid, l.start)
        });
        for (k, &i) in order.iter().enumerate() {
            if k >= 12 {
                break;
            }
            let l = &w.lives[i];
            write!(s, "  life").unwrap();
            if !t.system {
                write!(s, " pid={} start={}", l.pid, l.start.unwrap()).unwrap();
            }
            write!(s, " boot={} samples={}", l.boot + 1, l.samples.len()).unwrap();
            if !l.samples.is_empty() {
                let pts: Vec<(u64, u64)> = l.samples.iter().map(|x| (x.0, x.2)).collect();
                let (sl, r2) = slope_r2(centred(&pts));
                write!(
                    s,
                    " from={} to={} first={} last={} slope_kb_h={} r2={}",
                    iso(l.samples[0].1),
                    iso(l.samples.last().unwrap().1),
                    pts[0].1,
                    pts.last().unwrap().1,
                    signed(sl),
                    fixed2(r2)
                )
                .unwrap();
            }
            writeln!(s).unwrap();
        }
        if order.len() > 12 {
            writeln!(s, "  ({} more lives)", order.len() - 12).unwrap();
        }
        let v = t.v;
        let text = match v.level {
            Level::NoSamples => "no samples".to_string(),
            Level::Flat => "no growth".to_string(),
            Level::Unsteady => format!(
                "grows, but not steadily (R^2={}): cache or load, not a clear leak",
                fixed2(v.r2)
            ),
            Level::Leak => format!(
                "{}{} kB/h over {} h, R^2={}",
                if t.system {
                    "memory shrinking: MemAvailable "
                } else {
                    "leak likely: VmRSS "
                },
                signed(v.slope),
                v.hours as u64,
                fixed2(v.r2)
            ),
        };
        let life = match (v.life, v.level > Level::Flat && !t.system) {
            (Some(p), true) => format!(" (the life of pid {p})"),
            _ => String::new(),
        };
        writeln!(s, "  verdict: {text}{life}").unwrap();
        // the forecast of a leak: to the warn limit of the log's events, else
        // the host's MemTotal; the system's MemAvailable to 0
        let last = v.last.or(last0);
        let to = if t.system {
            Some((0, "running out"))
        } else if let Some(&l) = w.warn_limit.get(&(t.host, t.name.clone())) {
            Some((l, "the warn limit in the log"))
        } else if ts.iter().any(|x| x.system && x.host == t.host) {
            Some((262_144, "MemTotal: no limit in the log"))
        } else {
            None
        };
        if let (Level::Leak, Some((limit, why)), Some(last)) = (v.level, to, last) {
            let field = if t.system { "MemAvailable" } else { "VmRSS" };
            let (gap, speed) = if t.system {
                (last as f64, -v.slope)
            } else {
                (limit as f64 - last as f64, v.slope)
            };
            let when = if gap > 0.0 && speed > 0.0 {
                let h = gap / speed;
                format!(
                    "reaches {limit} kB in {}.{} h",
                    h as u64,
                    ((h * 10.0) as u64) % 10
                )
            } else {
                format!("is at or past {limit} kB")
            };
            writeln!(s, "  eta: {field} {when} ({why}; last {last} kB)").unwrap();
        }
    }
    s
}

fn report_of(
    dir: &TempDir,
    files: &[(String, Vec<u8>, Option<String>)],
    only: &[String],
) -> (String, String, i32) {
    let mut args: Vec<String> = vec!["report".into()];
    for o in only {
        args.push("--target".into());
        args.push(o.clone());
    }
    let mut cur: Option<String> = None;
    for (name, bytes, flag) in files {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        if *flag != cur {
            // --host holds for the files after it; `-` ends it
            args.push("--host".into());
            args.push(flag.clone().unwrap_or("-".into()));
            cur = flag.clone();
        }
        args.push(p.to_str().unwrap().into());
    }
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let o = memdog(&a);
    (stdout(&o), stderr(&o), o.status.code().unwrap_or(-1))
}

fn check(seed: u64) {
    let w = generate(seed, true);
    let f = files_of(&w, seed);
    let dir = TempDir::new("rmodel");
    // every third world: --target for some of the targets there are
    let mut only: Vec<String> = vec![];
    if seed.is_multiple_of(3) {
        let names: BTreeSet<&String> = w.lives.iter().map(|l| &l.target).collect();
        let mut r = Rng(seed ^ 0x7a7);
        for n in names {
            if r.chance(0.5) {
                only.push(n.clone());
            }
        }
    }
    let (out, err, code) = report_of(&dir, &f.files, &only);
    let want = oracle(&w, f.damaged.len(), &only);
    if out != want {
        let names: Vec<&str> = f.files.iter().map(|x| x.0.as_str()).collect();
        let diff: Vec<String> = want
            .lines()
            .zip(out.lines())
            .filter(|(a, b)| a != b)
            .take(6)
            .map(|(a, b)| format!("want {a}\n got {b}"))
            .collect();
        panic!(
            "seed {seed}: report differs from the oracle (files {names:?})\n{}\n--- want\n{want}--- got\n{out}--- stderr\n{err}",
            diff.join("\n")
        );
    }
    assert_eq!(code, 0, "seed {seed}: {err}");
}

#[test]
fn report_equals_the_oracle_on_random_worlds() {
    if let Some(s) = std::env::var("REPORT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return check(s);
    }
    let n: u64 = std::env::var("REPORT_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    for seed in 1..=n {
        check(seed);
    }
}

/// Split `files[k]` at a line boundary into two files (keeping its --host).
fn split_file(files: &mut Vec<(String, Vec<u8>, Option<String>)>, k: usize, at: u64) {
    let (name, bytes, flag) = files[k].clone();
    let nl: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|x| *x.1 == b'\n')
        .map(|x| x.0 + 1)
        .collect();
    if nl.is_empty() {
        return;
    }
    let cut = nl[(at % nl.len() as u64) as usize];
    files[k] = (format!("{name}-a"), bytes[..cut].to_vec(), flag.clone());
    files.push((format!("{name}-b"), bytes[cut..].to_vec(), flag));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]
    /// Any permutation, duplication and split of the files gives the same
    /// report, byte for byte, as the files in order.
    #[test]
    fn permuted_duplicated_split_files_give_the_same_report(seed in 1u64..1_000_000, shuffle in proptest::prelude::any::<u64>(), dup in proptest::prelude::any::<u64>(), at in proptest::prelude::any::<u64>()) {
        let w = generate(seed, false);
        let f = files_of(&w, seed);
        // in order: the files sorted by name
        let mut in_order = f.files.clone();
        in_order.sort_by(|a, b| a.0.cmp(&b.0));
        let dir = TempDir::new("rperm");
        let (base, _, code) = report_of(&dir, &in_order, &[]);
        proptest::prop_assert_eq!(code, 0);
        let mut v = f.files.clone();
        let mut r = Rng(shuffle);
        for i in (1..v.len()).rev() {
            v.swap(i, r.below(i as u64 + 1) as usize);
        }
        let k = (dup % v.len() as u64) as usize;
        let mut copy = v[k].clone();
        copy.0 = format!("{}-again", copy.0);
        v.insert(r.below(v.len() as u64) as usize, copy);
        let k = (at % v.len() as u64) as usize;
        split_file(&mut v, k, at >> 8);
        let dir2 = TempDir::new("rperm2");
        let (other, err, _) = report_of(&dir2, &v, &[]);
        proptest::prop_assert!(other == base, "seed {}: differs\n--- in order\n{}--- permuted\n{}--- stderr\n{}", seed, base, other, err);
    }
}
