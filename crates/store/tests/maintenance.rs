//! Scheduled maintenance's storage, on SQLite and PostgreSQL: the row and its updates,
//! written only from the version it was read at; the engine's jobs about it, replaced
//! with each write; the services' maintenance windows it makes, moved and removed with
//! it; and the page's version moving on.

mod support;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use klaxon_domain::paging::{JobKind, JobPayload};
use klaxon_domain::service::{NewService, ServiceName};
use klaxon_domain::status::maintenance::{MaintenanceJob, MaintenanceStep};
use klaxon_domain::status::{
    ComponentFields, MaintenanceChange, MaintenancePost, MaintenanceStatus, NewComponent,
    NewScheduledMaintenance, ScheduledMaintenance,
};
use klaxon_domain::ScheduledMaintenanceId;
use klaxon_store::{MaintenanceWrite, Store, StoreError};

fn t0() -> Timestamp {
    "2026-11-26T10:00:00Z".parse().unwrap()
}

fn at(minutes: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(minutes)
}

const HOUR: SignedDuration = SignedDuration::from_hours(1);

fn plan(m: &ScheduledMaintenance) -> Vec<klaxon_domain::paging::PlannedJob> {
    m.jobs(HOUR, at(0))
}

async fn api_service(store: &Arc<dyn Store>) -> ServiceName {
    let (name, fields) = NewService {
        name: ServiceName::parse("api").unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: Default::default(),
    }
    .validated()
    .unwrap();
    let key = klaxon_store::NewKey {
        key: format!("{:032x}", 1),
        signing_secret: "s".to_owned().into(),
    };
    store
        .create_service(&name, &fields, &key, at(0))
        .await
        .unwrap();
    name
}

async fn component(
    store: &Arc<dyn Store>,
    name: &str,
    services: Vec<ServiceName>,
) -> ComponentFields {
    let fields = NewComponent {
        name: name.into(),
        services,
        ..NewComponent::default()
    }
    .validated()
    .unwrap();
    store.create_component(&fields, at(0)).await.unwrap();
    fields
}

async fn save(
    store: &Arc<dyn Store>,
    decision: &klaxon_domain::status::maintenance::MaintenanceDecision,
    services: &[ServiceName],
) -> Result<ScheduledMaintenance, StoreError> {
    let m = &decision.maintenance;
    let write = MaintenanceWrite {
        decision,
        services: services.to_vec(),
        window: m
            .mute_window()
            .map(|(from, until)| (from, until, format!("scheduled maintenance: {}", m.name))),
        by: "alice",
        at: at(0),
    };
    store.save_maintenance(&write, &plan).await
}

fn maintenance_jobs(jobs: &[klaxon_store::Job]) -> Vec<(MaintenanceStep, Timestamp)> {
    let mut out: Vec<_> = jobs
        .iter()
        .filter(|j| j.kind == JobKind::Maintenance)
        .map(|j| match JobPayload::read(j.kind, &j.payload).unwrap() {
            JobPayload::Maintenance(MaintenanceJob { step, .. }) => (step, j.run_at),
            other => panic!("{other:?}"),
        })
        .collect();
    out.sort_by_key(|(_, at)| *at);
    out
}

