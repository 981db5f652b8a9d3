//! The alert inbox on both backends: accepted events keep their order and an entry is
//! applied at most once; repeats of open alerts are counted on arrival unless an event
//! of the alert waits before them; new alerts opened at once are written together.

mod support;

use std::sync::Arc;

use jiff::Timestamp;
use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_domain::service::ServiceName;
use klaxon_domain::{AlertId, ServiceId};
use klaxon_store::{
    AlertChange, AlertOpening, AlertUpdate, InboxEntry, InboxFailure, IncidentWrite, NewAlert,
    Repeat, Store, StoreError,
};
use support::alerts::{entry, now, service};

async fn inbox_keeps_order_and_applies_once(store: Arc<dyn Store>) {
    let api = service(&store).await;
    let entries = vec![
        entry(api, "a", AlertAction::Trigger),
        entry(api, "b", AlertAction::Trigger),
        entry(api, "a", AlertAction::Resolve),
    ];
    // Concurrent enqueues share a transaction; each call's entries stay in order.
    let (one, two) = tokio::join!(
        store.enqueue_alerts(entries.clone()),
        store.enqueue_alerts(vec![entry(api, "c", AlertAction::Trigger)])
    );
    one.unwrap();
    two.unwrap();
    let waiting = store.inbox(100).await.unwrap();
    assert_eq!(waiting.len(), 4);
    let ours: Vec<_> = waiting
        .iter()
        .filter(|i| i.entry.dedup_key != "c")
        .map(|i| i.entry.clone())
        .collect();
    assert_eq!(ours, entries, "entries come back as accepted, in order");
    assert!(waiting.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(store.inbox(2).await.unwrap().len(), 2, "the limit holds");

    let first = waiting.iter().find(|i| i.entry.dedup_key == "a").unwrap();
    let new = NewAlert {
        service_id: api,
        dedup_key: "a".into(),
        event: first.entry.event.clone(),
        group_key: None,
        received_at: now(),
    };
    let (id, _) = store
        .open_new_alert(AlertOpening {
            alert: new.clone(),
            incident: IncidentWrite::None,
            inbox: Some(first.id),
        })
        .await
        .unwrap();
    let resolve = &entries[2].event;
    let resolved_at = now() + jiff::SignedDuration::from_secs(5);
    store
        .update_alert(AlertChange {
            id,
            update: AlertUpdate::Resolve,
            event: resolve.clone(),
            at: resolved_at,
            incident: None,
            inbox: None,
        })
        .await
        .unwrap();
    let log = store.alert_log(id, None, 1000).await.unwrap();
    assert_eq!(
        log.iter()
            .map(|e| (e.event.action, e.received_at))
            .collect::<Vec<_>>(),
        [
            (AlertAction::Trigger, first.entry.received_at),
            (AlertAction::Resolve, resolved_at)
        ],
        "the applied entry is the first on the alert's log, as accepted"
    );
    let again = store
        .open_new_alert(AlertOpening {
            alert: new.clone(),
            incident: IncidentWrite::None,
            inbox: Some(first.id),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(again, StoreError::AlreadyApplied(_)),
        "an applied entry is not applied twice: {again}"
    );
    assert!(
        store.open_alert(api, "a").await.unwrap().is_none(),
        "the refused write left no alert behind"
    );
    assert_eq!(store.inbox_depth().await.unwrap(), 3);

    let rest: Vec<i64> = store
        .inbox(100)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    store
        .inbox_failed(&InboxFailure {
            id: rest[0],
            error: "broken".to_string(),
            give_up: false,
        })
        .await
        .unwrap();
    let retried = store.inbox(100).await.unwrap();
    assert_eq!((retried[0].id, retried[0].attempts), (rest[0], 1));
    store
        .inbox_failed(&InboxFailure {
            id: rest[0],
            error: "still broken".to_string(),
            give_up: true,
        })
        .await
        .unwrap();
    assert!(
        store
            .inbox(100)
            .await
            .unwrap()
            .iter()
            .all(|i| i.id != rest[0]),
        "an entry given up on is skipped"
    );
    assert_eq!(store.inbox_depth().await.unwrap(), 3, "but kept");
    store.discard_inbox(&rest[1..]).await.unwrap();
    assert!(store.inbox(100).await.unwrap().is_empty());
}

async fn repeats_are_counted_in_bulk_all_or_nothing(store: Arc<dyn Store>) {
    let api = service(&store).await;
    let first = entry(api, "disk", AlertAction::Trigger);
    let mut later = entry(api, "disk", AlertAction::Trigger);
    later.event.summary = Some("disk is still down".into());
    later.received_at = now() + jiff::SignedDuration::from_secs(60);
    // Accepted before the alert opens, so they wait in the inbox.
    let counted = store
        .enqueue_alerts(vec![first.clone(), first.clone(), later.clone()])
        .await
        .unwrap();
    assert_eq!(counted, 0);
    let id = open(&store, api, "disk").await;
    let repeats: Vec<Repeat> = store
        .inbox(10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| Repeat {
            alert_id: id,
            inbox_id: i.id,
            event: i.entry.event,
            at: i.entry.received_at,
        })
        .collect();
    store.repeat_alerts(repeats.clone()).await.unwrap();
    assert_eq!(
        repeat_state(&store, id).await,
        (4, "disk is still down".to_owned(), later.received_at)
    );
    assert_eq!(store.alert_log(id, None, 1000).await.unwrap().len(), 4);
    assert!(store.inbox(10).await.unwrap().is_empty());
    let again = store.repeat_alerts(repeats).await.unwrap_err();
    assert!(matches!(again, StoreError::AlreadyApplied(_)), "{again}");
    assert_eq!(
        store.alert(id).await.unwrap().repeat_count,
        4,
        "a refused bulk write counts nothing"
    );
}

/// Every way onto an alert's log (opening it, a person's change, an applied inbox entry,
/// repeats counted in bulk and on arrival) keeps each alert's log whole and in order,
/// with two alerts' events interleaved.
async fn every_write_path_keeps_the_log_in_order(store: Arc<dyn Store>) {
    let at = |s: i64| now() + jiff::SignedDuration::from_secs(s);
    let event = |key: &str, action, s| InboxEntry {
        received_at: at(s),
        ..entry(ServiceId(0), key, action)
    };
    let api = service(&store).await;
    let with_service = |mut e: InboxEntry| {
        e.service_id = api;
        e
    };
    let disk = open(&store, api, "disk").await;
    let cpu = open(&store, api, "cpu").await;
    let counted = store
        .enqueue_alerts(
            [("disk", 1), ("cpu", 2), ("disk", 3)]
                .map(|(k, s)| with_service(event(k, AlertAction::Trigger, s)))
                .to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(counted, 3);
    // An acknowledgement waits, and holds back the trigger after it.
    let waiting = vec![
        with_service(event("disk", AlertAction::Acknowledge, 4)),
        with_service(event("disk", AlertAction::Trigger, 5)),
    ];
    assert_eq!(store.enqueue_alerts(waiting).await.unwrap(), 0);
    let inbox = store.inbox(10).await.unwrap();
    assert_eq!(inbox.len(), 2);
    store
        .update_alert(AlertChange {
            id: disk,
            update: AlertUpdate::Acknowledge,
            event: inbox[0].entry.event.clone(),
            at: at(4),
            incident: None,
            inbox: Some(inbox[0].id),
        })
        .await
        .unwrap();
    let repeat = Repeat {
        alert_id: disk,
        inbox_id: inbox[1].id,
        event: inbox[1].entry.event.clone(),
        at: at(5),
    };
    store.repeat_alerts(vec![repeat]).await.unwrap();
    let later = with_service(event("cpu", AlertAction::Trigger, 6));
    assert_eq!(store.enqueue_alerts(vec![later]).await.unwrap(), 1);
    let resolve = AlertEvent::new(AlertAction::Resolve, AlertSeverity::Error);
    store
        .update_alert(AlertChange {
            id: cpu,
            update: AlertUpdate::Resolve,
            event: resolve.clone(),
            at: at(7),
            incident: None,
            inbox: None,
        })
        .await
        .unwrap();
    let seconds = |log: Vec<klaxon_store::AlertLogEntry>| -> Vec<i64> {
        log.iter()
            .map(|e| (e.received_at - now()).get_seconds())
            .collect()
    };
    assert_eq!(
        seconds(store.alert_log(disk, None, 1000).await.unwrap()),
        [0, 1, 3, 4, 5]
    );
    assert_eq!(
        seconds(store.alert_log(cpu, None, 1000).await.unwrap()),
        [0, 2, 6, 7]
    );
    assert_eq!(
        store.alert_log(disk, None, 1000).await.unwrap()[3]
            .event
            .action,
        AlertAction::Acknowledge
    );
}

/// An alert's repeat count, summary and last time seen.
async fn repeat_state(store: &Arc<dyn Store>, id: AlertId) -> (i64, String, Timestamp) {
    let alert = store.alert(id).await.unwrap();
    (alert.repeat_count, alert.summary, alert.last_seen_at)
}

async fn open(store: &Arc<dyn Store>, api: ServiceId, key: &str) -> AlertId {
    let new = NewAlert {
        service_id: api,
        dedup_key: key.into(),
        event: entry(api, key, AlertAction::Trigger).event,
        group_key: None,
        received_at: now(),
    };
    store
        .open_new_alert(AlertOpening {
            alert: new.clone(),
            incident: IncidentWrite::None,
            inbox: None,
        })
        .await
        .unwrap()
        .0
}

async fn triggers_for_open_alerts_are_counted_on_arrival(store: Arc<dyn Store>) {
    let api = service(&store).await;
    let disk = open(&store, api, "disk").await;
    let mut later = entry(api, "disk", AlertAction::Trigger);
    later.event.summary = Some("disk is still down".into());
    later.received_at = now() + jiff::SignedDuration::from_secs(60);
    let (one, two) = tokio::join!(
        store.enqueue_alerts(vec![
            entry(api, "disk", AlertAction::Trigger),
            later.clone()
        ]),
        store.enqueue_alerts(vec![entry(api, "cpu", AlertAction::Trigger)])
    );
    assert_eq!(
        (one.unwrap(), two.unwrap()),
        (2, 0),
        "per call, how many were counted"
    );
    assert_eq!(
        repeat_state(&store, disk).await,
        (3, "disk is still down".to_owned(), later.received_at)
    );
    let log = store.alert_log(disk, None, 1000).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.received_at).collect::<Vec<_>>(),
        [now(), now(), later.received_at],
        "after the opening trigger, the counted events are on the alert's log as accepted"
    );
    let waiting = store.inbox(10).await.unwrap();
    assert_eq!(
        waiting
            .iter()
            .map(|i| i.entry.dedup_key.as_str())
            .collect::<Vec<_>>(),
        ["cpu"],
        "a trigger with no open alert waits to open one"
    );
}

async fn nothing_is_counted_past_an_event_waiting_for_its_alert(store: Arc<dyn Store>) {
    let api = service(&store).await;
    let disk = open(&store, api, "disk").await;
    let cpu = open(&store, api, "cpu").await;
    let gone = open(&store, api, "gone").await;
    let resolve = entry(api, "gone", AlertAction::Resolve).event;
    store
        .update_alert(AlertChange {
            id: gone,
            update: AlertUpdate::Resolve,
            event: resolve.clone(),
            at: now(),
            incident: None,
            inbox: None,
        })
        .await
        .unwrap();
    // A resolution waits for the worker; a trigger behind it, in the same call or a
    // later one, must wait too: it opens a new alert once the old one is resolved.
    let counted = store
        .enqueue_alerts(vec![
            entry(api, "disk", AlertAction::Resolve),
            entry(api, "disk", AlertAction::Trigger),
            entry(api, "cpu", AlertAction::Acknowledge),
        ])
        .await
        .unwrap();
    assert_eq!(counted, 0);
    let counted = store
        .enqueue_alerts(vec![
            entry(api, "disk", AlertAction::Trigger),
            entry(api, "cpu", AlertAction::Trigger),
            entry(api, "gone", AlertAction::Trigger),
        ])
        .await
        .unwrap();
    assert_eq!(
        counted, 0,
        "nothing counted past a waiting event or on a resolved alert"
    );
    for id in [disk, cpu, gone] {
        assert_eq!(store.alert(id).await.unwrap().repeat_count, 1);
    }
    assert_eq!(store.inbox(10).await.unwrap().len(), 6);

    // An entry set aside after failing no longer holds its alert's triggers back.
    for item in store.inbox(10).await.unwrap() {
        if item.entry.dedup_key == "cpu" {
            store
                .inbox_failed(&InboxFailure {
                    id: item.id,
                    error: "broken".to_string(),
                    give_up: true,
                })
                .await
                .unwrap();
        }
    }
    let counted = store
        .enqueue_alerts(vec![entry(api, "cpu", AlertAction::Trigger)])
        .await
        .unwrap();
    assert_eq!(counted, 1);
    assert_eq!(store.alert(cpu).await.unwrap().repeat_count, 2);
}

async fn waiting_triggers_do_not_hold_back_repeats(store: Arc<dyn Store>) {
    let api = service(&store).await;
    // A trigger accepted before its alert opened waits; once the alert is open, later
    // triggers are counted on arrival all the same: repeats of one alert commute.
    let mut early = entry(api, "disk", AlertAction::Trigger);
    early.event.summary = Some("disk 90%".into());
    assert_eq!(store.enqueue_alerts(vec![early.clone()]).await.unwrap(), 0);
    let disk = open(&store, api, "disk").await;
    let mut late = entry(api, "disk", AlertAction::Trigger);
    late.event.summary = Some("disk 99%".into());
    late.received_at = now() + jiff::SignedDuration::from_secs(60);
    assert_eq!(store.enqueue_alerts(vec![late.clone()]).await.unwrap(), 1);
    // The worker counts the early one afterwards: the count grows, but the alert keeps
    // the newest time and summary.
    let waiting = store.inbox(10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    let repeat = Repeat {
        alert_id: disk,
        inbox_id: waiting[0].id,
        event: waiting[0].entry.event.clone(),
        at: waiting[0].entry.received_at,
    };
    store.repeat_alerts(vec![repeat]).await.unwrap();
    assert_eq!(
        repeat_state(&store, disk).await,
        (3, "disk 99%".to_owned(), late.received_at)
    );
}

async fn a_deleted_service_takes_its_alerts_and_events(store: Arc<dyn Store>) {
    let api = service(&store).await;
    let disk = open(&store, api, "disk").await;
    let counted = store
        .enqueue_alerts(vec![
            entry(api, "disk", AlertAction::Trigger),
            entry(api, "cpu", AlertAction::Trigger),
        ])
        .await
        .unwrap();
    assert_eq!(counted, 1);
    assert_eq!(store.alert_log(disk, None, 1000).await.unwrap().len(), 2);
    assert_eq!(store.inbox(10).await.unwrap().len(), 1);
    store
        .delete_service(&ServiceName::parse("api").unwrap())
        .await
        .unwrap();
    assert!(matches!(
        store.alert(disk).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store.alert_log(disk, None, 1000).await.unwrap().is_empty(),
        "the events on its alerts' logs are gone"
    );
    assert!(
        store.inbox(10).await.unwrap().is_empty(),
        "its waiting events are gone"
    );
}

/// New alerts opened at once, each declaring its incident (as a storm of new alerts does
/// under per-alert grouping), are written together: each caller gets its own alert and
/// incident, numbers and slugs are distinct even for one title, each incident has its
/// jobs, each alert starts its log with its inbox entry, and one opening that conflicts
/// fails alone, naming its dedup key.
async fn new_alerts_opened_at_once_each_get_their_incident(store: Arc<dyn Store>) {
    use klaxon_domain::incident::{self, Context, DeclareInput, Source};
    let api = service(&store).await;
    open(&store, api, "taken").await;
    let keys: Vec<String> = (0..24).map(|i| format!("host-{i}/disk")).collect();
    let mut entries: Vec<InboxEntry> = keys
        .iter()
        .map(|k| entry(api, k, AlertAction::Trigger))
        .collect();
    entries.push(entry(api, "taken", AlertAction::Acknowledge));
    assert_eq!(store.enqueue_alerts(entries).await.unwrap(), 0);
    let inbox = store.inbox(100).await.unwrap();
    assert_eq!(inbox.len(), 25);
    let policy = klaxon_domain::policy::Policy::builtin();
    let ctx = Context {
        actor: klaxon_domain::Handle::parse("klaxon").unwrap(),
        source: Source::Alert,
        now: now(),
        policy: &policy,
        link_base: None,
    };
    let openings: Vec<(NewAlert, IncidentWrite, i64)> = inbox
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let key = item.entry.dedup_key.as_str();
            let title = format!("Disk full {}", i % 2);
            let events = incident::declare(
                &DeclareInput {
                    title: title.clone(),
                    severity: Some(klaxon_domain::Severity::new(3).unwrap()),
                    service: Some("api".into()),
                    ..Default::default()
                },
                &ctx,
            )
            .unwrap();
            let new = NewAlert {
                service_id: api,
                dedup_key: key.to_owned(),
                event: entry(api, key, AlertAction::Trigger).event,
                group_key: None,
                received_at: now(),
            };
            // Every title is one of two: slugs must still come out distinct.
            let write = IncidentWrite::Declare(Box::new(support::declaration(
                &title.to_lowercase().replace(' ', "-"),
                events,
            )));
            (new, write, item.id)
        })
        .collect();
    let tasks: Vec<_> = openings
        .iter()
        .map(|(new, write, inbox)| {
            let (store, new, write, inbox) = (store.clone(), new.clone(), write.clone(), *inbox);
            tokio::spawn(async move {
                store
                    .open_new_alert(AlertOpening {
                        alert: new.clone(),
                        incident: write.clone(),
                        inbox: Some(inbox),
                    })
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let mut numbers = std::collections::HashSet::new();
    let mut slugs = std::collections::HashSet::new();
    for ((new, _, _), result) in openings.iter().zip(results) {
        if new.dedup_key == "taken" {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, StoreError::Stale(m) if m.contains("'taken'")),
                "the conflicting opening fails alone, naming its key: {err}"
            );
            continue;
        }
        let (id, incident) = result.unwrap();
        let incident = incident.expect("each opening declares its incident");
        let alert = store.alert(id).await.unwrap();
        assert_eq!(
            alert.dedup_key, new.dedup_key,
            "each caller gets its own alert"
        );
        assert_eq!(alert.incident, Some(incident.number));
        assert_eq!(
            store.incident(incident.number).await.unwrap().slug,
            incident.slug
        );
        assert!(
            numbers.insert(incident.number),
            "incident numbers are distinct"
        );
        assert!(slugs.insert(incident.slug.clone()), "slugs are distinct");
        assert!(
            !store.jobs(Some(incident.number)).await.unwrap().is_empty(),
            "each incident has its jobs"
        );
        let log = store.alert_log(id, None, 10).await.unwrap();
        assert_eq!(log.len(), 1, "the inbox entry starts the log");
    }
    assert_eq!(numbers.len(), 24);
    assert_eq!(
        store.inbox(100).await.unwrap().len(),
        1,
        "only the conflicting entry waits"
    );
}

contract!(
    inbox_keeps_order_and_applies_once,
    repeats_are_counted_in_bulk_all_or_nothing,
    triggers_for_open_alerts_are_counted_on_arrival,
    nothing_is_counted_past_an_event_waiting_for_its_alert,
    waiting_triggers_do_not_hold_back_repeats,
    a_deleted_service_takes_its_alerts_and_events,
    every_write_path_keeps_the_log_in_order,
    new_alerts_opened_at_once_each_get_their_incident
);
