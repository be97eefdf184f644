//! The report's outputs: the ranked table and per-target detail on stdout,
//! the CSV of binned series, the SVG of the worst targets as small multiples.

use super::model::{fields_of, EtaTo, GrowthKind, Level, Model, Target, Verdict, BINS};
use super::parse::FIELDS;
use super::State;
use crate::line::{push_timestamp, Line};
use crate::sys::{self, Errno};

/// Panels in the SVG: the worst targets as small multiples.
pub const PANELS: usize = 8;
/// Lives listed per target; the rest are counted.
pub const LIFE_LINES: usize = 12;

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
    let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
    l.push_u64(v as u64);
    l.push(b".");
    l.push_u64(((v * 10.0) as u64) % 10);
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

/// A right-aligned cell of `width` from what `f` pushes.
fn cell(l: &mut Line, width: usize, f: impl FnOnce(&mut Line)) {
    let mut c = Line::new();
    f(&mut c);
    l.push_right(c.as_bytes(), width);
    l.push(b" ");
}

fn level_word(t: &Target) -> &'static [u8] {
    match (t.verdict.level, t.system) {
        (Level::Leak, true) => b"shrinking",
        (Level::Leak, false) => b"leak",
        (Level::Unsteady, _) => b"unsteady",
        (Level::Cache, _) => b"cache",
        (Level::Flat, _) => b"flat",
        (Level::NoSamples, _) => b"none",
    }
}

fn host_name<'m>(m: &'m Model, t: &Target) -> &'m [u8] {
    m.hosts.get(t.host as usize).map_or(&[][..], |h| &h[..])
}

/// `leak likely: VmRSS +412 kB/h over 37 h, R^2=0.97` or `no growth`.
fn verdict(l: &mut Line, t: &Target, v: &Verdict) {
    match v.level {
        Level::NoSamples => l.push(b"no samples"),
        Level::Flat => l.push(b"no growth"),
        Level::Unsteady => {
            l.push(b"grows, but not steadily (R^2=");
            push_fixed2(l, v.r2);
            l.push(b"): cache or load, not a clear leak");
        }
        Level::Cache => {
            l.push(b"grows in file pages: VmRSS ");
            push_signed(l, v.slope);
            l.push(b" kB/h over ");
            l.push_u64(v.hours as u64);
            l.push(b" h, R^2=");
            push_fixed2(l, v.r2);
            l.push(b": page cache or mapped files, not a leak by itself");
        }
        Level::Leak => {
            if t.system {
                l.push(b"memory shrinking: MemAvailable ");
            } else {
                l.push(b"leak likely: ");
                l.push(FIELDS.get(v.field).map_or(&b"VmRSS"[..], |f| f.as_bytes()));
                l.push(b" ");
            }
            push_signed(l, v.slope);
            l.push(b" kB/h over ");
            l.push_u64(v.hours as u64);
            l.push(b" h, R^2=");
            push_fixed2(l, v.r2);
        }
    }
    // a life of the system or of a proc_memlog file has no pid to name
    if let (Some(pid), true) = (v.life, v.level > Level::Flat && !t.system && !t.memlog) {
        l.push(b" (the life of pid ");
        l.push_u64(u64::from(pid));
        l.push(b")");
    }
}

/// The ranked table, then each target worst first.
/// Scratch for one target's lives in print order (static: not a stack frame).
static ORDER: crate::sys::cell::Once<heapless::Vec<u32, { super::model::MAX_LIVES }>> =
    crate::sys::cell::Once::new(heapless::Vec::new());

pub fn print(st: &State, ranked: &[u16]) {
    let Some(order) = ORDER.take() else { return };
    print_all(st, ranked, order);
}

