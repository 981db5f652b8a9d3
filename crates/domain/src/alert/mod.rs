//! Alerts as Klaxon understands them, whatever tool sent them. Every inbound format
//! (`klaxon-ingest`) is parsed into these types once; the rest of Klaxon never sees the
//! original wire format.

mod grouping;
mod lifecycle;
mod repeats;

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use grouping::{group_key, plan, IncidentPlan};
pub use lifecycle::alerts_after;
pub use lifecycle::{decide, repeats_open_alert, Alert, AlertDecision, AlertStatus};
pub use repeats::{count_repeats, RepeatState, RepeatTally};

/// The longest dedup key accepted, as in PagerDuty's Events API.
pub const MAX_DEDUP_KEY: usize = 255;
/// The longest alert summary accepted.
pub const MAX_SUMMARY: usize = 1024;

/// What the sender wants done with the alert its dedup key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlertAction {
    Trigger,
    Acknowledge,
    Resolve,
}

impl AlertAction {
    /// As on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trigger => "trigger",
            Self::Acknowledge => "acknowledge",
            Self::Resolve => "resolve",
        }
    }
}

/// How bad the sender says it is, on PagerDuty's scale.
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
pub enum AlertSeverity {
    Critical,
    Error,
    Warning,
    Info,
}

impl AlertSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Critical, Self::Error, Self::Warning, Self::Info]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl fmt::Display for AlertSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertLink {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AlertImage {
    pub src: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
}

/// One normalised alert event. A parser guarantees: a trigger has a summary (at most
/// [`MAX_SUMMARY`] characters); an acknowledge or resolve has a dedup key; a dedup key
/// has at most [`MAX_DEDUP_KEY`] characters. A trigger without a dedup key gets one
/// from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub action: AlertAction,
    pub dedup_key: Option<String>,
    pub summary: Option<String>,
    /// The host or system the alert is about.
    pub source: Option<String>,
    pub severity: AlertSeverity,
    /// When the sender says it happened; the time of receipt if it did not say.
    pub occurred_at: Option<Timestamp>,
    pub component: Option<String>,
    pub group: Option<String>,
    pub class: Option<String>,
    /// Labels to group by (Alertmanager labels, Datadog tags, …).
    pub labels: BTreeMap<String, String>,
    /// Everything else the sender said, as JSON.
    pub details: serde_json::Value,
    pub links: Vec<AlertLink>,
    pub images: Vec<AlertImage>,
    /// The sending tool, e.g. "Prometheus Alertmanager".
    pub client: Option<String>,
    pub client_url: Option<String>,
    /// Who reported it, for reports from people (support tools, forms).
    pub reporter: Option<String>,
    /// Something the parser wants a person to know about this event, e.g. that it
    /// guessed the action from an unknown value.
    pub note: Option<String>,
}

impl AlertEvent {
    /// An event with only an action and a severity; parsers fill in the rest.
    pub fn new(action: AlertAction, severity: AlertSeverity) -> Self {
        Self {
            action,
            dedup_key: None,
            summary: None,
            source: None,
            severity,
            occurred_at: None,
            component: None,
            group: None,
            class: None,
            labels: BTreeMap::new(),
            details: serde_json::Value::Null,
            links: Vec::new(),
            images: Vec::new(),
            client: None,
            client_url: None,
            reporter: None,
            note: None,
        }
    }
}

/// A change (a deploy, a config change): never pages, shown on incidents as "recent
/// changes".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub summary: String,
    pub source: Option<String>,
    pub occurred_at: Option<Timestamp>,
    pub details: serde_json::Value,
    pub links: Vec<AlertLink>,
}

/// A change event as stored for a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredChange {
    pub id: i64,
    pub summary: String,
    pub source: Option<String>,
    /// When the change happened: the sender's time, or when Klaxon received it.
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub links: Vec<AlertLink>,
}
