//! What of an incident reaches the status page, and when.
//!
//! - Restricted incidents and drills never reach it: not their components' statuses,
//!   not their updates, not their existence.
//! - Any other incident is published from the moment it names components or posts its
//!   first customer-audience status update. Internal updates, notes, evidence and the
//!   engine's paging never are.
//! - While it is open, the components it names take the status it gives them; when it
//!   resolves (or is declined, or merged) they are released. Each stretch is kept as a
//!   [`PeriodChange`] for the uptime bars.
//! - Each customer update becomes a public update whose status follows
//!   [`update_status`].
//! - Once the incident is over and its post-incident review is published, it gets one
//!   more update, `postmortem` ([`POSTMORTEM_BODY`]), and keeps that status.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ComponentStatus;
use crate::incident::{EventKind, Incident, Status, TimelineEvent, UpdateAudience, UpdateKind};
use crate::ComponentId;

/// The body of the update that tells customers the review of an incident is done.
pub const POSTMORTEM_BODY: &str = "We have completed our post-incident review of this incident.";

/// The most components one incident names.
pub const MAX_AFFECTED: usize = 50;

/// A component an incident names, and the status it gives it while the incident is open.
/// The name is the component's when it was named, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AffectedComponent {
    pub component: ComponentId,
    pub name: String,
    pub status: ComponentStatus,
}

/// A component as a request names it. Without a status, the policy's suggestion for the
/// incident's severity applies (`component_status` in each severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentChoice {
    pub component: ComponentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ComponentStatus>,
}

/// `POST /incidents/{n}/components`: the components the incident affects, replacing the
/// ones named before (an empty list names none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentsRequest {
    pub components: Vec<ComponentChoice>,
}

/// Whether anything of `incident` may ever reach the status page.
pub fn may_publish(incident: &Incident) -> bool {
    !incident.restricted && !incident.drill
}

/// Whether `incident` is on the status page: it may be, and it names components or has
/// posted a customer update.
pub fn published(incident: &Incident) -> bool {
    may_publish(incident)
        && (!incident.components.is_empty() || incident.last_customer_update_at.is_some())
}

/// The statuses `incident` gives components now, by component: those it names while it
/// is open and may be published, operational ones left out.
pub fn impacts(incident: &Incident) -> Vec<(ComponentId, ComponentStatus)> {
    if !may_publish(incident) || !incident.status.is_open() {
        return Vec::new();
    }
    let mut out: Vec<_> = incident
        .components
        .iter()
        .filter(|c| c.status != ComponentStatus::Operational)
        .map(|c| (c.component, c.status))
        .collect();
    out.sort_by_key(|(id, _)| *id);
    out
}

/// A stretch of a component's status history that an incident's change starts or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodChange {
    Start {
        component: ComponentId,
        status: ComponentStatus,
        at: Timestamp,
    },
    End {
        component: ComponentId,
        at: Timestamp,
    },
}

/// What an incident change does to the status page: the history stretches it starts and
/// ends, whether the incident is published after it, and whether the page shows anything
/// new (so that it is rebuilt).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusPageChange {
    pub periods: Vec<PeriodChange>,
    pub published: bool,
    pub touched: bool,
}

impl StatusPageChange {
    /// The change `events` make, applied one by one to `before` (`None` for a new
    /// incident, whose first event is its declaration).
    pub fn of(before: Option<&Incident>, events: &[TimelineEvent]) -> StatusPageChange {
        if !events.iter().any(|e| shows(&e.kind)) {
            return StatusPageChange::default();
        }
        let (mut incident, rest) = match before {
            Some(i) => (i.clone(), events),
            None => {
                let Some((first, rest)) = events.split_first() else {
                    return StatusPageChange::default();
                };
                let Some(i) = Incident::declared(crate::IncidentNumber(0), "", first) else {
                    return StatusPageChange::default();
                };
                (i, rest)
            }
        };
        if !may_publish(&incident) {
            return StatusPageChange::default();
        }
        let was_published = before.is_some_and(published);
        let mut current = impacts(&incident);
        let mut periods = Vec::new();
        for event in rest {
            incident.apply(event);
            let next = impacts(&incident);
            periods.extend(diff(&current, &next, event.effective_at()));
            current = next;
        }
        let published = published(&incident);
        StatusPageChange {
            touched: published || was_published,
            periods,
            published,
        }
    }
}