fn print_all(
    st: &State,
    ranked: &[u16],
    order: &mut heapless::Vec<u32, { super::model::MAX_LIVES }>,
) {
    let m = &st.model;
    let mut l = Line::new();
    let hosts = m
        .hosts
        .iter()
        .enumerate()
        .filter(|(i, _)| m.targets.iter().any(|t| t.host as usize == *i))
        .count();
    l.push(b"memdog report:");
    l.kv(b"hosts", hosts as u64);
    l.kv(b"targets", m.targets.len() as u64);
    l.kv(b"lives", m.lives.len() as u64);
    l.kv(b"boots", st.boots.len() as u64);
    l.kv(b"lines", m.records);
    l.kv(b"skipped", st.skips.count());
    say(&mut l);
    let multi_host = hosts > 1 || m.targets.iter().any(|t| !host_name(m, t).is_empty());
    l.push(b"verdict   slope_kb_h   r2  span_h restarts lives ");
    if multi_host {
        l.push(b"host ");
    }
    l.push(b"target");
    say(&mut l);
    for &i in ranked {
        let Some(t) = m.targets.get(i as usize) else {
            continue;
        };
        l.push(level_word(t));
        for _ in level_word(t).len()..9 {
            l.push(b" ");
        }
        cell(&mut l, 11, |c| push_signed(c, t.verdict.slope));
        cell(&mut l, 4, |c| push_fixed2(c, t.verdict.r2));
        cell(&mut l, 7, |c| {
            c.push_u64(t.wall.map_or(0, |(a, b)| ((b - a) / 3600) as u64))
        });
        cell(&mut l, 8, |c| c.push_u64(u64::from(t.restarts)));
        cell(&mut l, 5, |c| c.push_u64(u64::from(t.lives)));
        if multi_host {
            let h = host_name(m, t);
            l.push_escaped(if h.is_empty() { b"-" } else { h });
            l.push(b" ");
        }
        l.push_escaped(&t.name);
        say(&mut l);
    }
    for &i in ranked {
        let Some(t) = m.targets.get(i as usize) else {
            continue;
        };
        detail(m, i as u32, t, &mut l, order);
    }
    notes(st, &mut l);
}

