//! The alert inbox. Ingest endpoints commit each accepted event to the inbox (concurrent
//! requests share one transaction and one statement) and answer at once; this worker
//! then applies the events to alerts and incidents in the order they were accepted.
//!
//! An entry leaves the inbox in the same transaction that applies it (the row becomes
//! the entry on its alert's log, or is deleted if it changes nothing), so a crash
//! between acceptance and application loses nothing and applies nothing twice. Events
//! of one alert (one service and dedup key) are applied one after another; different
//! alerts in parallel, so their writes share commits. One process at a time runs the
//! worker (the store's `alert-inbox` singleton), so replicas never apply one alert's
//! events out of order.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use klaxon_domain::alert::{self, AlertEvent};
use klaxon_domain::service::Service;
use klaxon_domain::{AlertId, ServiceId};
use klaxon_store::{InboxEntry, InboxFailure, InboxItem, Repeat, StoreError};

use crate::app::alerts;
use crate::app::alerts::{Arrival, Known};
use crate::app::auth::random_hex;
use crate::infra::state::AppState;

/// How many entries one pass reads.
const BATCH: u32 = 1024;
/// How many alerts one pass works on at once.
const PARALLEL: usize = 64;
/// Attempts at an entry before it is set aside (kept, logged, counted) so that the
/// alerts behind it are not held up for ever.
const MAX_ATTEMPTS: i64 = 5;
/// How often an idle worker looks for entries that arrived through another replica.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The least time between passes that did not fill a batch. Under load, events then
/// gather into batches of hundreds instead of being read, looked up and written a few at
/// a time, which costs the ingest path more than the 10 ms it adds to applying them.
const GATHER: Duration = Duration::from_millis(10);
/// How often a replica that does not apply the inbox checks whether it should.
const STANDBY_POLL: Duration = Duration::from_secs(2);

/// Accepts alert events for `service`, durably: when this returns they are
/// committed and will be applied. Returns each event's dedup key, made up for a
/// trigger that had none.
pub async fn accept_alerts(
    state: &AppState,
    service: &Service,
    events: Vec<AlertEvent>,
) -> Result<Vec<String>, StoreError> {
    let received_at = state.clock.now();
    let entries: Vec<InboxEntry> = events
        .into_iter()
        .map(|mut event| InboxEntry {
            service_id: service.id,
            dedup_key: event
                .dedup_key
                .get_or_insert_with(|| random_hex(16))
                .clone(),
            received_at,
            event,
        })
        .collect();
    let keys: Vec<String> = entries.iter().map(|e| e.dedup_key.clone()).collect();
    let counted = state.store.enqueue_alerts(entries).await?;
    state.metrics.alert_events_applied.inc_by(counted as u64);
    if counted < keys.len() {
        state.inbox_wake.notify_one();
    }
    Ok(keys)
}

/// Applies the oldest waiting entries; returns how many it read. Triggers for alerts
/// that are open (repeats, the bulk of any storm) are counted in bulk first; the
/// rest go one by one, each alert's after its repeats. That happens in two rounds:
/// the first stops each alert's entries after a trigger, which leaves the alert
/// open (a new alert's first sighting, say), so that the second counts the repeats
/// behind it in bulk too instead of one by one.
pub async fn apply_inbox(state: &AppState) -> Result<usize, StoreError> {
    let items = state.store.inbox(BATCH).await?;
    if items.is_empty() {
        return Ok(0);
    }
    let services: HashMap<ServiceId, Service> = state
        .store
        .services()
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let read = items.len();
    let mut open = open_alerts_of(state, &items).await?;
    let reads = PassReads {
        maintenance: maintenance_of(state, &items, &open).await?,
        services,
    };
    let mut pending = chains(items);
    for last_round in [false, true] {
        let rest = count_repeats(state, &open, pending).await?;
        let found = &open;
        let left: Vec<Option<(AlertId, Vec<InboxItem>)>> = futures_util::stream::iter(rest)
            .map(|chain| apply_chain(state, &reads, found, chain, !last_round))
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        pending = Vec::new();
        for (alert_id, chain) in left.into_iter().flatten() {
            let entry = &chain[0].entry;
            open.insert((entry.service_id, entry.dedup_key.clone()), alert_id);
            pending.push(chain);
        }
        if pending.is_empty() {
            break;
        }
    }
    Ok(read)
}

