//! The timeline: an append-only list of facts about one incident. The incident row is
//! their projection ([`super::Incident::apply`]); a correction is a new event.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::input::{Assessment, Evidence, MitigationStrategy, UpdateAudience, UpdateKind};
use super::Role;
use crate::template::Rendered;
use crate::{Handle, IncidentNumber, Severity};

/// Where a change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Api,
    Cli,
    Web,
    Chat,
    /// A signed acknowledge/resolve link from a page, used without a login.
    Link,
    /// An SMS reply to a page (`ACK 42`).
    Sms,
    /// A key pressed during a page call.
    Voice,
    Alert,
    Engine,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Cli => "cli",
            Self::Web => "web",
            Self::Chat => "chat",
            Self::Link => "link",
            Self::Sms => "sms",
            Self::Voice => "voice",
            Self::Alert => "alert",
            Self::Engine => "engine",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Api,
            Self::Cli,
            Self::Web,
            Self::Chat,
            Self::Link,
            Self::Sms,
            Self::Voice,
            Self::Alert,
            Self::Engine,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What happened. The `type` tag names the event in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Declared {
        title: String,
        severity: Severity,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
        assessment: Assessment,
        customer_facing: bool,
        drill: bool,
        restricted: bool,
        /// The triage questions and answers that chose the severity, if triage was used.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        triage: Vec<TriageAnswer>,
    },
    Acknowledged,
    RoleAssigned {
        role: Role,
        user: Handle,
    },
    RoleRelieved {
        role: Role,
        user: Handle,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
        reason: String,
    },
    StatusUpdated {
        kind: UpdateKind,
        audience: UpdateAudience,
        message: Rendered,
    },
    Mitigated {
        strategy: MitigationStrategy,
        action: String,
    },
    Resolved {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        root_cause: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fix: Option<String>,
    },
    Closed,
    Reopened {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Declined {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// This incident was merged into another and is now closed to changes.
    MergedInto {
        into: IncidentNumber,
    },
    /// Another incident was merged into this one.
    MergedFrom {
        from: IncidentNumber,
        title: String,
    },
    Noted {
        text: String,
    },
    /// An alert opened this incident or joined it.
    AlertAttached {
        dedup_key: String,
        summary: String,
        severity: crate::alert::AlertSeverity,
    },
    EvidenceAttached {
        evidence: Evidence,
    },
    /// The status-page components the incident affects, and the status it gives each
    /// while open, replacing those named before (none, when empty).
    ComponentsChanged {
        components: Vec<crate::status::AffectedComponent>,
    },
    /// The acknowledgement came after the severity's response target.
    ResponseTargetMissed {
        #[schema(value_type = String, format = DateTime)]
        due_at: Timestamp,
        late_by_seconds: i64,
    },
    /// A status update was due and none was posted; the communicator (or the commander)
    /// was reminded. `audience` is absent for internal updates.
    UpdateMissed {
        #[schema(value_type = String, format = DateTime)]
        due_at: Timestamp,
        reminded: Vec<String>,
        #[serde(default, skip_serializing_if = "UpdateAudience::is_internal")]
        audience: UpdateAudience,
    },
    /// The engine paged an escalation step: `users` are who it reached for (empty when
    /// nobody was on call).
    Paged {
        round: u32,
        step: u32,
        users: Vec<String>,
        urgency: String,
    },
    /// A notification was handed to its channel.
    Notified {
        user: String,
        method: crate::paging::ContactKind,
        attempt: u32,
    },
    /// A notification failed; it is tried again at `retry_at`, or given up without one.
    NotificationFailed {
        user: String,
        method: crate::paging::ContactKind,
        attempt: u32,
        error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>, format = DateTime)]
        retry_at: Option<Timestamp>,
    },
    /// The post-incident review opened, due at `due_at`.
    ReviewOpened {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<Handle>,
        #[schema(value_type = String, format = DateTime)]
        due_at: Timestamp,
    },
    /// The post-incident review was published.
    ReviewPublished,
    /// The review due at `due_at` is not published: `reminded` were told (at `stage`
    /// `escalate`, the severity's stakeholders too).
    ReviewReminded {
        #[schema(value_type = String, format = DateTime)]
        due_at: Timestamp,
        stage: crate::review::ReminderStage,
        reminded: Vec<String>,
    },
    /// Action item `item` (`42-3`) is still owed at `due_at`: `reminded` were told.
    ActionItemReminded {
        item: String,
        title: String,
        #[schema(value_type = String, format = DateTime)]
        due_at: Timestamp,
        stage: crate::review::ReminderStage,
        reminded: Vec<String>,
    },
}

impl EventKind {
    /// The `type` tag of this event.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Declared { .. } => "declared",
            Self::Acknowledged => "acknowledged",
            Self::RoleAssigned { .. } => "role_assigned",
            Self::RoleRelieved { .. } => "role_relieved",
            Self::SeverityChanged { .. } => "severity_changed",
            Self::StatusUpdated { .. } => "status_updated",
            Self::Mitigated { .. } => "mitigated",
            Self::Resolved { .. } => "resolved",
            Self::Closed => "closed",
            Self::Reopened { .. } => "reopened",
            Self::Declined { .. } => "declined",
            Self::MergedInto { .. } => "merged_into",
            Self::MergedFrom { .. } => "merged_from",
            Self::Noted { .. } => "noted",
            Self::AlertAttached { .. } => "alert_attached",
            Self::EvidenceAttached { .. } => "evidence_attached",
            Self::ComponentsChanged { .. } => "components_changed",
            Self::ResponseTargetMissed { .. } => "response_target_missed",
            Self::UpdateMissed { .. } => "update_missed",
            Self::Paged { .. } => "paged",
            Self::Notified { .. } => "notified",
            Self::NotificationFailed { .. } => "notification_failed",
            Self::ReviewOpened { .. } => "review_opened",
            Self::ReviewPublished => "review_published",
            Self::ReviewReminded { .. } => "review_reminded",
            Self::ActionItemReminded { .. } => "action_item_reminded",
        }
    }
}

/// One triage question and the answer given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TriageAnswer {
    pub question: String,
    pub answer: bool,
}

/// An event as it stands on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEvent {
    /// Position on this incident's timeline, from 1, without gaps.
    pub seq: i64,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The handle of the person (or `klaxon` for the engine) who made the change.
    pub actor: String,
    pub source: Source,
    /// When Klaxon recorded the event.
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
    /// When the person says it happened, if they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
}

impl TimelineEvent {
    /// The time the event counts from: the stated time if there is one.
    pub fn effective_at(&self) -> Timestamp {
        self.occurred_at.unwrap_or(self.recorded_at)
    }
}

/// An event before it has a place on a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub occurred_at: Option<Timestamp>,
}
