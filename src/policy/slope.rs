//! The leak detector: a fixed ring of (time in ms, value) points thinned to
//! one point per window/RING_CAP, and a least-squares slope over it.
//!
//! A slope counts as a leak only when the line fits (R^2 >= MIN_R2) and
//! both halves of the window grow too (at least half the limit each): a
//! one-time step or a cache that fills and flushes has a steep stretch, but
//! not a steady climb across the whole window.

/// Points kept per slope rule: 48 points x 8 bytes = 384 bytes; a fit over
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

/// 32-bit points: the daemon keeps a ring per slope rule per watched process
/// (up to 4 x 9), most of its rule state, so halving a point halves that.
#[derive(Clone, Debug)]
pub struct Ring {
    /// time of `t`'s zero, ms; moved up to the oldest point when an offset
    /// would not fit (a window is at most 7 days, u32 ms is 49 days)
    base_ms: u64,
    t: [u32; RING_CAP],
    /// kB, saturated at u32::MAX (4 TiB)
    v: [u32; RING_CAP],
    head: usize,
    len: usize,
}

impl Default for Ring {
    fn default() -> Self {
        Ring::EMPTY
    }
}

impl Ring {
    /// No points, as a constant (the daemon's state is a static).
    pub const EMPTY: Ring = Ring {
        base_ms: 0,
        t: [0; RING_CAP],
        v: [0; RING_CAP],
        head: 0,
        len: 0,
    };
}

/// Least-squares fit over (ms, value) points, in integers: no soft-float
/// code on MIPS and ARMv5, and the same result on every architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    /// slope in value units (kB) per day: a limit of 20/d is exact, and
    /// N/h is N x 24
    pub per_day: i64,
    sxy: i64,
    sxx: i64,
    syy: i64,
}

impl Fit {
    /// R^2 >= pct / 100, i.e. `(10 sxy)^2 >= (pct sxx) syy`, compared
    /// without division as two exact 128-bit products of 64-bit factors.
    /// The factors fit in 64 bits for `fit`'s at most 48 points (|sxy| <
    /// 2^50, sxx < 2^36) and pct <= 100; one out-of-line compare of two
    /// widening products instead of four inlined i128 ones (932 bytes of MIPS code).
    pub fn r2_at_least(&self, pct: i64) -> bool {
        if self.syy <= 0 {
            return false; // a flat line: no growth to explain
        }
        let Ok(pct) = u64::try_from(pct) else {
            return true; // a negative bound: any fit passes
        };
        // plain products: within the bounds above neither can wrap (an
        // overflow check on a 64-bit product is a long sequence on MIPS32)
        let r = self.sxy.unsigned_abs().wrapping_mul(10);
        products_ge(r, r, pct.wrapping_mul(self.sxx as u64), self.syy as u64)
    }
}

impl Fit {
    /// R^2 in thousandths (0..=1000), for the metrics: the largest `pm`
    /// with `1000 sxy^2 >= pm sxx syy`, found by bisection on the same
    /// exact products (|sxy| 100 < 2^57, pm sxx < 2^46).
    pub fn r2_permille(&self) -> u16 {
        if self.syy <= 0 {
            return 0;
        }
        let a = self.sxy.unsigned_abs();
        let (mut lo, mut hi) = (0u64, 1000u64);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if products_ge(
                a.wrapping_mul(100),
                a.wrapping_mul(10),
                mid.wrapping_mul(self.sxx as u64),
                self.syy as u64,
            ) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo as u16
    }
}

/// `a * b >= c * d`, exact.
#[inline(never)]
fn products_ge(a: u64, b: u64, c: u64, d: u64) -> bool {
    u128::from(a) * u128::from(b) >= u128::from(c) * u128::from(d)
}

