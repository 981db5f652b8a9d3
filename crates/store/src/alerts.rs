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

/// An accepted alert event, waiting in the inbox to be applied to its alert. Stored
/// once: applying it makes the same row an entry on the alert's log.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxEntry {
    pub service_id: i64,
    /// The event's dedup key, made up at acceptance if the sender gave none.
    pub dedup_key: String,
    pub received_at: Timestamp,
    pub event: AlertEvent,
}

/// An inbox entry as stored: in acceptance order by `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    pub id: i64,
    pub entry: InboxEntry,
    /// How often applying it has failed.
    pub attempts: i64,
}

/// A trigger for an alert that is open: counted on it, applied in bulk.
#[derive(Debug, Clone, PartialEq)]
pub struct Repeat {
    pub alert_id: i64,
    pub inbox_id: i64,
    pub event: AlertEvent,
    pub at: Timestamp,
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
    /// Stores a new alert and its incident write together; the inbox entry it came from
    /// becomes the first on its log. Returns the alert's id. `Conflict` if an open alert
    /// with the key appeared meanwhile, the incident moved on, or the inbox entry is
    /// applied already (by another worker).
    async fn open_alert_with(
        &self,
        alert: &NewAlert,
        incident: &IncidentWrite,
        inbox: Option<i64>,
    ) -> Result<(i64, Option<Incident>)>;
    /// Applies an update to an open alert, logs the event (its inbox entry becomes the
    /// log entry) and writes `incident` (the change the update makes to the alert's
    /// incident), together. `Conflict` if the alert is no longer open, the incident
    /// moved on or the inbox entry is applied already.
    async fn update_alert(
        &self,
        id: i64,
        update: AlertUpdate,
        event: &AlertEvent,
        at: Timestamp,
        incident: Option<&Change>,
        inbox: Option<i64>,
    ) -> Result<()>;
    /// Commits accepted events to the inbox, in order; they are durable when this
    /// returns. Concurrent callers share one transaction.
    async fn enqueue_alerts(&self, entries: Vec<InboxEntry>) -> Result<()>;
    /// The oldest `limit` inbox entries still to apply (not given up on).
    async fn inbox(&self, limit: u32) -> Result<Vec<InboxItem>>;
    /// How many entries wait in the inbox, given-up ones included.
    async fn inbox_depth(&self) -> Result<i64>;
    /// Removes inbox entries that change no alert.
    async fn discard_inbox(&self, ids: &[i64]) -> Result<()>;
    /// Records a failed attempt at an inbox entry; with `give_up` it stays stored but
    /// is skipped from now on.
    async fn inbox_failed(&self, id: i64, error: &str, give_up: bool) -> Result<()>;
    /// The open alerts of `service_id` with any of these dedup keys, as (dedup key,
    /// alert id): all that counting repeats needs, without reading whole alerts.
    async fn open_alert_ids(
        &self,
        service_id: i64,
        dedup_keys: &[String],
    ) -> Result<Vec<(String, i64)>>;
    /// Applies many repeated triggers at once, in order: each alert counts its repeats
    /// and takes the last time and summary, and each inbox entry becomes an entry on its
    /// alert's log. All or nothing: `Conflict` if an alert is no longer open or an inbox
    /// entry is applied already.
    async fn repeat_alerts(&self, repeats: Vec<Repeat>) -> Result<()>;
    /// How many of an incident's alerts are open.
    async fn open_alert_count(&self, incident: IncidentNumber) -> Result<i64>;
    async fn alert(&self, id: i64) -> Result<Alert>;
    async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>>;
    /// Every event that arrived for the alert, oldest first.
    async fn alert_log(&self, id: i64) -> Result<Vec<AlertLogEntry>>;
}
