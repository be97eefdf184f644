//! Forecast: the time until a value reaches its target's limit at the rate
//! the leak detector measured (a slope rule's, or an `eta` rule's own
//! window). Integers only (no soft-float on MIPS and ARMv5), and one 64-bit
//! division per forecast, through [`crate::num::udivmod64`].
//!
//! The limit a forecast runs to (its [`Goal`]) is the section's `crit`
//! (else `warn`) absolute or percent rule on the same field, with its side:
//! `VmRSS > 20000` is a ceiling approached from below, `MemAvailable < 4%`
//! a floor approached from above. Without one, a process's kB field runs to
//! MemTotal and the system's MemAvailable, MemFree and SwapFree to 0.

use super::{Kind, Level, Op, Rule};
use crate::num::udivmod64;

/// Where a forecast runs to: a level in kB and the side it is reached from
/// (`Above`: the value rises to `kb`; `Below`: it falls to `kb`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Goal {
    pub kb: u64,
    pub op: Op,
}

/// What stands in for a missing limit rule: see [`fallback`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// a process's kB field: it cannot outgrow RAM
    MemTotal,
    /// the system's MemAvailable, MemFree, SwapFree: they run out at 0
    Zero,
    /// a count (Threads), another meminfo key: no limit to forecast
    Nothing,
}

/// Where a forecast on a field runs when no rule gives a limit: `field`
/// is a process field's index, `name` a meminfo key (`system`).
pub fn fallback(field: u16, name: &[u8], system: bool) -> Fallback {
    if system {
        match name {
            b"MemAvailable" | b"MemFree" | b"SwapFree" => Fallback::Zero,
            _ => Fallback::Nothing,
        }
    } else if matches!(
        usize::from(field),
        crate::units::THREADS | crate::units::NTHREADSTACKS
    ) {
        Fallback::Nothing
    } else {
        Fallback::MemTotal
    }
}

/// Which rule of a section gives the limit of a forecast on `field`: the
/// first `crit` absolute or percent rule on it, else the first such `warn`.
pub fn limit_rule(rules: &[Rule], field: u16) -> Option<usize> {
    let pick = |level: Level| {
        rules.iter().position(|r| {
            r.field == field
                && r.level == level
                && matches!(r.kind, Kind::Absolute | Kind::PercentOfRam)
        })
    };
    pick(Level::Crit).or_else(|| pick(Level::Warn))
}

/// The goal of a forecast on `field`, with MemTotal (kB) for percent
/// limits and the fallback; None when there is none (or no MemTotal yet).
pub fn goal(rules: &[Rule], field: u16, fb: Fallback, mem_total: Option<u64>) -> Option<Goal> {
    if let Some(r) = limit_rule(rules, field).and_then(|i| rules.get(i)) {
        let kb = match r.kind {
            Kind::PercentOfRam => {
                let total = mem_total.filter(|&t| t > 0)?;
                // limit <= 10 000 (100.00 %), MemTotal < 2^44 kB: no overflow
                udivmod64(r.limit.saturating_mul(total), 10_000).0
            }
            _ => r.limit,
        };
        return Some(Goal { kb, op: r.op });
    }
    match fb {
        Fallback::MemTotal => Some(Goal {
            kb: mem_total.filter(|&t| t > 0)?,
            op: Op::Above,
        }),
        Fallback::Zero => Some(Goal {
            kb: 0,
            op: Op::Below,
        }),
        Fallback::Nothing => None,
    }
}

/// Gaps past this (kB, 16 TiB) are clamped so `gap x 86 400` (plus half a
/// rate) fits in a u64.
const GAP_CLAMP: u64 = 1 << 44;