/// Counts in bulk the triggers at the head of each chain whose alert is open; the
/// chains (or what is left of them) to apply one by one.
async fn count_repeats(
    state: &AppState,
    open: &HashMap<(ServiceId, String), AlertId>,
    chains: Vec<Vec<InboxItem>>,
) -> Result<Vec<Vec<InboxItem>>, StoreError> {
    let mut repeats = Vec::new();
    let mut split = Vec::new();
    for chain in chains {
        let alert = open.get(&(chain[0].entry.service_id, chain[0].entry.dedup_key.clone()));
        let prefix = match alert {
            Some(_) => chain
                .iter()
                .take_while(|i| alert::repeats_open_alert(&i.entry.event))
                .count(),
            None => 0,
        };
        if let Some(&alert_id) = alert {
            repeats.extend(chain[..prefix].iter().map(|i| Repeat {
                alert_id,
                inbox_id: i.id,
                event: i.entry.event.clone(),
                at: i.entry.received_at,
            }));
        }
        split.push((prefix, chain));
    }
    let counted = repeats.len();
    let bulk_done = counted == 0
        || match state.store.repeat_alerts(repeats).await {
            Ok(()) => {
                state.metrics.alert_events_applied.inc_by(counted as u64);
                true
            }
            Err(StoreError::Stale(m) | StoreError::AlreadyApplied(m)) => {
                tracing::debug!(reason = %m, "counting repeats in bulk lost a race; one by one instead");
                false
            }
            Err(e) => return Err(e),
        };
    Ok(split
        .into_iter()
        .map(|(prefix, mut chain)| {
            if bulk_done {
                chain.drain(..prefix);
            }
            chain
        })
        .filter(|chain| !chain.is_empty())
        .collect())
}

/// The open alerts the entries name, by service and dedup key.
async fn open_alerts_of(
    state: &AppState,
    items: &[InboxItem],
) -> Result<HashMap<(ServiceId, String), AlertId>, StoreError> {
    let mut keys: HashMap<ServiceId, Vec<String>> = HashMap::new();
    for item in items {
        keys.entry(item.entry.service_id)
            .or_default()
            .push(item.entry.dedup_key.clone());
    }
    let mut open = HashMap::new();
    for (service_id, mut keys) in keys {
        keys.sort_unstable();
        keys.dedup();
        for (key, id) in state.store.open_alert_ids(service_id, &keys).await? {
            open.insert((service_id, key), id);
        }
    }
    Ok(open)
}

/// Whether each service with an entry for an alert that is not open (one these
/// entries may open) is in a maintenance window now: read once per pass, not once
/// per new alert of a storm.
async fn maintenance_of(
    state: &AppState,
    items: &[InboxItem],
    open: &HashMap<(ServiceId, String), AlertId>,
) -> Result<HashMap<ServiceId, bool>, StoreError> {
    let now = state.clock.now();
    let mut maintenance = HashMap::new();
    for item in items {
        let InboxEntry {
            service_id,
            dedup_key,
            ..
        } = &item.entry;
        if maintenance.contains_key(service_id)
            || open.contains_key(&(*service_id, dedup_key.clone()))
        {
            continue;
        }
        maintenance.insert(
            *service_id,
            state.store.in_maintenance(*service_id, now).await?,
        );
    }
    Ok(maintenance)
}

/// Applies one alert's entries in order, stopping at the first that fails so that
/// none overtakes it. With `pause_when_open`, stops after a trigger that is applied
/// while entries remain, and returns them with the alert that trigger left open.
/// `open`: the open alerts as the pass found them.
async fn apply_chain(
    state: &AppState,
    reads: &PassReads,
    open: &HashMap<(ServiceId, String), AlertId>,
    chain: Vec<InboxItem>,
    pause_when_open: bool,
) -> Option<(AlertId, Vec<InboxItem>)> {
    let first = &chain[0].entry;
    let mut known = Known {
        no_open_alert: !open.contains_key(&(first.service_id, first.dedup_key.clone())),
        in_maintenance: reads.maintenance.get(&first.service_id).copied(),
    };
    let mut items = chain.into_iter();
    while let Some(item) = items.next() {
        let applied = apply_entry(state, &reads.services, &item, known).await;
        // Whatever the first entry did, the alert is no longer known to be absent.
        known.no_open_alert = false;
        match applied {
            Applied::Alert(Some(id))
                if pause_when_open
                    && alert::repeats_open_alert(&item.entry.event)
                    && items.len() > 0 =>
            {
                return Some((id, items.collect()));
            }
            Applied::Alert(_) | Applied::SetAside => {}
            Applied::Failed => return None,
        }
    }
    None
}

