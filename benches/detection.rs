//! `make bench`, part 2: leak detection on synthetic traces. Each trace is
//! replayed sample by sample through memdog's policy engine (the rules come
//! from config text, parsed by memdog's own config parser), and compared
//! with a plain absolute threshold, as monit-style watchdogs do. With the
//! `forecast` feature it also gives, at each leak's first detection, the
//! forecast time to the absolute limit against the true time (the goal:
//! within 20 %), and runs two exhaustion rules (`VmRSS eta < ...`) that must
//! fire before the absolute limit on every leak and never on the others.
//!
//! Board: 256 MB RAM; a 20 MB daemon sampled every 10 minutes for 60 days;
//! every trace carries +-2 % sample noise.

use memdog::config::Config;
#[cfg(feature = "forecast")]
use memdog::policy::forecast;
use memdog::policy::slope::Ring;
use memdog::policy::{evaluate, RuleState, Transition};

const RAM_KB: u64 = 262_144;
const BASE_KB: f64 = 20_480.0;
const STEP_S: u64 = 600;
const DAYS: u64 = 60;

/// Two slope rules: a slow one for creeping leaks, a fast one for runaway
/// leaks that would fill RAM before a day-long window has warmed up.
const RULES: &str = "[target app]\nname = app\n\
warn = VmRSS slope > 40/h over 24h\n\
crit = VmRSS slope > 5000/h over 2h\n\
crit = VmRSS > 50%\n";

/// The exhaustion rules: a long window for slow leaks (whose noise needs
/// days to average out), a short one for runaway leaks.
#[cfg(feature = "forecast")]
const ETA_RULES: &str = "crit = VmRSS eta < 7d over 3d\ncrit = VmRSS eta < 6h over 2h\n";

