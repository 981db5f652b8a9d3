//! A drill's score: how the practised response measured up to the policy's targets for
//! its severity. Drills are left out of the metrics; they are scored on their own.
//!
//! The criteria, each counted only where the policy sets the target:
//!
//! - **acknowledged**: within the severity's response target of the declaration;
//! - **roles**: every role the severity requires was assigned before the drill resolved
//!   (or before now, while it is open);
//! - **internal_updates**: no gap between the declaration, the internal updates and the
//!   resolution longer than `internal_update_every`;
//! - **customer_updates**: the same for customer updates with `customer_update_every`,
//!   on customer-facing drills only;
//! - **mitigated**: mitigated (or resolved, if it never went through mitigation) within
//!   the severity's `mitigate_within` of the declaration.
//!
//! The score is the number of criteria met out of those counted.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{longest_gap, IncidentFacts};
use crate::incident::{Role, UpdateAudience};
use crate::policy::{Policy, ResponseTarget};
use crate::time::human_duration;

/// What a criterion measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    Acknowledged,
    Roles,
    InternalUpdates,
    CustomerUpdates,
    Mitigated,
}

impl CriterionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledged => "acknowledged",
            Self::Roles => "roles",
            Self::InternalUpdates => "internal_updates",
            Self::CustomerUpdates => "customer_updates",
            Self::Mitigated => "mitigated",
        }
    }

    /// Its name for people: "Acknowledged", "Roles".
    pub fn label(self) -> &'static str {
        match self {
            Self::Acknowledged => "Acknowledged",
            Self::Roles => "Roles",
            Self::InternalUpdates => "Internal updates",
            Self::CustomerUpdates => "Customer updates",
            Self::Mitigated => "Mitigated",
        }
    }

    /// The question the criterion answers, for people.
    pub fn question(self) -> &'static str {
        match self {
            Self::Acknowledged => "Acknowledged within the response target?",
            Self::Roles => "Required roles filled?",
            Self::InternalUpdates => "Internal updates on cadence?",
            Self::CustomerUpdates => "Customer updates on cadence?",
            Self::Mitigated => "Mitigated in time?",
        }
    }
}

/// One criterion of a drill's score: what the policy expects, what happened, and
/// whether that was enough. Time criteria carry their values in seconds too (from the
/// declaration, or the longest gap between updates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Criterion {
    pub kind: CriterionKind,
    /// The question, in words ("Acknowledged within the response target?").
    pub question: String,
    /// What the policy expects ("within 15m").
    pub expected: String,
    /// What happened ("after 20 minutes").
    pub actual: String,
    pub met: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_seconds: Option<i64>,
}

/// A drill's score: `met` of `total` criteria.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DrillScore {
    pub met: usize,
    pub total: usize,
    pub criteria: Vec<Criterion>,
}

impl DrillScore {
    /// `3 of 5`.
    pub fn fraction(&self) -> String {
        format!("{} of {}", self.met, self.total)
    }
}

/// A drill as the report lists it, with its score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoredDrill {
    pub number: i64,
    pub title: String,
    pub severity: String,
    #[schema(value_type = String, format = DateTime)]
    pub declared_at: Timestamp,
    pub score: DrillScore,
}

fn seconds(d: SignedDuration) -> i64 {
    d.as_secs().max(0)
}

fn within(expected: SignedDuration) -> (String, Option<i64>) {
    (
        format!("within {}", human_duration(seconds(expected))),
        Some(seconds(expected)),
    )
}

/// The score of the drill `f` against `policy`, as of `now` (which ends an open drill).
pub fn drill_score(f: &IncidentFacts, policy: &Policy, now: Timestamp) -> DrillScore {
    let sev = policy.severity(f.severity);
    let end = f.resolved_at.unwrap_or(now);
    let mut criteria = Vec::new();

    let deadline = policy.response_deadline(f.severity, f.declared_at);
    let after = |t: Timestamp| seconds(t.duration_since(f.declared_at));
    criteria.push(Criterion {
        kind: CriterionKind::Acknowledged,
        question: CriterionKind::Acknowledged.question().into(),
        expected: match sev.response_target {
            ResponseTarget::Within(_) => format!("within {}", human_duration(after(deadline))),
            ResponseTarget::NextBusinessDay => format!(
                "by the end of the next business day ({})",
                deadline.strftime("%Y-%m-%d %H:%M UTC")
            ),
        },
        expected_seconds: Some(after(deadline)),
        actual: f.acknowledged_at.map_or_else(
            || "not acknowledged".to_owned(),
            |t| format!("after {}", human_duration(after(t))),
        ),
        actual_seconds: f.acknowledged_at.map(after),
        met: f.acknowledged_at.is_some_and(|t| t <= deadline),
    });

    if !sev.required_roles.is_empty() {
        let filled: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| f.roles.iter().any(|(at, held)| held == r && *at <= end))
            .collect();
        let missing: Vec<&str> = sev
            .required_roles
            .iter()
            .filter(|r| !filled.contains(r))
            .map(|r| r.as_str())
            .collect();
        let names = |roles: &[Role]| -> String {
            roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let actual = match (filled.is_empty(), missing.is_empty()) {
            (true, _) => "none filled".to_owned(),
            (false, true) => names(&filled),
            (false, false) => format!("{} (missing {})", names(&filled), missing.join(", ")),
        };
        criteria.push(Criterion {
            kind: CriterionKind::Roles,
            question: CriterionKind::Roles.question().into(),
            expected: names(&sev.required_roles),
            actual,
            met: missing.is_empty(),
            expected_seconds: None,
            actual_seconds: None,
        });
    }

    let cadences = [
        (
            CriterionKind::InternalUpdates,
            UpdateAudience::Internal,
            sev.internal_update_every,
        ),
        (
            CriterionKind::CustomerUpdates,
            UpdateAudience::Customer,
            sev.customer_update_every.filter(|_| f.customer_facing),
        ),
    ];
    for (kind, audience, every) in cadences {
        let Some(every) = every else { continue };
        let gap = longest_gap(f, audience, now);
        criteria.push(Criterion {
            kind,
            question: kind.question().into(),
            expected: format!("every {}", human_duration(seconds(every.0))),
            expected_seconds: Some(seconds(every.0)),
            actual: format!("longest gap {}", human_duration(seconds(gap))),
            actual_seconds: Some(seconds(gap)),
            met: gap <= every.0,
        });
    }

    let target = sev.mitigate_within().0;
    let stopped = f.mitigated_at.or(f.resolved_at);
    let (expected, expected_seconds) = within(target);
    criteria.push(Criterion {
        kind: CriterionKind::Mitigated,
        question: CriterionKind::Mitigated.question().into(),
        expected,
        expected_seconds,
        actual: stopped.map_or_else(
            || "not mitigated".to_owned(),
            |t| format!("after {}", human_duration(after(t))),
        ),
        actual_seconds: stopped.map(after),
        met: stopped.is_some_and(|t| t.duration_since(f.declared_at) <= target),
    });

    DrillScore {
        met: criteria.iter().filter(|c| c.met).count(),
        total: criteria.len(),
        criteria,
    }
}

#[cfg(test)]
mod tests;