/// Seconds until `value` (kB) reaches `goal` while it moves `rate` kB a
/// day toward it (the detector's steady rate in that direction, >= 0):
/// Some(0) at or past the goal, None when not moving toward it.
pub fn eta_s(value: u64, rate_per_day: u64, goal: Goal) -> Option<u64> {
    let gap = match goal.op {
        Op::Above => goal.kb.saturating_sub(value),
        Op::Below => value.saturating_sub(goal.kb),
    };
    if gap == 0 {
        return Some(0);
    }
    if rate_per_day == 0 {
        return None;
    }
    // rounded to the nearest second: a forecast of a few seconds (a runaway
    // leak) must not lose most of a second to truncation
    Some(udivmod64(gap.min(GAP_CLAMP) * 86_400 + rate_per_day / 2, rate_per_day).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(field: u16, kind: Kind, op: Op, limit: u64, level: Level) -> Rule {
        Rule {
            field,
            kind,
            op,
            limit,
            clear: limit,
            level,
            for_n: 1,
            cooldown_s: 0,
        }
    }

    #[test]
    fn eta_is_the_gap_over_the_rate() {
        let up = Goal {
            kb: 20_000,
            op: Op::Above,
        };
        // 10 000 kB to go at 1000 kB/h: 10 h
        assert_eq!(eta_s(10_000, 24_000, up), Some(36_000));
        assert_eq!(eta_s(20_000, 24_000, up), Some(0), "at the limit");
        assert_eq!(eta_s(25_000, 0, up), Some(0), "past it, whatever the rate");
        assert_eq!(eta_s(10_000, 0, up), None, "not growing");
        let down = Goal {
            kb: 1000,
            op: Op::Below,
        };
        assert_eq!(eta_s(4600, 86_400, down), Some(3600));
        assert_eq!(eta_s(u64::MAX, 1, up), Some(0));
        // a huge gap at 1 kB a day: clamped, no overflow
        assert_eq!(
            eta_s(
                0,
                1,
                Goal {
                    kb: u64::MAX,
                    op: Op::Above
                }
            ),
            Some(GAP_CLAMP * 86_400)
        );
        // 1000 kB at 600 kB/s: 1.67 s, said as 2 (nearest), not 1
        assert_eq!(
            eta_s(
                0,
                600 * 86_400,
                Goal {
                    kb: 1000,
                    op: Op::Above
                }
            ),
            Some(2)
        );
    }

    #[test]
    fn the_goal_is_crit_then_warn_then_the_fallback() {
        let rules = [
            rule(0, Kind::Absolute, Op::Above, 15_000, Level::Warn),
            rule(
                0,
                Kind::Slope { window_s: 3600 },
                Op::Above,
                24,
                Level::Crit,
            ),
            rule(1, Kind::Absolute, Op::Above, 99, Level::Crit),
            rule(0, Kind::PercentOfRam, Op::Above, 2500, Level::Crit),
        ];
        // crit 25 % of 80 000 kB beats warn 15 000 kB; the slope rule gives no limit
        assert_eq!(
            goal(&rules, 0, Fallback::MemTotal, Some(80_000)),
            Some(Goal {
                kb: 20_000,
                op: Op::Above
            })
        );
        assert_eq!(limit_rule(&rules, 0), Some(3));
        assert_eq!(
            goal(&rules, 0, Fallback::MemTotal, None),
            None,
            "% without MemTotal"
        );
        assert_eq!(limit_rule(&rules[..3], 0), Some(0), "warn when no crit");
        assert_eq!(
            goal(&rules, 5, Fallback::MemTotal, Some(80_000)),
            Some(Goal {
                kb: 80_000,
                op: Op::Above
            })
        );
        assert_eq!(goal(&rules, 5, Fallback::Nothing, Some(80_000)), None);
        assert_eq!(
            goal(&rules, 5, Fallback::Zero, None),
            Some(Goal {
                kb: 0,
                op: Op::Below
            })
        );
        let floor = [rule(1000, Kind::PercentOfRam, Op::Below, 400, Level::Crit)];
        assert_eq!(
            goal(&floor, 1000, Fallback::Zero, Some(100_000)),
            Some(Goal {
                kb: 4000,
                op: Op::Below
            })
        );
        let f = |n: &str| crate::units::field_index(n.as_bytes()).unwrap() as u16;
        assert_eq!(fallback(1000, b"MemAvailable", true), Fallback::Zero);
        assert_eq!(fallback(1000, b"Cached", true), Fallback::Nothing);
        assert_eq!(fallback(f("Threads"), b"Threads", false), Fallback::Nothing);
        assert_eq!(fallback(f("nthreadstacks"), b"", false), Fallback::Nothing);
        assert_eq!(fallback(f("VmRSS"), b"VmRSS", false), Fallback::MemTotal);
        assert_eq!(fallback(f("heap"), b"heap", false), Fallback::MemTotal);
    }

    /// An eta rule over `window_s` measured on one sample.
    fn measure(
        r: &mut super::super::slope::Ring,
        window_s: u32,
        t_ms: u64,
        v: u64,
        goal: Option<Goal>,
    ) -> Option<u64> {
        let rule = rule(0, Kind::Eta { window_s }, Op::Below, 3600, Level::Crit);
        super::super::measure_to(&rule, Some(r), t_ms, v, None, goal)
    }

    /// MemAvailable draining 500 kB/h toward a 10 000 kB floor: the falling
    /// fit, and nothing for a floor when the value grows away from it.
    #[test]
    fn forecast_to_a_floor() {
        let floor = Some(Goal {
            kb: 10_000,
            op: Op::Below,
        });
        let mut r = super::super::slope::Ring::default();
        let mut last = None;
        for i in 0..120u64 {
            let t = i * 60;
            let v = 40_000 - t * 500 / 3600 + (i * 31 % 7);
            last = measure(&mut r, 3600, t * 1000, v, floor).map(|e| (e, v));
        }
        let (eta, v) = last.unwrap();
        let truth = (v - 10_000) * 3600 / 500;
        assert!(eta.abs_diff(truth) * 100 / truth <= 3, "{eta} vs {truth}");
        let mut r = super::super::slope::Ring::default();
        for i in 0..120u64 {
            let m = measure(&mut r, 3600, i * 60_000, 40_000 + i * 10, floor);
            assert!(m.is_none() || m == Some(u64::MAX), "{m:?}");
        }
        assert_eq!(
            measure(&mut r, 3600, 200 * 60_000, 50_000, None),
            None,
            "no goal"
        );
    }

    /// A linear leak: the forecast at each sample is within a few % of the
    /// true time left, once warm; a flat trace never gets one.
    #[test]
    fn forecast_of_a_linear_leak_and_of_a_flat_line() {
        let mut r = super::super::slope::Ring::default();
        let g = Some(Goal {
            kb: 60_000,
            op: Op::Above,
        });
        let mut seen = 0;
        for i in 0..200u64 {
            let t = i * 60; // every minute, 1000 kB/h from 20 000
            let v = 20_000 + t * 1000 / 3600 + (i * 7919 % 13); // +-13 kB of jitter
            if let Some(eta) = measure(&mut r, 3600, t * 1000, v, g) {
                let truth = (60_000 - v) * 3600 / 1000;
                let err = eta.abs_diff(truth) * 100 / truth;
                assert!(err <= 5, "at {t}s: eta {eta}s, truth {truth}s");
                seen += 1;
            }
        }
        assert!(seen > 100, "warm after 3/4 of the window");
        let mut r = super::super::slope::Ring::default();
        for i in 0..200u64 {
            let m = measure(&mut r, 3600, i * 60_000, 20_000 + (i * 7919 % 13), g);
            assert!(m.is_none() || m == Some(u64::MAX), "{m:?}");
        }
    }
}