async fn a_maintenance_is_kept_with_its_updates_windows_and_jobs(store: Arc<dyn Store>) {
    let api = api_service(&store).await;
    component(&store, "API", vec![api.clone()]).await;
    component(&store, "Web", vec![]).await;
    let all = store.components().await.unwrap();
    let version = store.status_page_version().await.unwrap();
    let new = NewScheduledMaintenance {
        name: "Database upgrade".into(),
        components: all.iter().map(|c| c.id).collect(),
        scheduled_for: at(120),
        scheduled_until: at(240),
        body: Some("We upgrade the database.".into()),
        auto_start: None,
        auto_complete: None,
        mute_services: true,
    };
    let decision = new.decide(&all, "alice", at(0)).unwrap();
    // A service deleted since a component named it has nothing to mute.
    let gone = ServiceName::parse("gone").unwrap();
    let m = save(&store, &decision, &[api.clone(), gone]).await.unwrap();
    assert!(m.id.0 > 0);
    assert_eq!(m.version, 1);
    assert_eq!(m.updates.len(), 1);
    assert_eq!(m.updates[0].seq, 1);
    assert_eq!(m.updates[0].body, "We upgrade the database.");
    assert_eq!(m.components.len(), 2);
    assert!(store.status_page_version().await.unwrap() > version);
    assert_eq!(store.scheduled_maintenance(m.id).await.unwrap(), m);
    assert_eq!(
        maintenance_jobs(&store.jobs(None).await.unwrap()),
        [
            (MaintenanceStep::Remind, at(60)),
            (MaintenanceStep::Start, at(120)),
            (MaintenanceStep::Complete, at(240))
        ]
    );
    let windows = store.maintenance(&api, at(0)).await.unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(
        (windows[0].starts_at, windows[0].ends_at),
        (at(120), at(240))
    );
    assert_eq!(windows[0].reason, "scheduled maintenance: Database upgrade");

    // Rescheduled: the jobs and the window move.
    let moved = m
        .change(
            &MaintenanceChange {
                scheduled_for: Some(at(180)),
                scheduled_until: Some(at(300)),
                ..Default::default()
            },
            &all,
            "alice",
            at(5),
        )
        .unwrap();
    let m2 = save(&store, &moved, std::slice::from_ref(&api))
        .await
        .unwrap();
    assert_eq!(m2.version, 2);
    assert_eq!(m2.updates.len(), 2);
    assert_eq!(m2.updates[1].seq, 2);
    assert_eq!(
        maintenance_jobs(&store.jobs(None).await.unwrap()),
        [
            (MaintenanceStep::Remind, at(120)),
            (MaintenanceStep::Start, at(180)),
            (MaintenanceStep::Complete, at(300))
        ]
    );
    let windows = store.maintenance(&api, at(0)).await.unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(
        (windows[0].starts_at, windows[0].ends_at),
        (at(180), at(300))
    );

    // A write from the old version is refused and changes nothing.
    let stale = m
        .post(
            &MaintenancePost {
                status: Some(MaintenanceStatus::Cancelled),
                body: None,
            },
            "alice",
            at(6),
        )
        .unwrap();
    let e = save(&store, &stale, std::slice::from_ref(&api))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Stale(_)), "{e:?}");
    assert_eq!(store.scheduled_maintenance(m.id).await.unwrap(), m2);

    // Cancelled: no jobs, no windows.
    let cancelled = m2
        .post(
            &MaintenancePost {
                status: Some(MaintenanceStatus::Cancelled),
                body: None,
            },
            "alice",
            at(7),
        )
        .unwrap();
    let m3 = save(&store, &cancelled, std::slice::from_ref(&api))
        .await
        .unwrap();
    assert_eq!(m3.status, MaintenanceStatus::Cancelled);
    assert!(maintenance_jobs(&store.jobs(None).await.unwrap()).is_empty());
    assert!(store.maintenance(&api, at(0)).await.unwrap().is_empty());

    let e = store
        .scheduled_maintenance(ScheduledMaintenanceId(999))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound(_)), "{e:?}");
}

async fn maintenances_are_listed_latest_window_first(store: Arc<dyn Store>) {
    component(&store, "API", vec![]).await;
    let all = store.components().await.unwrap();
    let mut ids = vec![];
    for (from, until) in [(60, 120), (600, 700), (300, 400)] {
        let decision = NewScheduledMaintenance {
            name: format!("Work at {from}"),
            components: vec![all[0].id],
            scheduled_for: at(from),
            scheduled_until: at(until),
            body: None,
            auto_start: Some(false),
            auto_complete: Some(false),
            mute_services: false,
        }
        .decide(&all, "alice", at(0))
        .unwrap();
        ids.push(save(&store, &decision, &[]).await.unwrap().id);
    }
    let listed = store.scheduled_maintenances(at(0), 10).await.unwrap();
    let names: Vec<_> = listed.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Work at 600", "Work at 300", "Work at 60"]);
    assert!(listed.iter().all(|m| m.updates.len() == 1));
    assert_eq!(
        store.scheduled_maintenances(at(0), 1).await.unwrap().len(),
        1
    );
    // Ended before `since` and over: left out; still scheduled: kept whatever its end.
    let first = store.scheduled_maintenance(ids[0]).await.unwrap();
    let started = first
        .post(
            &MaintenancePost {
                status: Some(MaintenanceStatus::InProgress),
                body: None,
            },
            "alice",
            at(60),
        )
        .unwrap();
    let started = save(&store, &started, &[]).await.unwrap();
    let done = started
        .post(
            &MaintenancePost {
                status: Some(MaintenanceStatus::Completed),
                body: Some("Done early.".into()),
            },
            "alice",
            at(90),
        )
        .unwrap();
    save(&store, &done, &[]).await.unwrap();
    let later = store.scheduled_maintenances(at(200), 10).await.unwrap();
    let names: Vec<_> = later.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Work at 600", "Work at 300"]);
}

contract!(
    a_maintenance_is_kept_with_its_updates_windows_and_jobs,
    maintenances_are_listed_latest_window_first,
);
