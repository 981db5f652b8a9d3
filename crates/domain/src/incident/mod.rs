//! The incident: its life cycle, its timeline of events, and the projection of those
//! events that the store keeps as the incident row.

mod actions;
mod change;
mod command;
mod describe;
mod event;
mod input;
mod projection;
mod slug;
mod update;
mod view;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use actions::Actions;
pub use change::{Change, Declaration};
pub use command::{
    decide, declare, declare_from_alert, declare_with_components, merge, record, Command, Context,
    MAX_EVIDENCE_BYTES, MAX_TITLE,
};
pub use describe::{command_outcome, describe};
pub use event::{EventKind, NewEvent, Source, TimelineEvent, TriageAnswer};
pub use input::{
    Affected, Assessment, DeclareInput, Evidence, MitigationStrategy, Recurrence,
    StatusUpdateInput, UpdateAudience, UpdateKind,
};
pub use projection::{Incident, Mitigation, Resolution, Roles};
pub use slug::slug_base;
pub use update::automatic_message;
pub use view::{Durations, IncidentView, ResponseTarget as ResponseStatus};

use crate::DomainError;

/// Where an incident is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Triggered,
    Acknowledged,
    Mitigated,
    Resolved,
    Closed,
    Declined,
    Merged,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Triggered,
        Status::Acknowledged,
        Status::Mitigated,
        Status::Resolved,
        Status::Closed,
        Status::Declined,
        Status::Merged,
    ];

    /// Open incidents still need people: triggered, acknowledged or mitigated.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Triggered | Self::Acknowledged | Self::Mitigated)
    }

    /// Declined and merged incidents never change status again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Declined | Self::Merged)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Mitigated => "mitigated",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::Declined => "declined",
            Self::Merged => "merged",
        }
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!(
                        "'{text}' is not a status; use triggered, acknowledged, mitigated, resolved, closed, declined or merged"
                    ),
                )
            })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A responsibility in the response, as the runbook names them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Coordinates the response and makes decisions. One at a time.
    Commander,
    /// Debugs and finds the root cause. Any number.
    Investigator,
    /// Updates stakeholders and customers. One at a time.
    Communicator,
    /// Documents actions taken. One at a time.
    Scribe,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Commander,
        Role::Investigator,
        Role::Communicator,
        Role::Scribe,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commander => "commander",
            Self::Investigator => "investigator",
            Self::Communicator => "communicator",
            Self::Scribe => "scribe",
        }
    }

    /// Whether several people may hold the role at once.
    pub fn is_shared(self) -> bool {
        matches!(self, Self::Investigator)
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim().to_ascii_lowercase();
        let t = match t.as_str() {
            "ic" | "incident-commander" => "commander",
            "investigators" => "investigator",
            other => other,
        }
        .to_owned();
        Self::ALL.into_iter().find(|r| r.as_str() == t).ok_or_else(|| {
            DomainError::invalid(
                "role",
                format!("'{text}' is not a role; use commander, investigator, communicator or scribe"),
            )
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
