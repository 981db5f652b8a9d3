//! The public status page end to end, over HTTP on a real server: components follow the
//! incidents that affect them, customer updates reach the page, its Statuspage JSON
//! (checked against the JSON Schema in `tests/schemas/`) and its feeds; internal updates,
//! restricted incidents and drills never do; resolving brings the component back and
//! its uptime bar keeps the outage's minutes; bad input changes nothing; and the page
//! keeps answering from memory when the database does not.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{declare_input, problem, spawn_app, spawn_postgres, Settings, TestApp};
use jiff::SignedDuration;
use klaxon_domain::api::ResolveRequest;
use klaxon_domain::incident::{StatusUpdateInput, UpdateAudience, UpdateKind};
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::{
    ComponentChoice, ComponentStatus, ComponentUpdate, ComponentsRequest, NewComponent,
};
use klaxon_domain::{ComponentId, IncidentNumber};
use serde_json::Value;

/// Every Statuspage v2 path Klaxon serves, below `/api/v2/`.
const V2: [&str; 8] = [
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
];

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    // No token: the public page needs none.
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

async fn json(app: &TestApp, path: &str) -> Value {
    let r = get(app, &format!("/api/v2/{path}")).await;
    assert_eq!(r.status(), 200, "GET {path}");
    assert_eq!(r.headers()["content-type"], "application/json");
    r.json().await.unwrap()
}

/// Everything public at once: the page, every JSON answer and both feeds.
async fn everything_public(app: &TestApp) -> String {
    let mut all = text(app, "/status").await;
    for path in V2 {
        all.push_str(&json(app, path).await.to_string());
    }
    all.push_str(&text(app, "/history.atom").await);
    all.push_str(&text(app, "/history.rss").await);
    all.push_str(&text(app, "/status/history").await);
    all
}

fn component(name: &str) -> NewComponent {
    NewComponent {
        name: name.into(),
        ..NewComponent::default()
    }
}

fn customer(kind: UpdateKind, status: &str, impact: &str) -> StatusUpdateInput {
    StatusUpdateInput {
        audience: UpdateAudience::Customer,
        status: Some(status.into()),
        impact: Some(impact.into()),
        ..StatusUpdateInput::new(kind)
    }
}