/// Whether an event changes what the status page shows of a published incident.
fn shows(kind: &EventKind) -> bool {
    match kind {
        EventKind::StatusUpdated { audience, .. } => *audience == UpdateAudience::Customer,
        EventKind::Declared { .. }
        | EventKind::ComponentsChanged { .. }
        | EventKind::SeverityChanged { .. }
        | EventKind::Resolved { .. }
        | EventKind::Reopened { .. }
        | EventKind::Declined { .. }
        | EventKind::MergedInto { .. }
        | EventKind::ReviewPublished => true,
        _ => false,
    }
}

/// The stretches that end and start going from statuses `from` to `to` at `at`.
fn diff(
    from: &[(ComponentId, ComponentStatus)],
    to: &[(ComponentId, ComponentStatus)],
    at: Timestamp,
) -> Vec<PeriodChange> {
    let mut out = Vec::new();
    for (component, status) in from {
        if to.iter().find(|(c, _)| c == component).map(|(_, s)| s) != Some(status) {
            out.push(PeriodChange::End {
                component: *component,
                at,
            });
        }
    }
    for (component, status) in to {
        if from.iter().find(|(c, _)| c == component).map(|(_, s)| s) != Some(status) {
            out.push(PeriodChange::Start {
                component: *component,
                status: *status,
                at,
            });
        }
    }
    out
}

/// An incident's status on the status page, in Statuspage's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PublicStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Postmortem,
}

impl PublicStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
            Self::Postmortem => "postmortem",
        }
    }

    /// The label feeds and pages show: "Identified".
    pub fn label(self) -> &'static str {
        match self {
            Self::Investigating => "Investigating",
            Self::Identified => "Identified",
            Self::Monitoring => "Monitoring",
            Self::Resolved => "Resolved",
            Self::Postmortem => "Postmortem",
        }
    }

    /// Whether the incident is over for customers.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Resolved | Self::Postmortem)
    }
}

/// The public status of a customer update of `kind`, posted while the incident was
/// `status`. The runbook's customer templates say it: the acknowledgement ("our team is
/// investigating") is `investigating`; an update ("we've identified the cause and are
/// implementing a fix") is `identified`; the mitigated message ("we are monitoring
/// closely") is `monitoring`; the resolution notice is `resolved`. The incident's state
/// overrides the kind where they disagree: any update of a mitigated incident is
/// `monitoring`, and any update once it is resolved (or closed, declined, merged) is
/// `resolved`.
pub fn update_status(kind: UpdateKind, status: Status) -> PublicStatus {
    if !status.is_open() {
        return PublicStatus::Resolved;
    }
    match (kind, status) {
        (UpdateKind::Resolved, _) => PublicStatus::Resolved,
        (UpdateKind::Mitigated, _) | (_, Status::Mitigated) => PublicStatus::Monitoring,
        (UpdateKind::Update, _) => PublicStatus::Identified,
        (UpdateKind::Detected, _) => PublicStatus::Investigating,
    }
}

/// A component whose status an update changed, as customers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub component: ComponentId,
    pub name: String,
    pub old: ComponentStatus,
    pub new: ComponentStatus,
}

/// A customer update as the status page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicUpdate {
    /// The update's place on the incident's timeline.
    pub seq: i64,
    pub status: PublicStatus,
    pub body: String,
    pub at: Timestamp,
    /// The components whose status changed since the previous customer update (released
    /// ones become operational); `None` if none did.
    pub affected: Option<Vec<StatusChange>>,
}

/// What the status page shows of an incident's timeline, from its events in order
/// (only the kinds that matter are needed: life cycle, components, status updates).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PublicTimeline {
    /// Oldest first.
    pub updates: Vec<PublicUpdate>,
    /// When the first `monitoring` update was posted.
    pub monitoring_at: Option<Timestamp>,
    /// When the page's view of the incident last changed.
    pub changed_at: Option<Timestamp>,
}

