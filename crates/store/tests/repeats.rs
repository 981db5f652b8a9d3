//! Every backend's statements that count an alert's repeats agree with the domain's
//! rule ([`klaxon_domain::alert::count_repeats`]) on random sequences of triggers: the
//! backend's own accept path (counting on arrival) and the statement both share (the
//! inbox worker's repeats in bulk). PostgreSQL needs `KLAXON_TEST_POSTGRES_URL`, as the
//! contract suite does.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use jiff::Timestamp;
use klaxon_domain::alert::{
    count_repeats, AlertAction, AlertEvent, AlertSeverity, RepeatState, RepeatTally,
};
use klaxon_domain::{AlertId, ServiceId};
use klaxon_store::testing::{TempPostgres, TempSqlite};
use klaxon_store::{AlertOpening, IncidentWrite, NewAlert, Repeat, Store};
use proptest::prelude::*;

/// A trigger: seconds after the alert opened (possibly before: clocks differ; a few
/// seconds either way, so that times often tie), and
/// its summary if it gave one.
type Trigger = (i64, Option<&'static str>);

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + second).unwrap()
}

fn trigger(summary: Option<&str>) -> AlertEvent {
    let mut event = AlertEvent::new(AlertAction::Trigger, AlertSeverity::Error);
    event.summary = summary.map(str::to_owned);
    event
}

fn triggers() -> impl Strategy<Value = (Option<&'static str>, Vec<Trigger>)> {
    let summary = prop::option::of(prop::sample::select(vec!["a", "b", "c"]));
    let one = (-3i64..4, summary.clone());
    (summary, prop::collection::vec(one, 1..8))
}

/// A dedup key no other case uses (cases share a database).
fn key() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("k{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Opens an alert at second 0 with `first`'s summary; its id and what the domain
/// says it holds.
async fn open(
    store: &Arc<dyn Store>,
    service: ServiceId,
    key: &str,
    first: Option<&str>,
) -> (AlertId, RepeatState) {
    let alert = NewAlert {
        service_id: service,
        dedup_key: key.to_owned(),
        event: trigger(first),
        group_key: None,
        received_at: at(0),
    };
    let opening = AlertOpening {
        alert,
        incident: IncidentWrite::None,
        inbox: None,
    };
    let (id, _) = store.open_new_alert(opening).await.unwrap();
    let state = RepeatState {
        repeat_count: 1,
        last_seen_at: at(0),
        summary: first.unwrap_or(key).to_owned(),
    };
    (id, state)
}

async fn stored(store: &Arc<dyn Store>, id: AlertId) -> RepeatState {
    let alert = store.alert(id).await.unwrap();
    RepeatState {
        repeat_count: alert.repeat_count,
        last_seen_at: alert.last_seen_at,
        summary: alert.summary,
    }
}

fn expected(start: &RepeatState, triggers: &[Trigger]) -> RepeatState {
    let tally = RepeatTally::of(triggers.iter().map(|(s, summary)| (at(*s), *summary)));
    count_repeats(start, &tally.unwrap())
}

/// One case on both paths: triggers accepted for an open alert (counted on arrival),
/// and triggers that waited for the alert to open (counted in bulk).
async fn check(
    store: &Arc<dyn Store>,
    service: ServiceId,
    first: Option<&str>,
    triggers: &[Trigger],
) {
    let entries = |key: &str| -> Vec<klaxon_store::InboxEntry> {
        triggers
            .iter()
            .map(|(s, summary)| klaxon_store::InboxEntry {
                service_id: service,
                dedup_key: key.to_owned(),
                received_at: at(*s),
                event: trigger(*summary),
            })
            .collect()
    };
    let on_arrival = key();
    let (id, start) = open(store, service, &on_arrival, first).await;
    let counted = store.enqueue_alerts(entries(&on_arrival)).await.unwrap();
    assert_eq!(counted, triggers.len(), "every trigger counted on arrival");
    assert_eq!(
        stored(store, id).await,
        expected(&start, triggers),
        "on arrival"
    );

    let in_bulk = key();
    assert_eq!(store.enqueue_alerts(entries(&in_bulk)).await.unwrap(), 0);
    let waiting = store.inbox(1000).await.unwrap();
    let (id, start) = open(store, service, &in_bulk, first).await;
    let repeats = waiting
        .into_iter()
        .filter(|item| item.entry.dedup_key == in_bulk)
        .map(|item| Repeat {
            alert_id: id,
            inbox_id: item.id,
            event: item.entry.event,
            at: item.entry.received_at,
        })
        .collect();
    store.repeat_alerts(repeats).await.unwrap();
    assert_eq!(
        stored(store, id).await,
        expected(&start, triggers),
        "in bulk"
    );
}

fn agree_with_the_domain(url: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(klaxon_store::open(url)).unwrap();
    let service = runtime.block_on(support::alerts::service(&store));
    let config = ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest::test_runner::TestRunner::new(config)
        .run(&triggers(), |(first, triggers)| {
            runtime.block_on(check(&store, service, first, &triggers));
            Ok(())
        })
        .unwrap();
}

#[test]
fn sqlite_counts_repeats_as_the_domain_does() {
    let db = TempSqlite::new();
    agree_with_the_domain(&db.url);
}

#[test]
fn postgres_counts_repeats_as_the_domain_does() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(db) = runtime.block_on(TempPostgres::new()) else {
        return;
    };
    agree_with_the_domain(&db.url);
    runtime.block_on(db.drop_database());
}
