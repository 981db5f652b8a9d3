//! Storage of alerts and their event logs. Writing an alert and the incident it opens
//! or joins happens in one transaction.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::alert::{Alert, AlertEvent, AlertStatus};
use klaxon_domain::incident::{Incident, TimelineEvent};
use klaxon_domain::service::Service;
use klaxon_domain::IncidentNumber;

use crate::{Change, Result};

/// What happens to incidents with a new alert.
#[derive(Debug, Clone)]
pub enum IncidentWrite {
    /// Nothing: an alert only.
    None,
    /// Declares a new incident from these first events.
    Declare {
        slug_base: String,
        events: Vec<TimelineEvent>,
    },
    /// Appends to an open incident.
    Join(Box<Change>),
}

/// A new alert: the trigger that opened it and where it belongs.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub service_id: i64,
    pub dedup_key: String,
    pub event: AlertEvent,
    /// The value a `by-field` grouping keys on.
    pub group_key: Option<String>,
    pub received_at: Timestamp,
}

/// A change to an open alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertUpdate {
    /// Another trigger: counted, last seen moves.
    Repeat,
    Acknowledge,
    Resolve,
}

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub service_id: Option<i64>,
    pub status: Option<AlertStatus>,
    pub incident: Option<IncidentNumber>,
    pub limit: u32,
}

/// One event on an alert's log.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertLogEntry {
    pub received_at: Timestamp,
    pub event: AlertEvent,
}

#[async_trait]
pub trait AlertStore: Send + Sync + 'static {
    /// The open (triggered or acknowledged) alert of a service with this dedup key.
    async fn open_alert(&self, service_id: i64, dedup_key: &str) -> Result<Option<Alert>>;
    /// The open incident a new alert of `service` would join: under `by-field`, the
    /// newest open incident that an alert with `group_key` belongs to; under
    /// `time-window`, the service's newest open incident declared at or after `since`.
    async fn grouping_candidate(
        &self,
        service: &Service,
        group_key: Option<&str>,
        since: Option<Timestamp>,
    ) -> Result<Option<IncidentNumber>>;
    /// Stores a new alert and its incident write together. `Conflict` if an open alert
    /// with the key appeared meanwhile or the incident moved on.
    async fn open_alert_with(
        &self,
        alert: &NewAlert,
        incident: &IncidentWrite,
    ) -> Result<(Alert, Option<Incident>)>;
    /// Applies an update to an open alert, logs the event and writes `incident` (the
    /// change the update makes to the alert's incident), together. `Conflict` if the
    /// alert is no longer open or the incident moved on.
    async fn update_alert(
        &self,
        id: i64,
        update: AlertUpdate,
        event: &AlertEvent,
        at: Timestamp,
        incident: Option<&Change>,
    ) -> Result<Alert>;
    /// How many of an incident's alerts are open.
    async fn open_alert_count(&self, incident: IncidentNumber) -> Result<i64>;
    async fn alert(&self, id: i64) -> Result<Alert>;
    async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>>;
    /// Every event that arrived for the alert, oldest first.
    async fn alert_log(&self, id: i64) -> Result<Vec<AlertLogEntry>>;
}
