//! The runbook's cadence: a late acknowledgement is recorded as a missed response
//! target; an internal update not posted on time reminds the communicator (or commander)
//! in the incident's room and goes on the timeline as missed, again every cadence.

mod common;

use common::fakes::{accept_slack, slack_calls};
use common::{spawn_sqlite, Settings};
use jiff::SignedDuration;
use klaxon_domain::api::NewUser;
use klaxon_domain::incident::{
    DeclareInput, EventKind, StatusUpdateInput, UpdateAudience, UpdateKind,
};
use klaxon_domain::{Handle, IncidentNumber, Severity};
use klaxon_server::{ChannelConfig, SlackConfig};
use wiremock::MockServer;

#[tokio::test]
async fn missed_targets_and_updates_are_recorded_and_reminded() {
    let slack = MockServer::start().await;
    accept_slack(&slack).await;
    let settings = Settings {
        channels: ChannelConfig {
            slack: Some(SlackConfig {
                base_url: format!("{}/api/", slack.uri()),
                bot_token: "xoxb-test".into(),
            }),
            ..Default::default()
        },
        ..Settings::default()
    };
    let app = spawn_sqlite(settings).await;
    let alice = Handle::parse("alice").unwrap();
    let user = NewUser {
        handle: alice.clone(),
        name: "Alice".into(),
        email: "alice@example.com".into(),
        role: None,
    };
    app.admin.create_user(&user).await.unwrap();
    let input = DeclareInput {
        title: "Checkout failing".into(),
        severity: Some(Severity::new(2).unwrap()),
        commander: Some(alice.clone()),
        ..Default::default()
    };
    app.admin.declare(&input).await.unwrap();
    app.run_jobs().await;
    let n = IncidentNumber(1);
    let missed = |timeline: &[klaxon_domain::incident::TimelineEvent]| {
        timeline
            .iter()
            .filter(|e| matches!(e.kind, EventKind::UpdateMissed { .. }))
            .count()
    };

    // SEV2's response target is 15 minutes; acknowledging at 20 records the miss.
    app.clock.advance(SignedDuration::from_mins(20));
    app.admin.ack(n, &Default::default()).await.unwrap();
    let timeline = app.admin.incident(n).await.unwrap().timeline.unwrap();
    assert!(
        timeline.iter().any(|e| matches!(
            e.kind,
            EventKind::ResponseTargetMissed {
                late_by_seconds: 300,
                ..
            }
        )),
        "{timeline:#?}"
    );

    // Its internal updates are due every 30 minutes: at 30, nobody has posted one.
    app.clock.advance(SignedDuration::from_mins(10));
    app.run_jobs().await;
    let timeline = app.admin.incident(n).await.unwrap().timeline.unwrap();
    let reminded = timeline.iter().find_map(|e| match &e.kind {
        EventKind::UpdateMissed { reminded, .. } => Some(reminded.clone()),
        _ => None,
    });
    assert_eq!(
        reminded,
        Some(vec!["alice".to_owned()]),
        "the commander, without a communicator"
    );
    let posts = slack_calls(&slack, "chat.postMessage").await;
    assert!(
        posts
            .iter()
            .any(|p| p["text"].as_str().unwrap().contains("Update due for #1")),
        "{posts:#?}"
    );

    // An update resets the clock: nothing at +20 minutes, a reminder at +30.
    let update = StatusUpdateInput {
        status: Some("Investigating the payment provider".into()),
        ..StatusUpdateInput::new(UpdateKind::Update)
    };
    app.admin.post_update(n, &update).await.unwrap();
    app.run_jobs().await;
    app.clock.advance(SignedDuration::from_mins(20));
    app.run_jobs().await;
    assert_eq!(
        missed(&app.admin.incident(n).await.unwrap().timeline.unwrap()),
        1
    );
    app.clock.advance(SignedDuration::from_mins(10));
    app.run_jobs().await;
    assert_eq!(
        missed(&app.admin.incident(n).await.unwrap().timeline.unwrap()),
        2
    );

    // Resolving stops the reminders.
    app.admin.resolve(n, &Default::default()).await.unwrap();
    app.clock.advance(SignedDuration::from_hours(2));
    app.run_jobs().await;
    assert_eq!(
        missed(&app.admin.incident(n).await.unwrap().timeline.unwrap()),
        2
    );
    app.cleanup().await;
}

/// Stakeholders hear about an incident by the policy: engineering always, customer
/// success when it is customer-facing, management for SEV1; by Slack DM here.
#[tokio::test]
async fn stakeholders_hear_by_severity_and_customer_impact() {
    use klaxon_domain::paging::api::Subscription;
    use klaxon_domain::paging::{ContactKind, NewContactMethod};
    let slack = MockServer::start().await;
    accept_slack(&slack).await;
    let settings = Settings {
        channels: ChannelConfig {
            slack: Some(SlackConfig {
                base_url: format!("{}/api/", slack.uri()),
                bot_token: "xoxb-test".into(),
            }),
            ..Default::default()
        },
        ..Settings::default()
    };
    let app = spawn_sqlite(settings).await;
    for (team, user, member) in [
        ("engineering", "eng", "UENG"),
        ("customer-success", "cs", "UCS"),
        ("management", "boss", "UBOSS"),
    ] {
        let handle = Handle::parse(user).unwrap();
        let new = NewUser {
            handle: handle.clone(),
            name: user.into(),
            email: format!("{user}@example.com"),
            role: None,
        };
        app.admin.create_user(&new).await.unwrap();
        let dm = NewContactMethod {
            kind: ContactKind::Slack,
            address: member.into(),
            label: None,
        };
        app.admin.add_contact_method(&handle, &dm).await.unwrap();
        app.admin
            .subscribe(&Subscription {
                team: team.into(),
                user: handle,
            })
            .await
            .unwrap();
    }
    let told = || async {
        let mut users: Vec<String> = slack_calls(&slack, "conversations.open")
            .await
            .iter()
            .map(|b| b["users"].as_str().unwrap().to_owned())
            .collect();
        users.sort();
        users
    };
    let declare = |severity, customer_facing| DeclareInput {
        title: "Payments failing".into(),
        severity: Some(Severity::new(severity).unwrap()),
        customer_facing,
        ..Default::default()
    };
    app.admin.declare(&declare(2, false)).await.unwrap();
    app.run_jobs().await;
    assert_eq!(told().await, ["UENG"]);
    app.admin.declare(&declare(1, true)).await.unwrap();
    app.run_jobs().await;
    assert_eq!(told().await, ["UBOSS", "UCS", "UENG", "UENG"]);
    let dms: Vec<_> = slack_calls(&slack, "chat.postMessage")
        .await
        .into_iter()
        .filter(|p| p["channel"] == "D1")
        .collect();
    assert!(
        dms.iter()
            .all(|p| p["text"].as_str().unwrap().contains("Payments failing")),
        "{dms:#?}"
    );
    app.cleanup().await;
}

