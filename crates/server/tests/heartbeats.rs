//! Heartbeat monitors: a missed ping raises an alert (and an incident), the next ping
//! resolves it; unknown keys are refused.

mod common;

use common::{problem, spawn_app};
use jiff::SignedDuration;
use klaxon_domain::alert::AlertStatus;
use klaxon_domain::service::{NewHeartbeat, NewService, ServiceName};

#[tokio::test]
async fn a_missed_ping_raises_an_alert_and_the_next_ping_resolves_it() {
    let app = spawn_app().await;
    let name = ServiceName::parse("backups").unwrap();
    let new = NewService {
        name: name.clone(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: Default::default(),
    };
    app.admin.create_service(&new).await.unwrap();
    let hb = app
        .admin
        .create_heartbeat(&NewHeartbeat {
            service: name.clone(),
            name: "nightly".into(),
            interval: "5m".into(),
        })
        .await
        .unwrap();
    let key = hb.key.clone().unwrap();
    let state = &app.server.as_ref().unwrap().state;
    let alerts = || async {
        let r = app
            .http()
            .get(app.api("/alerts"))
            .bearer_auth(common::ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        r.json::<klaxon_domain::api::AlertPage>()
            .await
            .unwrap()
            .alerts
    };

    app.clock.advance(SignedDuration::from_mins(4));
    let ping = |key: String| {
        let http = app.http();
        let url = format!("{}/heartbeat/{key}", app.url);
        async move { http.post(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(ping(key.clone()).await, 202);
    app.clock.advance(SignedDuration::from_mins(4));
    assert_eq!(
        klaxon_server::check_heartbeats(state).await.unwrap(),
        0,
        "pinged 4 minutes ago: not due yet"
    );
    app.clock.advance(SignedDuration::from_mins(2));
    // The server's own 5-second check may get there first; either way one alert results.
    klaxon_server::check_heartbeats(state).await.unwrap();
    assert_eq!(
        klaxon_server::check_heartbeats(state).await.unwrap(),
        0,
        "one alert per missed interval, not one per check"
    );
    let raised = alerts().await;
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].dedup_key, "heartbeat/backups/nightly");
    assert!(
        raised[0]
            .summary
            .starts_with("No heartbeat from backups/nightly for 6 minutes"),
        "{}",
        raised[0].summary
    );
    assert!(
        raised[0].incident.is_some(),
        "a missed heartbeat is critical: it opens an incident"
    );

    assert_eq!(ping(key).await, 202);
    assert_eq!(alerts().await[0].status, AlertStatus::Resolved);
    let listed = app.admin.heartbeats().await.unwrap();
    assert!(!listed[0].down);

    assert_eq!(ping("0123456789abcdef0123456789abcdef".into()).await, 404);
    let dup = NewHeartbeat {
        service: name.clone(),
        name: "nightly".into(),
        interval: "5m".into(),
    };
    assert_eq!(problem(app.admin.create_heartbeat(&dup).await).status, 409);
    let bad = NewHeartbeat {
        service: name,
        name: "fast".into(),
        interval: "5s".into(),
    };
    assert_eq!(
        problem(app.admin.create_heartbeat(&bad).await).errors[0].field,
        "interval"
    );
    // The missed ping's incident: its announcement and escalation run.
    app.run_jobs().await;
    app.cleanup().await;
}
