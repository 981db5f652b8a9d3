//! The server-wide event webhook: every timeline event of every incident as one signed
//! JSON document, in seq order per incident, exactly once per event once the receiver
//! answers 2xx; bad configuration refuses to start.

mod common;

use std::time::Duration;

use common::{spawn_postgres, spawn_sqlite, Settings, TestApp};
use jiff::SignedDuration;
use klaxon_domain::api::{MitigateRequest, ResolveRequest};
use klaxon_domain::incident::{DeclareInput, MitigationStrategy, StatusUpdateInput, UpdateKind};
use klaxon_domain::{IncidentNumber, Severity};
use klaxon_notify::webhook::verify;
use klaxon_server::{ChannelConfig, Clock};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "whsec-test-secret";

fn settings(receiver: &MockServer) -> Settings {
    Settings {
        channels: ChannelConfig {
            webhook_secret: Some(SECRET.into()),
            events_webhook: Some(format!("{}/klaxon/events", receiver.uri())),
            ..Default::default()
        },
        ..Settings::default()
    }
}

/// A delivery as the receiver saw it, after checking its signature.
#[derive(Debug)]
struct Received {
    delivery: String,
    event: String,
    body: serde_json::Value,
}

/// Every request the receiver got, in arrival order, each verified with the secret at
/// the test clock's time.
async fn received(app: &TestApp, receiver: &MockServer) -> Vec<Received> {
    let now = app.clock.now().as_second();
    let requests = receiver.received_requests().await.unwrap();
    requests
        .iter()
        .map(|r| {
            let header = |name: &str| r.headers.get(name).unwrap().to_str().unwrap().to_owned();
            verify(
                SECRET.as_bytes(),
                &header("x-klaxon-timestamp"),
                &r.body,
                &header("x-klaxon-signature"),
                now,
                // The test moves its clock by hours between retries.
                Duration::from_secs(86_400),
            )
            .expect("a valid signature");
            Received {
                delivery: header("x-klaxon-delivery"),
                event: header("x-klaxon-event"),
                body: serde_json::from_slice(&r.body).unwrap(),
            }
        })
        .collect()
}

async fn accept(receiver: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/klaxon/events"))
        .respond_with(ResponseTemplate::new(204))
        .mount(receiver)
        .await;
}

/// Declares, updates, mitigates and resolves incident #1.
async fn life_cycle(app: &TestApp) {
    let input = DeclareInput {
        title: "Checkout failing".into(),
        severity: Some(Severity::new(2).unwrap()),
        ..Default::default()
    };
    app.admin.declare(&input).await.unwrap();
    let n = IncidentNumber(1);
    app.admin.ack(n, &Default::default()).await.unwrap();
    let update = StatusUpdateInput {
        status: Some("Rolling back".into()),
        ..StatusUpdateInput::new(UpdateKind::Update)
    };
    app.admin.post_update(n, &update).await.unwrap();
    let mitigate = MitigateRequest {
        strategy: MitigationStrategy::Rollback,
        action: "rolled back to v2.1.2".into(),
        at: None,
    };
    app.admin.mitigate(n, &mitigate).await.unwrap();
    app.admin
        .resolve(n, &ResolveRequest::default())
        .await
        .unwrap();
}