fn detail(
    m: &Model,
    ti: u32,
    t: &Target,
    l: &mut Line,
    order: &mut heapless::Vec<u32, { super::model::MAX_LIVES }>,
) {
    l.push(b"== ");
    l.push_escaped(&t.name);
    let h = host_name(m, t);
    if !h.is_empty() {
        l.kv_str(b"host", h);
    }
    l.kv(b"restarts", u64::from(t.restarts));
    l.kv(b"lives", u64::from(t.lives));
    l.kv(b"boots", u64::from(t.boots));
    l.kv(b"events", u64::from(t.events));
    if t.assumed_times {
        l.push(b" times=assumed-600s");
    }
    say(l);
    for (i, f) in fields_of(t).iter().enumerate() {
        let (Some(s), Some(p)) = (t.fields.get(i).filter(|s| s.seen), t.pooled.get(i)) else {
            continue;
        };
        l.push(b"  ");
        l.push(f.as_bytes());
        l.kv(b"first", s.first);
        l.kv(b"last", s.last);
        l.kv(b"min", s.min);
        l.kv(b"max", s.max);
        l.push(b" slope_kb_h=");
        push_signed(l, p.0);
        l.push(b" r2=");
        push_fixed2(l, p.1);
        say(l);
    }
    if !t.memlog {
        let mut shown = 0;
        let mut more = 0u64;
        // in (boot, first record, pid, starttime) order: never arrival order
        let order = &mut *order;
        order.clear();
        for (i, x) in m.lives.iter().enumerate() {
            if x.target == ti {
                let _ = order.push(i as u32);
            }
        }
        order.sort_unstable_by_key(|&i| {
            m.lives
                .get(i as usize)
                .map(|x| (x.boot, x.first_up, x.pid, x.start))
        });
        for life in order.iter().filter_map(|&i| m.lives.get(i as usize)) {
            if shown >= LIFE_LINES {
                more += 1;
                continue;
            }
            shown += 1;
            l.push(b"  life");
            if !t.system {
                l.kv(b"pid", u64::from(life.pid));
                if let Some(s) = life.start {
                    l.kv(b"start", s);
                }
            }
            l.kv(b"boot", u64::from(life.boot));
            let f0 = life.fits.first().copied().unwrap_or_default();
            l.kv(b"samples", f0.n as u64);
            if life.rss.seen {
                l.push(b" from=");
                push_timestamp(l, life.wall.0);
                l.push(b" to=");
                push_timestamp(l, life.wall.1);
                l.kv(b"first", life.rss.first);
                l.kv(b"last", life.rss.last);
                let (a, b, c) = f0.centred();
                let (s, r2) = super::model::slope_r2(a, b, c);
                l.push(b" slope_kb_h=");
                push_signed(l, s);
                l.push(b" r2=");
                push_fixed2(l, r2);
            }
            say(l);
        }
        if more > 0 {
            l.push(b"  (");
            l.push_u64(more);
            l.push(b" more lives)");
            say(l);
        }
    }
    l.push(b"  verdict: ");
    verdict(l, t, &t.verdict);
    say(l);
    if let Some(g) = t.growth {
        l.push(b"  growth: ");
        l.push(match g.kind {
            GrowthKind::Anon => b"anon",
            GrowthKind::File => b"file",
            GrowthKind::Shmem => b"shmem",
            GrowthKind::Swap => b"swap",
            GrowthKind::Unknown => b"unknown",
        });
        l.push(b" (");
        l.push(FIELDS.get(g.field).map_or(&b"?"[..], |f| f.as_bytes()));
        l.push(b" ");
        push_signed(l, g.slope);
        l.push(b" kB/h): ");
        l.push(match g.kind {
            GrowthKind::Anon => &b"heap or anonymous maps: a leak likely"[..],
            GrowthKind::File => b"page cache or mapped files: not a leak by itself",
            GrowthKind::Shmem => {
                b"shared memory (tmpfs, SysV, memfd): a leak if its segments are never freed"
            }
            GrowthKind::Swap => b"VmRSS flat while swap grows: a leak going to swap",
            GrowthKind::Unknown => {
                b"no part of VmRSS in the log (RssAnon, RssFile, RssShmem) explains it"
            }
        });
        say(l);
    }
    if let Some(e) = t.eta {
        l.push(b"  eta: ");
        l.push(if t.system { b"MemAvailable" } else { b"VmRSS" });
        match e.hours {
            Some(h) => {
                l.push(b" reaches ");
                l.push_u64(e.limit_kb);
                l.push(b" kB in ");
                push_f(l, h);
                l.push(b" h");
            }
            None => {
                l.push(b" is at or past ");
                l.push_u64(e.limit_kb);
                l.push(b" kB");
            }
        }
        l.push(b" (");
        l.push(match e.to {
            EtaTo::Crit => &b"the crit limit in the log"[..],
            EtaTo::Forecast => b"the limit memdog forecast to in the log",
            EtaTo::Warn => b"the warn limit in the log",
            EtaTo::MemTotal => b"MemTotal: no limit in the log",
            EtaTo::Zero => b"running out",
        });
        l.push(b"; last ");
        l.push_u64(e.last_kb);
        l.push(b" kB)");
        say(l);
    }
}

