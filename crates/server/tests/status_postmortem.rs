//! The `postmortem` status on the public status page, over HTTP on a real server (SQLite,
//! and PostgreSQL where configured): once a customer-facing incident is resolved and its
//! post-incident review published, its page incident turns `postmortem` with one more
//! update, in the incident's own page, the history, the Statuspage JSON (checked against
//! the schema) and the feeds, at once (the in-memory view is rebuilt on publication, and
//! the page's version moves for the other replicas). A review published again adds no
//! second update; the review of a restricted incident, of a drill or of an incident that
//! never reached the page never shows.

mod common;

use std::process::Stdio;

use common::{declare_input, spawn_app, spawn_postgres, Settings, TestApp};
use jiff::SignedDuration;
use klaxon_domain::incident::{DeclareInput, StatusUpdateInput, UpdateAudience, UpdateKind};
use klaxon_domain::review::{
    FactorInput, Impact, Lessons, ReviewStatus, RootCauseInput, Summary, WhyNodeInput,
};
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::{NewComponent, POSTMORTEM_BODY};
use klaxon_domain::IncidentNumber;
use klaxon_server::Clock;
use serde_json::Value;

const V2: [&str; 5] = [
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
];

async fn text(app: &TestApp, path: &str) -> String {
    let r = app
        .http()
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.unwrap()
}

async fn json(app: &TestApp, path: &str) -> Value {
    serde_json::from_str(&text(app, &format!("/api/v2/{path}")).await).unwrap()
}

/// Every public answer at once.
async fn everything_public(app: &TestApp) -> String {
    let mut all = text(app, "/status").await;
    for path in V2 {
        all.push_str(&json(app, path).await.to_string());
    }
    for path in ["/history.atom", "/history.rss", "/status/history"] {
        all.push_str(&text(app, path).await);
    }
    all
}

fn customer(kind: UpdateKind, status: &str) -> StatusUpdateInput {
    StatusUpdateInput {
        audience: UpdateAudience::Customer,
        status: Some(status.into()),
        impact: Some("API requests".into()),
        ..StatusUpdateInput::new(kind)
    }
}

/// An incident declared, told to customers if `tell`, resolved; its review (opened by
/// the engine on resolution) filled, submitted and published.
async fn incident_reviewed(app: &TestApp, input: DeclareInput, tell: bool) -> IncidentNumber {
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    if tell {
        app.admin
            .post_update(n, &customer(UpdateKind::Detected, ""))
            .await
            .unwrap();
    }
    app.clock.advance(SignedDuration::from_mins(20));
    app.admin.resolve(n, &Default::default()).await.unwrap();
    if tell {
        app.admin
            .post_update(n, &customer(UpdateKind::Resolved, "The API is back"))
            .await
            .unwrap();
    }
    app.run_jobs().await;
    fill_review(app, n).await;
    app.admin
        .set_review_status(n, ReviewStatus::InReview)
        .await
        .unwrap();
    publish(app, n).await;
    n
}

async fn publish(app: &TestApp, n: IncidentNumber) {
    app.admin
        .set_review_status(n, ReviewStatus::Published)
        .await
        .unwrap();
}

async fn fill_review(app: &TestApp, n: IncidentNumber) {
    let summary = Summary {
        what_happened: "INTERNAL-REVIEW-TEXT: the API pods ran out of memory.".into(),
        ..Summary::default()
    };
    app.admin.review_summary(n, &summary).await.unwrap();
    let impact = Impact {
        description: "Slow API answers for 20 minutes.".into(),
        figures: vec![],
    };
    app.admin.review_impact(n, &impact).await.unwrap();
    let root = RootCauseInput {
        technical_cause: "A memory leak.".into(),
        factors: vec![FactorInput {
            id: None,
            text: "No memory alert".into(),
        }],
        why_not_caught: String::new(),
    };
    app.admin.review_root_cause(n, &root).await.unwrap();
    let why = WhyNodeInput {
        follows: None,
        why: "Why did the API slow down?".into(),
        because: "It ran out of memory.".into(),
    };
    app.admin.add_why(n, &why).await.unwrap();
    let lessons = Lessons {
        went_well: "A fast rollback".into(),
        could_improve: String::new(),
    };
    app.admin.review_lessons(n, &lessons).await.unwrap();
}

