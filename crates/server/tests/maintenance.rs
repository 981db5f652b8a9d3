//! Scheduled maintenance end to end, over HTTP on a real server: scheduling it puts it
//! on the page and plans the engine's reminder, start and completion (which survive a
//! restart); with the clock moved, the engine starts it (its components under
//! maintenance, the services' alerts muted) and completes it on time; rescheduling
//! moves the jobs and the services' windows, cancelling removes them; bad input is
//! refused and changes nothing.

mod common;

use std::process::Stdio;

use common::{problem, spawn_app, spawn_app_postgres, TestApp};
use jiff::{SignedDuration, Timestamp};
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::{JobKind, JobPayload};
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::maintenance::MaintenanceStep;
use klaxon_domain::status::{
    ComponentStatus, MaintenanceChange, MaintenancePost, MaintenanceStatus, NewComponent,
    NewScheduledMaintenance,
};
use klaxon_domain::{ComponentId, ScheduledMaintenanceId};
use serde_json::{json, Value};

/// The test clock starts at 10:00; `at(120)` is 12:00.
fn at(minutes: i64) -> Timestamp {
    "2026-11-26T10:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(minutes)
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http()
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap()
}

async fn text(app: &TestApp, path: &str) -> String {
    let r = get(app, path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.unwrap()
}

async fn v2(app: &TestApp, path: &str) -> Value {
    let r = get(app, &format!("/api/v2/{path}")).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.unwrap()
}

/// Components API (linked to service `api`, whose integration key comes third) and Web.
async fn components(app: &TestApp) -> (ComponentId, ComponentId, String) {
    let key = app.service_key("api").await;
    let api = app
        .admin
        .create_component(&NewComponent {
            name: "API".into(),
            services: vec![ServiceName::parse("api").unwrap()],
            ..NewComponent::default()
        })
        .await
        .unwrap();
    let web = app
        .admin
        .create_component(&NewComponent {
            name: "Web".into(),
            ..NewComponent::default()
        })
        .await
        .unwrap();
    (api.id, web.id, key)
}

fn upgrade(components: Vec<ComponentId>, from: i64, until: i64) -> NewScheduledMaintenance {
    NewScheduledMaintenance {
        name: "Database upgrade".into(),
        components,
        scheduled_for: at(from),
        scheduled_until: at(until),
        body: Some("We upgrade the primary database; writes pause briefly.".into()),
        auto_start: None,
        auto_complete: None,
        mute_services: true,
    }
}

/// The engine's maintenance jobs now, by due time.
async fn jobs(app: &TestApp) -> Vec<(MaintenanceStep, Timestamp)> {
    let mut out: Vec<_> = app
        .state()
        .store
        .jobs(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == JobKind::Maintenance)
        .map(|j| match JobPayload::read(j.kind, &j.payload).unwrap() {
            JobPayload::Maintenance(m) => (m.step, j.run_at),
            other => panic!("{other:?}"),
        })
        .collect();
    out.sort_by_key(|(_, t)| *t);
    out
}

fn status_of(components: &Value, name: &str) -> String {
    components
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name} in {components}"))["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn names(list: &Value) -> Vec<String> {
    list["scheduled_maintenances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Sends a critical alert for service `api`; whether it opened an incident.
async fn alert_opens_incident(app: &TestApp, key: &str, dedup: &str) -> bool {
    let r = app
        .http()
        .post(format!("{}/v2/enqueue", app.url))
        .json(&json!({
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": dedup,
            "payload": {"summary": "API 5xx", "source": "lb", "severity": "critical"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    app.settle().await;
    let page: klaxon_domain::api::AlertPage = app
        .http()
        .get(app.api("/alerts?limit=200"))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page.alerts
        .iter()
        .find(|a| a.dedup_key == dedup)
        .expect("the alert is recorded")
        .incident
        .is_some()
}

/// The whole life of a maintenance on time: scheduled, reminded, started and completed
/// by the engine, with the page, its JSON and the services' windows following.
async fn on_time(mut app: TestApp) {
    let (api, web, key) = components(&app).await;
    let before = app.admin.components().await.unwrap();
    let m = app
        .admin
        .schedule_maintenance(&upgrade(vec![api, web], 120, 240))
        .await
        .unwrap();
    assert_eq!(m.status, MaintenanceStatus::Scheduled);
    assert!(m.auto_start && m.auto_complete);
    assert_eq!(m.updates.len(), 1);

    // On the page as upcoming; the components stay operational.
    let upcoming = v2(&app, "scheduled-maintenances/upcoming.json").await;
    assert_eq!(names(&upcoming), ["Database upgrade"]);
    let listed = &upcoming["scheduled_maintenances"][0];
    assert_eq!(listed["status"], "scheduled");
    assert_eq!(listed["impact"], "maintenance");
    assert_eq!(listed["scheduled_for"], "2026-11-26T12:00:00.000Z");
    assert_eq!(listed["scheduled_until"], "2026-11-26T14:00:00.000Z");
    assert_eq!(
        listed["incident_updates"][0]["body"],
        "We upgrade the primary database; writes pause briefly."
    );
    assert_eq!(
        names(&v2(&app, "scheduled-maintenances/active.json").await).len(),
        0
    );
    let summary = v2(&app, "summary.json").await;
    assert_eq!(names(&summary), ["Database upgrade"]);
    assert_eq!(status_of(&summary["components"], "API"), "operational");
    assert_eq!(summary["status"]["indicator"], "none");
    let page = text(&app, "/status").await;
    assert!(page.contains("Scheduled maintenance"), "{page}");
    assert!(page.contains("Database upgrade"), "{page}");
    let id = listed["id"].as_str().unwrap();
    let own = text(&app, &format!("/status/maintenances/{id}")).await;
    assert!(own.contains("writes pause briefly"), "{own}");
    validate(&app).await;

    // The engine's jobs: the reminder an hour before (the policy's default), the start
    // and the completion; they are rows, so a restart keeps them.
    let planned = [
        (MaintenanceStep::Remind, at(60)),
        (MaintenanceStep::Start, at(120)),
        (MaintenanceStep::Complete, at(240)),
    ];
    assert_eq!(jobs(&app).await, planned);
    app.restart().await;
    assert_eq!(jobs(&app).await, planned);

    // 11:00: the reminder is recorded; nothing else moves.
    app.clock.advance(SignedDuration::from_mins(60));
    app.run_jobs().await;
    let reminded = app.admin.scheduled_maintenance(m.id).await.unwrap();
    assert_eq!(reminded.reminded_for, Some(at(120)));
    assert_eq!(reminded.status, MaintenanceStatus::Scheduled);
    assert_eq!(jobs(&app).await, planned[1..]);

    // 12:00: started. Its components are under maintenance, the banner says so, the
    // service's alerts are muted.
    app.clock.advance(SignedDuration::from_mins(60));
    app.run_jobs().await;
    let started = app.admin.scheduled_maintenance(m.id).await.unwrap();
    assert_eq!(started.status, MaintenanceStatus::InProgress);
    assert_eq!(started.started_at, Some(at(120)));
    assert_eq!(started.updates.last().unwrap().by, "klaxon");
    assert_eq!(
        app.admin.component(api).await.unwrap().status,
        ComponentStatus::UnderMaintenance
    );
    let summary = v2(&app, "summary.json").await;
    assert_eq!(
        status_of(&summary["components"], "API"),
        "under_maintenance"
    );
    assert_eq!(
        status_of(&summary["components"], "Web"),
        "under_maintenance"
    );
    assert_eq!(summary["status"]["indicator"], "maintenance");
    assert_eq!(
        summary["scheduled_maintenances"][0]["status"],
        "in_progress"
    );
    let active = v2(&app, "scheduled-maintenances/active.json").await;
    assert_eq!(names(&active), ["Database upgrade"]);
    let newest = &active["scheduled_maintenances"][0]["incident_updates"][0];
    assert_eq!(newest["status"], "in_progress");
    assert_eq!(
        newest["affected_components"][0]["new_status"],
        "under_maintenance"
    );
    assert_eq!(
        names(&v2(&app, "scheduled-maintenances/upcoming.json").await).len(),
        0
    );
    let page = text(&app, "/status").await;
    assert!(page.contains("Service Under Maintenance"), "{page}");
    assert!(page.contains("In progress"), "{page}");
    validate(&app).await;
    assert!(
        !alert_opens_incident(&app, &key, "during").await,
        "the service's alerts are muted during the maintenance"
    );

    // 14:00: completed; everything is operational again, the lists of what is coming
    // and under way are empty, the history and the feeds keep it.
    app.clock.advance(SignedDuration::from_mins(120));
    app.run_jobs().await;
    let done = app.admin.scheduled_maintenance(m.id).await.unwrap();
    assert_eq!(done.status, MaintenanceStatus::Completed);
    assert_eq!(done.completed_at, Some(at(240)));
    assert!(jobs(&app).await.is_empty());
    let summary = v2(&app, "summary.json").await;
    assert_eq!(status_of(&summary["components"], "API"), "operational");
    assert_eq!(summary["status"]["indicator"], "none");
    assert_eq!(summary["scheduled_maintenances"], json!([]));
    let all = v2(&app, "scheduled-maintenances.json").await;
    assert_eq!(all["scheduled_maintenances"][0]["status"], "completed");
    assert_eq!(
        all["scheduled_maintenances"][0]["resolved_at"],
        "2026-11-26T14:00:00.000Z"
    );
    let history = text(&app, "/status/history").await;
    assert!(history.contains("Database upgrade"), "{history}");
    let atom = text(&app, "/history.atom").await;
    assert!(atom.contains("<title>Database upgrade</title>"), "{atom}");
    assert!(
        atom.contains("&lt;strong&gt;Completed&lt;/strong&gt;"),
        "{atom}"
    );
    assert!(text(&app, "/history.rss")
        .await
        .contains("Database upgrade"));
    validate(&app).await;
    assert!(
        alert_opens_incident(&app, &key, "after").await,
        "after it, alerts open incidents again"
    );
    // Maintenance counts as up: the uptime bars are whole.
    let after = app.admin.components().await.unwrap();
    assert_eq!(after.len(), before.len());

    app.allow_pending_jobs();
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn the_engine_starts_and_completes_maintenance_on_time() {
    on_time(spawn_app().await).await;
}

#[tokio::test]
async fn the_engine_starts_and_completes_maintenance_on_time_on_postgres() {
    let Some(app) = spawn_app_postgres().await else {
        return;
    };
    on_time(app).await;
}

/// Rescheduling re-plans the jobs and moves the services' windows; cancelling removes
/// both and takes the maintenance off the page.
async fn moved_then_cancelled(app: TestApp) {
    let (api, _, _) = components(&app).await;
    let api_service = ServiceName::parse("api").unwrap();
    let m = app
        .admin
        .schedule_maintenance(&upgrade(vec![api], 120, 240))
        .await
        .unwrap();
    let windows = app.admin.maintenance(&api_service).await.unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(
        (windows[0].starts_at, windows[0].ends_at),
        (at(120), at(240))
    );
    assert_eq!(windows[0].reason, "scheduled maintenance: Database upgrade");

    let moved = app
        .admin
        .change_maintenance(
            m.id,
            &MaintenanceChange {
                scheduled_for: Some(at(300)),
                scheduled_until: Some(at(360)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.scheduled_for, at(300));
    assert!(moved.updates.last().unwrap().body.contains("rescheduled"));
    assert_eq!(
        jobs(&app).await,
        [
            (MaintenanceStep::Remind, at(240)),
            (MaintenanceStep::Start, at(300)),
            (MaintenanceStep::Complete, at(360)),
        ]
    );
    let windows = app.admin.maintenance(&api_service).await.unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(
        (windows[0].starts_at, windows[0].ends_at),
        (at(300), at(360))
    );

    // The old start time passes: nothing happens.
    app.clock.advance(SignedDuration::from_mins(130));
    app.run_jobs().await;
    assert_eq!(
        app.admin.scheduled_maintenance(m.id).await.unwrap().status,
        MaintenanceStatus::Scheduled
    );
    assert_eq!(
        app.admin.component(api).await.unwrap().status,
        ComponentStatus::Operational
    );

    // Without automatic start, only the reminder and the completion stay planned.
    app.admin
        .change_maintenance(
            m.id,
            &MaintenanceChange {
                auto_start: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        jobs(&app).await,
        [
            (MaintenanceStep::Remind, at(240)),
            (MaintenanceStep::Complete, at(360)),
        ]
    );

    let cancelled = app
        .admin
        .post_maintenance_update(
            m.id,
            &MaintenancePost {
                status: Some(MaintenanceStatus::Cancelled),
                body: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(cancelled.status, MaintenanceStatus::Cancelled);
    assert!(jobs(&app).await.is_empty());
    assert!(app
        .admin
        .maintenance(&api_service)
        .await
        .unwrap()
        .is_empty());
    for path in [
        "summary.json",
        "scheduled-maintenances.json",
        "scheduled-maintenances/upcoming.json",
    ] {
        assert_eq!(names(&v2(&app, path).await).len(), 0, "{path}");
    }
    assert!(!text(&app, "/status").await.contains("Database upgrade"));
    app.cleanup().await;
}

#[tokio::test]
async fn rescheduling_moves_jobs_and_windows_and_cancelling_removes_them() {
    moved_then_cancelled(spawn_app().await).await;
}

#[tokio::test]
async fn rescheduling_moves_jobs_and_windows_and_cancelling_removes_them_on_postgres() {
    let Some(app) = spawn_app_postgres().await else {
        return;
    };
    moved_then_cancelled(app).await;
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (api, _, _) = components(&app).await;
    let m = app
        .admin
        .schedule_maintenance(&upgrade(vec![api], 120, 240))
        .await
        .unwrap();
    let version = app.state().store.status_page_version().await.unwrap();
    let before_jobs = jobs(&app).await;

    let p = problem(
        app.admin
            .schedule_maintenance(&upgrade(vec![ComponentId(999)], 120, 240))
            .await,
    );
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "components"));
    assert!(p.detail.contains("no component 999"));

    let p = problem(
        app.admin
            .schedule_maintenance(&upgrade(vec![api], 240, 120))
            .await,
    );
    assert_eq!(
        (p.status, p.errors[0].field.as_str()),
        (422, "scheduled_until")
    );
    assert!(p.errors[0].message.contains("before it starts"), "{p:?}");

    let responder = app.user("rita", Scope::Responder).await;
    let p = problem(
        responder
            .schedule_maintenance(&upgrade(vec![api], 120, 240))
            .await,
    );
    assert_eq!(p.status, 403);
    let p = problem(
        responder
            .post_maintenance_update(
                m.id,
                &MaintenancePost {
                    status: Some(MaintenanceStatus::InProgress),
                    body: None,
                },
            )
            .await,
    );
    assert_eq!(p.status, 403);
    // Reading is for everyone signed in.
    assert_eq!(
        responder.scheduled_maintenance(m.id).await.unwrap().id,
        m.id
    );

    let p = problem(
        app.admin
            .scheduled_maintenance(ScheduledMaintenanceId(999))
            .await,
    );
    assert_eq!(p.status, 404);
    let p = problem(
        app.admin
            .change_maintenance(
                ScheduledMaintenanceId(999),
                &MaintenanceChange {
                    name: Some("x".into()),
                    ..Default::default()
                },
            )
            .await,
    );
    assert_eq!(p.status, 404);

    let p = problem(
        app.admin
            .post_maintenance_update(
                m.id,
                &MaintenancePost {
                    status: Some(MaintenanceStatus::Completed),
                    body: None,
                },
            )
            .await,
    );
    assert_eq!(p.status, 409);
    assert!(
        p.detail.contains("start it first"),
        "the refusal says what to do"
    );
    let p = problem(
        app.admin
            .change_maintenance(
                m.id,
                &MaintenanceChange {
                    scheduled_until: Some(at(60)),
                    ..Default::default()
                },
            )
            .await,
    );
    assert_eq!(p.status, 422);

    // A body that is not JSON of the right shape is refused before anything runs.
    let r = app
        .http()
        .post(app.api("/maintenances"))
        .bearer_auth(common::ADMIN_TOKEN)
        .json(&json!({"name": "x", "components": [1], "scheduled_for": "tomorrow", "scheduled_until": "2026-11-27T10:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    assert_eq!(
        app.admin.scheduled_maintenances().await.unwrap(),
        std::slice::from_ref(&m)
    );
    assert_eq!(app.admin.scheduled_maintenance(m.id).await.unwrap(), m);
    assert_eq!(jobs(&app).await, before_jobs);
    assert_eq!(
        app.state().store.status_page_version().await.unwrap(),
        version
    );
    app.cleanup().await;
}

/// Started and completed by hand, through verifying, with updates of its own.
#[tokio::test]
async fn an_engineer_starts_verifies_and_completes_it_by_hand() {
    let app = spawn_app().await;
    let (api, _, _) = components(&app).await;
    let mut new = upgrade(vec![api], 120, 240);
    new.mute_services = false;
    new.auto_complete = Some(false);
    let m = app.admin.schedule_maintenance(&new).await.unwrap();
    assert_eq!(
        jobs(&app).await,
        [
            (MaintenanceStep::Remind, at(60)),
            (MaintenanceStep::Start, at(120)),
        ]
    );
    assert!(app
        .admin
        .maintenance(&ServiceName::parse("api").unwrap())
        .await
        .unwrap()
        .is_empty());
    let post = |status: Option<MaintenanceStatus>, body: Option<&str>| MaintenancePost {
        status,
        body: body.map(str::to_owned),
    };
    let started = app
        .admin
        .post_maintenance_update(m.id, &post(Some(MaintenanceStatus::InProgress), None))
        .await
        .unwrap();
    assert_eq!(started.started_at, Some(at(0)));
    assert!(jobs(&app).await.is_empty(), "nothing left for the engine");
    assert_eq!(
        app.admin.component(api).await.unwrap().status,
        ComponentStatus::UnderMaintenance
    );
    app.admin
        .post_maintenance_update(
            m.id,
            &post(
                Some(MaintenanceStatus::Verifying),
                Some("Checking replication."),
            ),
        )
        .await
        .unwrap();
    app.admin
        .post_maintenance_update(m.id, &post(None, Some("Replication is healthy.")))
        .await
        .unwrap();
    let active = v2(&app, "scheduled-maintenances/active.json").await;
    let updates = &active["scheduled_maintenances"][0]["incident_updates"];
    assert_eq!(updates[0]["body"], "Replication is healthy.");
    assert_eq!(updates[0]["status"], "verifying");
    assert_eq!(updates[1]["status"], "verifying");
    assert!(text(&app, "/history.atom")
        .await
        .contains("&lt;strong&gt;Update&lt;/strong&gt;"));
    let done = app
        .admin
        .post_maintenance_update(m.id, &post(Some(MaintenanceStatus::Completed), None))
        .await
        .unwrap();
    assert_eq!(done.updates.len(), 5);
    assert_eq!(
        app.admin.component(api).await.unwrap().status,
        ComponentStatus::Operational
    );
    let p = problem(
        app.admin
            .post_maintenance_update(m.id, &post(None, Some("more")))
            .await,
    );
    assert_eq!(p.status, 409);
    validate(&app).await;
    app.cleanup().await;
}

/// Every Statuspage v2 path about maintenance, and the summary.
const V2: [&str; 4] = [
    "summary.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
];

/// Validates the maintenance answers against the JSON Schema of the Statuspage shapes,
/// with Python's `jsonschema` (which CI installs); skipped where it is missing.
async fn validate(app: &TestApp) {
    let installed = std::process::Command::new("python3")
        .args(["-c", "import jsonschema"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install the jsonschema Python package"
        );
        eprintln!("skipping the JSON Schema check: `pip install jsonschema` to run it");
        return;
    }
    let mut answers = serde_json::Map::new();
    for path in V2 {
        answers.insert(path.to_owned(), v2(app, path).await);
    }
    let dir = std::env::temp_dir().join(format!("klaxon-maintenance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "answers-{}.json",
        app.url.rsplit(':').next().unwrap()
    ));
    std::fs::write(&file, serde_json::to_vec(&answers).unwrap()).unwrap();
    let schemas = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas");
    let out = tokio::process::Command::new("python3")
        .arg(schemas.join("validate.py"))
        .arg(schemas.join("statuspage-v2.schema.json"))
        .arg(&file)
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "the answers break the Statuspage schema:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
