//! `/ingest/{format}/{key}`: Alertmanager, Grafana, Sentry and generic webhooks through
//! the real server, with signatures checked and bad input refused without a trace.

mod common;

use common::{spawn_app, TestApp};
use hmac::{Hmac, Mac};
use klaxon_domain::alert::{Alert, AlertStatus};
use klaxon_domain::service::{NewService, ServiceName};
use serde_json::{json, Value};
use sha2::Sha256;

struct Hook {
    key: String,
    secret: String,
}

async fn service(app: &TestApp) -> Hook {
    let new = NewService {
        name: ServiceName::parse("web").unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: Default::default(),
    };
    let s = app.admin.create_service(&new).await.unwrap();
    let k = s.integration_keys.unwrap().remove(0);
    Hook {
        key: k.key,
        secret: k.signing_secret.expose().to_owned(),
    }
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

async fn post(app: &TestApp, path: &str, body: &str, headers: &[(&str, String)]) -> (u16, Value) {
    let mut r = app
        .http()
        .post(format!("{}{path}", app.url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    let r = r.send().await.unwrap();
    app.settle().await;
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn alerts(app: &TestApp) -> Vec<Alert> {
    app.settle().await;
    let r = app
        .http()
        .get(app.api("/alerts?limit=200"))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    r.json::<klaxon_domain::api::AlertPage>()
        .await
        .unwrap()
        .alerts
}

fn alertmanager(status: &str, fingerprints: &[&str]) -> String {
    let alerts: Vec<Value> = fingerprints
        .iter()
        .map(|f| {
            json!({
                "status": status,
                "labels": {"alertname": "InstanceDown", "instance": format!("{f}:9100"), "severity": "critical"},
                "annotations": {"summary": format!("Instance {f} down")},
                "startsAt": "2026-11-26T09:58:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": f
            })
        })
        .collect();
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"InstanceDown\"}", "truncatedAlerts": 0, "status": status,
        "receiver": "team\\.a", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "notification_reason": "new", "alerts": alerts
    })
    .to_string()
}

#[tokio::test]
async fn alertmanager_alerts_fire_and_resolve_by_fingerprint() {
    let app = spawn_app().await;
    let hook = service(&app).await;
    let path = format!("/ingest/alertmanager/{}", hook.key);
    let (status, body) = post(&app, &path, &alertmanager("firing", &["aaa", "bbb"]), &[]).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["alerts"].as_array().unwrap().len(), 2);
    post(&app, &path, &alertmanager("resolved", &["aaa"]), &[]).await;
    let all = alerts(&app).await;
    let by = |f: &str| all.iter().find(|a| a.dedup_key == f).unwrap().status;
    assert_eq!(
        (by("aaa"), by("bbb")),
        (AlertStatus::Resolved, AlertStatus::Triggered)
    );
    app.drain().await;
    app.cleanup().await;
}

/// A service set to `per-group` keeps one alert per Alertmanager notification group,
/// resolved when the group is.
#[tokio::test]
async fn alertmanager_groups_dedup_as_one_alert_when_the_service_asks() {
    use klaxon_domain::service::{AlertRules, AlertmanagerDedup, ServiceUpdate};
    let app = spawn_app().await;
    let hook = service(&app).await;
    let rules = AlertRules {
        alertmanager_dedup: AlertmanagerDedup::PerGroup,
        ..Default::default()
    };
    let update = ServiceUpdate {
        rules: Some(rules),
        ..Default::default()
    };
    let name = ServiceName::parse("web").unwrap();
    app.admin.update_service(&name, &update).await.unwrap();
    let path = format!("/ingest/alertmanager/{}", hook.key);
    let (status, body) = post(&app, &path, &alertmanager("firing", &["aaa", "bbb"]), &[]).await;
    assert_eq!(status, 202, "{body}");
    let group = "{}:{alertname=\"InstanceDown\"}";
    let all = alerts(&app).await;
    assert_eq!(all.len(), 1, "one alert for the group: {all:?}");
    assert_eq!(
        (all[0].dedup_key.as_str(), all[0].status),
        (group, AlertStatus::Triggered)
    );
    post(&app, &path, &alertmanager("resolved", &["aaa", "bbb"]), &[]).await;
    assert_eq!(alerts(&app).await[0].status, AlertStatus::Resolved);
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn signatures_are_checked_on_the_raw_body() {
    let app = spawn_app().await;
    let hook = service(&app).await;
    let sentry_body = json!({
        "action": "triggered",
        "data": {"event": {"event_id": "e4874d66", "issue_id": "1117540176", "title": "ReferenceError: heck is not defined",
                           "level": "error", "web_url": "https://sentry.io/organizations/acme/issues/1117540176/"},
                 "triggered_rule": "Very Important Alert Rule!"},
        "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}
    })
    .to_string();
    let path = format!("/ingest/sentry/{}", hook.key);
    let resource = ("sentry-hook-resource", "event_alert".to_owned());
    let (status, _) = post(
        &app,
        &path,
        &sentry_body,
        &[
            resource.clone(),
            (
                "sentry-hook-signature",
                sign("wrong", sentry_body.as_bytes()),
            ),
        ],
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = post(&app, &path, &sentry_body, std::slice::from_ref(&resource)).await;
    assert_eq!(status, 401, "Sentry always signs: no signature, no entry");
    assert!(alerts(&app).await.is_empty());
    let (status, body) = post(
        &app,
        &path,
        &sentry_body,
        &[
            resource,
            (
                "sentry-hook-signature",
                sign(&hook.secret, sentry_body.as_bytes()),
            ),
        ],
    )
    .await;
    assert_eq!(status, 202, "{body}");

    let grafana_path = format!("/ingest/grafana/{}", hook.key);
    let mut grafana: Value = serde_json::from_str(&alertmanager("firing", &["ggg"])).unwrap();
    grafana["orgId"] = json!(1);
    grafana["state"] = json!("alerting");
    grafana["title"] = json!("[FIRING:1] InstanceDown");
    let grafana = grafana.to_string();
    let (status, _) = post(
        &app,
        &grafana_path,
        &grafana,
        &[(
            "x-grafana-alerting-signature",
            sign("wrong", grafana.as_bytes()),
        )],
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &app,
        &grafana_path,
        &grafana,
        &[(
            "x-grafana-alert-signature",
            sign(&hook.secret, grafana.as_bytes()),
        )],
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(alerts(&app).await.len(), 2);
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn customer_reports_arrive_through_the_generic_webhook() {
    let app = spawn_app().await;
    let hook = service(&app).await;
    let path = format!("/ingest/generic/{}", hook.key);
    let report = json!({"summary": "Checkout fails for EU customers", "severity": "critical", "reporter": "support@acme.example"});
    let (status, body) = post(&app, &path, &report.to_string(), &[]).await;
    assert_eq!(status, 202, "{body}");
    let key = body["alerts"][0]["dedup_key"].as_str().unwrap();
    let listed = alerts(&app).await;
    assert_eq!(listed[0].dedup_key, key, "the answer names the alert's key");
    let alert_id = listed[0].id;
    let detail: Value = app
        .http()
        .get(app.api(&format!("/alerts/{alert_id}")))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["log"][0]["event"]["reporter"],
        "support@acme.example"
    );
    assert!(
        detail["incident"].is_number(),
        "a critical report opens an incident"
    );
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn unknown_keys_formats_and_malformed_bodies_store_nothing() {
    let app = spawn_app().await;
    let hook = service(&app).await;
    let (status, _) = post(
        &app,
        "/ingest/alertmanager/0123456789abcdef0123456789abcdef",
        &alertmanager("firing", &["a"]),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &app,
        "/ingest/alertmanager/short",
        &alertmanager("firing", &["a"]),
        &[],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(&app, &format!("/ingest/nagios/{}", hook.key), "{}", &[]).await;
    assert_eq!(status, 404);
    let (status, body) = post(
        &app,
        &format!("/ingest/alertmanager/{}", hook.key),
        r#"{"hello": "world"}"#,
        &[],
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["errors"].to_string().contains("alerts"), "{body}");
    let (status, _) = post(
        &app,
        &format!("/ingest/generic/{}", hook.key),
        r#"{"severity": "critical"}"#,
        &[],
    )
    .await;
    assert_eq!(status, 400);
    let huge = "x".repeat(600 * 1024);
    let (status, _) = post(&app, &format!("/ingest/generic/{}", hook.key), &huge, &[]).await;
    assert_eq!(status, 413);
    assert!(alerts(&app).await.is_empty());
    app.cleanup().await;
}
