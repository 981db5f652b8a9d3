//! What people send: the validated shapes of a declaration, a status update and a piece
//! of evidence. [`super::decide`] checks their content against the incident's state.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{Handle, Severity};

/// The runbook's initial assessment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    /// What is broken: service, feature, user flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_is_broken: Option<String>,
    /// How many users are affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected: Option<Affected>,
    /// An estimate or the segment, e.g. "~50% of API requests" or "EU customers".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_estimate: Option<String>,
    /// Whether this is new or has happened before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
    /// When the impact started, as far as anyone knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    /// What changed recently: deployments, config changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent_changes: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Affected {
    All,
    Some,
    Segment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Recurrence {
    New,
    Recurring,
}

/// A request to declare an incident. Give `severity`, or `triage` answers to the
/// policy's decision tree, not both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareInput {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Yes/no answers to the triage questions, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<Vec<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default)]
    pub assessment: Assessment,
    /// Customers notice this incident: customer updates are due on the policy's cadence.
    #[serde(default)]
    pub customer_facing: bool,
    /// A practice run: kept out of metrics.
    #[serde(default)]
    pub drill: bool,
    /// Visible only to participants and admins.
    #[serde(default)]
    pub restricted: bool,
    /// Who leads the response, if already known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commander: Option<Handle>,
    /// When the incident was detected, if earlier than now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    /// The status-page components it affects. Left out, a customer-facing incident of a
    /// service names the components linked to that service, with the status the policy
    /// suggests for its severity; an empty list names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<crate::status::ComponentChoice>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UpdateKind {
    Detected,
    Update,
    Mitigated,
    Resolved,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum UpdateAudience {
    #[default]
    Internal,
    Customer,
}

impl UpdateAudience {
    pub fn is_internal(&self) -> bool {
        *self == UpdateAudience::Internal
    }
}

/// A status update, filled into the policy's template for its kind and audience.
/// Fields left out are taken from the incident where it knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdateInput {
    pub kind: UpdateKind,
    #[serde(default)]
    pub audience: UpdateAudience,
    pub status: Option<String>,
    pub progress: Option<String>,
    pub impact: Option<String>,
    pub next_steps: Option<String>,
    pub eta: Option<String>,
    pub action: Option<String>,
    pub root_cause: Option<String>,
    pub fix: Option<String>,
    pub customer_impact: Option<String>,
    pub follow_up: Option<String>,
}

impl StatusUpdateInput {
    /// An update of `kind` for the internal audience, every field left to the incident.
    pub fn new(kind: UpdateKind) -> Self {
        Self {
            kind,
            audience: UpdateAudience::Internal,
            status: None,
            progress: None,
            impact: None,
            next_steps: None,
            eta: None,
            action: None,
            root_cause: None,
            fix: None,
            customer_impact: None,
            follow_up: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MitigationStrategy {
    QuickFix,
    Rollback,
    ScaleUp,
    DisableFeature,
    Failover,
    Other,
}

impl MitigationStrategy {
    pub const ALL: [MitigationStrategy; 6] = [
        Self::QuickFix,
        Self::Rollback,
        Self::ScaleUp,
        Self::DisableFeature,
        Self::Failover,
        Self::Other,
    ];

    /// The name on the wire: `quick-fix`, `rollback`…
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QuickFix => "quick-fix",
            Self::Rollback => "rollback",
            Self::ScaleUp => "scale-up",
            Self::DisableFeature => "disable-feature",
            Self::Failover => "failover",
            Self::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Something attached to the incident as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Evidence {
    Text {
        text: String,
    },
    File {
        name: String,
        content: String,
    },
    /// A command run on a responder's machine, with what it printed.
    Command {
        command: String,
        output: String,
        exit_code: Option<i32>,
        /// Whether the output was cut to fit the size limit.
        #[serde(default)]
        truncated: bool,
    },
}
