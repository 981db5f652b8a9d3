//! Metrics across incidents: how many, how fast they were acknowledged, mitigated and
//! resolved, whether the response targets and update cadences were kept, and which
//! incidents came back. Pure functions over [`IncidentFacts`], which the store reads and
//! the caller filters (restricted incidents only for those who may see them).
//!
//! The definitions, which `docs/reports.md` states for users:
//!
//! - **Counted**: incidents declared in the window, except drills and incidents that
//!   were declined or merged into another (they did not happen as incidents). Drills
//!   are counted apart.
//! - **MTTA / MTTM / MTTR**: from the declaration to the first acknowledgement,
//!   mitigation and resolution, over the incidents that reached it; median and 90th
//!   percentile by nearest rank (the value below which 90% of the sorted durations lie,
//!   never interpolated).
//! - **Response target**: an acknowledged incident kept its target unless the timeline
//!   holds a `response_target_missed` event; an incident never acknowledged whose target
//!   passed also missed it. Per severity.
//! - **Update cadence**: an incident kept its internal cadence if no gap between its
//!   declaration, its internal updates in order, and its resolution (or the end of the
//!   window, if still open) was longer than its severity's cadence; the same for customer
//!   updates on customer-facing incidents. Severities without a cadence do not count.
//! - **Drills**: scored one by one against their severity's targets, see [`drills`].
//! - **Recurring**: an incident recurs an earlier one declared at most 30 days before
//!   it, of the same service with the same title once numbers and ids are taken out
//!   ("API 502s on host 10.0.3.7" ~ "API 502s on host 10.0.4.1"), or sharing an
//!   alert's dedup key.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::incident::{EventKind, Incident, Role, Status, TimelineEvent, UpdateAudience};
use crate::policy::Policy;
use crate::{IncidentNumber, Severity};

pub mod drills;

pub use drills::{drill_score, Criterion, CriterionKind, DrillScore, ScoredDrill};

/// How far back an incident may lie for a later one to recur it.
pub const RECURRENCE_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 30);

/// What the metrics need to know of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub number: IncidentNumber,
    pub title: String,
    /// The severity it ended with.
    pub severity: Severity,
    pub service: Option<String>,
    pub declared_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub mitigated_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub customer_facing: bool,
    pub drill: bool,
    /// Declined, or merged into another incident.
    pub ended_without_resolution: bool,
    /// The acknowledgement came after the response target (a `response_target_missed`
    /// event).
    pub response_missed: bool,
    /// Status updates, in time order.
    pub updates: Vec<(Timestamp, UpdateAudience)>,
    /// The dedup keys of the alerts that opened or joined it.
    pub dedup_keys: Vec<String>,
    /// Roles assigned, with when, in time order.
    pub roles: Vec<(Timestamp, Role)>,
}

impl IncidentFacts {
    /// The facts of `incident` from its timeline (`events`, in order): what the store
    /// reads for a report, worked out from one incident in hand.
    pub fn of(incident: &Incident, events: &[TimelineEvent]) -> IncidentFacts {
        let mut f = IncidentFacts {
            number: incident.number,
            title: incident.title.clone(),
            severity: incident.severity,
            service: incident.service.clone(),
            declared_at: incident.declared_at,
            acknowledged_at: incident.acknowledged_at,
            mitigated_at: incident.mitigated_at,
            resolved_at: incident.resolved_at,
            customer_facing: incident.customer_facing,
            drill: incident.drill,
            ended_without_resolution: matches!(incident.status, Status::Declined | Status::Merged),
            response_missed: false,
            updates: Vec::new(),
            dedup_keys: Vec::new(),
            roles: Vec::new(),
        };
        for e in events {
            match &e.kind {
                EventKind::StatusUpdated { audience, .. } => {
                    f.updates.push((e.recorded_at, *audience))
                }
                EventKind::AlertAttached { dedup_key, .. } => f.dedup_keys.push(dedup_key.clone()),
                EventKind::ResponseTargetMissed { .. } => f.response_missed = true,
                EventKind::RoleAssigned { role, .. } => f.roles.push((e.recorded_at, *role)),
                _ => {}
            }
        }
        f
    }
}

/// A median and a 90th percentile, in seconds; `None` without any sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Spread {
    pub samples: usize,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

