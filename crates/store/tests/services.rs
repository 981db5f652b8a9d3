//! The store contract for services: their keys, the changes recorded for them, their
//! alerts (deduplicated while open, each with its log) and their maintenance windows, the
//! same tests against SQLite and PostgreSQL (see `contract.rs`).

mod support;

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::incident::{self, Context, DeclareInput, Source};
use klaxon_domain::policy::Policy;
use klaxon_domain::{Handle, Severity};
use klaxon_store::{Store, StoreError};
use std::sync::Arc;

fn now() -> Timestamp {
    klaxon_domain::time::to_millis_precision(Timestamp::now())
}

fn key(n: u8) -> klaxon_store::NewKey {
    klaxon_store::NewKey {
        key: format!("{n:032x}"),
        signing_secret: format!("secret-{n}").into(),
    }
}

/// Creates service `name` with `rules` and its first key, `key(1)`.
async fn create_service(
    store: &Arc<dyn Store>,
    name: &str,
    rules: klaxon_domain::service::AlertRules,
) -> (
    klaxon_domain::service::Service,
    klaxon_domain::service::ServiceName,
) {
    let new = klaxon_domain::service::NewService {
        name: service_name(name),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules,
    };
    let (name, fields) = new.validated().unwrap();
    (
        store
            .create_service(&name, &fields, &key(1), now())
            .await
            .unwrap(),
        name,
    )
}

fn service_name(s: &str) -> klaxon_domain::service::ServiceName {
    klaxon_domain::service::ServiceName::parse(s).unwrap()
}

