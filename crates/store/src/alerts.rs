//! Storage of alerts and their event logs. Writing an alert and the incident it opens
//! or joins happens in one transaction.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::alert::{Alert, AlertEvent, AlertStatus, RepeatTally};
use klaxon_domain::incident::{Declaration, Incident};
use klaxon_domain::service::Service;
use klaxon_domain::{AlertId, Handle, IncidentNumber, ServiceId};

use crate::{Change, Result};

/// What happens to incidents with a new alert.
#[derive(Debug, Clone)]
pub enum IncidentWrite {
    /// Nothing: an alert only.
    None,
    /// Declares a new incident.
    Declare(Box<Declaration>),
    /// Appends to an open incident.
    Join(Box<Change>),
}

/// A new alert: the trigger that opened it and where it belongs.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub service_id: ServiceId,
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
    pub service_id: ServiceId,
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
    pub alert_id: AlertId,
    pub inbox_id: i64,
    pub event: AlertEvent,
    pub at: Timestamp,
}

/// The `SET` list that counts a [`RepeatTally`] of `n` repeats, the newest received at
/// `at` with `summary` (NULL for none), on the alert the statement calls `alert`: the
/// SQL of [`klaxon_domain::alert::count_repeats`], which `tests/repeats.rs` checks
/// every backend's statement against.
pub(crate) fn count_repeats(alert: &str, n: &str, at: &str, summary: &str) -> String {
    format!(
        "repeat_count = {alert}.repeat_count + {n}, \
         last_seen_at = CASE WHEN {at} > {alert}.last_seen_at THEN {at} ELSE {alert}.last_seen_at END, \
         summary = CASE WHEN {at} >= {alert}.last_seen_at THEN COALESCE({summary}, {alert}.summary) \
         ELSE {alert}.summary END"
    )
}

/// The inbox entries (alias `w`) of an alert that counting on arrival must not
/// overtake: waiting (neither applied nor set aside) and not triggers. The same terms
/// as the partial index `alert_events_waiting_by_key` (migration 0013), which SQLite
/// uses only when its terms appear as written.
pub(crate) const HOLDS_BACK_REPEATS: &str =
    "w.alert_id IS NULL AND w.failed_at IS NULL AND (w.action IS NULL OR w.action <> 'trigger')";

/// The repeats among accepted events that may be counted on arrival, of one alert.
#[derive(Debug, PartialEq)]
pub(crate) struct AlertTally<'e> {
    pub service_id: ServiceId,
    pub dedup_key: &'e str,
    pub tally: RepeatTally<'e>,
}

/// Per alert (service and dedup key) among `entries`, in order of first appearance,
/// the triggers that repeat it if it is open: only for alerts whose every event here
/// may repeat an open alert ([`klaxon_domain::alert::repeats_open_alert`]). An alert
/// with any other event in the batch is left to the inbox worker entirely, so that
/// nothing overtakes an acknowledgement or a resolution.
pub(crate) fn repeat_tallies<'e>(entries: &[&'e InboxEntry]) -> Vec<AlertTally<'e>> {
    let mut tallies: Vec<(bool, AlertTally<'e>)> = Vec::new();
    let mut index: std::collections::HashMap<(ServiceId, &str), usize> = Default::default();
    for e in entries {
        let (at, summary) = (e.received_at, e.event.summary.as_deref());
        let repeats = klaxon_domain::alert::repeats_open_alert(&e.event);
        match index.entry((e.service_id, e.dedup_key.as_str())) {
            std::collections::hash_map::Entry::Occupied(i) => {
                let (all_repeat, t) = &mut tallies[*i.get()];
                *all_repeat &= repeats;
                t.tally.add(at, summary);
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(tallies.len());
                let tally = AlertTally {
                    service_id: e.service_id,
                    dedup_key: &e.dedup_key,
                    tally: RepeatTally::one(at, summary),
                };
                tallies.push((repeats, tally));
            }
        }
    }
    tallies
        .into_iter()
        .filter_map(|(repeats, t)| repeats.then_some(t))
        .collect()
}

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub service_id: Option<ServiceId>,
    pub status: Option<AlertStatus>,
    pub incident: Option<IncidentNumber>,
    /// Only alerts with an id below this (the page cursor).
    pub before: Option<AlertId>,
    pub limit: u32,
    /// Leaves out the alerts of restricted incidents this user takes no part in;
    /// `None` lists every alert (admins).
    pub viewer: Option<Handle>,
}

/// One event on an alert's log.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertLogEntry {
    /// The entry's place on the log, the cursor for older entries.
    pub id: i64,
    pub received_at: Timestamp,
    pub event: AlertEvent,
}