/// The page's components: group Core holding API (linked to service `api`) and
/// Dashboard; Webhooks, shown only when degraded.
async fn components(app: &TestApp) -> (ComponentId, ComponentId, ComponentId) {
    app.service_key("api").await;
    let core = app
        .admin
        .create_component(&NewComponent {
            group: true,
            ..component("Core")
        })
        .await
        .unwrap();
    let api = app
        .admin
        .create_component(&NewComponent {
            group_id: Some(core.id),
            services: vec![ServiceName::parse("api").unwrap()],
            description: Some("The public REST API".into()),
            ..component("API")
        })
        .await
        .unwrap();
    app.admin
        .create_component(&NewComponent {
            group_id: Some(core.id),
            ..component("Dashboard")
        })
        .await
        .unwrap();
    let hooks = app
        .admin
        .create_component(&NewComponent {
            only_show_if_degraded: true,
            ..component("Webhooks")
        })
        .await
        .unwrap();
    (core.id, api.id, hooks.id)
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

#[tokio::test]
async fn a_customer_facing_incident_reaches_the_page_and_nothing_internal_does() {
    let app = spawn_app().await;
    let (_, api, _) = components(&app).await;
    let quiet = json(&app, "summary.json").await;
    assert_eq!(quiet["status"]["description"], "All Systems Operational");

    // A SEV2 customer-facing incident on the API service names the API component with
    // the policy's SEV2 suggestion.
    let declared = app
        .admin
        .declare(&klaxon_domain::incident::DeclareInput {
            service: Some("api".into()),
            customer_facing: true,
            ..declare_input("Elevated API errors", 2)
        })
        .await
        .unwrap();
    let n = declared.incident.number;
    assert_eq!(declared.incident.components.len(), 1);
    assert_eq!(declared.incident.components[0].component, api);
    let shown = app.admin.component(api).await.unwrap();
    assert_eq!(shown.status, ComponentStatus::PartialOutage);
    let summary = json(&app, "summary.json").await;
    assert_eq!(status_of(&summary["components"], "API"), "partial_outage");
    assert_eq!(
        status_of(&summary["components"], "Core"),
        "partial_outage",
        "a group takes its components' worst"
    );
    assert_eq!(
        status_of(&summary["components"], "Dashboard"),
        "operational"
    );
    assert_eq!(summary["status"]["indicator"], "major");
    assert_eq!(summary["status"]["description"], "Partial System Outage");

    // The customer acknowledgement is the page's first update.
    app.admin
        .post_update(n, &customer(UpdateKind::Detected, "", "API response times"))
        .await
        .unwrap();
    // An internal update, a note and evidence stay inside.
    app.admin
        .post_update(
            n,
            &StatusUpdateInput {
                status: Some("INTERNAL-ONLY pods OOMKilled".into()),
                ..StatusUpdateInput::new(UpdateKind::Update)
            },
        )
        .await
        .unwrap();
    app.admin
        .note(
            n,
            &klaxon_domain::api::NoteRequest {
                text: "INTERNAL-NOTE heap dump in s3".into(),
                at: None,
            },
        )
        .await
        .unwrap();

    let page = text(&app, "/status").await;
    assert!(page.contains("Elevated API errors"), "{page}");
    assert!(
        page.contains("an issue affecting API response times"),
        "{page}"
    );
    assert!(page.contains("Partial System Outage"));
    assert!(page.len() < 50 * 1024, "the page is {} bytes", page.len());
    assert!(!page.contains("<script"), "the page needs no JavaScript");
    assert!(!page.contains("Webhooks"), "shown only when degraded");

    let summary = json(&app, "summary.json").await;
    let incident = &summary["incidents"][0];
    assert_eq!(incident["name"], "Elevated API errors");
    assert_eq!(incident["status"], "investigating");
    assert_eq!(incident["impact"], "major");
    assert_eq!(incident["components"][0]["name"], "API");
    let update = &incident["incident_updates"][0];
    assert!(update["body"]
        .as_str()
        .unwrap()
        .starts_with("We're aware of an issue affecting API response times"));
    assert_eq!(
        update["affected_components"][0]["new_status"],
        "partial_outage"
    );
    let id = incident["id"].as_str().unwrap();
    assert_eq!(id.len(), 12, "public ids are opaque: {id}");
    let atom = text(&app, "/history.atom").await;
    assert!(
        atom.contains("<title>Elevated API errors</title>"),
        "{atom}"
    );
    assert!(atom.contains(&format!("Incident/{id}</id>")), "{atom}");
    assert!(
        atom.contains("&lt;strong&gt;Investigating&lt;/strong&gt;"),
        "{atom}"
    );
    let rss = text(&app, "/history.rss").await;
    assert!(
        rss.contains("<description>Statuspage</description>"),
        "{rss}"
    );
    let own = text(&app, &format!("/status/incidents/{id}")).await;
    assert!(own.contains("Elevated API errors"));

    // A restricted incident and a drill say things to customers too; none of it shows.
    let restricted = app
        .admin
        .declare(&klaxon_domain::incident::DeclareInput {
            service: Some("api".into()),
            customer_facing: true,
            restricted: true,
            ..declare_input("RESTRICTED-TITLE credential leak", 1)
        })
        .await
        .unwrap()
        .incident;
    assert!(restricted.components.is_empty());
    app.admin
        .post_update(
            restricted.number,
            &customer(UpdateKind::Detected, "", "RESTRICTED-BODY logins"),
        )
        .await
        .unwrap();
    let refused = problem(
        app.admin
            .set_incident_components(
                restricted.number,
                &ComponentsRequest {
                    components: vec![ComponentChoice {
                        component: api,
                        status: None,
                    }],
                },
            )
            .await,
    );
    assert_eq!(refused.status, 409, "{refused:?}");
    let drill = app
        .admin
        .declare(&klaxon_domain::incident::DeclareInput {
            service: Some("api".into()),
            customer_facing: true,
            drill: true,
            ..declare_input("DRILL-TITLE practice outage", 1)
        })
        .await
        .unwrap()
        .incident;
    app.admin
        .post_update(
            drill.number,
            &customer(UpdateKind::Detected, "", "DRILL-BODY"),
        )
        .await
        .unwrap();

    let all = everything_public(&app).await;
    for secret in [
        "INTERNAL-ONLY",
        "INTERNAL-NOTE",
        "RESTRICTED-TITLE",
        "RESTRICTED-BODY",
        "DRILL-TITLE",
        "DRILL-BODY",
    ] {
        assert!(!all.contains(secret), "{secret} reached the public page");
    }
    let summary = json(&app, "summary.json").await;
    assert_eq!(summary["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(
        status_of(&summary["components"], "API"),
        "partial_outage",
        "the drill's SEV1 suggestion does not apply"
    );

    // Thirty minutes later the incident resolves: API is operational again and today's
    // bar keeps the thirty minutes of partial outage.
    app.clock.advance(SignedDuration::from_mins(30));
    app.admin
        .resolve(
            n,
            &ResolveRequest {
                root_cause: None,
                fix: None,
                at: None,
            },
        )
        .await
        .unwrap();
    app.admin
        .post_update(n, &customer(UpdateKind::Resolved, "The API is back", ""))
        .await
        .unwrap();
    let summary = json(&app, "summary.json").await;
    assert_eq!(status_of(&summary["components"], "API"), "operational");
    assert_eq!(summary["status"]["description"], "All Systems Operational");
    assert_eq!(summary["incidents"], serde_json::json!([]));
    let incidents = json(&app, "incidents.json").await;
    let resolved = &incidents["incidents"][0];
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["resolved_at"].is_string());
    let newest = &resolved["incident_updates"][0];
    assert_eq!(newest["status"], "resolved");
    assert_eq!(
        newest["affected_components"][0]["old_status"],
        "partial_outage"
    );
    assert_eq!(
        newest["affected_components"][0]["new_status"],
        "operational"
    );
    assert_eq!(
        app.admin.component(api).await.unwrap().status,
        ComponentStatus::Operational
    );
    let page = text(&app, "/status").await;
    assert!(
        page.contains("Nov 26: Partial outage; 0 min major outage, 30 min partial outage"),
        "{page}"
    );
    // 30 minutes at 30 % out of the 30 minutes API has existed: 9 minutes down.
    assert!(page.contains("70.00 % uptime"), "{page}");
    let history = text(&app, "/status/history?month=2026-11").await;
    assert!(history.contains("Elevated API errors") && history.contains("The API is back"));
    assert!(text(&app, "/status/history?month=2026-10")
        .await
        .contains("No incidents reported this month."));

    validate(&app).await;
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn the_json_answers_like_statuspage_for_every_reader() {
    let app = spawn_app().await;
    let (_, api, _) = components(&app).await;
    for path in V2 {
        // HEAD answers as GET does, without a body: how one exporter detects Statuspage.
        let head = app
            .http()
            .head(format!("{}/api/v2/{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        let h = head.headers();
        for name in ["etag", "last-modified", "cache-control"] {
            assert!(h.contains_key(name), "{path} lacks {name}");
        }
        assert_eq!(h["access-control-allow-origin"], "*");
        assert_eq!(head.text().await.unwrap(), "");
    }
    let first = get(&app, "/api/v2/summary.json").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .http()
        .get(format!("{}/api/v2/summary.json", app.url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // A client that takes gzip gets the same answer compressed (once per build of the
    // page), under its own tag; the plain tag does not match it.
    let gzipped = |etag: Option<&str>| {
        let mut request = app
            .http()
            .get(format!("{}/api/v2/summary.json", app.url))
            .header("accept-encoding", "gzip, deflate, br");
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send()
    };
    let zipped = gzipped(None).await.unwrap();
    assert_eq!(zipped.status(), 200);
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(zipped.headers()["vary"], "accept-encoding");
    assert_eq!(first.headers()["vary"], "accept-encoding");
    let zipped_tag = zipped.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(zipped_tag, etag);
    let mut unzipped = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&zipped.bytes().await.unwrap()[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, first.text().await.unwrap());
    assert_eq!(gzipped(Some(&zipped_tag)).await.unwrap().status(), 304);
    assert_eq!(gzipped(Some(&etag)).await.unwrap().status(), 200);
    let maintenances = json(&app, "scheduled-maintenances/upcoming.json").await;
    assert_eq!(
        maintenances["scheduled_maintenances"],
        serde_json::json!([])
    );
    assert!(maintenances["page"]["id"].is_string());
    let components = json(&app, "components.json").await;
    let core = &components["components"][0];
    assert_eq!(
        (core["name"].as_str(), core["group"].as_bool()),
        (Some("Core"), Some(true))
    );
    assert_eq!(core["components"].as_array().unwrap().len(), 2);
    let api_row = &components["components"][1];
    assert_eq!(api_row["group_id"], core["id"]);
    assert!(api_row.get("components").is_none());
    assert_eq!(components["components"][3]["description"], Value::Null);

    // Fifty-five incidents: the list answers the fifty most recent.
    for i in 0..55 {
        let n = app
            .admin
            .declare(&declare_input(&format!("Incident {i}"), 3))
            .await
            .unwrap()
            .incident
            .number;
        app.admin
            .set_incident_components(
                n,
                &ComponentsRequest {
                    components: vec![ComponentChoice {
                        component: api,
                        status: Some(ComponentStatus::DegradedPerformance),
                    }],
                },
            )
            .await
            .unwrap();
    }
    let list = json(&app, "incidents.json").await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), 50);
    assert_eq!(list["incidents"][0]["name"], "Incident 54");
    // The new ETag differs: the page changed.
    let after = get(&app, "/api/v2/summary.json").await;
    assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
    validate(&app).await;
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (core, api, hooks) = components(&app).await;
    let before = app.admin.components().await.unwrap();
    let page_before = json(&app, "components.json").await;

    let refusals = [
        (
            NewComponent {
                group: true,
                group_id: Some(core),
                ..component("Nested")
            },
            422,
            "groups nest one level",
        ),
        (
            NewComponent {
                group_id: Some(api),
                ..component("Child of a component")
            },
            422,
            "'API' is a component, not a group",
        ),
        (
            NewComponent {
                group_id: Some(ComponentId(999)),
                ..component("Orphan")
            },
            422,
            "there is no component group 999",
        ),
        (
            NewComponent {
                services: vec![ServiceName::parse("nope").unwrap()],
                ..component("Linked")
            },
            422,
            "there is no service 'nope'",
        ),
        (
            component("api"),
            409,
            "a component named 'api' already exists",
        ),
        (component(""), 422, "name the component"),
    ];
    for (new, status, says) in refusals {
        let p = problem(app.admin.create_component(&new).await);
        assert_eq!(p.status, status, "{new:?}: {p:?}");
        assert!(
            p.detail.contains(says),
            "{:?} does not say {says}",
            p.detail
        );
    }
    let moved = problem(
        app.admin
            .update_component(
                core,
                &ComponentUpdate {
                    group_id: Some(Some(hooks)),
                    ..ComponentUpdate::default()
                },
            )
            .await,
    );
    assert_eq!(moved.status, 422, "{moved:?}");
    let by_hand = problem(
        app.admin
            .update_component(
                core,
                &ComponentUpdate {
                    status: Some(ComponentStatus::MajorOutage),
                    ..ComponentUpdate::default()
                },
            )
            .await,
    );
    assert_eq!(by_hand.status, 422);
    assert!(by_hand.detail.contains("is a group"), "{by_hand:?}");
    let full = problem(app.admin.delete_component(core).await);
    assert_eq!(full.status, 409);
    assert!(
        full.detail.contains("still holds API, Dashboard"),
        "{full:?}"
    );
    let viewer = app.user("vera", klaxon_domain::auth::Scope::Viewer).await;
    assert_eq!(
        problem(viewer.create_component(&component("Mine")).await).status,
        403
    );
    let raw = app
        .http()
        .post(app.api("/components"))
        .bearer_auth(common::ADMIN_TOKEN)
        .json(&serde_json::json!({"name": "X", "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422);
    assert_eq!(raw.headers()["content-type"], "application/problem+json");

    // An incident naming an unknown component, or a group, is not declared at all.
    let count = app
        .admin
        .list_incidents(&Default::default())
        .await
        .unwrap()
        .incidents
        .len();
    for choice in [ComponentId(999), core] {
        let p = problem(
            app.admin
                .declare(&klaxon_domain::incident::DeclareInput {
                    components: Some(vec![ComponentChoice {
                        component: choice,
                        status: None,
                    }]),
                    ..declare_input("Nothing to see", 2)
                })
                .await,
        );
        assert_eq!(p.status, 422, "{p:?}");
        assert_eq!(p.errors[0].field, "components");
    }
    assert_eq!(
        app.admin
            .list_incidents(&Default::default())
            .await
            .unwrap()
            .incidents
            .len(),
        count
    );
    let n = app
        .admin
        .declare(&declare_input("Slow dashboard", 3))
        .await
        .unwrap()
        .incident
        .number;
    let version = app.admin.incident(n).await.unwrap().incident.version;
    for (choices, status) in [
        (vec![(ComponentId(999), None)], 422),
        (vec![(core, None)], 422),
        (
            vec![(api, None), (api, Some(ComponentStatus::MajorOutage))],
            422,
        ),
    ] {
        let components = choices
            .into_iter()
            .map(|(component, status)| ComponentChoice { component, status })
            .collect();
        let p = problem(
            app.admin
                .set_incident_components(n, &ComponentsRequest { components })
                .await,
        );
        assert_eq!(p.status, status, "{p:?}");
    }
    let bad_status = app
        .http()
        .post(app.api(&format!("/incidents/{}/components", n.0)))
        .bearer_auth(common::ADMIN_TOKEN)
        .json(&serde_json::json!({"components": [{"component": api.0, "status": "down"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_status.status(), 422);
    assert_eq!(
        app.admin.incident(n).await.unwrap().incident.version,
        version
    );
    let missing = problem(
        app.admin
            .set_incident_components(IncidentNumber(999), &ComponentsRequest::default())
            .await,
    );
    assert_eq!(missing.status, 404);

    // Public pages refuse what they cannot read.
    assert_eq!(
        get(&app, "/status/history?month=november").await.status(),
        400
    );
    assert_eq!(
        get(&app, "/status/incidents/nosuchthing1").await.status(),
        404
    );

    assert_eq!(app.admin.components().await.unwrap(), before);
    assert_eq!(json(&app, "components.json").await, page_before);
    app.drain().await;
    app.cleanup().await;
}

/// A status page on a host name of its own serves only the public routes there.
#[tokio::test]
async fn the_status_host_serves_only_the_public_page() {
    let mut settings = Settings::default();
    settings.status_page.url = Some("https://status.example.com".into());
    settings.status_page.name = "Acme".into();
    let app = common::spawn_sqlite(settings).await;
    let on = |path: &str| {
        app.http()
            .get(format!("{}{path}", app.url))
            .header("host", "status.example.com")
    };
    let root = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/", app.url))
        .header("host", "status.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/status");
    let page = on("/status").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Acme Status"));
    assert_eq!(on("/api/v1/incidents").send().await.unwrap().status(), 404);
    assert_eq!(on("/login").send().await.unwrap().status(), 404);
    let summary: Value = on("/api/v2/summary.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["page"]["url"], "https://status.example.com");
    // The Klaxon host keeps everything.
    assert_eq!(get(&app, "/login").await.status(), 200);
    app.cleanup().await;
}

/// With SQLite locked by another writer, the page and its JSON answer from memory, at
/// once.
#[tokio::test]
async fn the_page_answers_while_sqlite_is_locked() {
    let app = spawn_app().await;
    components(&app).await;
    let path = app.database_url.trim_start_matches("sqlite://").to_owned();
    let mut lock = hold_write_lock(&path);
    let started = Instant::now();
    for _ in 0..3 {
        assert!(text(&app, "/status").await.contains("API"));
        assert_eq!(
            json(&app, "summary.json").await["components"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered in {:?}",
        started.elapsed()
    );
    lock.wait().unwrap();
    app.cleanup().await;
}

/// Holds SQLite's write lock on the file at `path` for three seconds, from another
/// process (a transaction that has written and not committed); returns once it holds it.
fn hold_write_lock(path: &str) -> std::process::Child {
    let script = format!(
        "import sqlite3,time\nc=sqlite3.connect({path:?},isolation_level=None)\n\
         c.execute('BEGIN IMMEDIATE')\nc.execute('UPDATE status_page SET version = version')\n\
         print('locked',flush=True)\ntime.sleep(3)\n"
    );
    let mut child = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");
    child
}

/// With PostgreSQL refusing every connection, the page keeps answering 200 from memory
/// and says since when it could not be refreshed.
#[tokio::test]
async fn the_page_outlives_postgres() {
    let mut settings = Settings::default();
    settings.status_page.poll_interval = Duration::from_millis(100);
    let Some(app) = spawn_postgres(settings).await else {
        return;
    };
    components(&app).await;
    let name = app.database_url.rsplit('/').next().unwrap().to_owned();
    let admin_url = std::env::var("KLAXON_TEST_POSTGRES_URL").unwrap();
    let admin = sqlx_admin(&admin_url).await;
    let cut = |allow: bool| {
        let (admin, name) = (admin.clone(), name.clone());
        async move {
            sqlx::query(&format!(
                "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS {allow}"
            ))
            .execute(&admin)
            .await
            .unwrap();
            if !allow {
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                )
                .bind(&name)
                .execute(&admin)
                .await
                .unwrap();
            }
        }
    };
    cut(false).await;
    // The database is gone for this server: its own reads fail.
    assert!(app.state().store.status_page_version().await.is_err());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = text(&app, "/status").await;
        if page.contains("could not be refreshed since") {
            break;
        }
        assert!(Instant::now() < deadline, "the page never said it is stale");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let started = Instant::now();
    for path in V2 {
        assert!(json(&app, path).await["page"].is_object());
    }
    assert!(text(&app, "/history.atom").await.contains("<feed"));
    assert!(started.elapsed() < Duration::from_secs(2));
    cut(true).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while text(&app, "/status")
        .await
        .contains("could not be refreshed")
    {
        assert!(Instant::now() < deadline, "the page never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    admin.close().await;
    app.cleanup().await;
}

async fn sqlx_admin(url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap()
}

/// Validates every JSON answer against the JSON Schema written from the Statuspage
/// shapes, with Python's `jsonschema` (which CI installs); skipped where it is missing.
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
        answers.insert(path.to_owned(), json(app, path).await);
    }
    let dir = std::env::temp_dir().join(format!("klaxon-statuspage-{}", std::process::id()));
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
