//! Escalation policies: ordered steps of people and schedules, each given a delay to
//! acknowledge before the next step is paged, the whole list repeated N times.

use serde::{Deserialize, Serialize};

use crate::{DomainError, Handle};

/// Whom a step pages: a person, or whoever is on call on a schedule at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    User(Handle),
    Schedule(String),
}

/// One step: its targets are paged together; unacknowledged after `delay_minutes`, the
/// next step is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    pub targets: Vec<Target>,
    pub delay_minutes: u32,
}

/// An escalation policy as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEscalationPolicy {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub steps: Vec<EscalationStep>,
    /// How many more times the steps run after the last one, unacknowledged.
    #[serde(default)]
    pub repeat: u32,
    /// An acknowledged incident not mitigated within this many minutes pages again
    /// from the first step.
    #[serde(default)]
    pub ack_timeout_minutes: Option<u32>,
}

/// A stored escalation policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EscalationPolicy {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub steps: Vec<EscalationStep>,
    pub repeat: u32,
    pub ack_timeout_minutes: Option<u32>,
}

/// Where an escalation stands: which pass over the steps, and which step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub round: u32,
    pub step: usize,
}

impl Position {
    pub const FIRST: Position = Position { round: 0, step: 0 };
}

const MAX_STEPS: usize = 20;
const MAX_TARGETS: usize = 10;
const MAX_REPEAT: u32 = 9;
const MAX_MINUTES: u32 = 24 * 60;

impl NewEscalationPolicy {
    /// The policy with its name trimmed, or the first rule it breaks, naming the field.
    pub fn validated(mut self) -> Result<Self, DomainError> {
        self.name = self.name.trim().to_owned();
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(DomainError::invalid(
                "name",
                format!(
                    "'{}' is not a policy name; use 1 to 64 lower-case letters, digits, '-' or '_'",
                    self.name
                ),
            ));
        }
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(DomainError::invalid(
                "steps",
                format!("give 1 to {MAX_STEPS} steps"),
            ));
        }
        for (i, step) in self.steps.iter().enumerate() {
            if step.targets.is_empty() || step.targets.len() > MAX_TARGETS {
                return Err(DomainError::invalid(
                    "steps.targets",
                    format!("steps[{i}]: each step pages 1 to {MAX_TARGETS} users or schedules"),
                ));
            }
            if !(1..=MAX_MINUTES).contains(&step.delay_minutes) {
                return Err(DomainError::invalid(
                    "steps.delay_minutes",
                    format!("steps[{i}]: use 1 to {MAX_MINUTES} minutes before the next step"),
                ));
            }
        }
        if self.repeat > MAX_REPEAT {
            return Err(DomainError::invalid(
                "repeat",
                format!("repeat the steps 0 to {MAX_REPEAT} times"),
            ));
        }
        if self
            .ack_timeout_minutes
            .is_some_and(|m| !(1..=MAX_MINUTES).contains(&m))
        {
            return Err(DomainError::invalid(
                "ack_timeout_minutes",
                format!("use 1 to {MAX_MINUTES} minutes"),
            ));
        }
        Ok(self)
    }
}

impl EscalationPolicy {
    pub fn step(&self, at: Position) -> Option<&EscalationStep> {
        self.steps.get(at.step).filter(|_| at.round <= self.repeat)
    }

    /// After the step at `at` has paged: the next position and the minutes to wait for
    /// it, or `None` when the policy is exhausted.
    pub fn after(&self, at: Position) -> Option<(Position, u32)> {
        let delay = self.step(at)?.delay_minutes;
        let next = if at.step + 1 < self.steps.len() {
            Position {
                round: at.round,
                step: at.step + 1,
            }
        } else if at.round < self.repeat {
            Position {
                round: at.round + 1,
                step: 0,
            }
        } else {
            return None;
        };
        Some((next, delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(steps: usize, repeat: u32) -> EscalationPolicy {
        let step = |i| EscalationStep {
            targets: vec![Target::User(Handle::parse(&format!("u{i}")).unwrap())],
            delay_minutes: 5 * (i as u32 + 1),
        };
        EscalationPolicy {
            id: 1,
            name: "p".into(),
            description: String::new(),
            steps: (0..steps).map(step).collect(),
            repeat,
            ack_timeout_minutes: None,
        }
    }

    #[test]
    fn steps_run_in_order_then_repeat_then_stop() {
        let p = policy(2, 1);
        let mut at = Position::FIRST;
        let mut seen = vec![(at.round, at.step)];
        let mut delays = vec![];
        while let Some((next, delay)) = p.after(at) {
            delays.push(delay);
            at = next;
            seen.push((at.round, at.step));
        }
        assert_eq!(seen, [(0, 0), (0, 1), (1, 0), (1, 1)]);
        assert_eq!(delays, [5, 10, 5]);
        assert!(p.step(Position { round: 2, step: 0 }).is_none());
    }

    #[test]
    fn bad_policies_name_the_field() {
        let new = |steps: Vec<EscalationStep>, repeat| NewEscalationPolicy {
            name: "primary".into(),
            description: String::new(),
            steps,
            repeat,
            ack_timeout_minutes: None,
        };
        let field = |e: DomainError| match e {
            DomainError::Invalid { field, .. } => field,
            other => panic!("{other}"),
        };
        assert_eq!(field(new(vec![], 0).validated().unwrap_err()), "steps");
        let empty = EscalationStep {
            targets: vec![],
            delay_minutes: 5,
        };
        assert_eq!(
            field(new(vec![empty], 0).validated().unwrap_err()),
            "steps.targets"
        );
        let ok = policy(1, 0).steps;
        assert_eq!(
            field(new(ok.clone(), 10).validated().unwrap_err()),
            "repeat"
        );
        assert!(new(ok, 0).validated().is_ok());
    }
}
