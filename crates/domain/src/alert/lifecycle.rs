//! An alert's life: one deduplicated signal, open while triggered or acknowledged, unique
//! per (service, dedup key) while open. [`decide`] says what an incoming event does to
//! the open alert its key names.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{AlertAction, AlertEvent, AlertLink, AlertSeverity};
use crate::IncidentNumber;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Triggered,
    Acknowledged,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Triggered, Self::Acknowledged, Self::Resolved]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: crate::AlertId,
    pub service_id: crate::ServiceId,
    pub dedup_key: String,
    pub status: AlertStatus,
    pub summary: String,
    pub severity: AlertSeverity,
    pub source: Option<String>,
    pub labels: BTreeMap<String, String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub links: Vec<AlertLink>,
    /// The incident the alert opened or joined, if its severity opens incidents.
    pub incident: Option<IncidentNumber>,
    #[schema(value_type = String, format = DateTime)]
    pub first_seen_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: Timestamp,
    /// How many triggers arrived for it, the first included.
    pub repeat_count: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
}

/// What an event does to the open alert with its dedup key.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertDecision {
    /// A trigger with no open alert: a new alert.
    Open,
    /// A trigger for an open alert: counted on it, no new alert, no new page.
    Repeat,
    /// Acknowledge the open alert.
    Acknowledge,
    /// Resolve the open alert; the same key then opens a new one.
    Resolve,
    /// Nothing to do, and why: the event is still accepted, as PagerDuty does.
    Ignore(&'static str),
}

/// Whether `event` is a repeat of any open alert it names, whatever that alert's status:
/// what [`decide`] answers for an open alert, known without reading the alert.
pub fn repeats_open_alert(event: &AlertEvent) -> bool {
    event.action == AlertAction::Trigger
}

/// Decides what `event` does to `open`, the open alert of its service with its dedup
/// key (if any).
pub fn decide(open: Option<&Alert>, event: &AlertEvent) -> AlertDecision {
    match (event.action, open) {
        (AlertAction::Trigger, None) => AlertDecision::Open,
        (AlertAction::Trigger, Some(_)) => AlertDecision::Repeat,
        (AlertAction::Acknowledge, None) | (AlertAction::Resolve, None) => {
            AlertDecision::Ignore("no open alert has this dedup key")
        }
        (AlertAction::Acknowledge, Some(a)) if a.status == AlertStatus::Acknowledged => {
            AlertDecision::Ignore("the alert is already acknowledged")
        }
        (AlertAction::Acknowledge, Some(_)) => AlertDecision::Acknowledge,
        (AlertAction::Resolve, Some(_)) => AlertDecision::Resolve,
    }
}

/// What an incident's new events do to its alerts: acknowledging the incident
/// acknowledges its triggered alerts; resolving or declining it resolves its open ones.
pub fn alerts_after(events: &[crate::incident::TimelineEvent]) -> Option<AlertStatus> {
    use crate::incident::EventKind;
    events.iter().rev().find_map(|e| match e.kind {
        EventKind::Resolved { .. } | EventKind::Declined { .. } => Some(AlertStatus::Resolved),
        EventKind::Acknowledged => Some(AlertStatus::Acknowledged),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(status: AlertStatus) -> Alert {
        let t: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        Alert {
            id: crate::AlertId(1),
            service_id: crate::ServiceId(1),
            dedup_key: "srv01/mysql".into(),
            status,
            summary: "DISK at 99%".into(),
            severity: AlertSeverity::Critical,
            source: None,
            labels: BTreeMap::new(),
            details: serde_json::Value::Null,
            links: vec![],
            incident: None,
            first_seen_at: t,
            last_seen_at: t,
            repeat_count: 1,
            acknowledged_at: None,
            resolved_at: None,
        }
    }

    #[test]
    fn repeats_are_known_without_the_alert() {
        for action in [
            AlertAction::Trigger,
            AlertAction::Acknowledge,
            AlertAction::Resolve,
        ] {
            let event = AlertEvent::new(action, AlertSeverity::Warning);
            for status in [AlertStatus::Triggered, AlertStatus::Acknowledged] {
                assert_eq!(
                    repeats_open_alert(&event),
                    decide(Some(&open(status)), &event) == AlertDecision::Repeat,
                    "{action:?} on a {status:?} alert"
                );
            }
        }
    }

    #[test]
    fn events_follow_the_events_api() {
        let event = |action| AlertEvent::new(action, AlertSeverity::Critical);
        let triggered = open(AlertStatus::Triggered);
        let acked = open(AlertStatus::Acknowledged);
        assert_eq!(
            decide(None, &event(AlertAction::Trigger)),
            AlertDecision::Open
        );
        assert_eq!(
            decide(Some(&triggered), &event(AlertAction::Trigger)),
            AlertDecision::Repeat
        );
        assert_eq!(
            decide(Some(&acked), &event(AlertAction::Trigger)),
            AlertDecision::Repeat
        );
        assert_eq!(
            decide(Some(&triggered), &event(AlertAction::Acknowledge)),
            AlertDecision::Acknowledge
        );
        assert!(matches!(
            decide(Some(&acked), &event(AlertAction::Acknowledge)),
            AlertDecision::Ignore(_)
        ));
        assert_eq!(
            decide(Some(&acked), &event(AlertAction::Resolve)),
            AlertDecision::Resolve
        );
        assert!(matches!(
            decide(None, &event(AlertAction::Resolve)),
            AlertDecision::Ignore(_)
        ));
        assert!(matches!(
            decide(None, &event(AlertAction::Acknowledge)),
            AlertDecision::Ignore(_)
        ));
    }
}