/// Applies one entry, recording a failure on it.
async fn apply_entry(
    state: &AppState,
    services: &HashMap<ServiceId, Service>,
    item: &InboxItem,
    known: Known,
) -> Applied {
    let Some(service) = services.get(&item.entry.service_id) else {
        tracing::info!(
            entry = item.id,
            "dropping an alert event of a deleted service"
        );
        return match state.store.discard_inbox(&[item.id]).await {
            Ok(()) => Applied::Alert(None),
            Err(e) => {
                tracing::warn!(error = %e, "cannot drop an inbox entry; will try again");
                Applied::Failed
            }
        };
    };
    let InboxEntry {
        dedup_key,
        event,
        received_at,
        ..
    } = &item.entry;
    let arrival = Arrival {
        service,
        key: dedup_key,
        event,
        received_at: *received_at,
        inbox: Some(item.id),
        by: None,
    };
    let e = match alerts::apply_event(state, arrival, known).await {
        Ok(alert) => {
            state.metrics.alert_events_applied.inc();
            return Applied::Alert(alert);
        }
        Err(e) => e,
    };
    let give_up = item.attempts + 1 >= MAX_ATTEMPTS;
    if give_up {
        tracing::error!(entry = item.id, service = %service.name, dedup_key, error = %e,
            "setting aside an alert event that keeps failing; it stays in the alert_events table (failed_at set)");
        state.metrics.alert_events_failed.inc();
    } else {
        tracing::warn!(entry = item.id, error = %e, "applying an alert event failed; will try again");
    }
    if let Err(e) = state
        .store
        .inbox_failed(&InboxFailure {
            id: item.id,
            error: e.to_string(),
            give_up,
        })
        .await
    {
        tracing::warn!(error = %e, "cannot record a failed inbox entry");
    }
    match give_up {
        true => Applied::SetAside,
        false => Applied::Failed,
    }
}