/// Customers of a customer-facing SEV2 hear from us every hour (the runbook's 30–60
/// minutes): a missed customer update reminds the commander and goes on the timeline
/// as missed, apart from internal updates; drills and internal incidents never remind.
#[tokio::test]
async fn missed_customer_updates_are_reminded() {
    let slack = MockServer::start().await;
    accept_slack(&slack).await;
    let settings = Settings {
        channels: ChannelConfig {
            slack: Some(SlackConfig {
                base_url: format!("{}/api/", slack.uri()),
                bot_token: "xoxb-test".into(),
            }),
            ..Default::default()
        },
        ..Settings::default()
    };
    let app = spawn_sqlite(settings).await;
    let alice = Handle::parse("alice").unwrap();
    let user = NewUser {
        handle: alice.clone(),
        name: "Alice".into(),
        email: "alice@example.com".into(),
        role: None,
    };
    app.admin.create_user(&user).await.unwrap();
    let declare = |title: &str, customer_facing: bool, drill: bool| DeclareInput {
        title: title.into(),
        severity: Some(Severity::new(2).unwrap()),
        commander: Some(alice.clone()),
        customer_facing,
        drill,
        ..Default::default()
    };
    app.admin
        .declare(&declare("Checkout failing", true, false))
        .await
        .unwrap();
    app.admin
        .declare(&declare("Internal only", false, false))
        .await
        .unwrap();
    app.admin
        .declare(&declare("Game day", true, true))
        .await
        .unwrap();
    app.run_jobs().await;
    let customer_missed = |timeline: &[klaxon_domain::incident::TimelineEvent]| {
        timeline
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::UpdateMissed {
                        audience: UpdateAudience::Customer,
                        ..
                    }
                )
            })
            .count()
    };
    let missed_on = |n: i64| {
        let admin = &app.admin;
        async move {
            let timeline = admin
                .incident(IncidentNumber(n))
                .await
                .unwrap()
                .timeline
                .unwrap();
            customer_missed(&timeline)
        }
    };

    // Nothing at 59 minutes; at 60 the customer update is missed.
    app.clock.advance(SignedDuration::from_mins(59));
    app.run_jobs().await;
    assert_eq!(missed_on(1).await, 0);
    app.clock.advance(SignedDuration::from_mins(1));
    app.run_jobs().await;
    assert_eq!(missed_on(1).await, 1);
    let timeline = app
        .admin
        .incident(IncidentNumber(1))
        .await
        .unwrap()
        .timeline
        .unwrap();
    let reminded = timeline.iter().find_map(|e| match &e.kind {
        EventKind::UpdateMissed {
            reminded,
            audience: UpdateAudience::Customer,
            ..
        } => Some(reminded.clone()),
        _ => None,
    });
    assert_eq!(reminded, Some(vec!["alice".to_owned()]));
    let posts = slack_calls(&slack, "chat.postMessage").await;
    assert!(
        posts.iter().any(|p| p["text"]
            .as_str()
            .unwrap()
            .contains("Customer update due for #1")),
        "{posts:#?}"
    );
    assert_eq!(missed_on(2).await, 0, "not customer-facing");
    assert_eq!(missed_on(3).await, 0, "a drill");

    // A customer update at 70 minutes: nothing more until 130, then again.
    app.clock.advance(SignedDuration::from_mins(10));
    let update = StatusUpdateInput {
        status: Some("We are looking into failed checkouts.".into()),
        audience: UpdateAudience::Customer,
        ..StatusUpdateInput::new(UpdateKind::Update)
    };
    app.admin
        .post_update(IncidentNumber(1), &update)
        .await
        .unwrap();
    app.run_jobs().await;
    app.clock.advance(SignedDuration::from_mins(59));
    app.run_jobs().await;
    assert_eq!(missed_on(1).await, 1);
    app.clock.advance(SignedDuration::from_mins(1));
    app.run_jobs().await;
    assert_eq!(missed_on(1).await, 2);

    // Not posting repeats the reminder every hour, until the incident is resolved.
    app.clock.advance(SignedDuration::from_mins(60));
    app.run_jobs().await;
    assert_eq!(missed_on(1).await, 3);
    app.admin
        .resolve(IncidentNumber(1), &Default::default())
        .await
        .unwrap();
    app.clock.advance(SignedDuration::from_hours(3));
    app.run_jobs().await;
    assert_eq!(missed_on(1).await, 3);
    app.cleanup().await;
}
