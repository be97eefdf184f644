//! `memdog report`: turns pulled logs into a verdict per target and an SVG
//! chart, in bounded memory (a fixed target table, least-squares sums and
//! fixed bins that merge pairwise as the time range grows), so it runs on
//! the board as well as on a workstation.
//!
//! Reads memdog's logfmt lines and the shell loop's proc_memlog.txt (a
//! `YYYY-mm-dd-HH:MM:SS` line, then `VmRSS: N kB` / `VmSize: N kB`, then a
//! blank line). Restarts split a target's life into segments; the slope is
//! the pooled within-segment least-squares fit, so a restart is not growth.

use crate::line::Line;
use crate::num::{parse_u64, parse_u64_prefix};
use crate::out::{self, exit};
use crate::sys::{self, Fd, PathBuf};

/// Targets in one report (processes by name, plus `system`).
pub const MAX_TARGETS: usize = 8;
/// Chart bins per target; pairs merge when the time range outgrows them.
pub const BINS: usize = 240;
/// Event markers kept per target for the chart.
pub const MAX_MARKS: usize = 24;
/// Longest input line (memdog writes at most 1 KiB).
pub const LINE_MAX: usize = 2048;
/// Fields summarised per process target; the chart draws the first.
pub const FIELDS: [&str; 5] = ["VmRSS", "VmSize", "heap", "RssAnon", "VmSwap"];
pub const SYS_FIELDS: [&str; 2] = ["MemAvailable", "MemFree"];

#[derive(Clone, Copy, Default)]
struct Fit {
    n: f64,
    st: f64,
    sv: f64,
    stt: f64,
    stv: f64,
    svv: f64,
}

impl Fit {
    fn add(&mut self, t: f64, v: f64) {
        self.n += 1.0;
        self.st += t;
        self.sv += v;
        self.stt += t * t;
        self.stv += t * v;
        self.svv += v * v;
    }
    /// centred sums (Sxx, Sxy, Syy)
    fn centred(&self) -> (f64, f64, f64) {
        if self.n < 2.0 {
            return (0.0, 0.0, 0.0);
        }
        (
            self.stt - self.st * self.st / self.n,
            self.stv - self.st * self.sv / self.n,
            self.svv - self.sv * self.sv / self.n,
        )
    }
}

#[derive(Clone, Copy, Default)]
struct Stats {
    seen: bool,
    first: u64,
    last: u64,
    min: u64,
    max: u64,
    seg: Fit,
    /// pooled centred sums of finished segments
    sxx: f64,
    sxy: f64,
    syy: f64,
}

impl Stats {
    fn add(&mut self, t: f64, v: u64) {
        if !self.seen {
            self.seen = true;
            self.first = v;
            self.min = v;
            self.max = v;
        }
        self.last = v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.seg.add(t, v as f64);
    }
    fn end_segment(&mut self) {
        let (xx, xy, yy) = self.seg.centred();
        self.sxx += xx;
        self.sxy += xy;
        self.syy += yy;
        self.seg = Fit::default();
    }
    /// (kB per hour, R^2)
    fn slope(&self) -> (f64, f64) {
        let (xx, xy, yy) = self.seg.centred();
        let (sxx, sxy, syy) = (self.sxx + xx, self.sxy + xy, self.syy + yy);
        if sxx <= 0.0 {
            return (0.0, 0.0);
        }
        let r2 = if syy > 0.0 {
            sxy * sxy / (sxx * syy)
        } else {
            0.0
        };
        (sxy / sxx * 3600.0, r2)
    }
}

#[derive(Clone, Copy, Default)]
struct Bin {
    n: u32,
    min: u64,
    max: u64,
    sum: u64,
}

#[derive(Clone, Copy)]
struct Mark {
    t: f64,
    kind: u8, // b's' start, b'x' exit, b'w' warn, b'c' crit
}