/// Times are scaled to at most 4096 steps and values clamped to +-2^25 kB
/// (32 GiB) of the first point, so every sum fits in an i64 for 48 points.
pub fn fit(points: impl Iterator<Item = (u64, u64)> + Clone) -> Option<Fit> {
    const CLAMP: i64 = 1 << 25;
    let (t0, v0) = points.clone().next()?;
    let t_last = points.clone().last()?.0;
    let q = (t_last.saturating_sub(t0) / 4096 + 1) as i64;
    let (mut n, mut su, mut suu, mut sv, mut suv, mut svv) = (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    for (t, v) in points {
        let u = (t.saturating_sub(t0) as i64) / q;
        let dv = (v as i64).saturating_sub(v0 as i64).clamp(-CLAMP, CLAMP);
        n += 1;
        su += u;
        suu += u * u;
        sv += dv;
        suv += u * dv;
        svv += dv * dv;
    }
    let sxx = n * suu - su * su;
    if n < 2 || sxx <= 0 {
        return None;
    }
    let sxy = n * suv - su * sv;
    let syy = n * svv - sv * sv;
    // kB per step = sxy / sxx; steps per day = 86_400_000 / q. The part:
    // |sxy % sxx| < sxx < 2^36 times 86.4e6 < 2^27 fits in an i64
    let whole = (sxy / sxx).saturating_mul(86_400_000);
    let part = (sxy % sxx) * 86_400_000 / sxx;
    Some(Fit {
        per_day: whole.saturating_add(part) / q,
        sxy,
        sxx,
        syy,
    })
}

impl Ring {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn slot(&self, i: usize) -> usize {
        (self.head + RING_CAP - self.len + i) % RING_CAP
    }

    fn at(&self, i: usize) -> (u64, u64) {
        let k = self.slot(i);
        (
            self.base_ms + u64::from(self.t.get(k).copied().unwrap_or(0)),
            u64::from(self.v.get(k).copied().unwrap_or(0)),
        )
    }

    /// Move `base_ms` up to the oldest point.
    fn rebase(&mut self) {
        let shift = self.t.get(self.slot(0)).copied().unwrap_or(0);
        for i in 0..self.len {
            let k = self.slot(i);
            if let Some(t) = self.t.get_mut(k) {
                *t -= shift.min(*t);
            }
        }
        self.base_ms += u64::from(shift);
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
        // points that fell out of the window go before the new one comes in
        while self.len > 0 && t_ms.saturating_sub(self.at(0).0) > window {
            self.len -= 1;
        }
        if self.len == 0 {
            self.base_ms = t_ms;
        } else if t_ms - self.base_ms > u64::from(u32::MAX) {
            self.rebase();
        }
        let off = match u32::try_from(t_ms - self.base_ms) {
            Ok(off) => off,
            Err(_) => {
                // a window longer than 49 days: start over from this point
                *self = Ring::default();
                self.base_ms = t_ms;
                0
            }
        };
        if let (Some(ts), Some(vs)) = (self.t.get_mut(self.head), self.v.get_mut(self.head)) {
            *ts = off;
            *vs = u32::try_from(v).unwrap_or(u32::MAX);
        }
        self.head = (self.head + 1) % RING_CAP;
        self.len = (self.len + 1).min(RING_CAP);
    }

    /// The fit over points `from..to`: one copy of the fit's 64-bit code
    /// for the window and both halves (an iterator adaptor each would
    /// instantiate, and inline, the whole fit three times).
    #[inline(never)]
    fn fit_span(&self, from: usize, to: usize) -> Option<Fit> {
        fit((from..to).map(|i| self.at(i)))
    }

    /// Warmed up: enough points over enough of the window to trust a fit.
    fn warm(&self, window_s: u32) -> bool {
        let Some(last) = self.len.checked_sub(1) else {
            return false;
        };
        let (first, last) = (self.at(0).0, self.at(last).0);
        self.len >= MIN_POINTS && (last - first) * 100 >= u64::from(window_s) * 1000 * WARMUP_PCT
    }

    /// The least-squares line over the whole window, once warmed up: kB per
    /// day (negative: shrinking) and R^2 in thousandths; what the metrics
    /// show beside the rule's verdict.
    pub fn window_fit(&self, window_s: u32) -> Option<(i64, u16)> {
        if !self.warm(window_s) {
            return None;
        }
        let f = self.fit_span(0, self.len)?;
        Some((f.per_day, f.r2_permille()))
    }

    /// Growth in kB/day when it looks like a leak, else 0; None while warming up.
    pub fn leak_rate_kb_per_d(&self, window_s: u32) -> Option<u64> {
        self.steady_rate_kb_per_d(window_s, false)
    }

    /// The same judgement for either direction: growth, or (`falling`) a
    /// steady fall in kB/day (MemAvailable running out), else 0.
    pub fn steady_rate_kb_per_d(&self, window_s: u32, falling: bool) -> Option<u64> {
        let (first, last) = (self.at(0).0, self.at(self.len.checked_sub(1)?).0);
        if self.len < MIN_POINTS || (last - first) * 100 < u64::from(window_s) * 1000 * WARMUP_PCT {
            return None;
        }
        let half = self.len / 2;
        let all = self.fit_span(0, self.len)?;
        let a = self.fit_span(0, half + 1)?;
        let b = self.fit_span(half, self.len)?;
        let toward = |f: &Fit| {
            if falling {
                f.per_day.saturating_neg()
            } else {
                f.per_day
            }
        };
        let lo = toward(&all)
            .min(toward(&a).saturating_mul(2))
            .min(toward(&b).saturating_mul(2));
        if !all.r2_at_least(MIN_R2_PCT)
            || !a.r2_at_least(MIN_HALF_R2_PCT)
            || !b.r2_at_least(MIN_HALF_R2_PCT)
            || lo <= 0
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
                r.leak_rate_kb_per_d(window_s)
            })
            .collect()
    }

    #[test]
    fn linear_leak_is_measured() {
        // 500 kB/h on 20 MB, sampled every 10 min, 6 h window
        let out = feed(|t| 20_000 + t * 500 / 3600, 12, 600, 6 * 3600);
        let last = out.last().unwrap().unwrap();
        assert!((495 * 24..=505 * 24).contains(&last), "{last} kB/d");
        assert!(
            out[..20].iter().all(|x| x.is_none()),
            "warm-up: no verdict before 75 % of the window"
        );
    }

    #[test]
    fn points_stay_exact_past_49_days_of_uptime() {
        // u32 ms offsets wrap after 49.7 days: the base must move up
        let day = 86_400_000u64;
        let mut r = Ring::default();
        let mut last = None;
        for i in 0..(60 * 24 * 6) {
            let t = 3 * day + i * 600_000; // every 10 min, from day 3 to day 63
            r.push(t, 20_000 + t / 7200, 6 * 3600); // 500 kB/h
            last = r.leak_rate_kb_per_d(6 * 3600);
        }
        let last = last.unwrap();
        assert!((495 * 24..=505 * 24).contains(&last), "{last} kB/d");
        assert!(r.at(r.len() - 1).0 == 3 * day + (60 * 24 * 6 - 1) * 600_000);
    }

    #[test]
    fn a_slow_leak_keeps_its_precision() {
        // 20 kB a day (0.83 kB/h): kept per day, it is 20, not 0
        let out = feed(|t| 20_000 + t * 20 / 86_400, 24 * 8, 3600, 4 * 86_400);
        let last = out.last().unwrap().unwrap();
        assert!((19..=21).contains(&last), "{last} kB/d");
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

    /// The i128 form the comparison had, for the widening one to match.
    fn r2_i128(f: &Fit, pct: i64) -> bool {
        f.syy > 0
            && i128::from(f.sxy) * i128::from(f.sxy) * 100
                >= i128::from(pct) * i128::from(f.sxx) * i128::from(f.syy)
    }

    proptest::proptest! {
        #[test]
        fn r2_matches_the_i128_comparison(
            pts in proptest::collection::vec((0u64..30 * 86_400_000, 0u64..(1 << 33)), 2..=RING_CAP),
            pct in -5i64..=100,
        ) {
            let mut pts = pts;
            pts.sort();
            if let Some(f) = fit(pts.iter().copied()) {
                proptest::prop_assert_eq!(f.r2_at_least(pct), r2_i128(&f, pct), "{:?}", f);
            }
        }
    }

    #[test]
    fn r2_at_the_bounds() {
        // the largest sums 48 points can make: full-scale steps and values
        let pts: Vec<(u64, u64)> = (0..RING_CAP as u64)
            .map(|i| (i * 1_000_000, if i % 2 == 0 { 0 } else { 1 << 40 }))
            .collect();
        let f = fit(pts.iter().copied()).unwrap();
        for pct in [0, 1, 25, 60, 99, 100] {
            assert_eq!(f.r2_at_least(pct), r2_i128(&f, pct), "{pct} {f:?}");
        }
        // a steep line just inside the 2^25 kB clamp
        let line: Vec<(u64, u64)> = (0..RING_CAP as u64).map(|i| (i * 80, i << 19)).collect();
        let f = fit(line.iter().copied()).unwrap();
        assert!(f.r2_at_least(100) && r2_i128(&f, 100), "{f:?}");
    }

    #[test]
    fn fit_is_exact_on_a_line() {
        let f = fit([(0, 100), (3_600_000, 200), (7_200_000, 300)].into_iter()).unwrap();
        assert_eq!(f.per_day, 2400);
        assert!(
            f.r2_at_least(99),
            "times are quantised to 1/4096 of the span"
        );
        let g = fit([(0, 100), (1000, 50), (2000, 100), (3000, 50)].into_iter()).unwrap();
        assert!(!g.r2_at_least(60), "zig-zag is not a line");
        let flat = fit([(0, 7), (10, 7), (20, 7)].into_iter()).unwrap();
        assert_eq!(flat.per_day, 0);
        assert!(!flat.r2_at_least(1));
        let down = fit([(0, 300), (3_600_000, 200)].into_iter()).unwrap();
        assert_eq!(down.per_day, -2400);
    }
}