/// Every capacity that overflowed, by name.
fn notes(st: &State, l: &mut Line) {
    let m = &st.model;
    if m.dropped_targets > 0 {
        l.push(b"(more targets than the report holds (");
        l.push_u64(super::model::MAX_TARGETS as u64);
        l.push(b"); not reported: ");
        for (i, n) in m.dropped_names.iter().enumerate() {
            if i > 0 {
                l.push(b", ");
            }
            l.push_escaped(n);
        }
        if m.dropped_targets as usize > m.dropped_names.len() {
            l.push(b" and lines of ");
            l.push_u64(u64::from(m.dropped_targets) - m.dropped_names.len() as u64);
            l.push(b" more");
        }
        l.push(b"; use --target NAME)");
        say(l);
    }
    for (n, what) in [
        (m.dropped_lives, &b"samples of process lives past MAX_LIVES (8192) not counted"[..]),
        (m.dropped_alive, b"process lives past MAX_ALIVE (512) at once in one boot: their later samples start new lives"),
        (st.host_overflow, b"lines of hosts past MAX_HOSTS (256) not read"),
        (st.seg_overflow, b"stretches of log past MAX_SEGS (4096): read unsorted, or not at all"),
        (st.cursor_overflow, b"copies of one stretch past MAX_CURSORS (16) read late, not merged"),
        (st.gather.overflow, b"lines of one sample past GROUP_CAP (256) not counted"),
        (st.skips.over, b"damaged lines past SKIP_SET (4096) counted without dropping repeats"),
    ] {
        if n > 0 {
            l.push(b"(");
            l.push_u64(n);
            l.push(b" ");
            l.push(what);
            l.push(b")");
            say(l);
        }
    }
    let charted = m.targets.iter().filter(|t| t.chart.is_some()).count();
    if (m.chart_all || !m.chart_keys.is_empty()) && charted < m.targets.len() {
        l.push(b"(--svg/--csv: the worst ");
        l.push_u64(charted as u64);
        l.push(b" of ");
        l.push_u64(m.targets.len() as u64);
        l.push(b" targets are binned (CHARTED); use --target NAME for others)");
        say(l);
    }
    if st.gather.duplicates > 0 {
        let mut e = Line::new();
        e.push(b"memdog: report: dropped ");
        e.push_u64(st.gather.duplicates);
        e.push(b" duplicate lines (files given twice or overlapping)");
        let _ = sys::write_all(sys::STDERR, e.finish());
    }
}

/// `--target NAME` that is in no log: say which targets are.
pub fn unknown_target(m: &Model, want: &[u8]) {
    let mut l = Line::new();
    l.push(b"memdog: report: no target ");
    l.push_escaped(want);
    l.push(b" in the logs (targets: ");
    let mut seen: heapless::Vec<&[u8], 16> = heapless::Vec::new();
    for n in m.targets.iter().map(|t| &t.name).chain(m.seen_names.iter()) {
        if !seen.iter().any(|s| *s == &n[..]) && seen.push(&n[..]).is_err() {
            break;
        }
    }
    seen.sort_unstable();
    for (i, s) in seen.iter().enumerate() {
        if i > 0 {
            l.push(b", ");
        }
        l.push_escaped(s);
    }
    l.push(b"; give one of them, or none)");
    let _ = sys::write_all(sys::STDERR, l.finish());
}

fn w(fd: i32, l: &mut Line) -> Result<(), Errno> {
    let r = sys::write_all(fd, l.as_bytes());
    l.clear();
    r
}

/// Binned series as CSV: host,target,boot,wall,up_s,samples,min_kb,mean_kb,max_kb
pub fn csv(m: &Model, ranked: &[u16], fd: i32) -> Result<(), Errno> {
    let mut l = Line::new();
    l.push(b"host,target,boot,wall,up_s,samples,min_kb,mean_kb,max_kb\n");
    w(fd, &mut l)?;
    for &i in ranked {
        let Some(t) = m.targets.get(i as usize) else {
            continue;
        };
        let Some(c) = t.chart.and_then(|c| m.charts.get(c as usize)) else {
            continue;
        };
        for b in c.bins.iter().filter(|b| b.n > 0) {
            csv_field(&mut l, host_name(m, t));
            l.push(b",");
            csv_field(&mut l, &t.name);
            l.push(b",");
            l.push_u64(u64::from(b.boot));
            l.push(b",");
            push_timestamp(&mut l, b.wall);
            l.push(b",");
            l.push_u64(b.up / 10);
            l.push(b".");
            l.push_u64(b.up % 10);
            for v in [u64::from(b.n), b.min, b.sum / u64::from(b.n), b.max] {
                l.push(b",");
                l.push_u64(v);
            }
            l.push(b"\n");
            w(fd, &mut l)?;
        }
    }
    Ok(())
}