/// Alerts and the inbox: reads, and accepting events (the ingest path).
#[async_trait]
pub trait AlertStore: Send + Sync + 'static {
    /// The open (triggered or acknowledged) alert of a service with this dedup key.
    async fn open_alert(&self, service_id: ServiceId, dedup_key: &str) -> Result<Option<Alert>>;
    /// The open incident a new alert of `service` would join: under `by-field`, the
    /// newest open incident that an alert with `group_key` belongs to; under
    /// `time-window`, the service's newest open incident declared at or after `since`.
    async fn grouping_candidate(
        &self,
        service: &Service,
        group_key: Option<&str>,
        since: Option<Timestamp>,
    ) -> Result<Option<IncidentNumber>>;
    /// Commits accepted events, in order; they are durable when this returns.
    /// Concurrent callers share one transaction. A trigger for an open alert is a
    /// repeat whatever the inbox worker would decide, so unless an event of that alert
    /// other than a trigger (an acknowledgement or resolution, which it must not
    /// overtake) waits in the inbox, it is counted on the alert in that transaction and
    /// logged as applied. Repeats commute: the alert keeps the newest time and summary
    /// whatever order they are counted in. The rest wait in the inbox. Returns how many
    /// were counted on arrival.
    async fn enqueue_alerts(&self, entries: Vec<InboxEntry>) -> Result<usize>;
    /// The oldest `limit` inbox entries still to apply (not given up on).
    async fn inbox(&self, limit: u32) -> Result<Vec<InboxItem>>;
    /// How many entries wait in the inbox, given-up ones included.
    async fn inbox_depth(&self) -> Result<i64>;
    /// The open alerts of `service_id` with any of these dedup keys, as (dedup key,
    /// alert id): all that counting repeats needs, without reading whole alerts.
    async fn open_alert_ids(
        &self,
        service_id: ServiceId,
        dedup_keys: &[String],
    ) -> Result<Vec<(String, AlertId)>>;
    /// How many of an incident's alerts are open.
    async fn open_alert_count(&self, incident: IncidentNumber) -> Result<i64>;
    async fn alert(&self, id: AlertId) -> Result<Alert>;
    async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>>;
    /// The newest `limit` events that arrived for the alert, oldest first; with
    /// `before` (an entry's id), the newest `limit` of those older than that entry.
    async fn alert_log(
        &self,
        id: AlertId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AlertLogEntry>>;
}

/// A new alert to store, with what it does to incidents and the inbox entry it came
/// from (none for an alert opened by other means).
#[derive(Debug, Clone)]
pub struct AlertOpening {
    pub alert: NewAlert,
    pub incident: IncidentWrite,
    pub inbox: Option<i64>,
}

/// A change to open alert `id`: the update, the event that caused it (logged on the
/// alert, from its inbox entry if it has one) and the change it makes to the alert's
/// incident, if any.
#[derive(Debug, Clone)]
pub struct AlertChange {
    pub id: AlertId,
    pub update: AlertUpdate,
    pub event: AlertEvent,
    pub at: Timestamp,
    pub incident: Option<Change>,
    pub inbox: Option<i64>,
}

/// A failed attempt at applying inbox entry `id`.
#[derive(Debug, Clone)]
pub struct InboxFailure {
    pub id: i64,
    /// Why it failed, kept with the entry.
    pub error: String,
    /// Set the entry aside: kept, but skipped from now on.
    pub give_up: bool,
}

/// The writes of the inbox worker, which applies accepted events to alerts and
/// incidents. Each is atomic and goes through the group commit.
#[async_trait]
pub trait InboxWriter: Send + Sync + 'static {
    /// Stores a new alert and its incident write together; the inbox entry it came from
    /// becomes the first on its log. Returns the alert's id and the incident it opened
    /// or joined. `Stale` if an open alert with the key appeared meanwhile or the
    /// incident moved on, or the inbox entry is applied already (by another worker).
    async fn open_new_alert(&self, opening: AlertOpening) -> Result<(AlertId, Option<Incident>)>;
    /// Applies an update to an open alert, logs the event (its inbox entry becomes the
    /// log entry) and writes the change it makes to the alert's incident, together.
    /// `Stale` if the alert is no longer open or the incident moved on,
    /// `AlreadyApplied` if the inbox
    /// entry is applied already.
    async fn update_alert(&self, change: AlertChange) -> Result<()>;
    /// Applies many repeated triggers at once, in order: each alert counts its repeats
    /// and takes the last time and summary, and each inbox entry becomes an entry on its
    /// alert's log. All or nothing: `Stale` if an alert is no longer open, `AlreadyApplied` if an inbox
    /// entry is applied already.
    async fn repeat_alerts(&self, repeats: Vec<Repeat>) -> Result<()>;
    /// Removes inbox entries that change no alert.
    async fn discard_inbox(&self, ids: &[i64]) -> Result<()>;
    /// Records a failed attempt at an inbox entry.
    async fn inbox_failed(&self, failure: &InboxFailure) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use klaxon_domain::alert::{AlertAction, AlertSeverity};

    fn entry(key: &str, action: AlertAction, summary: &str, second: i64) -> InboxEntry {
        let mut event = AlertEvent::new(action, AlertSeverity::Error);
        event.summary = (!summary.is_empty()).then(|| summary.to_owned());
        InboxEntry {
            service_id: ServiceId(1),
            dedup_key: key.into(),
            received_at: Timestamp::from_second(second).unwrap(),
            event,
        }
    }

    #[test]
    fn tallies_count_each_alerts_triggers_and_skip_alerts_with_other_events() {
        let entries = [
            entry("disk", AlertAction::Trigger, "disk 90%", 1),
            entry("cpu", AlertAction::Trigger, "cpu", 2),
            entry("disk", AlertAction::Trigger, "disk 95%", 3),
            entry("cpu", AlertAction::Resolve, "", 4),
            entry("disk", AlertAction::Trigger, "", 5),
        ];
        let refs: Vec<&InboxEntry> = entries.iter().collect();
        let tallies = repeat_tallies(&refs);
        assert_eq!(
            tallies,
            [AlertTally {
                service_id: ServiceId(1),
                dedup_key: "disk",
                tally: RepeatTally {
                    n: 3,
                    last_at: Timestamp::from_second(5).unwrap(),
                    summary: Some("disk 95%"),
                },
            }],
            "cpu has a resolution in the batch, so none of its events is counted early"
        );
    }
}