async fn services_keep_their_keys(store: Arc<dyn Store>) {
    use klaxon_domain::service::{Grouping, NewService};
    let new = NewService {
        name: service_name("api"),
        description: "Public API".into(),
        owner_team: Some("platform".into()),
        runbook_links: vec!["https://runbooks.example/api".into()],
        rules: Default::default(),
    };
    let (name, fields) = new.validated().unwrap();
    let created = store
        .create_service(&name, &fields, &key(1), now())
        .await
        .unwrap();
    assert_eq!(
        created.integration_key.as_deref(),
        Some(key(1).key.as_str())
    );
    let again = store
        .create_service(&name, &fields, &key(2), now())
        .await
        .unwrap_err();
    assert!(
        matches!(again, StoreError::Duplicate { field: "name", .. }),
        "{again}"
    );
    assert_eq!(
        store
            .service_by_key(&key(1).key)
            .await
            .unwrap()
            .unwrap()
            .name,
        name
    );

    let mut changed = fields.clone();
    changed.rules.grouping = Grouping::TimeWindow { minutes: 10 };
    let updated = store.update_service(&name, &changed).await.unwrap();
    assert_eq!(updated.rules.grouping, Grouping::TimeWindow { minutes: 10 });

    let first = created.integration_keys.unwrap()[0].id;
    let rotated = store
        .rotate_integration_key(&name, first, &key(3), now())
        .await
        .unwrap();
    assert!(
        store.service_by_key(&key(1).key).await.unwrap().is_none(),
        "the rotated-out key must stop working"
    );
    assert!(store.service_by_key(&rotated.key).await.unwrap().is_some());
    let err = store
        .revoke_integration_key(&name, first, now())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AlreadyApplied(_)), "{err}");
    let extra = store
        .add_integration_key(&name, &key(4), now())
        .await
        .unwrap();
    assert_eq!(
        store
            .service(&name)
            .await
            .unwrap()
            .integration_keys
            .unwrap()
            .len(),
        3
    );
    store
        .revoke_integration_key(&name, extra.id, now())
        .await
        .unwrap();

    let missing = service_name("nope");
    assert!(matches!(
        store.service(&missing).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.update_service(&missing, &fields).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_service(&name).await.unwrap();
    assert!(store.services().await.unwrap().is_empty());
    assert!(store.service_by_key(&rotated.key).await.unwrap().is_none());
}

async fn changes_are_found_by_service_and_time(store: Arc<dyn Store>) {
    use klaxon_domain::alert::ChangeEvent;
    let (api, name) = create_service(&store, "api", Default::default()).await;
    let t0: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
    let change = |summary: &str, minutes: i64| ChangeEvent {
        summary: summary.into(),
        source: Some("ci".into()),
        occurred_at: Some(t0 + SignedDuration::from_mins(minutes)),
        details: serde_json::json!({"sha": "abc"}),
        links: vec![],
    };
    for (summary, minutes) in [
        ("too early", -200),
        ("deploy v2.1.2", -30),
        ("config change", -5),
        ("after", 10),
    ] {
        store
            .record_change(api.id, &change(summary, minutes), now())
            .await
            .unwrap();
    }
    let from = t0 - SignedDuration::from_hours(2);
    let found = store.changes(&name, from, t0, 50).await.unwrap();
    let summaries: Vec<_> = found.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(summaries, ["config change", "deploy v2.1.2"]);
    assert_eq!(found[0].details["sha"], "abc");
    assert_eq!(store.changes(&name, from, t0, 1).await.unwrap().len(), 1);
    store.delete_service(&name).await.unwrap();
}

async fn alerts_dedup_while_open_and_keep_their_log(store: Arc<dyn Store>) {
    use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity, AlertStatus};
    use klaxon_domain::service::{AlertRules, Grouping};
    use klaxon_store::{
        AlertChange, AlertFilter, AlertOpening, AlertUpdate, IncidentWrite, NewAlert,
    };
    let rules = AlertRules {
        grouping: Grouping::ByField {
            field: "cluster".into(),
        },
        ..Default::default()
    };
    let (db, _) = create_service(&store, "db", rules).await;
    let trigger = |summary: &str| {
        let mut e = AlertEvent::new(AlertAction::Trigger, AlertSeverity::Critical);
        e.summary = Some(summary.into());
        e.dedup_key = Some("srv01/mysql".into());
        e.labels.insert("cluster".into(), "eu-1".into());
        e
    };
    let policy = Policy::builtin();
    let declare_events = incident::declare(
        &DeclareInput {
            title: "DISK at 99%".into(),
            severity: Some(Severity::new(2).unwrap()),
            service: Some("db".into()),
            ..Default::default()
        },
        &Context {
            actor: Handle::parse("klaxon").unwrap(),
            source: Source::Api,
            now: now(),
            policy: &policy,
            link_base: None,
        },
    )
    .unwrap();
    let new_alert = NewAlert {
        service_id: db.id,
        dedup_key: "srv01/mysql".into(),
        event: trigger("DISK at 99%"),
        group_key: Some("eu-1".into()),
        received_at: now(),
    };
    let write = IncidentWrite::Declare(Box::new(support::declaration(
        "incident-disk",
        declare_events,
    )));
    let (alert, incident) = store
        .open_new_alert(AlertOpening {
            alert: new_alert.clone(),
            incident: write.clone(),
            inbox: None,
        })
        .await
        .unwrap();
    let alert = store.alert(alert).await.unwrap();
    let incident = incident.unwrap();
    assert_eq!(
        (alert.status, alert.incident),
        (AlertStatus::Triggered, Some(incident.number))
    );
    let again = store
        .open_new_alert(AlertOpening {
            alert: new_alert.clone(),
            incident: IncidentWrite::None,
            inbox: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(again, StoreError::Stale(_)),
        "one open alert per key: {again}"
    );
    assert_eq!(
        store.timeline(incident.number).await.unwrap().len(),
        1,
        "the failed write left no incident events"
    );

    let found = store
        .grouping_candidate(&db, Some("eu-1"), None)
        .await
        .unwrap();
    assert_eq!(found, Some(incident.number));
    assert_eq!(
        store
            .grouping_candidate(&db, Some("us-1"), None)
            .await
            .unwrap(),
        None
    );

    let open = store
        .open_alert(db.id, "srv01/mysql")
        .await
        .unwrap()
        .unwrap();
    store
        .update_alert(AlertChange {
            id: open.id,
            update: AlertUpdate::Repeat,
            event: (trigger("DISK at 100%")).clone(),
            at: now(),
            incident: None,
            inbox: None,
        })
        .await
        .unwrap();
    let repeated = store.alert(open.id).await.unwrap();
    assert_eq!(
        (repeated.repeat_count, repeated.summary.as_str()),
        (2, "DISK at 100%")
    );
    let ack = AlertEvent::new(AlertAction::Acknowledge, AlertSeverity::Error);
    store
        .update_alert(AlertChange {
            id: open.id,
            update: AlertUpdate::Acknowledge,
            event: ack.clone(),
            at: now(),
            incident: None,
            inbox: None,
        })
        .await
        .unwrap();
    let acked = store.alert(open.id).await.unwrap();
    assert_eq!(acked.status, AlertStatus::Acknowledged);
    assert!(matches!(
        store
            .update_alert(AlertChange {
                id: open.id,
                update: AlertUpdate::Acknowledge,
                event: ack.clone(),
                at: now(),
                incident: None,
                inbox: None
            })
            .await,
        Err(StoreError::Stale(_))
    ));
    let resolve = AlertEvent::new(AlertAction::Resolve, AlertSeverity::Error);
    store
        .update_alert(AlertChange {
            id: open.id,
            update: AlertUpdate::Resolve,
            event: resolve.clone(),
            at: now(),
            incident: None,
            inbox: None,
        })
        .await
        .unwrap();
    let resolved = store.alert(open.id).await.unwrap();
    assert_eq!(resolved.status, AlertStatus::Resolved);
    assert!(store
        .open_alert(db.id, "srv01/mysql")
        .await
        .unwrap()
        .is_none());
    let (reopened, _) = store
        .open_new_alert(AlertOpening {
            alert: new_alert.clone(),
            incident: IncidentWrite::None,
            inbox: None,
        })
        .await
        .unwrap();
    assert_ne!(
        reopened, open.id,
        "after resolution the same key opens a new alert"
    );
    let log = store.alert_log(open.id, None, 1000).await.unwrap();
    let actions: Vec<_> = log.iter().map(|l| l.event.action).collect();
    assert_eq!(
        actions,
        [
            AlertAction::Trigger,
            AlertAction::Trigger,
            AlertAction::Acknowledge,
            AlertAction::Resolve
        ]
    );
    let listed = store
        .alerts(&AlertFilter {
            service_id: Some(db.id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|a| a.id).collect::<Vec<_>>(),
        [reopened, open.id]
    );
    let older = store
        .alerts(&AlertFilter {
            service_id: Some(db.id),
            before: Some(reopened),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        older.iter().map(|a| a.id).collect::<Vec<_>>(),
        [open.id],
        "`before` lists only older alerts"
    );
    let open_only = AlertFilter {
        status: Some(AlertStatus::Triggered),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.alerts(&open_only).await.unwrap().len(), 1);
}

async fn maintenance_windows_cover_their_time(store: Arc<dyn Store>) {
    let (api, name) = create_service(&store, "api", Default::default()).await;
    let t0: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
    let h = |n: i64| t0 + SignedDuration::from_hours(n);
    let window = store
        .add_maintenance(&name, (h(1), h(2), "db upgrade".into()), "alice", t0)
        .await
        .unwrap();
    assert!(!store.in_maintenance(api.id, t0).await.unwrap());
    assert!(store.in_maintenance(api.id, h(1)).await.unwrap());
    assert!(
        !store.in_maintenance(api.id, h(2)).await.unwrap(),
        "the end is exclusive"
    );
    assert_eq!(
        store.maintenance(&name, t0).await.unwrap(),
        std::slice::from_ref(&window)
    );
    assert!(store.maintenance(&name, h(3)).await.unwrap().is_empty());
    store.remove_maintenance(&name, window.id).await.unwrap();
    assert!(matches!(
        store.remove_maintenance(&name, window.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(!store.in_maintenance(api.id, h(1)).await.unwrap());
}

contract!(
    maintenance_windows_cover_their_time,
    alerts_dedup_while_open_and_keep_their_log,
    changes_are_found_by_service_and_time,
    services_keep_their_keys
);
