//! What a reader sees: the projection plus the figures computed from it at read time
//! (durations, the response target, when the next update is due).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Incident, Role, TimelineEvent};
use crate::alert::StoredChange;
use crate::policy::Policy;

/// Elapsed times in whole seconds. Open incidents count `duration` up to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Durations {
    /// From declaration to acknowledgement.
    pub to_acknowledge: Option<i64>,
    /// From declaration to mitigation.
    pub to_mitigate: Option<i64>,
    /// From declaration to resolution.
    pub to_resolve: Option<i64>,
    /// From the start of impact to resolution (or to now while open).
    pub duration: Option<i64>,
}

/// The severity's acknowledgement target and whether it was met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponseTarget {
    /// The acknowledgement deadline under the current severity.
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    /// Acknowledged after the deadline, or not acknowledged and the deadline has passed.
    pub breached: bool,
}

/// An incident as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentView {
    #[serde(flatten)]
    pub incident: Incident,
    pub durations: Durations,
    pub response: ResponseTarget,
    /// When the next internal status update is due, for open incidents whose severity
    /// has an update cadence.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_update_due_at: Option<Timestamp>,
    /// When customers are next due an update, for open customer-facing incidents.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_customer_update_due_at: Option<Timestamp>,
    /// Roles the severity requires that nobody holds.
    pub missing_roles: Vec<Role>,
    /// The timeline, oldest first, when the reader asked for one incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineEvent>>,
    /// Changes to the incident's service in the [`RECENT_CHANGES`] before its impact
    /// started (and up to its declaration), newest first, when the reader asked for one
    /// incident: the runbook's "what changed recently?".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent_changes: Option<Vec<StoredChange>>,
}

/// How far back before an incident's start its service's changes count as recent.
pub const RECENT_CHANGES: jiff::SignedDuration = jiff::SignedDuration::from_hours(2);

impl IncidentView {
    pub fn new(incident: Incident, policy: &Policy, now: Timestamp) -> IncidentView {
        let i = &incident;
        let since = |t: Option<Timestamp>| t.map(|t| t.duration_since(i.declared_at).as_secs());
        let end = if i.status.is_open() {
            Some(now)
        } else {
            i.resolved_at
        };
        let durations = Durations {
            to_acknowledge: since(i.acknowledged_at),
            to_mitigate: since(i.mitigated_at),
            to_resolve: since(i.resolved_at),
            duration: end.map(|e| e.duration_since(i.impact_started_at()).as_secs()),
        };
        let due_at = policy.response_deadline(i.severity, i.declared_at);
        let breached = match i.acknowledged_at {
            Some(ack) => ack > due_at,
            None => i.status.is_open() && now > due_at,
        };
        let rules = policy.severity(i.severity);
        let due = |every: Option<crate::policy::Cadence>, last: Option<Timestamp>| {
            let base = last.unwrap_or(i.declared_at).max(i.declared_at);
            every.and_then(|c| base.checked_add(c.0).ok())
        };
        let open = i.status.is_open();
        let next_update_due_at =
            due(rules.internal_update_every, i.last_update_at).filter(|_| open);
        let next_customer_update_due_at =
            due(rules.customer_update_every, i.last_customer_update_at)
                .filter(|_| open && i.customer_facing);
        let missing_roles = if open {
            i.roles.missing(&rules.required_roles)
        } else {
            Vec::new()
        };
        IncidentView {
            durations,
            response: ResponseTarget { due_at, breached },
            next_update_due_at,
            next_customer_update_due_at,
            missing_roles,
            timeline: None,
            recent_changes: None,
            incident,
        }
    }

    pub fn with_timeline(mut self, timeline: Vec<TimelineEvent>) -> IncidentView {
        self.timeline = Some(timeline);
        self
    }

    pub fn with_recent_changes(mut self, changes: Vec<StoredChange>) -> IncidentView {
        self.recent_changes = Some(changes);
        self
    }

    /// The window in which the service's changes count as recent for this incident.
    pub fn recent_changes_window(incident: &Incident) -> (Timestamp, Timestamp) {
        let start = incident.impact_started_at();
        (
            start.saturating_sub(RECENT_CHANGES).unwrap_or(start),
            incident.declared_at,
        )
    }
}