/// RFC 4180: quote a field holding a comma, quote or line break.
fn csv_field(l: &mut Line, s: &[u8]) {
    if s.iter()
        .any(|&b| b == b',' || b == b'"' || b == b'\n' || b == b'\r')
    {
        l.push(b"\"");
        for &b in s {
            if b == b'"' {
                l.push(b"\"\"");
            } else {
                l.push(&[b]);
            }
        }
        l.push(b"\"");
    } else {
        l.push(s);
    }
}

/// The worst PANELS targets: min-max band and mean line per boot (boots are
/// segments side by side on a wall-clock axis, never overlaid), limits, events.
pub fn svg(m: &Model, ranked: &[u16], fd: i32) -> Result<(), Errno> {
    const W: f64 = 900.0;
    const PH: f64 = 220.0;
    let panels: heapless::Vec<u16, PANELS> = ranked
        .iter()
        .copied()
        .filter(|&i| {
            m.targets
                .get(i as usize)
                .is_some_and(|t| t.chart.is_some() && t.wall.is_some())
        })
        .take(PANELS)
        .collect();
    let mut l = Line::new();
    l.push(b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"");
    l.push_u64(40 + (PH as u64) * panels.len().max(1) as u64);
    l.push(b"\" font-family=\"sans-serif\" font-size=\"12\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    l.push(b"<text x=\"10\" y=\"22\" font-size=\"16\">memdog report</text>\n");
    w(fd, &mut l)?;
    if panels.is_empty() {
        l.push(b"<text x=\"10\" y=\"60\">no samples to draw</text>\n");
        w(fd, &mut l)?;
    }
    for (k, &ti) in panels.iter().enumerate() {
        let Some(t) = m.targets.get(ti as usize) else {
            continue;
        };
        let Some(c) = t.chart.and_then(|c| m.charts.get(c as usize)) else {
            continue;
        };
        let Some((wa, wb)) = t.wall else { continue };
        let top = 40.0 + PH * k as f64;
        let (x0, x1, y0, y1) = (70.0, W - 20.0, top + 30.0, top + PH - 30.0);
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        for b in c.bins.iter().filter(|b| b.n > 0) {
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
        let wspan = ((wb - wa) as f64).max(1.0);
        let x = |wall: i64| x0 + (x1 - x0) * ((wall - wa) as f64 / wspan).clamp(0.0, 1.0);
        let y = |v: f64| y1 - (y1 - y0) * (v - lo_f) / (hi_f - lo_f);
        let field: &[u8] = if t.system { b"MemAvailable" } else { b"VmRSS" };
        l.push(b"<text x=\"10\" y=\"");
        push_f(&mut l, y0 - 10.0);
        l.push(b"\" font-size=\"14\">");
        let h = host_name(m, t);
        if !h.is_empty() {
            push_xml(&mut l, h);
            l.push(b": ");
        }
        push_xml(&mut l, &t.name);
        l.push(b" - ");
        l.push(field);
        l.push(b" kB (band: min-max per bin, line: mean) - ");
        l.push(level_word(t));
        l.push(b"</text>\n<rect x=\"70\" y=\"");
        push_f(&mut l, y0);
        l.push(b"\" width=\"");
        push_f(&mut l, x1 - x0);
        l.push(b"\" height=\"");
        push_f(&mut l, y1 - y0);
        l.push(b"\" fill=\"none\" stroke=\"#888\"/>\n");
        w(fd, &mut l)?;
        for (v, yy) in [(hi_f, y0), (lo_f, y1)] {
            l.push(b"<text x=\"65\" y=\"");
            push_f(&mut l, yy + 4.0);
            l.push(b"\" text-anchor=\"end\">");
            l.push_u64(v.max(0.0) as u64);
            l.push(b"</text>\n");
        }
        // time axis: wall clock at both ends and the span; one label when there is no span
        l.push(b"<text x=\"70\" y=\"");
        push_f(&mut l, y1 + 16.0);
        l.push(b"\">");
        push_timestamp(&mut l, wa);
        l.push(b"</text>\n");
        if wb > wa {
            l.push(b"<text x=\"");
            push_f(&mut l, x1);
            l.push(b"\" y=\"");
            push_f(&mut l, y1 + 16.0);
            l.push(b"\" text-anchor=\"end\">");
            push_timestamp(&mut l, wb);
            l.push(b" (");
            push_f(&mut l, (wb - wa) as f64 / 3600.0);
            l.push(b" h)</text>\n");
        }
        w(fd, &mut l)?;
        // one band and line per run of bins of one boot
        let mut i = 0;
        while i < BINS {
            let Some(first) = c.bins.get(i).filter(|b| b.n > 0) else {
                i += 1;
                continue;
            };
            let boot = first.boot;
            let mut j = i;
            let mut last = i;
            while j < BINS {
                match c.bins.get(j) {
                    Some(b) if b.n > 0 && b.boot != boot => break,
                    Some(b) if b.n > 0 => last = j,
                    _ => {}
                }
                j += 1;
            }
            let run = || {
                c.bins
                    .get(i..=last)
                    .unwrap_or(&[])
                    .iter()
                    .filter(|b| b.n > 0)
            };
            if run().count() == 1 {
                let b = first;
                let mean = b.sum as f64 / f64::from(b.n.max(1));
                l.push(b"<line x1=\"");
                push_f(&mut l, x(b.wall));
                l.push(b"\" x2=\"");
                push_f(&mut l, x(b.wall));
                l.push(b"\" y1=\"");
                push_f(&mut l, y(b.max as f64));
                l.push(b"\" y2=\"");
                push_f(&mut l, y(b.min as f64));
                l.push(b"\" stroke=\"#9ecae1\" stroke-width=\"6\"/><circle cx=\"");
                push_f(&mut l, x(b.wall));
                l.push(b"\" cy=\"");
                push_f(&mut l, y(mean));
                l.push(b"\" r=\"3\" fill=\"#08519c\"/>\n");
                w(fd, &mut l)?;
            } else {
                l.push(b"<polygon fill=\"#9ecae1\" stroke=\"none\" points=\"");
                w(fd, &mut l)?;
                for b in run() {
                    push_pt(&mut l, x(b.wall), y(b.max as f64));
                    w(fd, &mut l)?;
                }
                let mut rev: heapless::Vec<(i64, u64), BINS> = heapless::Vec::new();
                for b in run() {
                    let _ = rev.push((b.wall, b.min));
                }
                for &(wall, v) in rev.iter().rev() {
                    push_pt(&mut l, x(wall), y(v as f64));
                    w(fd, &mut l)?;
                }
                l.push(b"\"/>\n<polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"1.5\" points=\"");
                w(fd, &mut l)?;
                for b in run() {
                    push_pt(&mut l, x(b.wall), y(b.sum as f64 / f64::from(b.n.max(1))));
                    w(fd, &mut l)?;
                }
                l.push(b"\"/>\n");
                w(fd, &mut l)?;
            }
            i = last + 1;
        }
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
                w(fd, &mut l)?;
            }
        }
        for mk in t.marks.iter() {
            use super::model::MarkKind as K;
            let xi = x(mk.wall);
            let (color, label, dy): (&[u8], &[u8], f64) = match mk.kind {
                K::Start => (b"#31a354", b"start", 12.0),
                K::Exit => (b"#636363", b"exit", 26.0),
                K::Warn => (b"#e6550d", b"warn", 40.0),
                K::Crit => (b"#a50f15", b"crit", 54.0),
                K::Boot => (b"#000000", b"boot", 68.0),
                K::Agent => (b"#756bb1", b"memdog restart", 82.0),
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
            if mk.kind == K::Boot {
                l.push(b"\" stroke-dasharray=\"2 2");
            }
            l.push(b"\"/><text x=\"");
            push_f(&mut l, xi + 2.0);
            l.push(b"\" y=\"");
            push_f(&mut l, y0 + dy);
            l.push(b"\" fill=\"");
            l.push(color);
            l.push(b"\">");
            l.push(label);
            l.push(b"</text>\n");
            w(fd, &mut l)?;
        }
    }
    l.push(b"</svg>\n");
    w(fd, &mut l)
}
