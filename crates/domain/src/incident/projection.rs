//! The incident as its events leave it. The store keeps this projection next to the
//! events and writes both in one transaction; [`Incident::replay`] rebuilds it from the
//! events alone, and the two always agree.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::event::{EventKind, TimelineEvent};
use super::input::{Assessment, MitigationStrategy, UpdateAudience};
use super::{Role, Status};
use crate::{Handle, IncidentNumber, Severity};

/// Who holds which role now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Roles {
    pub commander: Option<Handle>,
    pub investigators: Vec<Handle>,
    pub communicator: Option<Handle>,
    pub scribe: Option<Handle>,
}

impl Roles {
    /// The holder of a single-holder role.
    pub fn holder(&self, role: Role) -> Option<&Handle> {
        match role {
            Role::Commander => self.commander.as_ref(),
            Role::Communicator => self.communicator.as_ref(),
            Role::Scribe => self.scribe.as_ref(),
            Role::Investigator => None,
        }
    }

    pub fn holds(&self, role: Role, user: &Handle) -> bool {
        match role {
            Role::Investigator => self.investigators.contains(user),
            _ => self.holder(role) == Some(user),
        }
    }

    /// The roles nobody holds, out of `required`.
    pub fn missing(&self, required: &[Role]) -> Vec<Role> {
        required
            .iter()
            .copied()
            .filter(|r| match r {
                Role::Investigator => self.investigators.is_empty(),
                _ => self.holder(*r).is_none(),
            })
            .collect()
    }

    fn assign(&mut self, role: Role, user: &Handle) {
        match role {
            Role::Commander => self.commander = Some(user.clone()),
            Role::Communicator => self.communicator = Some(user.clone()),
            Role::Scribe => self.scribe = Some(user.clone()),
            Role::Investigator => {
                if !self.investigators.contains(user) {
                    self.investigators.push(user.clone());
                }
            }
        }
    }

