//! Thresholds: rules evaluated on each sample, with debounce (`for N`),
//! hysteresis (`clear V`), cooldown between repeated actions, and a leak
//! detector (least-squares growth slope over a window). Pure: values and
//! times in, transitions out; the daemon turns transitions into actions.

#[cfg(feature = "forecast")]
pub mod forecast;
pub mod slope;

use slope::Ring;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Warn,
    Crit,
}

impl Level {
    pub fn word(self) -> &'static [u8] {
        match self {
            Level::Warn => b"warn",
            Level::Crit => b"crit",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Above,
    Below,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// the value in its own unit (kB, or a count such as Threads)
    Absolute,
    /// percent of MemTotal, in hundredths of a percent (2500 = 25 %)
    PercentOfRam,
    /// growth in kB per day over a window of `window_s` seconds (N/h is N x 24)
    Slope { window_s: u32 },
    /// the forecast time to the field's limit, seconds, from a fit over a
    /// window of `window_s` seconds (see [`forecast`])
    #[cfg(feature = "forecast")]
    Eta { window_s: u32 },
}

impl Kind {
    /// The fit window of a rule that keeps a [`Ring`] of points (slope and
    /// eta rules), None for the others.
    pub fn window_s(self) -> Option<u32> {
        match self {
            Kind::Slope { window_s } => Some(window_s),
            #[cfg(feature = "forecast")]
            Kind::Eta { window_s } => Some(window_s),
            _ => None,
        }
    }
}

/// One `warn = ...` or `crit = ...` line of a config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// field index: see [`crate::config::FieldRef`]; the policy only compares numbers
    pub field: u16,
    pub kind: Kind,
    pub op: Op,
    /// kB, hundredths of a percent, or kB per day, by kind
    pub limit: u64,
    /// clears only once the value is back past this level (hysteresis);
    /// defaults to `limit`
    pub clear: u64,
    pub level: Level,
    /// consecutive samples past the limit before it fires (debounce)
    pub for_n: u16,
    /// at least this long between two runs of the actions
    pub cooldown_s: u32,
}

/// What one evaluation decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// crossed the limit (after debounce): log and act
    Fire { value: u64, act: bool },
    /// still past the limit and the cooldown has passed: act again
    Repeat { value: u64 },
    /// back past the clear level
    Clear { value: u64 },
}

/// Slope rules per section: each keeps a [`Ring`] per watched process, and
/// only they do (a ring is 408 bytes, the rest of a rule's state 24), so
/// the daemon's state is sized by slope rules, not by all rules.
pub const MAX_SLOPE_RULES: usize = 4;

/// The memory of one rule for one process; a slope rule's points are in a
/// [`Ring`] of its own, passed to [`evaluate`] beside it.
#[derive(Clone, Debug, Default)]
pub struct RuleState {
    over: u16,
    pub fired: bool,
    /// when the actions last ran, monotonic ms
    last_action_ms: Option<u64>,
}

impl RuleState {
    /// Forget everything: the process restarted, or the config changed.
    pub fn rebaseline(&mut self) {
        *self = RuleState::default();
    }
}

/// Where an eta rule's forecast runs to ([`forecast::goal`]); nothing
/// without the `forecast` feature.
#[cfg(feature = "forecast")]
pub type GoalArg = Option<forecast::Goal>;
#[cfg(not(feature = "forecast"))]
pub type GoalArg = NoGoal;
/// The goal argument of a build without forecasts.
#[cfg(not(feature = "forecast"))]
#[derive(Clone, Copy, Debug, Default)]
pub struct NoGoal;

/// The value a rule compares for this sample, in the rule's unit; None when
/// it cannot say yet (field missing, slope still warming up).
pub fn measure(
    rule: &Rule,
    ring: Option<&mut Ring>,
    t_ms: u64,
    value: u64,
    mem_total: Option<u64>,
) -> Option<u64> {
    measure_to(rule, ring, t_ms, value, mem_total, GoalArg::default())
}

/// [`measure`], with an eta rule's goal: its value is the forecast in
/// seconds, `u64::MAX` when the field does not move steadily toward the
/// goal (so a fired rule clears), None while warming up or without a goal.
/// One push and one rate for slope and eta rules alike: the board build
/// has one copy of each.
pub fn measure_to(
    rule: &Rule,
    ring: Option<&mut Ring>,
    t_ms: u64,
    value: u64,
    mem_total: Option<u64>,
    goal: GoalArg,
) -> Option<u64> {
    match rule.kind {
        Kind::Absolute => Some(value),
        Kind::PercentOfRam => {
            let total = mem_total.filter(|&t| t > 0)?;
            Some(value.saturating_mul(10_000) / total)
        }
        _ => {
            let ring = ring?;
            let window_s = rule.kind.window_s()?;
            ring.push(t_ms, value, window_s);
            #[cfg(feature = "forecast")]
            let (eta, falling) = match (rule.kind, goal) {
                (Kind::Eta { .. }, Some(g)) => (Some(g), g.op == Op::Below),
                (Kind::Eta { .. }, None) => return None,
                _ => (None, false),
            };
            #[cfg(not(feature = "forecast"))]
            let falling = {
                let NoGoal = goal;
                false
            };
            let rate = ring.steady_rate_kb_per_d(window_s, falling)?;
            #[cfg(feature = "forecast")]
            if let Some(g) = eta {
                return Some(forecast::eta_s(value, rate, g).unwrap_or(u64::MAX));
            }
            Some(rate)
        }
    }
}

