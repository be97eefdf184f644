//! The leak detector: a fixed ring of (time in ms, value) points thinned to
//! one point per window/RING_CAP, and a least-squares slope over it.
//!
//! A slope counts as a leak only when the line fits (R^2 >= MIN_R2) and
//! both halves of the window grow too (at least half the limit each): a
//! one-time step or a cache that fills and flushes has a steep stretch, but
//! not a steady climb across the whole window.

/// Points kept per slope rule: 48 points x 16 bytes = 768 bytes; a fit over
/// 48 evenly spaced points is as good as over thousands for a linear leak.
pub const RING_CAP: usize = 48;
/// Warm-up: the ring must span this share of the window (in %) before a slope is trusted.
pub const WARMUP_PCT: u64 = 75;
/// Minimum points before a slope is trusted.
pub const MIN_POINTS: usize = 8;
/// Fit quality below which growth is called noise, in hundredths.
pub const MIN_R2_PCT: i64 = 60;
/// Each half of the window must show growth too, with at least this fit: a
/// one-time step makes one half steep, but the other half is flat noise.
pub const MIN_HALF_R2_PCT: i64 = 25;

#[derive(Clone, Debug)]
pub struct Ring {
    t: [u64; RING_CAP],
    v: [u64; RING_CAP],
    head: usize,
    len: usize,
}

impl Default for Ring {
    fn default() -> Self {
        Ring {
            t: [0; RING_CAP],
            v: [0; RING_CAP],
            head: 0,
            len: 0,
        }
    }
}

/// Least-squares fit over (ms, value) points: slope in value units per hour, and R^2 in hundredths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    pub per_hour: f64,
    pub r2_pct: i64,
}

pub fn fit(points: impl Iterator<Item = (u64, u64)> + Clone) -> Option<Fit> {
    let (mut n, mut st, mut sv) = (0f64, 0f64, 0f64);
    let t0 = points.clone().next()?.0;
    for (t, v) in points.clone() {
        n += 1.0;
        st += (t - t0) as f64;
        sv += v as f64;
    }
    if n < 2.0 {
        return None;
    }
    let (mt, mv) = (st / n, sv / n);
    let (mut stt, mut stv, mut svv) = (0f64, 0f64, 0f64);
    for (t, v) in points {
        let (dt, dv) = ((t - t0) as f64 - mt, v as f64 - mv);
        stt += dt * dt;
        stv += dt * dv;
        svv += dv * dv;
    }
    if stt <= 0.0 {
        return None;
    }
    let slope = stv / stt; // per ms
    let r2 = if svv > 0.0 {
        stv * stv / (stt * svv)
    } else {
        0.0
    };
    Some(Fit {
        per_hour: slope * 3_600_000.0,
        r2_pct: (r2 * 100.0) as i64,
    })
}

impl Ring {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn at(&self, i: usize) -> (u64, u64) {
        let k = (self.head + RING_CAP - self.len + i) % RING_CAP;
        (
            self.t.get(k).copied().unwrap_or(0),
            self.v.get(k).copied().unwrap_or(0),
        )
    }

    /// The points, oldest first.
    pub fn points(&self) -> impl Iterator<Item = (u64, u64)> + Clone + '_ {
        (0..self.len).map(|i| self.at(i))
    }

    /// Keep at most one point per window/RING_CAP; drop points older than the window.
    pub fn push(&mut self, t_ms: u64, v: u64, window_s: u32) {
        let window = u64::from(window_s) * 1000;
        let step = window / RING_CAP as u64;
        if self.len > 0 {
            let (last_t, _) = self.at(self.len - 1);
            if t_ms < last_t {
                *self = Ring::default(); // time went back: cannot happen on a monotonic clock
            } else if t_ms - last_t < step.max(1) {
                return;
            }
        }
        if let (Some(ts), Some(vs)) = (self.t.get_mut(self.head), self.v.get_mut(self.head)) {
            *ts = t_ms;
            *vs = v;
        }
        self.head = (self.head + 1) % RING_CAP;
        self.len = (self.len + 1).min(RING_CAP);
        while self.len > 1 && t_ms.saturating_sub(self.at(0).0) > window {
            self.len -= 1;
        }
    }

    /// Growth in kB/h when it looks like a leak, else 0; None while warming up.
    pub fn leak_rate_kb_per_h(&self, window_s: u32) -> Option<u64> {
        let (first, last) = (self.at(0).0, self.at(self.len.checked_sub(1)?).0);
        if self.len < MIN_POINTS || (last - first) * 100 < u64::from(window_s) * 1000 * WARMUP_PCT {
            return None;
        }
        let all = fit(self.points())?;
        let half = self.len / 2;
        let a = fit(self.points().take(half + 1))?;
        let b = fit(self.points().skip(half))?;
        let lo = all.per_hour.min(a.per_hour * 2.0).min(b.per_hour * 2.0);
        if all.r2_pct < MIN_R2_PCT
            || a.r2_pct < MIN_HALF_R2_PCT
            || b.r2_pct < MIN_HALF_R2_PCT
            || lo <= 0.0
        {
            return Some(0);
        }
        Some(lo as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(f: impl Fn(u64) -> u64, hours: u64, step_s: u64, window_s: u32) -> Vec<Option<u64>> {
        let mut r = Ring::default();
        (0..hours * 3600 / step_s)
            .map(|i| {
                let t = i * step_s;
                r.push(t * 1000, f(t), window_s);
                r.leak_rate_kb_per_h(window_s)
            })
            .collect()
    }

    #[test]
    fn linear_leak_is_measured() {
        // 500 kB/h on 20 MB, sampled every 10 min, 6 h window
        let out = feed(|t| 20_000 + t * 500 / 3600, 12, 600, 6 * 3600);
        let last = out.last().unwrap().unwrap();
        assert!((495..=505).contains(&last), "{last}");
        assert!(
            out[..20].iter().all(|x| x.is_none()),
            "warm-up: no verdict before 75 % of the window"
        );
    }

    #[test]
    fn a_step_is_not_a_leak() {
        let out = feed(
            |t| if t > 3 * 3600 { 30_000 } else { 20_000 },
            12,
            60,
            6 * 3600,
        );
        assert!(out.iter().flatten().all(|&v| v < 100), "{out:?}");
    }

    #[test]
    fn a_sawtooth_is_not_a_leak() {
        // a cache that fills for 2 h and is flushed
        let out = feed(|t| 20_000 + (t % 7200) * 4000 / 7200, 24, 60, 6 * 3600);
        assert!(
            out.iter().flatten().all(|&v| v < 100),
            "{:?}",
            out.iter().flatten().max()
        );
    }

    #[test]
    fn fit_is_exact_on_a_line() {
        let f = fit([(0, 100), (3_600_000, 200), (7_200_000, 300)].into_iter()).unwrap();
        assert!((f.per_hour - 100.0).abs() < 1e-9);
        assert_eq!(f.r2_pct, 100);
    }
}