    fn relieve(&mut self, role: Role, user: &Handle) {
        let clear = |slot: &mut Option<Handle>| {
            if slot.as_ref() == Some(user) {
                *slot = None;
            }
        };
        match role {
            Role::Commander => clear(&mut self.commander),
            Role::Communicator => clear(&mut self.communicator),
            Role::Scribe => clear(&mut self.scribe),
            Role::Investigator => self.investigators.retain(|u| u != user),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Mitigation {
    pub strategy: MitigationStrategy,
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resolution {
    pub root_cause: Option<String>,
    pub fix: Option<String>,
}

/// The incident's current state, projected from its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    pub number: IncidentNumber,
    /// `incident-YYYYMMDD-brief-description`, also the dedicated channel's name.
    pub slug: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub service: Option<String>,
    pub summary: Option<String>,
    pub assessment: Assessment,
    pub customer_facing: bool,
    pub drill: bool,
    pub restricted: bool,
    #[schema(value_type = String, format = DateTime)]
    pub declared_at: Timestamp,
    pub declared_by: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub mitigated_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    /// When it was declined or merged: the end of an incident that did not resolve.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    pub merged_into: Option<IncidentNumber>,
    pub merged_from: Vec<IncidentNumber>,
    pub roles: Roles,
    pub mitigation: Option<Mitigation>,
    pub resolution: Option<Resolution>,
    /// When the last internal and customer status updates were posted.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_update_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_customer_update_at: Option<Timestamp>,
    /// Everyone who declared it, held a role or was paged for it: they see it even
    /// when restricted.
    pub participants: Vec<String>,
    /// How many alerts opened or joined it.
    #[serde(default)]
    pub alert_count: i64,
    /// The status-page components it affects, with the status it gives each while open.
    #[serde(default)]
    pub components: Vec<crate::status::AffectedComponent>,
    /// The number of events on the timeline; the projection's version.
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Incident {
    /// Rebuilds an incident from its whole timeline. `None` if the timeline does not
    /// start with a declaration.
    pub fn replay(
        number: IncidentNumber,
        slug: &str,
        events: &[TimelineEvent],
    ) -> Option<Incident> {
        let (first, rest) = events.split_first()?;
        let mut incident = Self::declared(number, slug, first)?;
        for event in rest {
            incident.apply(event);
        }
        Some(incident)
    }

    /// The projection after the first event, which must be the declaration.
    pub fn declared(number: IncidentNumber, slug: &str, event: &TimelineEvent) -> Option<Incident> {
        let EventKind::Declared {
            title,
            severity,
            service,
            summary,
            assessment,
            customer_facing,
            drill,
            restricted,
            ..
        } = &event.kind
        else {
            return None;
        };
        Some(Incident {
            number,
            slug: slug.to_owned(),
            title: title.clone(),
            severity: *severity,
            status: Status::Triggered,
            service: service.clone(),
            summary: summary.clone(),
            assessment: assessment.clone(),
            customer_facing: *customer_facing,
            drill: *drill,
            restricted: *restricted,
            declared_at: event.effective_at(),
            declared_by: event.actor.clone(),
            acknowledged_at: None,
            mitigated_at: None,
            resolved_at: None,
            closed_at: None,
            ended_at: None,
            merged_into: None,
            merged_from: Vec::new(),
            roles: Roles::default(),
            mitigation: None,
            resolution: None,
            last_update_at: None,
            last_customer_update_at: None,
            participants: vec![event.actor.clone()],
            alert_count: 0,
            components: Vec::new(),
            version: event.seq,
            updated_at: event.recorded_at,
        })
    }

    /// Applies one event. Events are facts already decided, so this cannot fail.
    pub fn apply(&mut self, event: &TimelineEvent) {
        let at = event.effective_at();
        match &event.kind {
            EventKind::Declared { .. } => {}
            EventKind::Acknowledged => {
                self.status = Status::Acknowledged;
                self.acknowledged_at = Some(at);
            }
            EventKind::RoleAssigned { role, user } => {
                self.roles.assign(*role, user);
                self.add_participant(user.as_str());
            }
            EventKind::RoleRelieved { role, user } => self.roles.relieve(*role, user),
            EventKind::SeverityChanged { to, .. } => self.severity = *to,
            EventKind::StatusUpdated { audience, .. } => match audience {
                UpdateAudience::Internal => self.last_update_at = Some(at),
                UpdateAudience::Customer => self.last_customer_update_at = Some(at),
            },
            EventKind::Mitigated { strategy, action } => {
                self.status = Status::Mitigated;
                self.mitigated_at = Some(at);
                self.mitigation = Some(Mitigation {
                    strategy: *strategy,
                    action: action.clone(),
                });
            }
            EventKind::Resolved { root_cause, fix } => {
                self.status = Status::Resolved;
                self.resolved_at = Some(at);
                self.resolution = Some(Resolution {
                    root_cause: root_cause.clone(),
                    fix: fix.clone(),
                });
            }
            EventKind::Closed => {
                self.status = Status::Closed;
                self.closed_at = Some(at);
            }
            EventKind::Reopened { .. } => {
                self.status = Status::Acknowledged;
                self.acknowledged_at.get_or_insert(at);
                self.mitigated_at = None;
                self.resolved_at = None;
                self.closed_at = None;
            }
            EventKind::Declined { .. } => {
                self.status = Status::Declined;
                self.ended_at = Some(at);
            }
            EventKind::MergedInto { into } => {
                self.status = Status::Merged;
                self.merged_into = Some(*into);
                self.ended_at = Some(at);
            }
            EventKind::MergedFrom { from, .. } => self.merged_from.push(*from),
            EventKind::AlertAttached { .. } => self.alert_count += 1,
            EventKind::ComponentsChanged { components } => self.components = components.clone(),
            // Whoever is paged takes part: their page's links work, and they see the
            // incident even when it is restricted.
            EventKind::Paged { users, .. } => {
                for user in users {
                    self.add_participant(user);
                }
            }
            EventKind::Noted { .. }
            | EventKind::EvidenceAttached { .. }
            | EventKind::ResponseTargetMissed { .. }
            | EventKind::UpdateMissed { .. }
            | EventKind::Notified { .. }
            | EventKind::NotificationFailed { .. }
            | EventKind::ReviewOpened { .. }
            | EventKind::ReviewPublished
            | EventKind::ReviewReminded { .. }
            | EventKind::ActionItemReminded { .. } => {}
        }
        self.version = event.seq;
        self.updated_at = event.recorded_at;
    }

    /// When the impact began: the assessment's start if it is known and earlier than
    /// the declaration, otherwise the declaration.
    pub fn impact_started_at(&self) -> Timestamp {
        match self.assessment.started_at {
            Some(t) if t < self.declared_at => t,
            _ => self.declared_at,
        }
    }

    /// Whether `handle` may see this incident without being an admin.
    pub fn visible_to(&self, handle: &str) -> bool {
        !self.restricted || self.participants.iter().any(|p| p == handle)
    }

    fn add_participant(&mut self, handle: &str) {
        if !self.participants.iter().any(|p| p == handle) {
            self.participants.push(handle.to_owned());
        }
    }
}