/// Evaluate one rule on one sample at time `t_ms` (monotonic milliseconds).
/// `ring` is the rule's point history, needed by slope rules only.
pub fn evaluate(
    rule: &Rule,
    st: &mut RuleState,
    ring: Option<&mut Ring>,
    t_ms: u64,
    value: u64,
    mem_total: Option<u64>,
) -> Option<Transition> {
    evaluate_to(rule, st, ring, t_ms, value, mem_total, GoalArg::default())
}

/// [`evaluate`] with an eta rule's goal (see [`measure_to`]).
pub fn evaluate_to(
    rule: &Rule,
    st: &mut RuleState,
    ring: Option<&mut Ring>,
    t_ms: u64,
    value: u64,
    mem_total: Option<u64>,
    goal: GoalArg,
) -> Option<Transition> {
    judge(
        rule,
        st,
        t_ms,
        measure_to(rule, ring, t_ms, value, mem_total, goal),
    )
}

/// Debounce, hysteresis and cooldown on a measurement `m` in the rule's
/// unit (None: nothing to judge this sample).
pub fn judge(rule: &Rule, st: &mut RuleState, t_ms: u64, m: Option<u64>) -> Option<Transition> {
    let Some(v) = m else {
        st.over = 0;
        return None;
    };
    let past = |limit: u64| match rule.op {
        Op::Above => v > limit,
        Op::Below => v < limit,
    };
    let cooled = |st: &RuleState| {
        st.last_action_ms
            .is_none_or(|l| t_ms.saturating_sub(l) >= u64::from(rule.cooldown_s) * 1000)
    };
    if st.fired {
        // hysteresis: stay fired until the value is back past the clear level
        let back = match rule.op {
            Op::Above => v <= rule.clear,
            Op::Below => v >= rule.clear,
        };
        if back {
            st.fired = false;
            st.over = 0;
            return Some(Transition::Clear { value: v });
        }
        if cooled(st) {
            st.last_action_ms = Some(t_ms);
            return Some(Transition::Repeat { value: v });
        }
        return None;
    }
    if !past(rule.limit) {
        st.over = 0;
        return None;
    }
    st.over = st.over.saturating_add(1);
    if st.over < rule.for_n.max(1) {
        return None;
    }
    st.fired = true;
    let act = cooled(st);
    if act {
        st.last_action_ms = Some(t_ms);
    }
    Some(Transition::Fire { value: v, act })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(limit: u64, clear: u64, for_n: u16, cooldown_s: u32) -> Rule {
        Rule {
            field: 0,
            kind: Kind::Absolute,
            op: Op::Above,
            limit,
            clear,
            level: Level::Warn,
            for_n,
            cooldown_s,
        }
    }

    fn run(r: &Rule, values: &[u64], step_s: u64) -> Vec<Option<Transition>> {
        let mut st = RuleState::default();
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| evaluate(r, &mut st, None, i as u64 * step_s * 1000, v, Some(1000)))
            .collect()
    }

    #[test]
    fn debounce_needs_n_consecutive_samples() {
        let r = rule(100, 100, 3, 0);
        let t = run(&r, &[101, 101, 50, 101, 101, 101], 1);
        assert_eq!(t[..5], [None, None, None, None, None]);
        assert_eq!(
            t[5],
            Some(Transition::Fire {
                value: 101,
                act: true
            })
        );
    }

    #[test]
    fn hysteresis_clears_only_below_the_clear_level() {
        let r = rule(100, 80, 1, 1000);
        let t = run(&r, &[120, 95, 85, 80, 120], 1);
        assert_eq!(
            t[0],
            Some(Transition::Fire {
                value: 120,
                act: true
            })
        );
        assert_eq!(
            t[1..3],
            [None, None],
            "between clear and limit: still fired"
        );
        assert_eq!(t[3], Some(Transition::Clear { value: 80 }));
        // fires again, but inside the cooldown: logged, no action
        assert_eq!(
            t[4],
            Some(Transition::Fire {
                value: 120,
                act: false
            })
        );
    }

    #[test]
    fn cooldown_spaces_repeated_actions() {
        let r = rule(100, 100, 1, 10);
        let t = run(&r, &[200; 25], 1);
        let acts: Vec<usize> = t
            .iter()
            .enumerate()
            .filter(|(_, x)| {
                matches!(
                    x,
                    Some(Transition::Fire { act: true, .. }) | Some(Transition::Repeat { .. })
                )
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(acts, [0, 10, 20]);
    }

    #[test]
    fn below_rules_and_percent_of_ram() {
        let r = Rule {
            op: Op::Below,
            kind: Kind::PercentOfRam,
            limit: 500,
            clear: 800,
            ..rule(0, 0, 1, 3600)
        };
        let mut st = RuleState::default();
        // 60 of 1000 kB = 6 %: fine; 40 = 4 %: fires; 70 = 7 %: still below clear 8 %
        assert_eq!(evaluate(&r, &mut st, None, 0, 60, Some(1000)), None);
        assert_eq!(
            evaluate(&r, &mut st, None, 1000, 40, Some(1000)),
            Some(Transition::Fire {
                value: 400,
                act: true
            })
        );
        assert_eq!(evaluate(&r, &mut st, None, 2000, 70, Some(1000)), None);
        assert_eq!(
            evaluate(&r, &mut st, None, 3000, 90, Some(1000)),
            Some(Transition::Clear { value: 900 })
        );
        // no MemTotal: cannot judge a percentage
        assert_eq!(evaluate(&r, &mut st, None, 4000, 1, None), None);
    }

    #[test]
    fn rebaseline_forgets() {
        let r = rule(100, 100, 2, 0);
        let mut st = RuleState::default();
        evaluate(&r, &mut st, None, 0, 200, None);
        st.rebaseline();
        assert_eq!(
            evaluate(&r, &mut st, None, 1000, 200, None),
            None,
            "debounce starts over"
        );
    }
}
