//! PagerDuty Events API v2 at `/v2/enqueue`: exact answers, dedup while open, alerts
//! opening and joining incidents by the service's grouping.

mod common;

use common::{spawn_app, TestApp};
use klaxon_domain::alert::{Alert, AlertStatus};
use klaxon_domain::api::IncidentQuery;
use klaxon_domain::service::{AlertRules, Grouping, NewService, ServiceName};
use serde_json::{json, Value};

async fn service(app: &TestApp, name: &str, grouping: Grouping) -> String {
    let new = NewService {
        name: ServiceName::parse(name).unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: AlertRules {
            grouping,
            ..Default::default()
        },
    };
    app.admin
        .create_service(&new)
        .await
        .unwrap()
        .integration_key
        .unwrap()
}

async fn send(app: &TestApp, body: &Value) -> (u16, Value) {
    let r = app
        .http()
        .post(format!("{}/v2/enqueue", app.url))
        .json(body)
        .send()
        .await
        .unwrap();
    app.settle().await;
    (r.status().as_u16(), r.json().await.unwrap())
}

fn trigger(key: &str, dedup: Option<&str>, severity: &str) -> Value {
    let mut body = json!({
        "routing_key": key,
        "event_action": "trigger",
        "payload": {
            "summary": "DISK at 99% on machine prod-datapipe03.example.com",
            "source": "prod-datapipe03.example.com",
            "severity": severity,
            "timestamp": "2015-07-17T08:42:58.315+0000",
            "component": "mysql",
            "group": "prod-datapipe",
            "custom_details": {"free space": "1%"}
        },
        "client": "Sample Monitoring Service"
    });
    if let Some(d) = dedup {
        body["dedup_key"] = json!(d);
    }
    body
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

async fn incident_count(app: &TestApp) -> usize {
    app.settle().await;
    app.admin
        .list_incidents(&IncidentQuery {
            limit: Some(200),
            ..Default::default()
        })
        .await
        .unwrap()
        .incidents
        .len()
}

#[tokio::test]
async fn trigger_acknowledge_resolve_as_the_events_api_does() {
    let app = spawn_app().await;
    let key = service(&app, "db", Grouping::PerAlert).await;
    let (status, body) = send(&app, &trigger(&key, Some("srv01/mysql"), "critical")).await;
    assert_eq!(status, 202);
    assert_eq!(
        body,
        json!({"status": "success", "message": "Event processed", "dedup_key": "srv01/mysql"})
    );
    let (status, _) = send(&app, &trigger(&key, Some("srv01/mysql"), "critical")).await;
    assert_eq!(status, 202);
    let all = alerts(&app).await;
    assert_eq!(all.len(), 1, "a repeat trigger adds to the open alert");
    assert_eq!(
        (all[0].repeat_count, all[0].status),
        (2, AlertStatus::Triggered)
    );
    assert_eq!(incident_count(&app).await, 1);
    let n = all[0].incident.unwrap();
    let shown = app.admin.incident(n).await.unwrap();
    assert_eq!(shown.incident.severity.level(), 2, "critical opens SEV2");
    assert_eq!(shown.incident.service.as_deref(), Some("db"));
    let first = &shown.timeline.unwrap()[0];
    assert_eq!(
        (first.actor.as_str(), first.source),
        ("klaxon", klaxon_domain::incident::Source::Alert)
    );

    let ack =
        json!({"routing_key": key, "dedup_key": "srv01/mysql", "event_action": "acknowledge"});
    assert_eq!(
        send(&app, &ack).await,
        (
            202,
            json!({"status": "success", "message": "Event processed", "dedup_key": "srv01/mysql"})
        )
    );
    assert_eq!(alerts(&app).await[0].status, AlertStatus::Acknowledged);
    let resolve =
        json!({"routing_key": key, "dedup_key": "srv01/mysql", "event_action": "resolve"});
    assert_eq!(send(&app, &resolve).await.0, 202);
    assert_eq!(alerts(&app).await[0].status, AlertStatus::Resolved);
    send(&app, &trigger(&key, Some("srv01/mysql"), "critical")).await;
    assert_eq!(
        alerts(&app).await.len(),
        2,
        "after resolution the same key opens a new alert"
    );
    assert_eq!(incident_count(&app).await, 2);

    let r = app
        .http()
        .get(app.api(&format!("/alerts/{}", all[0].id)))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let detail: Value = r.json().await.unwrap();
    let actions: Vec<_> = detail["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["trigger", "trigger", "acknowledge", "resolve"]);
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn keys_are_made_up_unknown_keys_change_nothing_and_info_opens_no_incident() {
    let app = spawn_app().await;
    let key = service(&app, "db", Grouping::PerAlert).await;
    let (status, body) = send(&app, &trigger(&key, None, "error")).await;
    assert_eq!(status, 202);
    let made_up = body["dedup_key"].as_str().unwrap();
    assert_eq!(made_up.len(), 32);
    let resolve = json!({"routing_key": key, "dedup_key": "never-seen", "event_action": "resolve"});
    assert_eq!(
        send(&app, &resolve).await,
        (
            202,
            json!({"status": "success", "message": "Event processed", "dedup_key": "never-seen"})
        )
    );
    send(&app, &trigger(&key, Some("fyi"), "info")).await;
    let all = alerts(&app).await;
    assert_eq!(all.len(), 2);
    let info = all.iter().find(|a| a.dedup_key == "fyi").unwrap();
    assert_eq!(info.incident, None, "info is an alert only");
    assert_eq!(incident_count(&app).await, 1);
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn invalid_events_get_pagerduty_errors_and_store_nothing() {
    let app = spawn_app().await;
    let key = service(&app, "db", Grouping::PerAlert).await;
    let cases = [
        (
            json!({"event_action": "trigger", "payload": {"summary": "x", "source": "y", "severity": "critical"}}),
            "routing_key",
        ),
        (
            trigger("0123456789abcdef0123456789abcdef", None, "critical"),
            "routing_key",
        ),
        (trigger(&key, None, "catastrophic"), "payload.severity"),
        (
            json!({"routing_key": key, "event_action": "trigger"}),
            "payload",
        ),
        (
            json!({"routing_key": key, "event_action": "resolve"}),
            "dedup_key",
        ),
        (
            json!({"routing_key": key, "event_action": "explode", "dedup_key": "x"}),
            "event_action",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = send(&app, &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["status"], "invalid event");
        assert!(
            answer["errors"].to_string().contains(field),
            "{field} not named in {answer}"
        );
    }
    assert!(alerts(&app).await.is_empty());
    assert_eq!(incident_count(&app).await, 0);
    app.cleanup().await;
}

/// Sends every body to `/v2/enqueue` concurrently; each must be accepted.
async fn send_all_at_once(app: &TestApp, bodies: impl Iterator<Item = Value>) {
    let sends: Vec<_> = bodies
        .map(|body| {
            let http = app.http();
            let url = format!("{}/v2/enqueue", app.url);
            tokio::spawn(async move {
                http.post(url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for s in sends {
        assert_eq!(s.await.unwrap(), 202);
    }
}

/// Thousands of alerts under time-window grouping make one incident, not thousands.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_under_time_window_grouping_opens_one_incident() {
    let app = spawn_app().await;
    let key = service(&app, "api", Grouping::TimeWindow { minutes: 10 }).await;
    let bodies = (0..300).map(|i| trigger(&key, Some(&format!("host-{i}")), "critical"));
    send_all_at_once(&app, bodies).await;
    assert_eq!(incident_count(&app).await, 1);
    let page = app
        .admin
        .list_incidents(&IncidentQuery::default())
        .await
        .unwrap();
    assert_eq!(page.incidents[0].incident.alert_count, 300);
    // The incident's first escalation step may have lost the race with the storm's
    // joins too often to record its outcome; it runs again when its lease is over.
    app.settle().await;
    app.clock.advance(jiff::SignedDuration::from_secs(31));
    app.drain().await;
    app.cleanup().await;
}

/// Under `per-alert` grouping new alerts are opened in parallel (no per-service lock):
/// a storm of new keys, each sent twice at once, opens one alert and one incident per
/// key and counts every event.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_of_new_alerts_opens_one_incident_per_alert() {
    let app = spawn_app().await;
    let key = service(&app, "api", Grouping::PerAlert).await;
    let bodies = (0..300).map(|i| trigger(&key, Some(&format!("host-{}", i % 150)), "critical"));
    send_all_at_once(&app, bodies).await;
    let all = alerts(&app).await;
    assert_eq!(all.len(), 150);
    assert!(
        all.iter().all(|a| a.repeat_count == 2),
        "every event counted once"
    );
    let mut incidents: Vec<_> = all.iter().map(|a| a.incident.unwrap()).collect();
    incidents.sort();
    incidents.dedup();
    assert_eq!(incidents.len(), 150, "one incident per alert");
    assert_eq!(incident_count(&app).await, 150);
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn by_field_grouping_joins_alerts_that_share_the_value() {
    let app = spawn_app().await;
    let key = service(
        &app,
        "db",
        Grouping::ByField {
            field: "group".into(),
        },
    )
    .await;
    let with_group = |dedup: &str, group: &str| {
        let mut body = trigger(&key, Some(dedup), "critical");
        body["payload"]["group"] = json!(group);
        body
    };
    send(&app, &with_group("a", "eu")).await;
    send(&app, &with_group("b", "eu")).await;
    send(&app, &with_group("c", "us")).await;
    let all = alerts(&app).await;
    let incident_of = |k: &str| all.iter().find(|a| a.dedup_key == k).unwrap().incident;
    assert_eq!(incident_of("a"), incident_of("b"));
    assert_ne!(incident_of("a"), incident_of("c"));
    assert_eq!(incident_count(&app).await, 2);
    app.drain().await;
    app.cleanup().await;
}

async fn with_rules(app: &TestApp, name: &str, rules: AlertRules) -> String {
    let new = NewService {
        name: ServiceName::parse(name).unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules,
    };
    app.admin
        .create_service(&new)
        .await
        .unwrap()
        .integration_key
        .unwrap()
}

/// Acknowledging the incident acknowledges its alerts, and an Events API acknowledge of an
/// alert acknowledges its incident; resolving the incident resolves its alerts.
#[tokio::test]
async fn incidents_and_their_alerts_acknowledge_and_resolve_together() {
    use klaxon_domain::api::{AckRequest, ResolveRequest};
    use klaxon_domain::incident::Status;
    let app = spawn_app().await;
    let key = service(&app, "db", Grouping::TimeWindow { minutes: 30 }).await;
    send(&app, &trigger(&key, Some("a"), "critical")).await;
    send(&app, &trigger(&key, Some("b"), "critical")).await;
    let n = alerts(&app).await[0].incident.unwrap();
    app.admin.ack(n, &AckRequest::default()).await.unwrap();
    assert!(alerts(&app)
        .await
        .iter()
        .all(|a| a.status == AlertStatus::Acknowledged));
    app.admin
        .resolve(n, &ResolveRequest::default())
        .await
        .unwrap();
    assert!(alerts(&app)
        .await
        .iter()
        .all(|a| a.status == AlertStatus::Resolved));

    send(&app, &trigger(&key, Some("c"), "critical")).await;
    let c = alerts(&app)
        .await
        .into_iter()
        .find(|a| a.dedup_key == "c")
        .unwrap();
    let m = c.incident.unwrap();
    assert_ne!(m, n, "a resolved incident takes no new alerts");
    send(
        &app,
        &json!({"routing_key": key, "dedup_key": "c", "event_action": "acknowledge"}),
    )
    .await;
    let shown = app.admin.incident(m).await.unwrap();
    assert_eq!(shown.incident.status, Status::Acknowledged);
    let ack = shown
        .timeline
        .unwrap()
        .into_iter()
        .find(|e| e.kind.name() == "acknowledged")
        .unwrap();
    assert_eq!(ack.source, klaxon_domain::incident::Source::Alert);
    app.drain().await;
    app.cleanup().await;
}

/// When the last alert resolves the timeline says so; the incident resolves too only if
/// the service asks for auto-resolve.
#[tokio::test]
async fn the_last_alert_resolving_is_noted_and_auto_resolves_when_asked() {
    use klaxon_domain::incident::{EventKind, Status};
    let app = spawn_app().await;
    let manual = service(&app, "manual", Grouping::TimeWindow { minutes: 30 }).await;
    let auto = with_rules(
        &app,
        "auto",
        AlertRules {
            grouping: Grouping::TimeWindow { minutes: 30 },
            auto_resolve: true,
            ..Default::default()
        },
    )
    .await;
    for key in [&manual, &auto] {
        send(&app, &trigger(key, Some("x"), "critical")).await;
        send(&app, &trigger(key, Some("y"), "critical")).await;
        send(
            &app,
            &json!({"routing_key": key, "dedup_key": "x", "event_action": "resolve"}),
        )
        .await;
    }
    let incident_of = |key_alerts: Vec<Alert>, service: klaxon_domain::ServiceId| {
        key_alerts
            .into_iter()
            .find(|a| a.service_id == service)
            .unwrap()
            .incident
            .unwrap()
    };
    let services = app.admin.services().await.unwrap();
    let id = |name: &str| {
        services
            .iter()
            .find(|s| s.name.as_str() == name)
            .unwrap()
            .id
    };
    let manual_n = incident_of(alerts(&app).await, id("manual"));
    let auto_n = incident_of(alerts(&app).await, id("auto"));
    let noted =
        |view: &klaxon_domain::incident::IncidentView| {
            view.timeline.as_ref().unwrap().iter().any(
                |e| matches!(&e.kind, EventKind::Noted { text } if text.contains("All alerts")),
            )
        };
    assert!(
        !noted(&app.admin.incident(manual_n).await.unwrap()),
        "one alert is still open"
    );
    for key in [&manual, &auto] {
        send(
            &app,
            &json!({"routing_key": key, "dedup_key": "y", "event_action": "resolve"}),
        )
        .await;
    }
    let manual_view = app.admin.incident(manual_n).await.unwrap();
    assert!(noted(&manual_view));
    assert_eq!(
        manual_view.incident.status,
        Status::Triggered,
        "auto-resolve is off by default"
    );
    let auto_view = app.admin.incident(auto_n).await.unwrap();
    assert!(noted(&auto_view));
    assert_eq!(auto_view.incident.status, Status::Resolved);
    app.drain().await;
    app.cleanup().await;
}

/// The Events API v1 answers 200 with `incident_key`, as Alertmanager's `service_key`
/// configuration expects.
#[tokio::test]
async fn the_v1_events_api_answers_as_pagerduty_did() {
    let app = spawn_app().await;
    let key = service(&app, "legacy", Grouping::PerAlert).await;
    let url = format!("{}/generic/2010-04-15/create_event.json", app.url);
    let body = json!({"service_key": key, "event_type": "trigger", "incident_key": "srv01/disk", "description": "Disk full", "details": {"free": "0%"}});
    let r = app.http().post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"status": "success", "message": "Event processed", "incident_key": "srv01/disk"})
    );
    let resolve =
        json!({"service_key": key, "event_type": "resolve", "incident_key": "srv01/disk"});
    assert_eq!(
        app.http()
            .post(&url)
            .json(&resolve)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(alerts(&app).await[0].status, AlertStatus::Resolved);
    let bad = json!({"service_key": key, "event_type": "trigger"});
    let r = app.http().post(&url).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let answer: Value = r.json().await.unwrap();
    assert!(
        answer["errors"].to_string().contains("description"),
        "{answer}"
    );
    app.drain().await;
    app.cleanup().await;
}

/// A key over its rate gets 429 with Retry-After, and what it sent is not stored.
#[tokio::test]
async fn a_runaway_key_is_throttled() {
    let app = common::spawn_app_with_rate_limit(2).await;
    let key = service(&app, "noisy", Grouping::PerAlert).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..8 {
        let r = app
            .http()
            .post(format!("{}/v2/enqueue", app.url))
            .json(&trigger(&key, Some(&format!("k{i}")), "info"))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            retry_after = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["status"], "throttle event");
            statuses.push(429);
        } else {
            statuses.push(r.status().as_u16());
        }
    }
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        (4..8).contains(&accepted),
        "a burst of twice the rate gets through: {statuses:?}"
    );
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
    assert_eq!(
        alerts(&app).await.len(),
        accepted,
        "throttled events are not stored"
    );
    let hook = app
        .http()
        .post(format!("{}/ingest/generic/{key}", app.url))
        .json(&json!({"summary": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.status(), 429, "webhooks share the key's limit");
    app.cleanup().await;
}

/// During a maintenance window alerts are recorded but open no incident; after it they do.
#[tokio::test]
async fn maintenance_windows_keep_alerts_from_opening_incidents() {
    use klaxon_domain::service::NewMaintenance;
    let app = spawn_app().await;
    let key = service(&app, "db", Grouping::PerAlert).await;
    let name = ServiceName::parse("db").unwrap();
    let ends: jiff::Timestamp = "2026-11-26T11:00:00Z".parse().unwrap();
    let window = NewMaintenance {
        starts_at: None,
        ends_at: ends,
        reason: "PostgreSQL 16 upgrade".into(),
    };
    let created = app.admin.add_maintenance(&name, &window).await.unwrap();
    assert_eq!(
        app.admin.maintenance(&name).await.unwrap(),
        std::slice::from_ref(&created)
    );
    send(&app, &trigger(&key, Some("during"), "critical")).await;
    assert_eq!(
        alerts(&app).await[0].incident,
        None,
        "recorded, but no incident during maintenance"
    );
    app.clock.advance(jiff::SignedDuration::from_hours(2));
    send(&app, &trigger(&key, Some("after"), "critical")).await;
    let after = alerts(&app)
        .await
        .into_iter()
        .find(|a| a.dedup_key == "after")
        .unwrap();
    assert!(after.incident.is_some());
    let bad = NewMaintenance {
        starts_at: None,
        ends_at: "2026-11-26T09:00:00Z".parse().unwrap(),
        reason: "x".into(),
    };
    let p = common::problem(app.admin.add_maintenance(&name, &bad).await);
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "ends_at"));
    app.admin
        .remove_maintenance(&name, created.id)
        .await
        .unwrap();
    assert_eq!(
        common::problem(app.admin.remove_maintenance(&name, created.id).await).status,
        404
    );
    app.drain().await;
    app.cleanup().await;
}

/// A burst of repeats, resolves and new triggers for a few keys, accepted faster than
/// they are applied, ends exactly as if each had been applied alone: repeats counted
/// in bulk, a resolve in the middle of a key's events closes its alert, the trigger
/// after it opens a new one.
#[tokio::test]
async fn a_burst_applies_as_if_one_event_at_a_time() {
    let app = spawn_app().await;
    let key = service(&app, "api", Grouping::PerAlert).await;
    send(&app, &trigger(&key, Some("a"), "warning")).await;
    let resolve_a = json!({"routing_key": key, "event_action": "resolve", "dedup_key": "a"});
    let mut bodies = vec![];
    bodies.extend((0..5).map(|_| trigger(&key, Some("a"), "warning")));
    bodies.push(resolve_a);
    bodies.push(trigger(&key, Some("a"), "warning"));
    bodies.extend((0..3).map(|_| trigger(&key, Some("b"), "warning")));
    for body in &bodies {
        app.enqueue(body).await;
    }
    let all = alerts(&app).await;
    let mut summary: Vec<(String, AlertStatus, i64)> = all
        .iter()
        .map(|a| (a.dedup_key.clone(), a.status, a.repeat_count))
        .collect();
    summary.sort_by_key(|s| (s.0.clone(), s.2));
    assert_eq!(
        summary,
        [
            ("a".to_owned(), AlertStatus::Triggered, 1),
            ("a".to_owned(), AlertStatus::Resolved, 6),
            ("b".to_owned(), AlertStatus::Triggered, 3),
        ]
    );
    let first_a = all
        .iter()
        .find(|a| a.dedup_key == "a" && a.status == AlertStatus::Resolved)
        .unwrap();
    let detail: Value = app
        .http()
        .get(app.api(&format!("/alerts/{}", first_a.id)))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["log"].as_array().unwrap().len(),
        7,
        "every event is on the log: 6 triggers and the resolve"
    );
    app.drain().await;
    app.cleanup().await;
}