/// Kept out of due: how many kept a rule out of how many it applied to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Kept {
    pub kept: usize,
    pub of: usize,
}

/// One severity's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeverityFigures {
    pub severity: String,
    pub count: usize,
    pub response_target: Kept,
}

/// How many incidents of one service or week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Count {
    pub name: String,
    pub count: usize,
}

/// An incident that came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recurrence {
    pub number: i64,
    pub title: String,
    /// The earlier incident it recurs.
    pub recurs: i64,
    /// Why: `same title` or `alert KEY`.
    pub because: String,
}

/// The report over a window.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
    /// Incidents counted (drills, declined and merged ones left out).
    pub count: usize,
    pub drills: usize,
    /// The drills declared in the window, each with its score, oldest first.
    pub drill_scores: Vec<ScoredDrill>,
    pub by_severity: Vec<SeverityFigures>,
    /// Per service (`(none)` for incidents of no service), the most first.
    pub by_service: Vec<Count>,
    /// Per ISO week (`2026-W48`), oldest first.
    pub by_week: Vec<Count>,
    pub time_to_acknowledge: Spread,
    pub time_to_mitigate: Spread,
    pub time_to_resolve: Spread,
    pub internal_updates: Kept,
    pub customer_updates: Kept,
    pub recurring: Vec<Recurrence>,
}