async fn scenario(app: TestApp) {
    app.service_key("api").await;
    app.admin
        .create_component(&NewComponent {
            name: "API".into(),
            services: vec![ServiceName::parse("api").unwrap()],
            ..NewComponent::default()
        })
        .await
        .unwrap();
    let on_the_page = DeclareInput {
        service: Some("api".into()),
        customer_facing: true,
        ..declare_input("Elevated API errors", 2)
    };

    // Resolved and told, the incident is `resolved` until its review is published.
    let n = app
        .admin
        .declare(&on_the_page)
        .await
        .unwrap()
        .incident
        .number;
    app.admin
        .post_update(n, &customer(UpdateKind::Detected, ""))
        .await
        .unwrap();
    app.clock.advance(SignedDuration::from_mins(20));
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.admin
        .post_update(n, &customer(UpdateKind::Resolved, "The API is back"))
        .await
        .unwrap();
    app.run_jobs().await;
    fill_review(&app, n).await;
    app.admin
        .set_review_status(n, ReviewStatus::InReview)
        .await
        .unwrap();
    let incidents = json(&app, "incidents.json").await;
    assert_eq!(incidents["incidents"][0]["status"], "resolved");
    let id = incidents["incidents"][0]["id"].as_str().unwrap().to_owned();
    let before = app.state().store.status_page_version().await.unwrap();

    // Published: read at once, without waiting for the page's poll.
    app.clock.advance(SignedDuration::from_hours(5));
    publish(&app, n).await;
    let published_at = klaxon_domain::status::statuspage::time(app.clock.now());
    assert!(
        app.state().store.status_page_version().await.unwrap() > before,
        "the other replicas see the page change"
    );
    let incidents = json(&app, "incidents.json").await;
    let incident = &incidents["incidents"][0];
    assert_eq!(incident["id"], id.as_str());
    assert_eq!(incident["status"], "postmortem");
    assert!(incident["resolved_at"].is_string());
    let newest = &incident["incident_updates"][0];
    assert_eq!(newest["status"], "postmortem");
    assert_eq!(newest["body"], POSTMORTEM_BODY);
    assert_eq!(newest["created_at"], published_at.as_str());
    assert_eq!(newest["affected_components"], Value::Null);
    assert_eq!(incident["incident_updates"][1]["status"], "resolved");
    assert_eq!(incident["incident_updates"].as_array().unwrap().len(), 3);
    // Over for customers: not among the unresolved ones, not in the summary.
    assert_eq!(
        json(&app, "incidents/unresolved.json").await["incidents"],
        serde_json::json!([])
    );
    let summary = json(&app, "summary.json").await;
    assert_eq!(summary["incidents"], serde_json::json!([]));
    assert_eq!(summary["status"]["description"], "All Systems Operational");

    let own = text(&app, &format!("/status/incidents/{id}")).await;
    assert!(own.contains("<strong>Postmortem</strong>"), "{own}");
    assert!(own.contains(POSTMORTEM_BODY), "{own}");
    let history = text(&app, "/status/history").await;
    assert!(history.contains(POSTMORTEM_BODY), "{history}");
    let atom = text(&app, "/history.atom").await;
    assert!(
        atom.contains("&lt;strong&gt;Postmortem&lt;/strong&gt;"),
        "{atom}"
    );
    assert!(atom.contains(POSTMORTEM_BODY), "{atom}");
    let rss = text(&app, "/history.rss").await;
    assert!(rss.contains(POSTMORTEM_BODY), "{rss}");
    validate(&app).await;

    // Reopened as a draft and published again: still one postmortem.
    app.admin
        .set_review_status(n, ReviewStatus::Draft)
        .await
        .unwrap();
    app.admin
        .set_review_status(n, ReviewStatus::InReview)
        .await
        .unwrap();
    publish(&app, n).await;
    let incidents = json(&app, "incidents.json").await;
    let statuses: Vec<&str> = incidents["incidents"][0]["incident_updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["postmortem", "resolved", "investigating"]);

    // Reviews published of a restricted incident, a drill and an incident that never
    // reached the page: nothing of them shows, and nothing else turns postmortem.
    for (input, tell) in [
        (
            DeclareInput {
                restricted: true,
                customer_facing: false,
                ..declare_input("RESTRICTED-TITLE credential leak", 2)
            },
            true,
        ),
        (
            DeclareInput {
                drill: true,
                service: Some("api".into()),
                customer_facing: true,
                ..declare_input("DRILL-TITLE practice outage", 2)
            },
            true,
        ),
        (declare_input("INTERNAL-TITLE batch job slow", 2), false),
    ] {
        let other = incident_reviewed(&app, input, tell).await;
        let review = app.admin.review(other).await.unwrap();
        assert_eq!(review.review.status, ReviewStatus::Published);
    }
    let all = everything_public(&app).await;
    for secret in [
        "RESTRICTED-TITLE",
        "DRILL-TITLE",
        "INTERNAL-TITLE",
        "INTERNAL-REVIEW-TEXT",
    ] {
        assert!(!all.contains(secret), "{secret} reached the public page");
    }
    let incidents = json(&app, "incidents.json").await;
    let listed = incidents["incidents"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{incidents}");
    let postmortems = listed
        .iter()
        .flat_map(|i| i["incident_updates"].as_array().unwrap())
        .filter(|u| u["status"] == "postmortem")
        .count();
    assert_eq!(postmortems, 1);

    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_published_review_turns_the_page_incident_postmortem_sqlite() {
    scenario(spawn_app().await).await;
}

#[tokio::test]
async fn a_published_review_turns_the_page_incident_postmortem_postgres() {
    let Some(app) = spawn_postgres(Settings::default()).await else {
        return;
    };
    scenario(app).await;
}

/// The JSON answers against the Statuspage schema in `tests/schemas/`, where Python's
/// `jsonschema` is installed (CI installs it).
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
    let file = std::env::temp_dir().join(format!(
        "klaxon-postmortem-{}-{}.json",
        std::process::id(),
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