struct Target {
    name: heapless::Vec<u8, 64>,
    system: bool,
    stats: [Stats; 5],
    restarts: u32,
    events: u32,
    last_pid: Option<u64>,
    bins: [Bin; BINS],
    /// seconds per bin; 0 until the first point
    width: f64,
    t0: f64,
    t_last: f64,
    marks: heapless::Vec<Mark, MAX_MARKS>,
    warn_limit: Option<u64>,
    crit_limit: Option<u64>,
}

impl Target {
    fn new(name: &[u8], system: bool) -> Target {
        Target {
            name: heapless::Vec::from_slice(name.get(..name.len().min(64)).unwrap_or(&[]))
                .unwrap_or_default(),
            system,
            stats: [Stats::default(); 5],
            restarts: 0,
            events: 0,
            last_pid: None,
            bins: [Bin::default(); BINS],
            width: 0.0,
            t0: 0.0,
            t_last: 0.0,
            marks: heapless::Vec::new(),
            warn_limit: None,
            crit_limit: None,
        }
    }

    /// The bins that hold samples, with their index, among the first `used`.
    fn filled(&self, used: usize) -> impl DoubleEndedIterator<Item = (usize, &Bin)> {
        self.bins
            .iter()
            .take(used)
            .enumerate()
            .filter(|(_, b)| b.n > 0)
    }

    fn segment_break(&mut self) {
        self.stats.iter_mut().for_each(Stats::end_segment);
    }

    fn bin(&mut self, t: f64, v: u64) {
        if self.width == 0.0 {
            self.t0 = t;
            self.width = 60.0;
        }
        let mut i = ((t - self.t0) / self.width).max(0.0) as usize;
        while i >= BINS {
            // merge pairs: the chart keeps its size whatever the log's length
            for k in 0..BINS / 2 {
                let (a, b) = (
                    self.bins.get(2 * k).copied().unwrap_or_default(),
                    self.bins.get(2 * k + 1).copied().unwrap_or_default(),
                );
                if let Some(d) = self.bins.get_mut(k) {
                    *d = merge(a, b);
                }
            }
            for d in self.bins.iter_mut().skip(BINS / 2) {
                *d = Bin::default();
            }
            self.width *= 2.0;
            i = ((t - self.t0) / self.width).max(0.0) as usize;
        }
        if let Some(b) = self.bins.get_mut(i) {
            *b = merge(
                *b,
                Bin {
                    n: 1,
                    min: v,
                    max: v,
                    sum: v,
                },
            );
        }
    }
}

fn merge(a: Bin, b: Bin) -> Bin {
    match (a.n, b.n) {
        (0, _) => b,
        (_, 0) => a,
        _ => Bin {
            n: a.n.saturating_add(b.n),
            min: a.min.min(b.min),
            max: a.max.max(b.max),
            // kB values near u64::MAX come only from hostile logs: clamp, never wrap
            sum: a.sum.saturating_add(b.sum),
        },
    }
}

/// One logfmt token: key and raw value (quotes stripped, escapes kept).
fn tokens<'a>(line: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8])) {
    let mut i = 0;
    while i < line.len() {
        while line.get(i) == Some(&b' ') {
            i += 1;
        }
        let ks = i;
        while let Some(&c) = line.get(i) {
            if c == b'=' || c == b' ' {
                break;
            }
            i += 1;
        }
        let key = line.get(ks..i).unwrap_or(&[]);
        if line.get(i) != Some(&b'=') {
            f(key, b"");
            continue;
        }
        i += 1;
        let vs;
        let ve;
        if line.get(i) == Some(&b'"') {
            i += 1;
            vs = i;
            while let Some(&c) = line.get(i) {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == b'"' {
                    break;
                }
                i += 1;
            }
            ve = i.min(line.len());
            i += 1;
        } else {
            vs = i;
            while line.get(i).is_some_and(|&c| c != b' ') {
                i += 1;
            }
            ve = i;
        }
        f(key, line.get(vs..ve).unwrap_or(&[]));
    }
}