struct Noise(u64);
impl Noise {
    /// uniform in [-1, 1)
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// kB at time t (seconds); `restart` says the process restarted at this sample.
type Trace = Box<dyn Fn(u64) -> (f64, bool)>;

/// Seconds from `t` until the noise-free trace reaches `limit_kb`, None if
/// it never does within the run (or only after a restart).
fn true_time_to(f: &Trace, t: u64, limit_kb: f64) -> Option<f64> {
    let mut prev = (t, f(t).0);
    let mut u = t + STEP_S;
    while u < DAYS * 86_400 {
        let (kb, restarted) = f(u);
        if restarted {
            return None;
        }
        if kb >= limit_kb {
            // between two samples: linear interpolation
            let frac = (limit_kb - prev.1) / (kb - prev.1);
            return Some((prev.0 - t) as f64 + frac * STEP_S as f64);
        }
        prev = (u, kb);
        u += STEP_S;
    }
    None
}

fn leak(pct_ram_per_day: f64) -> Trace {
    Box::new(move |t| {
        (
            BASE_KB + RAM_KB as f64 * pct_ram_per_day / 100.0 * t as f64 / 86_400.0,
            false,
        )
    })
}

fn main() {
    #[cfg(feature = "forecast")]
    let text = RULES.to_string() + ETA_RULES;
    #[cfg(not(feature = "forecast"))]
    let text = RULES.to_string();
    let cfg = Config::parse_text(text.as_bytes()).expect("bench rules parse");
    let rules = &cfg.targets[0].rules;
    let slope_rules = [rules[0], rules[1]];
    let abs_rule = rules[2];
    let traces: Vec<(&str, bool, Trace)> = vec![
        ("leak 1 % RAM/day", true, leak(1.0)),
        ("leak 10 % RAM/day", true, leak(10.0)),
        ("leak 100 % RAM/day", true, leak(100.0)),
        ("flat, +-5 % noise", false, Box::new(|_| (BASE_KB, false))),
        (
            "sawtooth: cache fills 20 MB in 6 h, flushed",
            false,
            Box::new(|t| (BASE_KB + 20_480.0 * (t % 21_600) as f64 / 21_600.0, false)),
        ),
        (
            "one-time step +20 MB at day 3",
            false,
            Box::new(|t| {
                (
                    if t >= 3 * 86_400 {
                        BASE_KB + 20_480.0
                    } else {
                        BASE_KB
                    },
                    false,
                )
            }),
        ),
        (
            "leak 10 %/day, restarted at day 1",
            true,
            Box::new(|t| {
                let day1 = 86_400;
                let since = if t >= day1 { t - day1 } else { t };
                (
                    BASE_KB + RAM_KB as f64 * 0.10 * since as f64 / 86_400.0,
                    t == day1,
                )
            }),
        ),
    ];
    println!(
        "leak detection, 256 MB board, 20 MB daemon, sample every 10 min, 60 days, +-2 % noise"
    );
    println!("memdog: `VmRSS slope > 40/h over 24h` + `VmRSS slope > 5000/h over 2h`; plain: `VmRSS > 50%`");
    #[cfg(feature = "forecast")]
    println!("eta at detection: the slope rule's forecast to the 50 % limit when it first fires, against the true time (error); eta rule: `VmRSS eta < 7d over 3d` + `VmRSS eta < 6h over 2h`");
    println!(
        "{:<44} {:>16} {:>16} {:>26} {:>14} {:>10}",
        "trace", "memdog slope", "absolute 50%", "eta at detection", "eta rule", "verdict"
    );
    let limit_kb = RAM_KB as f64 * 0.5;
    let mut worst_err: f64 = 0.0;
    let mut all_ok = true;
    for (name, is_leak, f) in traces {
        let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
        let amp = if name.starts_with("flat") { 0.05 } else { 0.02 };
        let (mut s_states, mut s_rings, mut a_state) = (
            [RuleState::default(), RuleState::default()],
            [Ring::default(), Ring::default()],
            RuleState::default(),
        );
        let (mut s_first, mut a_first, mut s_alarms, mut a_alarms) = (None, None, 0, 0);
        // (forecast s, true s) at the first detection; the eta rules' first firing and count
        let mut eta_at_detection: Option<(Option<u64>, Option<f64>)> = None;
        let (mut e_first, mut e_alarms): (Option<f64>, u32) = (None, 0);
        #[cfg(feature = "forecast")]
        let eta_rules = [rules[3], rules[4]];
        #[cfg(feature = "forecast")]
        let (mut e_states, mut e_rings) = (
            [RuleState::default(), RuleState::default()],
            [Ring::default(), Ring::default()],
        );
        #[cfg(feature = "forecast")]
        let goal = forecast::goal(
            rules,
            rules[2].field,
            forecast::Fallback::MemTotal,
            Some(RAM_KB),
        );
        for i in 0..DAYS * 86_400 / STEP_S {
            let t = i * STEP_S;
            let (kb, restarted) = f(t);
            if restarted {
                // what the daemon does when the target comes back with a new starttime
                s_states.iter_mut().for_each(RuleState::rebaseline);
                s_rings = Default::default();
                a_state.rebaseline();
                // the forecast that counts is the first of the life that runs to the limit
                eta_at_detection = None;
                #[cfg(feature = "forecast")]
                {
                    e_states.iter_mut().for_each(RuleState::rebaseline);
                    e_rings = Default::default();
                }
            }
            let v = (kb * (1.0 + amp * noise.next())).max(0.0) as u64;
            let day = t as f64 / 86_400.0;
            for ((r, st), ring) in slope_rules
                .iter()
                .zip(s_states.iter_mut())
                .zip(s_rings.iter_mut())
            {
                if let Some(Transition::Fire { value, .. }) =
                    evaluate(r, st, Some(ring), t * 1000, v, Some(RAM_KB))
                {
                    s_alarms += 1;
                    s_first.get_or_insert(day);
                    #[cfg(feature = "forecast")]
                    if eta_at_detection.is_none() {
                        let fc = goal.and_then(|g| forecast::eta_s(v, value, g));
                        eta_at_detection = Some((fc, true_time_to(&f, t, limit_kb)));
                    }
                    let _ = value;
                }
            }
            #[cfg(feature = "forecast")]
            for ((r, st), ring) in eta_rules
                .iter()
                .zip(e_states.iter_mut())
                .zip(e_rings.iter_mut())
            {
                if let Some(Transition::Fire { .. }) =
                    memdog::policy::evaluate_to(r, st, Some(ring), t * 1000, v, Some(RAM_KB), goal)
                {
                    e_alarms += 1;
                    e_first.get_or_insert(day);
                }
            }
            if let Some(Transition::Fire { .. }) =
                evaluate(&abs_rule, &mut a_state, None, t * 1000, v, Some(RAM_KB))
            {
                a_alarms += 1;
                a_first.get_or_insert(day);
            }
        }
        let show = |first: Option<f64>, n: u32| match (is_leak, first) {
            (true, Some(d)) => format!("day {d:.2}"),
            (true, None) => "missed".into(),
            (false, _) => format!("{n} false"),
        };
        let before_abs = |first: Option<f64>| {
            first.is_some() && a_first.is_none_or(|a| first.is_some_and(|s| s < a))
        };
        let eta_cell = match eta_at_detection {
            Some((Some(fc), Some(truth))) => {
                let err = (fc as f64 - truth).abs() / truth;
                worst_err = worst_err.max(err);
                format!(
                    "{:.1}h vs {:.1}h {:.0}%",
                    fc as f64 / 3600.0,
                    truth / 3600.0,
                    err * 100.0
                )
            }
            Some((None, _)) => "no forecast".into(),
            Some((Some(_), None)) => "limit never hit".into(),
            None if cfg!(feature = "forecast") && is_leak => "not detected".into(),
            None => "-".into(),
        };
        let eta_ok = !cfg!(feature = "forecast")
            || if is_leak {
                before_abs(e_first)
            } else {
                e_alarms == 0
            };
        let ok = eta_ok
            && if is_leak {
                // caught, and before the absolute limit would be (or never is) reached
                before_abs(s_first)
            } else {
                s_alarms == 0
            };
        all_ok &= ok;
        println!(
            "{name:<44} {:>16} {:>16} {:>26} {:>14} {:>10}",
            show(s_first, s_alarms),
            show(a_first, a_alarms),
            eta_cell,
            if cfg!(feature = "forecast") {
                show(e_first, e_alarms)
            } else {
                "-".into()
            },
            if ok { "ok" } else { "FAIL" }
        );
    }
    if cfg!(feature = "forecast") {
        println!(
            "goal: forecast at first detection within 20 % of the true time to the limit: worst {:.0} %, {}",
            worst_err * 100.0,
            if worst_err <= 0.20 { "met" } else { "NOT met" }
        );
        all_ok &= worst_err <= 0.20;
    }
    println!(
        "goal: every leak caught before the absolute limit, zero false alarms: {}",
        if all_ok { "met" } else { "NOT met" }
    );
}