/// The value of `sorted` at `q` (0 < q ≤ 1) by nearest rank.
fn nearest_rank(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

fn spread(mut seconds: Vec<i64>) -> Spread {
    seconds.sort_unstable();
    Spread {
        samples: seconds.len(),
        median_seconds: nearest_rank(&seconds, 0.5),
        p90_seconds: nearest_rank(&seconds, 0.9),
    }
}

/// The longest stretch without an update of `audience` between the declaration, the
/// updates and the resolution (or `until`).
pub(crate) fn longest_gap(
    f: &IncidentFacts,
    audience: UpdateAudience,
    until: Timestamp,
) -> SignedDuration {
    let end = f.resolved_at.unwrap_or(until);
    let mut last = f.declared_at;
    let mut longest = SignedDuration::ZERO;
    for (at, a) in &f.updates {
        if *a != audience || *at > end {
            continue;
        }
        longest = longest.max(at.duration_since(last));
        last = last.max(*at);
    }
    longest.max(end.duration_since(last))
}

/// Whether the updates of `audience` kept `every` from the declaration to the
/// resolution (or `until`).
fn kept_cadence(
    f: &IncidentFacts,
    audience: UpdateAudience,
    every: SignedDuration,
    until: Timestamp,
) -> bool {
    longest_gap(f, audience, until) <= every
}

/// A title with its numbers, ids and punctuation taken out, for comparing.
pub fn title_shape(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each incident that recurs an earlier one, with the latest such earlier one.
fn recurrences(counted: &[&IncidentFacts]) -> Vec<Recurrence> {
    let mut by_time: Vec<&IncidentFacts> = counted.to_vec();
    by_time.sort_by_key(|f| (f.declared_at, f.number));
    let mut last_title: HashMap<(Option<&str>, String), &IncidentFacts> = HashMap::new();
    let mut last_key: HashMap<&str, &IncidentFacts> = HashMap::new();
    let mut found = Vec::new();
    for f in by_time {
        let within = |earlier: &&&IncidentFacts| {
            f.declared_at.duration_since(earlier.declared_at) <= RECURRENCE_WINDOW
        };
        let shape = title_shape(&f.title);
        let mut because: Option<(&IncidentFacts, String)> = None;
        if f.service.is_some() && !shape.is_empty() {
            if let Some(e) = last_title
                .get(&(f.service.as_deref(), shape.clone()))
                .filter(within)
            {
                because = Some((e, "same title".into()));
            }
        }
        for key in &f.dedup_keys {
            if let Some(e) = last_key.get(key.as_str()).filter(within) {
                if because
                    .as_ref()
                    .is_none_or(|(b, _)| (e.declared_at, e.number) > (b.declared_at, b.number))
                {
                    because = Some((e, format!("alert {key}")));
                }
            }
        }
        if let Some((earlier, why)) = because {
            found.push(Recurrence {
                number: f.number.0,
                title: f.title.clone(),
                recurs: earlier.number.0,
                because: why,
            });
        }
        if f.service.is_some() && !shape.is_empty() {
            last_title.insert((f.service.as_deref(), shape), f);
        }
        for key in &f.dedup_keys {
            last_key.insert(key.as_str(), f);
        }
    }
    found
}

/// The report over the incidents of `facts` declared in `[since, until)`.
pub fn report(
    facts: &[IncidentFacts],
    policy: &Policy,
    since: Timestamp,
    until: Timestamp,
) -> Report {
    let in_window: Vec<&IncidentFacts> = facts
        .iter()
        .filter(|f| since <= f.declared_at && f.declared_at < until)
        .collect();
    let mut drills: Vec<&&IncidentFacts> = in_window.iter().filter(|f| f.drill).collect();
    drills.sort_by_key(|f| (f.declared_at, f.number));
    let drill_scores: Vec<ScoredDrill> = drills
        .into_iter()
        .map(|f| ScoredDrill {
            number: f.number.0,
            title: f.title.clone(),
            severity: f.severity.to_string(),
            declared_at: f.declared_at,
            score: drill_score(f, policy, until),
        })
        .collect();
    let counted: Vec<&IncidentFacts> = in_window
        .into_iter()
        .filter(|f| !f.drill && !f.ended_without_resolution)
        .collect();

    let by_severity = Severity::ALL
        .iter()
        .map(|&s| {
            let of: Vec<&&IncidentFacts> = counted.iter().filter(|f| f.severity == s).collect();
            let due: Vec<&&&IncidentFacts> = of
                .iter()
                .filter(|f| {
                    f.acknowledged_at.is_some()
                        || policy.response_deadline(f.severity, f.declared_at) <= until
                })
                .collect();
            let kept = due
                .iter()
                .filter(|f| f.acknowledged_at.is_some() && !f.response_missed)
                .count();
            SeverityFigures {
                severity: s.to_string(),
                count: of.len(),
                response_target: Kept {
                    kept,
                    of: due.len(),
                },
            }
        })
        .collect();

    let mut services: BTreeMap<String, usize> = BTreeMap::new();
    let mut weeks: BTreeMap<String, usize> = BTreeMap::new();
    for f in &counted {
        *services
            .entry(f.service.clone().unwrap_or_else(|| "(none)".into()))
            .or_default() += 1;
        let date = f
            .declared_at
            .to_zoned(policy.time_zone.zone().clone())
            .date();
        let week = date.iso_week_date();
        *weeks
            .entry(format!("{}-W{:02}", week.year(), week.week()))
            .or_default() += 1;
    }
    let mut by_service: Vec<Count> = services
        .into_iter()
        .map(|(name, count)| Count { name, count })
        .collect();
    by_service.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));

    let since_declared = |at: Option<Timestamp>, f: &IncidentFacts| {
        at.map(|t| t.duration_since(f.declared_at).as_secs().max(0))
    };
    let mut internal = Kept::default();
    let mut customer = Kept::default();
    for f in &counted {
        let sev = policy.severity(f.severity);
        if let Some(every) = sev.internal_update_every {
            internal.of += 1;
            internal.kept += usize::from(kept_cadence(f, UpdateAudience::Internal, every.0, until));
        }
        if let (true, Some(every)) = (f.customer_facing, sev.customer_update_every) {
            customer.of += 1;
            customer.kept += usize::from(kept_cadence(f, UpdateAudience::Customer, every.0, until));
        }
    }

    Report {
        since,
        until,
        count: counted.len(),
        drills: drill_scores.len(),
        drill_scores,
        by_severity,
        by_service,
        by_week: weeks
            .into_iter()
            .map(|(name, count)| Count { name, count })
            .collect(),
        time_to_acknowledge: spread(
            counted
                .iter()
                .filter_map(|f| since_declared(f.acknowledged_at, f))
                .collect(),
        ),
        time_to_mitigate: spread(
            counted
                .iter()
                .filter_map(|f| since_declared(f.mitigated_at, f))
                .collect(),
        ),
        time_to_resolve: spread(
            counted
                .iter()
                .filter_map(|f| since_declared(f.resolved_at, f))
                .collect(),
        ),
        internal_updates: internal,
        customer_updates: customer,
        recurring: recurrences(&counted),
    }
}

#[cfg(test)]
mod tests;