async fn publishes_every_event_signed_and_in_order(app: TestApp, receiver: &MockServer) {
    life_cycle(&app).await;
    app.run_jobs().await;
    let timeline = app
        .admin
        .incident(IncidentNumber(1))
        .await
        .unwrap()
        .timeline
        .unwrap();
    let got = received(&app, receiver).await;
    let seqs: Vec<i64> = got
        .iter()
        .map(|r| r.body["seq"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = timeline.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, expected, "one delivery per event, in seq order");
    for (r, e) in got.iter().zip(&timeline) {
        assert_eq!(r.delivery, format!("incident-1-{}", e.seq));
        assert_eq!(r.body["delivery_id"], r.delivery.as_str());
        assert_eq!(r.event, format!("incident.{}", e.kind.name()));
        assert_eq!(r.body["kind"], e.kind.name());
        assert_eq!(r.body["actor"], e.actor.as_str());
        assert_eq!(r.body["incident"]["number"], 1);
        assert_eq!(r.body["incident"]["title"], "Checkout failing");
        assert_eq!(r.body["incident"]["severity"], 2);
        assert_eq!(r.body["restricted"], false);
        assert_eq!(r.body["drill"], false);
        assert!(r.body["recorded_at"].is_string());
    }
    // Each document carries the incident as that event left it.
    let status = |kind: &str| {
        got.iter()
            .find(|r| r.body["kind"] == kind)
            .map(|r| r.body["incident"]["status"].clone())
            .unwrap()
    };
    assert_eq!(status("declared"), "triggered");
    assert_eq!(status("acknowledged"), "acknowledged");
    assert_eq!(status("mitigated"), "mitigated");
    assert_eq!(status("resolved"), "resolved");
    let mitigated = got.iter().find(|r| r.body["kind"] == "mitigated").unwrap();
    assert_eq!(mitigated.body["data"]["action"], "rolled back to v2.1.2");
    let jobs = app.state().store.jobs(None).await.unwrap();
    assert!(
        jobs.iter().all(|j| j.kind.as_str() != "publish"),
        "{jobs:#?}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn every_event_is_published_signed_and_in_order() {
    let receiver = MockServer::start().await;
    accept(&receiver).await;
    let app = spawn_sqlite(settings(&receiver)).await;
    publishes_every_event_signed_and_in_order(app, &receiver).await;
}

#[tokio::test]
async fn every_event_is_published_signed_and_in_order_on_postgres() {
    let receiver = MockServer::start().await;
    accept(&receiver).await;
    let Some(app) = spawn_postgres(settings(&receiver)).await else {
        eprintln!("skipped: KLAXON_TEST_POSTGRES_URL is not set");
        return;
    };
    publishes_every_event_signed_and_in_order(app, &receiver).await;
}

#[tokio::test]
async fn a_receiver_that_fails_for_a_while_gets_everything_once_in_order() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&receiver)
        .await;
    accept(&receiver).await;
    let app = spawn_sqlite(settings(&receiver)).await;
    life_cycle(&app).await;
    // Retries back off: move the clock on until nothing is left to publish.
    for _ in 0..10 {
        app.run_jobs().await;
        app.clock.advance(SignedDuration::from_mins(30));
    }
    app.run_jobs().await;
    let timeline = app
        .admin
        .incident(IncidentNumber(1))
        .await
        .unwrap()
        .timeline
        .unwrap();
    let requests = receiver.received_requests().await.unwrap();
    assert!(
        requests.len() > timeline.len(),
        "some deliveries failed first"
    );
    let got = received(&app, &receiver).await;
    // What the receiver accepted: every request after the three it refused.
    let accepted: Vec<i64> = got[3..]
        .iter()
        .map(|r| r.body["seq"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = timeline.iter().map(|e| e.seq).collect();
    assert_eq!(
        accepted, expected,
        "all, once each, in order; no failure on the timeline"
    );
    // The refused ones were retries of the first event, never a later one overtaking it.
    assert!(got[..3].iter().all(|r| r.body["seq"] == 1));
    // Only the post-incident review's reminders are left, waiting for its deadline.
    let jobs = app.state().store.jobs(None).await.unwrap();
    assert!(
        jobs.iter()
            .all(|j| j.kind == klaxon_domain::paging::JobKind::ReviewRemind),
        "{jobs:#?}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_receiver_that_never_recovers_leaves_a_dead_job_and_a_metric() {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&receiver)
        .await;
    let app = spawn_sqlite(settings(&receiver)).await;
    let input = DeclareInput {
        title: "Queue stuck".into(),
        severity: Some(Severity::new(3).unwrap()),
        drill: true,
        ..Default::default()
    };
    app.admin.declare(&input).await.unwrap();
    for _ in 0..12 {
        app.run_jobs().await;
        app.clock.advance(SignedDuration::from_mins(40));
    }
    let got = received(&app, &receiver).await;
    assert_eq!(got.len(), 8, "MAX_ATTEMPTS tries");
    assert_eq!(got[0].body["drill"], true, "drills are published, marked");
    let jobs = app.state().store.jobs(None).await.unwrap();
    let publish: Vec<_> = jobs
        .iter()
        .filter(|j| j.kind.as_str() == "publish")
        .collect();
    assert_eq!(publish.len(), 1, "{jobs:#?}");
    assert!(publish[0].dead_at.is_some());
    let timeline = app
        .admin
        .incident(IncidentNumber(1))
        .await
        .unwrap()
        .timeline
        .unwrap();
    assert_eq!(
        timeline.len(),
        1,
        "failures are not written on the timeline: {timeline:#?}"
    );
    let metrics = app
        .http()
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(r#"klaxon_outlet_deliveries_total{outlet="events",outcome="dead"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"klaxon_jobs_dead{kind="publish"} 1"#),
        "the dead job is in the engine's backlog metrics: {text}"
    );
    app.cleanup().await;
}

/// Declares a restricted incident, then an ordinary one, and runs the engine.
async fn declare_restricted_then_public(app: &TestApp) {
    let input = DeclareInput {
        title: "Leaked credentials".into(),
        severity: Some(Severity::new(1).unwrap()),
        restricted: true,
        ..Default::default()
    };
    app.admin.declare(&input).await.unwrap();
    let public = DeclareInput {
        title: "Slow dashboard".into(),
        severity: Some(Severity::new(3).unwrap()),
        ..Default::default()
    };
    app.admin.declare(&public).await.unwrap();
    app.run_jobs().await;
}

#[tokio::test]
async fn restricted_incidents_are_not_published_by_default() {
    let receiver = MockServer::start().await;
    accept(&receiver).await;
    let app = spawn_sqlite(settings(&receiver)).await;
    declare_restricted_then_public(&app).await;
    let got = received(&app, &receiver).await;
    assert!(!got.is_empty(), "the ordinary incident is published");
    assert!(
        got.iter().all(|r| r.body["incident"]["number"] == 2
            && r.body["restricted"] == false
            && !r.body.to_string().contains("Leaked credentials")),
        "{got:#?}"
    );
    let jobs = app.state().store.jobs(None).await.unwrap();
    assert!(
        jobs.iter()
            .all(|j| j.incident.map(|n| n.0) != Some(1) || j.kind.as_str() != "publish"),
        "no publish job is written for the restricted incident: {jobs:#?}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn restricted_incidents_are_published_and_say_so_where_the_policy_allows() {
    let receiver = MockServer::start().await;
    accept(&receiver).await;
    let mut settings = settings(&receiver);
    settings.policy.restricted.publish_events = true;
    let app = spawn_sqlite(settings).await;
    declare_restricted_then_public(&app).await;
    let got = received(&app, &receiver).await;
    let restricted: Vec<_> = got
        .iter()
        .filter(|r| r.body["incident"]["number"] == 1)
        .collect();
    assert!(!restricted.is_empty());
    assert!(restricted
        .iter()
        .all(|r| r.body["restricted"] == true && r.body["incident"]["restricted"] == true));
    app.cleanup().await;
}

#[tokio::test]
async fn without_an_events_webhook_no_publish_job_is_written() {
    let app = spawn_sqlite(Settings::default()).await;
    life_cycle(&app).await;
    let jobs = app.state().store.jobs(None).await.unwrap();
    assert!(
        jobs.iter().all(|j| j.kind.as_str() != "publish"),
        "{jobs:#?}"
    );
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn bad_configuration_is_refused() {
    let start = |channels: ChannelConfig| async move {
        let db = klaxon_store::testing::TempSqlite::new();
        let clock = std::sync::Arc::new(klaxon_server::ManualClock::new(jiff::Timestamp::now()));
        let config = klaxon_server::ServeConfig {
            database_url: db.url.clone(),
            listen: "127.0.0.1:0".parse().unwrap(),
            policy: klaxon_domain::policy::Policy::builtin(),
            bootstrap_token: None,
            public_url: None,
            ingest_rate_limit: None,
            channels,
            metrics_token: None,
            connections: Default::default(),
            status_page: Default::default(),
        };
        match klaxon_server::start(config, clock).await {
            Ok(_) => panic!("started with a bad configuration"),
            Err(e) => e.to_string(),
        }
    };
    let no_secret = start(ChannelConfig {
        events_webhook: Some("https://hooks.example.com/klaxon?token=s3cr3t".into()),
        ..Default::default()
    })
    .await;
    assert!(no_secret.contains("--webhook-secret"), "{no_secret}");
    assert!(!no_secret.contains("s3cr3t"), "{no_secret}");
    let not_http = start(ChannelConfig {
        events_webhook: Some("ftp://hooks.example.com/s3cr3t".into()),
        webhook_secret: Some(SECRET.into()),
        ..Default::default()
    })
    .await;
    assert!(not_http.contains("http:// or https://"), "{not_http}");
    assert!(!not_http.contains("s3cr3t"), "{not_http}");
    let not_a_url = start(ChannelConfig {
        teams_webhook: Some("hooks.example.com/s3cr3t".into()),
        ..Default::default()
    })
    .await;
    assert!(not_a_url.contains("--teams-webhook"), "{not_a_url}");
    assert!(!not_a_url.contains("s3cr3t"), "{not_a_url}");
}
