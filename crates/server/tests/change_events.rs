//! PagerDuty change events at `/v2/change/enqueue`: exact answers, and the changes show
//! on the service's incidents as "recent changes".

mod common;

use common::spawn_app;
use klaxon_domain::incident::DeclareInput;
use klaxon_domain::{IncidentNumber, Severity};
use serde_json::{json, Value};

async fn send(app: &common::TestApp, body: &Value) -> (u16, Value) {
    let r = app
        .http()
        .post(format!("{}/v2/change/enqueue", app.url))
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn change(key: &str, summary: &str, at: &str) -> Value {
    json!({
        "routing_key": key,
        "payload": {"summary": summary, "timestamp": at, "source": "github-actions", "custom_details": {"sha": "abc123"}},
        "links": [{"href": "https://ci.example/run/2", "text": "View run"}]
    })
}

async fn recent_changes(app: &common::TestApp, n: IncidentNumber) -> Vec<String> {
    let shown = app.admin.incident(n).await.unwrap();
    shown
        .recent_changes
        .unwrap()
        .into_iter()
        .map(|c| c.summary)
        .collect()
}

#[tokio::test]
async fn changes_are_accepted_exactly_and_shown_on_incidents() {
    let app = spawn_app().await;
    let key = app.service_key("api").await;
    let (status, body) = send(
        &app,
        &change(&key, "Deploy api v2.1.3", "2026-11-26T09:05:00+0000"),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(
        body,
        json!({"status": "success", "message": "Change event processed"})
    );
    send(&app, &change(&key, "Old deploy", "2026-11-26T07:00:00Z")).await;
    let input = DeclareInput {
        title: "API 502s".into(),
        severity: Some(Severity::new(2).unwrap()),
        service: Some("api".into()),
        ..Default::default()
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    assert_eq!(
        recent_changes(&app, n).await,
        ["Deploy api v2.1.3"],
        "only the two hours before the start count"
    );
    let shown = app.admin.incident(n).await.unwrap();
    let c = &shown.recent_changes.unwrap()[0];
    assert_eq!(
        (c.source.as_deref(), c.details["sha"].as_str()),
        (Some("github-actions"), Some("abc123"))
    );
    assert_eq!(c.links[0].href, "https://ci.example/run/2");
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn bad_change_events_get_pagerduty_errors_and_store_nothing() {
    let app = spawn_app().await;
    let key = app.service_key("api").await;
    let (status, body) = send(
        &app,
        &change(
            "0123456789abcdef0123456789abcdef",
            "x",
            "2026-11-26T09:00:00Z",
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["status"], "invalid event");
    assert_eq!(body["message"], "Event object is invalid");
    assert!(
        body["errors"][0].as_str().unwrap().contains("routing_key"),
        "{body}"
    );
    let (status, body) = send(&app, &json!({"routing_key": key, "payload": {}})).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"].to_string().contains("payload.summary"),
        "{body}"
    );
    let (status, _) = send(&app, &json!({"payload": {"summary": "x"}})).await;
    assert_eq!(status, 400);
    let r = app
        .http()
        .post(format!("{}/v2/change/enqueue", app.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let huge = change(&key, &"x".repeat(10), "2026-11-26T09:00:00Z");
    let mut huge = huge;
    huge["payload"]["custom_details"]["blob"] = json!("y".repeat(600 * 1024));
    let (status, body) = send(&app, &huge).await;
    assert_eq!(status, 413, "{body}");
    // Bigger than the REST API's limit but within the Events API's 512 KB: accepted.
    let mut big = change(&key, "Big deploy", "2026-11-26T09:00:00Z");
    big["payload"]["custom_details"]["blob"] = json!("y".repeat(300 * 1024));
    assert_eq!(send(&app, &big).await.0, 202);
    let input = DeclareInput {
        title: "check".into(),
        severity: Some(Severity::new(3).unwrap()),
        service: Some("api".into()),
        ..Default::default()
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    assert_eq!(
        recent_changes(&app, n).await,
        ["Big deploy"],
        "refused events must not be stored"
    );
    // The declaration's announcement and escalation (no policy: nobody paged).
    app.run_jobs().await;
    app.cleanup().await;
}