/// Walks `events` (oldest first) into the customer updates and the moments the page
/// cares about. Internal updates, notes and everything else are skipped.
pub fn public_timeline(events: &[TimelineEvent]) -> PublicTimeline {
    let mut out = PublicTimeline::default();
    let mut status = Status::Triggered;
    let mut named: Vec<AffectedComponent> = Vec::new();
    let mut told: Vec<AffectedComponent> = Vec::new();
    for event in events {
        let at = event.effective_at();
        match &event.kind {
            EventKind::Acknowledged => status = Status::Acknowledged,
            EventKind::Mitigated { .. } => status = Status::Mitigated,
            EventKind::Resolved { .. } => status = Status::Resolved,
            EventKind::Closed => status = Status::Closed,
            EventKind::Reopened { .. } => status = Status::Acknowledged,
            EventKind::Declined { .. } => status = Status::Declined,
            EventKind::MergedInto { .. } => status = Status::Merged,
            EventKind::ComponentsChanged { components } => named = components.clone(),
            EventKind::StatusUpdated {
                kind,
                audience: UpdateAudience::Customer,
                message,
            } => {
                let now: Vec<AffectedComponent> = if status.is_open() {
                    named.clone()
                } else {
                    named
                        .iter()
                        .map(|c| AffectedComponent {
                            status: ComponentStatus::Operational,
                            ..c.clone()
                        })
                        .collect()
                };
                let changes = changes(&told, &now);
                let public = update_status(*kind, status);
                if public == PublicStatus::Monitoring && out.monitoring_at.is_none() {
                    out.monitoring_at = Some(at);
                }
                out.updates.push(PublicUpdate {
                    seq: event.seq,
                    status: public,
                    body: message.text.clone(),
                    at,
                    affected: (!changes.is_empty()).then_some(changes),
                });
                told = now;
            }
            // Only an incident that is over has a postmortem, and only one: a review
            // published again after a reopening adds nothing.
            EventKind::ReviewPublished
                if !status.is_open()
                    && out.updates.last().map(|u| u.status) != Some(PublicStatus::Postmortem) =>
            {
                out.updates.push(PublicUpdate {
                    seq: event.seq,
                    status: PublicStatus::Postmortem,
                    body: POSTMORTEM_BODY.to_owned(),
                    at,
                    affected: None,
                });
            }
            _ => continue,
        }
        out.changed_at = Some(out.changed_at.map_or(at, |t| t.max(at)));
    }
    out
}

/// The components whose status differs between what customers were told and now.
fn changes(told: &[AffectedComponent], now: &[AffectedComponent]) -> Vec<StatusChange> {
    let status_in = |list: &[AffectedComponent], id| {
        list.iter()
            .find(|c| c.component == id)
            .map_or(ComponentStatus::Operational, |c| c.status)
    };
    let mut out = Vec::new();
    for c in now {
        let old = status_in(told, c.component);
        if old != c.status {
            out.push(StatusChange {
                component: c.component,
                name: c.name.clone(),
                old,
                new: c.status,
            });
        }
    }
    for c in told {
        if !now.iter().any(|n| n.component == c.component)
            && c.status != ComponentStatus::Operational
        {
            out.push(StatusChange {
                component: c.component,
                name: c.name.clone(),
                old: c.status,
                new: ComponentStatus::Operational,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::UpdateKind::*;
    use proptest::prelude::*;

    #[test]
    fn the_runbooks_customer_templates_map_to_statuspage_statuses() {
        assert_eq!(
            update_status(Detected, Status::Triggered),
            PublicStatus::Investigating
        );
        assert_eq!(
            update_status(Detected, Status::Acknowledged),
            PublicStatus::Investigating
        );
        assert_eq!(
            update_status(Update, Status::Acknowledged),
            PublicStatus::Identified
        );
        assert_eq!(
            update_status(Update, Status::Mitigated),
            PublicStatus::Monitoring
        );
        assert_eq!(
            update_status(Mitigated, Status::Mitigated),
            PublicStatus::Monitoring
        );
        assert_eq!(
            update_status(Resolved, Status::Resolved),
            PublicStatus::Resolved
        );
        assert_eq!(
            update_status(Update, Status::Resolved),
            PublicStatus::Resolved
        );
    }

    fn arb_kind() -> impl Strategy<Value = UpdateKind> {
        prop_oneof![
            Just(Detected),
            Just(Update),
            Just(Mitigated),
            Just(Resolved)
        ]
    }

    fn arb_status() -> impl Strategy<Value = Status> {
        proptest::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        /// Customers are never told an incident is over while it is open, nor that it
        /// is open once it is over.
        #[test]
        fn the_public_status_agrees_with_the_life_cycle(kind in arb_kind(), status in arb_status()) {
            let public = update_status(kind, status);
            prop_assert_eq!(public.is_final(), !status.is_open() || kind == Resolved);
            if status == Status::Mitigated && kind != Resolved {
                prop_assert_eq!(public, PublicStatus::Monitoring);
            }
            prop_assert_ne!(public, PublicStatus::Postmortem);
        }
    }
}