/// `2026-11-24T10:00:00Z` or `2026-11-24-10:00:00` to Unix seconds.
pub fn parse_time(s: &[u8]) -> Option<i64> {
    let num = |a: usize, b: usize| s.get(a..b).and_then(parse_u64).map(|v| v as i64);
    if s.len() < 19 {
        return None;
    }
    let (y, m, d, hh, mm, ss) = (
        num(0, 4)?,
        num(5, 7)?,
        num(8, 10)?,
        num(11, 13)?,
        num(14, 16)?,
        num(17, 19)?,
    );
    // days from civil (Howard Hinnant)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400 + hh * 3600 + mm * 60 + ss)
}

pub struct Report<'o> {
    targets: heapless::Vec<Target, MAX_TARGETS>,
    pub dropped_targets: u32,
    only: Option<&'o [u8]>,
    /// proc_memlog.txt state: the time of the current block
    shell_t: Option<f64>,
    last_up: f64,
    pub lines: u64,
}

impl<'o> Report<'o> {
    pub fn new(only: Option<&'o [u8]>) -> Report<'o> {
        Report {
            targets: heapless::Vec::new(),
            dropped_targets: 0,
            only,
            shell_t: None,
            last_up: -1.0,
            lines: 0,
        }
    }

    fn target(&mut self, name: &[u8], system: bool) -> Option<&mut Target> {
        if self.only.is_some_and(|o| o != name) {
            return None;
        }
        let i = match self
            .targets
            .iter()
            .position(|t| &t.name[..] == name && t.system == system)
        {
            Some(i) => i,
            None => {
                if self.targets.push(Target::new(name, system)).is_err() {
                    self.dropped_targets += 1;
                    return None;
                }
                self.targets.len() - 1
            }
        };
        self.targets.get_mut(i)
    }

    pub fn feed_line(&mut self, line: &[u8]) {
        self.lines += 1;
        let line = crate::num::trim(line);
        // the shell loop's format
        if line.len() == 19 && line.get(10) == Some(&b'-') {
            self.shell_t = parse_time(line).map(|s| s as f64);
            return;
        }
        if let Some(t) = self.shell_t {
            if let Some(i) = line.iter().position(|&b| b == b':') {
                let (k, v) = (
                    line.get(..i).unwrap_or(&[]),
                    line.get(i + 1..).unwrap_or(&[]),
                );
                if let (Some(f), Some((val, _))) = (
                    FIELDS.iter().position(|x| x.as_bytes() == k),
                    parse_u64_prefix(v),
                ) {
                    if let Some(tg) = self.target(b"proc_memlog", false) {
                        if let Some(s) = tg.stats.get_mut(f) {
                            s.add(t, val);
                        }
                        if f == 0 {
                            tg.bin(t, val);
                            tg.t_last = t;
                        }
                    }
                }
                return;
            }
        }
        // memdog logfmt
        let mut ts = None;
        let mut up = None;
        let mut name: &[u8] = b"";
        let mut event: &[u8] = b"";
        let mut field: &[u8] = b"";
        let (mut pid, mut limit): (Option<u64>, Option<u64>) = (None, None);
        let mut system = false;
        let mut vals = [None; 5];
        let mut first = true;
        tokens(line, |k, v| {
            if first {
                first = false;
                ts = parse_time(k);
                return;
            }
            match k {
                b"up" => {
                    up = parse_u64_prefix(v).map(|(s, rest)| {
                        s as f64 + rest.get(1..2).and_then(parse_u64).unwrap_or(0) as f64 / 10.0
                    })
                }
                b"name" => name = v,
                b"pid" => pid = parse_u64(v),
                b"event" => event = v,
                b"field" => field = v,
                b"limit" => limit = parse_u64(v),
                b"meminfo" => system = true,
                _ => {
                    let keys: &[&str] = if system { &SYS_FIELDS } else { &FIELDS };
                    let k = if k == b"MemAvailable~" {
                        &b"MemAvailable"[..]
                    } else {
                        k
                    };
                    if let Some(i) = keys.iter().position(|f| f.as_bytes() == k) {
                        if let Some(slot) = vals.get_mut(i) {
                            *slot = parse_u64(v);
                        }
                    }
                }
            }
        });
        let Some(ts) = ts else { return };
        let t = match up {
            Some(u) => {
                if u < self.last_up {
                    // uptime went back: the board rebooted; every target starts anew
                    self.targets.iter_mut().for_each(Target::segment_break);
                }
                self.last_up = u;
                u
            }
            None => ts as f64,
        };
        let name: &[u8] = if system { b"system" } else { name };
        if name.is_empty() {
            return;
        }
        let Some(tg) = self.target(name, system) else {
            return;
        };
        if !event.is_empty() {
            tg.events += 1;
            let kind = match event {
                b"start" => {
                    if tg.last_pid.is_some() {
                        tg.restarts += 1;
                        tg.segment_break();
                    }
                    tg.last_pid = pid;
                    b's'
                }
                b"exit" => b'x',
                b"warn" => b'w',
                b"crit" => b'c',
                _ => 0,
            };
            if field == b"VmRSS" && limit.is_some() {
                match kind {
                    b'w' => tg.warn_limit = limit,
                    b'c' => tg.crit_limit = limit,
                    _ => {}
                }
            }
            if kind != 0 {
                let _ = tg.marks.push(Mark { t, kind });
            }
            return;
        }
        if tg.last_pid.is_some() && pid.is_some() && pid != tg.last_pid && !system {
            tg.restarts += 1;
            tg.segment_break();
        }
        if pid.is_some() {
            tg.last_pid = pid;
        }
        for (i, v) in vals.iter().enumerate() {
            if let (Some(v), Some(s)) = (v, tg.stats.get_mut(i)) {
                s.add(t, *v);
            }
        }
        if let Some(v) = vals.first().copied().flatten() {
            tg.bin(t, v);
            tg.t_last = t;
        }
    }

    /// Print the per-target summary and verdict.
    pub fn print(&self) {
        let mut l = Line::new();
        for t in self.targets.iter() {
            let fields: &[&str] = if t.system { &SYS_FIELDS } else { &FIELDS };
            l.push(b"== ");
            l.push_escaped(&t.name);
            l.kv(b"restarts", u64::from(t.restarts));
            l.kv(b"events", u64::from(t.events));
            say(&mut l);
            for (i, f) in fields.iter().enumerate() {
                let Some(s) = t.stats.get(i).filter(|s| s.seen) else {
                    continue;
                };
                let (slope, r2) = s.slope();
                l.push(b"  ");
                l.push(f.as_bytes());
                l.kv(b"first", s.first);
                l.kv(b"last", s.last);
                l.kv(b"min", s.min);
                l.kv(b"max", s.max);
                l.push(b" slope_kb_h=");
                push_signed(&mut l, slope);
                l.push(b" r2=");
                push_fixed2(&mut l, r2);
                say(&mut l);
            }
            l.push(b"  verdict: ");
            self.verdict(&mut l, t);
            say(&mut l);
        }
        if self.dropped_targets > 0 {
            l.push(b"(more targets than the report holds; use --target NAME)");
            say(&mut l);
        }
    }

    /// `leak likely: VmRSS +412 kB/h over 37 h, R^2=0.97` or `no growth`.
    /// A leak: growth over the span of at least 256 kB and 5 % of the first
    /// value, with R^2 >= 0.6 across the pooled segments. For the system
    /// target, MemAvailable falling the same way is reported.
    fn verdict(&self, l: &mut Line, t: &Target) {
        let Some(s) = t.stats.first().filter(|s| s.seen) else {
            l.push(b"no samples");
            return;
        };
        let (slope, r2) = s.slope();
        let hours = ((t.t_last - t.t0) / 3600.0).max(0.0);
        let sign = if t.system { -1.0 } else { 1.0 };
        let growth = sign * slope * hours;
        let floor = (s.first as f64 * 0.05).max(256.0);
        if growth >= floor && r2 >= 0.6 {
            l.push(if t.system {
                b"memory shrinking: "
            } else {
                b"leak likely: "
            });
            l.push(if t.system {
                b"MemAvailable "
            } else {
                b"VmRSS "
            });
            push_signed(l, slope);
            l.push(b" kB/h over ");
            l.push_u64(hours as u64);
            l.push(b" h, R^2=");
            push_fixed2(l, r2);
        } else if growth >= floor {
            l.push(b"grows, but not steadily (R^2=");
            push_fixed2(l, r2);
            l.push(b"): cache or load, not a clear leak");
        } else {
            l.push(b"no growth");
        }
    }

    /// Downsampled series as CSV: target,t_s,min,mean,max
    pub fn csv(&self, fd: i32) {
        let mut l = Line::new();
        l.push(b"target,t_s,min_kb,mean_kb,max_kb");
        let _ = sys::write_all(fd, l.finish());
        for t in self.targets.iter() {
            for (i, b) in t.filled(BINS) {
                l.clear();
                l.push_escaped(&t.name);
                l.push(b",");
                l.push_u64((t.t0 + i as f64 * t.width) as u64);
                for v in [b.min, b.sum / u64::from(b.n), b.max] {
                    l.push(b",");
                    l.push_u64(v);
                }
                let _ = sys::write_all(fd, l.finish());
            }
        }
    }

    /// One panel per target: min-max band, mean line, limits, event marks.
    pub fn svg(&self, fd: i32) {
        const W: u64 = 900;
        const PH: u64 = 220;
        let h = 40 + PH * self.targets.len() as u64;
        let mut l = Line::new();
        let w = |l: &mut Line| {
            let _ = sys::write_all(fd, l.as_bytes());
            l.clear();
        };
        l.push(b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"");
        l.push_u64(W);
        l.push(b"\" height=\"");
        l.push_u64(h);
        l.push(b"\" font-family=\"sans-serif\" font-size=\"12\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        l.push(b"<text x=\"10\" y=\"22\" font-size=\"16\">memdog report</text>\n");
        w(&mut l);
        for (k, t) in self.targets.iter().enumerate() {
            let top = 40 + PH * k as u64;
            let (x0, x1, y0, y1) = (
                70.0,
                W as f64 - 20.0,
                top as f64 + 30.0,
                (top + PH) as f64 - 30.0,
            );
            let used = t.bins.iter().rposition(|b| b.n > 0).map_or(1, |i| i + 1);
            let (mut lo, mut hi) = (u64::MAX, 0u64);
            for (_, b) in t.filled(used) {
                lo = lo.min(b.min);
                hi = hi.max(b.max);
            }
            for lim in [t.warn_limit, t.crit_limit].into_iter().flatten() {
                hi = hi.max(lim);
                lo = lo.min(lim);
            }
            if lo > hi {
                continue;
            }
            let span = ((hi - lo) as f64).max(1.0);
            let (lo_f, hi_f) = (lo as f64 - span * 0.05, hi as f64 + span * 0.05);
            let x = |i: f64| x0 + (x1 - x0) * i / used.max(1) as f64;
            let y = |v: f64| y1 - (y1 - y0) * (v - lo_f) / (hi_f - lo_f);
            let field: &[u8] = if t.system { b"MemAvailable" } else { b"VmRSS" };
            l.push(b"<text x=\"10\" y=\"");
            push_f(&mut l, y0 - 10.0);
            l.push(b"\" font-size=\"14\">");
            push_xml(&mut l, &t.name);
            l.push(b" - ");
            l.push(field);
            l.push(b" kB (band: min-max per bin, line: mean)</text>\n");
            // axes and labels
            l.push(b"<rect x=\"70\" y=\"");
            push_f(&mut l, y0);
            l.push(b"\" width=\"");
            push_f(&mut l, x1 - x0);
            l.push(b"\" height=\"");
            push_f(&mut l, y1 - y0);
            l.push(b"\" fill=\"none\" stroke=\"#888\"/>\n");
            w(&mut l);
            for (v, yy) in [(hi_f, y0), (lo_f, y1)] {
                l.push(b"<text x=\"65\" y=\"");
                push_f(&mut l, yy + 4.0);
                l.push(b"\" text-anchor=\"end\">");
                l.push_u64(v.max(0.0) as u64);
                l.push(b"</text>\n");
            }
            let hours = (used as f64 * t.width) / 3600.0;
            l.push(b"<text x=\"");
            push_f(&mut l, x1);
            l.push(b"\" y=\"");
            push_f(&mut l, y1 + 16.0);
            l.push(b"\" text-anchor=\"end\">");
            push_f(&mut l, hours);
            l.push(b" h</text><text x=\"70\" y=\"");
            push_f(&mut l, y1 + 16.0);
            l.push(b"\">0 h</text>\n");
            w(&mut l);
            // band
            l.push(b"<polygon fill=\"#9ecae1\" stroke=\"none\" points=\"");
            w(&mut l);
            for (i, b) in t.filled(used) {
                push_pt(&mut l, x(i as f64 + 0.5), y(b.max as f64));
                w(&mut l);
            }
            for (i, b) in t.filled(used).rev() {
                push_pt(&mut l, x(i as f64 + 0.5), y(b.min as f64));
                w(&mut l);
            }
            l.push(
                b"\"/>\n<polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"1.5\" points=\"",
            );
            w(&mut l);
            for (i, b) in t.filled(used) {
                push_pt(&mut l, x(i as f64 + 0.5), y(b.sum as f64 / f64::from(b.n)));
                w(&mut l);
            }
            l.push(b"\"/>\n");
            for (lim, color, word) in [
                (t.warn_limit, &b"#e6550d"[..], &b"warn"[..]),
                (t.crit_limit, b"#a50f15", b"crit"),
            ] {
                if let Some(v) = lim {
                    l.push(b"<line x1=\"70\" x2=\"");
                    push_f(&mut l, x1);
                    l.push(b"\" y1=\"");
                    push_f(&mut l, y(v as f64));
                    l.push(b"\" y2=\"");
                    push_f(&mut l, y(v as f64));
                    l.push(b"\" stroke=\"");
                    l.push(color);
                    l.push(b"\" stroke-dasharray=\"6 4\"/><text x=\"");
                    push_f(&mut l, x1 - 4.0);
                    l.push(b"\" y=\"");
                    push_f(&mut l, y(v as f64) - 4.0);
                    l.push(b"\" text-anchor=\"end\" fill=\"");
                    l.push(color);
                    l.push(b"\">");
                    l.push(word);
                    l.push(b" ");
                    l.push_u64(v);
                    l.push(b"</text>\n");
                    w(&mut l);
                }
            }
            for m in t.marks.iter() {
                let xi = x((m.t - t.t0) / t.width);
                let (color, label, dy): (&[u8], &[u8], f64) = match m.kind {
                    b's' => (b"#31a354", b"start", 12.0),
                    b'x' => (b"#636363", b"exit", 26.0),
                    b'w' => (b"#e6550d", b"warn", 40.0),
                    _ => (b"#a50f15", b"crit", 54.0),
                };
                l.push(b"<line x1=\"");
                push_f(&mut l, xi);
                l.push(b"\" x2=\"");
                push_f(&mut l, xi);
                l.push(b"\" y1=\"");
                push_f(&mut l, y0);
                l.push(b"\" y2=\"");
                push_f(&mut l, y1);
                l.push(b"\" stroke=\"");
                l.push(color);
                l.push(b"\"/><text x=\"");
                push_f(&mut l, xi + 2.0);
                l.push(b"\" y=\"");
                push_f(&mut l, y0 + dy);
                l.push(b"\" fill=\"");
                l.push(color);
                l.push(b"\">");
                l.push(label);
                l.push(b"</text>\n");
                w(&mut l);
            }
        }
        l.push(b"</svg>\n");
        w(&mut l);
    }
}

fn say(l: &mut Line) {
    let _ = sys::write_all(sys::STDOUT, l.finish());
    l.clear();
}

fn push_signed(l: &mut Line, v: f64) {
    let m = (if v < 0.0 { -v } else { v } + 0.5) as u64;
    l.push(if v < 0.0 && m > 0 { b"-" } else { b"+" });
    l.push_u64(m);
}

fn push_fixed2(l: &mut Line, v: f64) {
    let c = (v.clamp(0.0, 1.0) * 100.0 + 0.5) as u64;
    l.push_u64(c / 100);
    l.push(b".");
    if c % 100 < 10 {
        l.push(b"0");
    }
    l.push_u64(c % 100);
}

fn push_f(l: &mut Line, v: f64) {
    l.push_u64(v.max(0.0) as u64);
    l.push(b".");
    l.push_u64(((v.max(0.0) * 10.0) as u64) % 10);
}

fn push_pt(l: &mut Line, x: f64, y: f64) {
    push_f(l, x);
    l.push(b",");
    push_f(l, y);
    l.push(b" ");
}

fn push_xml(l: &mut Line, s: &[u8]) {
    for &b in s {
        match b {
            b'<' => l.push(b"&lt;"),
            b'>' => l.push(b"&gt;"),
            b'&' => l.push(b"&amp;"),
            b'"' => l.push(b"&quot;"),
            b' '..=b'~' => l.push(&[b]),
            _ => l.push(b"?"),
        }
    }
}

/// `memdog report LOG... [--svg FILE] [--csv FILE] [--target NAME]`
// its own stack frame: inlined into main, every subcommand's buffers would
// share one frame, and stack probes touch all of it (RSS)
#[inline(never)]
pub fn run(files: &[&[u8]], svg: Option<&[u8]>, csv: Option<&[u8]>, only: Option<&[u8]>) -> i32 {
    let mut r = Report::new(only);
    let mut buf = [0u8; LINE_MAX];
    for &f in files {
        let res = if f == b"-" {
            crate::proc::for_each_line(&mut sys::Fd::borrowed(0), &mut buf, |l| r.feed_line(l))
        } else {
            match Fd::open_read(&PathBuf::from(f)) {
                Ok(mut fd) => crate::proc::for_each_line(&mut fd, &mut buf, |l| r.feed_line(l)),
                Err(e) => {
                    out::error(&[b"cannot read ", f, b": ", e.text().as_bytes()]);
                    return exit::FAILURE;
                }
            }
        };
        if let Err(e) = res {
            out::error(&[b"cannot read ", f, b": ", e.text().as_bytes()]);
            return exit::FAILURE;
        }
    }
    r.print();
    for (path, is_svg) in [(svg, true), (csv, false)] {
        let Some(p) = path else { continue };
        match sys::create_file(&PathBuf::from(p), 0o644) {
            Ok(fd) => {
                if is_svg {
                    r.svg(fd.raw())
                } else {
                    r.csv(fd.raw())
                }
            }
            Err(e) => {
                out::error(&[b"cannot create ", p, b": ", e.text().as_bytes()]);
                return exit::FAILURE;
            }
        }
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time(b"2026-11-24T10:00:00Z"), Some(1_795_514_400));
        assert_eq!(parse_time(b"2026-11-24-10:00:00"), Some(1_795_514_400));
        assert_eq!(parse_time(b"garbage"), None);
    }

    #[test]
    fn pooled_slope_ignores_restarts() {
        let mut s = Stats::default();
        for seg in 0..3 {
            for i in 0..100 {
                let t = (seg * 100 + i) as f64 * 60.0;
                s.add(t, 1000 + i as u64 * 10); // +10 kB/min = 600 kB/h, reset at each restart
            }
            s.end_segment();
        }
        let (slope, r2) = s.slope();
        assert!((slope - 600.0).abs() < 1e-6, "{slope}");
        assert!(r2 > 0.999);
    }

    #[test]
    fn huge_values_saturate() {
        // cargo fuzz report crash: two samples of 1.1e19 kB in one bin overflowed the bin sum
        let v = b"VmRSS:\t 11111111111111111111 kB";
        let mut r = Report::new(None);
        for _ in 0..2 {
            r.feed_line(b"2026-11-24-10:00:00");
            r.feed_line(v);
        }
        let null = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .unwrap();
        use std::os::fd::AsRawFd;
        r.csv(null.as_raw_fd());
        r.svg(null.as_raw_fd());
    }
}