/// Waits until every accepted event has been applied (or set aside); for tests
/// and benchmarks. Gives up after `within`.
pub async fn settle(state: &AppState, within: Duration) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + within;
    while !state.store.inbox(1).await?.is_empty() {
        if tokio::time::Instant::now() > deadline {
            return Err(StoreError::Other(format!(
                "the alert inbox did not empty within {within:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// What one pass reads once for all its entries.
struct PassReads {
    services: HashMap<ServiceId, Service>,
    /// See [`maintenance_of`].
    maintenance: HashMap<ServiceId, bool>,
}

/// What became of one inbox entry.
enum Applied {
    /// Applied, to this alert if any.
    Alert(Option<AlertId>),
    /// Failed for good and set aside: the entries behind it go on.
    SetAside,
    /// Failed: it and the entries behind it wait for the next pass.
    Failed,
}

/// Groups entries by alert (service and dedup key), keeping acceptance order within
/// each group and ordering groups by their first entry.
fn chains(items: Vec<InboxItem>) -> Vec<Vec<InboxItem>> {
    let mut index: HashMap<(ServiceId, String), usize> = HashMap::new();
    let mut chains: Vec<Vec<InboxItem>> = Vec::new();
    for item in items {
        let key = (item.entry.service_id, item.entry.dedup_key.clone());
        match index.get(&key) {
            Some(&i) => chains[i].push(item),
            None => {
                index.insert(key, chains.len());
                chains.push(vec![item]);
            }
        }
    }
    chains
}

/// Runs the inbox worker until `stop` changes: applies entries as they arrive while
/// this process holds the inbox singleton.
pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let pause = match state.store.hold_singleton("alert-inbox").await {
            Ok(true) => match apply_inbox(&state).await {
                Ok(0) => IDLE_POLL,
                Ok(n) => {
                    // Applied alerts may have opened incidents: their escalations are due.
                    state.engine_wake.notify_one();
                    if n < BATCH as usize {
                        tokio::time::sleep(GATHER).await;
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "applying the alert inbox failed; will try again");
                    Duration::from_secs(1)
                }
            },
            // Another replica applies the inbox; look again now and then in case it goes.
            Ok(false) => STANDBY_POLL,
            Err(e) => {
                tracing::warn!(error = %e, "cannot take the alert inbox singleton");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = state.inbox_wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{state_with_service, trigger};
    use klaxon_domain::alert::{AlertAction, AlertSeverity};

    fn item(id: i64, service_id: i64, key: &str) -> InboxItem {
        InboxItem {
            id,
            entry: InboxEntry {
                service_id: ServiceId(service_id),
                dedup_key: key.into(),
                received_at: jiff::Timestamp::UNIX_EPOCH,
                event: AlertEvent::new(AlertAction::Trigger, AlertSeverity::Error),
            },
            attempts: 0,
        }
    }

    /// A Klaxon event on `service`, not from the inbox.
    fn arrival<'a>(
        service: &'a Service,
        key: &'a str,
        event: &'a AlertEvent,
        at: jiff::Timestamp,
    ) -> Arrival<'a> {
        Arrival {
            service,
            key,
            event,
            received_at: at,
            inbox: None,
            by: None,
        }
    }

    /// A trigger the caller wrongly thought had no open alert (one opened meanwhile)
    /// loses the race for the store's unique index and, read afresh, repeats that alert.
    #[tokio::test]
    async fn a_trigger_wrongly_known_absent_repeats_the_open_alert() {
        let (_db, store, state, service) = state_with_service().await;
        let opened = alerts::ingest_alert(&state, &service, trigger("disk"), None)
            .await
            .unwrap();
        let known = Known {
            no_open_alert: true,
            in_maintenance: Some(false),
        };
        let now = jiff::Timestamp::now();
        let event = trigger("disk");
        let applied = alerts::apply_event(&state, arrival(&service, "disk", &event, now), known)
            .await
            .unwrap();
        assert_eq!(applied, opened.alert_id, "the alert already open");
        let disk = store.open_alert(service.id, "disk").await.unwrap().unwrap();
        assert_eq!(disk.repeat_count, 2);
        let all = klaxon_store::AlertFilter {
            limit: 10,
            ..Default::default()
        };
        assert_eq!(store.alerts(&all).await.unwrap().len(), 1);
    }

    /// A new alert follows the maintenance state its caller read for the whole pass.
    #[tokio::test]
    async fn a_new_alert_follows_the_maintenance_state_read_for_the_pass() {
        let (_db, store, state, service) = state_with_service().await;
        let known = |in_maintenance| Known {
            no_open_alert: true,
            in_maintenance: Some(in_maintenance),
        };
        let now = jiff::Timestamp::now();
        for (key, maintenance) in [("during", true), ("after", false)] {
            let event = trigger(key);
            let arrival = arrival(&service, key, &event, now);
            alerts::apply_event(&state, arrival, known(maintenance))
                .await
                .unwrap();
            let alert = store.open_alert(service.id, key).await.unwrap().unwrap();
            assert_eq!(alert.incident.is_some(), !maintenance, "{key}");
        }
    }

    /// One pass applies a new alert's trigger, then (in bulk) the triggers behind it,
    /// then one by one what follows an acknowledgement, each alert's in order.
    #[tokio::test]
    async fn one_pass_opens_then_counts_the_repeats_behind() {
        let (_db, store, state, service) = state_with_service().await;
        let event = |key: &str, action, summary: &str| {
            let mut e = AlertEvent::new(action, AlertSeverity::Critical);
            e.dedup_key = Some(key.into());
            e.summary = Some(summary.into());
            e
        };
        use AlertAction::{Acknowledge, Trigger};
        let sent = vec![
            event("disk", Trigger, "1"),
            event("cpu", Trigger, "a"),
            event("disk", Trigger, "2"),
            event("disk", Trigger, "3"),
            event("cpu", Trigger, "b"),
            event("disk", Acknowledge, "ack"),
            event("disk", Trigger, "4"),
        ];
        accept_alerts(&state, &service, sent).await.unwrap();
        assert_eq!(apply_inbox(&state).await.unwrap(), 7);
        assert!(
            store.inbox(10).await.unwrap().is_empty(),
            "one pass applies all"
        );
        let disk = store.open_alert(service.id, "disk").await.unwrap().unwrap();
        assert_eq!(
            (disk.status, disk.repeat_count, disk.summary.as_str()),
            (alert::AlertStatus::Acknowledged, 4, "4")
        );
        let log: Vec<String> = store
            .alert_log(disk.id, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.summary.unwrap_or_default())
            .collect();
        assert_eq!(log, ["1", "2", "3", "ack", "4"]);
        let cpu = store.open_alert(service.id, "cpu").await.unwrap().unwrap();
        assert_eq!((cpu.repeat_count, cpu.summary.as_str()), (2, "b"));
        assert_ne!(disk.incident, cpu.incident, "per-alert grouping");
    }

    #[test]
    fn chains_keep_each_alerts_order() {
        let items = vec![
            item(1, 1, "a"),
            item(2, 1, "b"),
            item(3, 2, "a"),
            item(4, 1, "a"),
            item(5, 1, "b"),
        ];
        let ids: Vec<Vec<i64>> = chains(items)
            .iter()
            .map(|c| c.iter().map(|i| i.id).collect())
            .collect();
        assert_eq!(ids, [vec![1, 4], vec![2, 5], vec![3]]);
    }
}
