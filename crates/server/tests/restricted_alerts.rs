//! The alerts of a restricted incident: seen only by those who may see the incident,
//! through every route and filter; acting on one obeys the incident's rules and is
//! credited to the person on the incident's timeline.

mod common;

use common::{declare_input, problem, spawn_app, spawn_app_postgres, TestApp};
use klaxon_client::Client;
use klaxon_domain::api::*;
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{EventKind, Source, Status};
use klaxon_domain::service::{AlertRules, Grouping, NewService, ServiceName};
use klaxon_domain::{AlertId, IncidentNumber};
use serde_json::json;

/// Service `auth`, whose alerts join its incident of the last hour, with a restricted
/// incident declared on it by `sec`, which its alert `auth/login-spike` joined; and
/// service `web` with an ordinary alert and incident. The restricted alert's id.
async fn restricted_alert(app: &TestApp, sec: &Client) -> (IncidentNumber, AlertId) {
    let service = |name: &str, grouping| NewService {
        name: ServiceName::parse(name).unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: AlertRules {
            grouping,
            ..Default::default()
        },
    };
    let auth = app
        .admin
        .create_service(&service("auth", Grouping::TimeWindow { minutes: 60 }))
        .await
        .unwrap()
        .integration_key
        .unwrap();
    let web = app
        .admin
        .create_service(&service("web", Grouping::PerAlert))
        .await
        .unwrap()
        .integration_key
        .unwrap();
    let mut input = declare_input("Credential stuffing on login", 1);
    input.restricted = true;
    input.service = Some("auth".into());
    let n = sec.declare(&input).await.unwrap().incident.number;
    for (key, dedup, summary) in [
        (&auth, "auth/login-spike", "Login failures 40x normal"),
        (&web, "web/5xx", "Web 5xx above 1%"),
    ] {
        app.enqueue(
            &json!({"routing_key": key, "event_action": "trigger", "dedup_key": dedup,
            "payload": {"summary": summary, "source": "prometheus", "severity": "critical"}}),
        )
        .await;
    }
    app.settle().await;
    let all = app
        .admin
        .alerts(&AlertQuery::default())
        .await
        .unwrap()
        .alerts;
    let alert = all
        .iter()
        .find(|a| a.dedup_key == "auth/login-spike")
        .unwrap();
    assert_eq!(
        alert.incident,
        Some(n),
        "the alert joined the restricted incident"
    );
    (n, alert.id)
}

/// Every way an outsider can ask for alerts leaves the restricted one out.
async fn sees_no_restricted_alert(who: &Client, n: IncidentNumber, id: AlertId) {
    let listed = |q: AlertQuery| async move {
        who.alerts(&q)
            .await
            .unwrap()
            .alerts
            .into_iter()
            .map(|a| a.dedup_key)
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(AlertQuery::default()).await, ["web/5xx"]);
    let of_incident = AlertQuery {
        incident: Some(n),
        ..Default::default()
    };
    assert!(listed(of_incident).await.is_empty());
    let of_service = AlertQuery {
        service: Some("auth".into()),
        ..Default::default()
    };
    assert!(listed(of_service).await.is_empty());
    let triggered = AlertQuery {
        status: Some(klaxon_domain::alert::AlertStatus::Triggered),
        ..Default::default()
    };
    assert_eq!(listed(triggered).await, ["web/5xx"]);
    let p = problem(who.alert(id, &AlertShowQuery::default()).await);
    assert_eq!(
        (p.status, p.detail),
        (
            404,
            format!("there is no alert {id}; see `klaxon alert list`")
        )
    );
}

async fn alerts_of_restricted_incidents_are_hidden(app: TestApp) {
    let sec = app.user("sec", Scope::Responder).await.with_source("cli");
    let viewer = app.user("vic", Scope::Viewer).await;
    let outsider = app.user("olly", Scope::Responder).await;
    let (n, id) = restricted_alert(&app, &sec).await;
    sees_no_restricted_alert(&viewer, n, id).await;
    sees_no_restricted_alert(&outsider, n, id).await;
    // Acting through the alert answers as if it did not exist, and changes nothing.
    for p in [
        problem(outsider.ack_alert(id).await),
        problem(outsider.resolve_alert(id).await),
    ] {
        assert_eq!(p.status, 404, "{p:?}");
    }
    let incident = app.admin.incident(n).await.unwrap().incident;
    assert_eq!(incident.status, Status::Triggered);
    let alert = app
        .admin
        .alert(id, &AlertShowQuery::default())
        .await
        .unwrap();
    assert_eq!(
        alert.alert.status,
        klaxon_domain::alert::AlertStatus::Triggered
    );
    // The incident's participants and admins see it.
    for who in [&sec, &app.admin] {
        let of_incident = AlertQuery {
            incident: Some(n),
            ..Default::default()
        };
        let listed = who.alerts(&of_incident).await.unwrap();
        assert_eq!(listed.alerts.len(), 1);
        assert!(who.alert(id, &AlertShowQuery::default()).await.is_ok());
    }
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn alerts_of_restricted_incidents_are_hidden_sqlite() {
    alerts_of_restricted_incidents_are_hidden(spawn_app().await).await;
}

#[tokio::test]
async fn alerts_of_restricted_incidents_are_hidden_postgres() {
    if let Some(app) = spawn_app_postgres().await {
        alerts_of_restricted_incidents_are_hidden(app).await;
    }
}

/// What a person does to an incident through its alert is on the timeline as theirs,
/// with where it came from.
#[tokio::test]
async fn acting_through_an_alert_is_credited_to_the_person() {
    let app = spawn_app().await;
    let sec = app.user("sec", Scope::Responder).await.with_source("cli");
    let (n, id) = restricted_alert(&app, &sec).await;
    sec.ack_alert(id).await.unwrap();
    let timeline = app.admin.incident(n).await.unwrap().timeline.unwrap();
    let ack = timeline
        .iter()
        .find(|e| matches!(e.kind, EventKind::Acknowledged))
        .expect("the incident was acknowledged");
    assert_eq!((ack.actor.as_str(), ack.source), ("sec", Source::Cli));
    // Resolving the last alert is said on the timeline, by the person.
    let api = app.user("ann", Scope::Admin).await;
    api.resolve_alert(id).await.unwrap();
    let timeline = app.admin.incident(n).await.unwrap().timeline.unwrap();
    let note = timeline.last().unwrap();
    assert!(matches!(&note.kind, EventKind::Noted { text, .. } if text.contains("All alerts")));
    assert_eq!((note.actor.as_str(), note.source), ("ann", Source::Api));
    app.drain().await;
    app.cleanup().await;
}
