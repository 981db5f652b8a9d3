//! Paging end to end: an alert opens an incident, the escalation policy pages step 1 by
//! SMS and voice (a Twilio fake observes them), step 2 after its delay (the clock is
//! moved, not slept), an acknowledgement through the signed link stops it, and the
//! timeline records every page.

mod common;

use common::fakes::{
    accept_slack, accept_twilio, field, sent, slack_calls, twilio_settings, CALLS, MESSAGES,
};
use common::{problem, spawn_sqlite, Settings, TestApp};
use jiff::SignedDuration;
use klaxon_domain::api::NewUser;
use klaxon_domain::incident::{EventKind, Status};
use klaxon_domain::paging::{
    ContactKind, EscalationStep, NewContactMethod, NewEscalationPolicy, NewNotificationRule,
    Target, Urgency,
};
use klaxon_domain::service::{AlertRules, NewService};
use klaxon_domain::{Handle, IncidentNumber};
use klaxon_server::ChannelConfig;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn handle(h: &str) -> Handle {
    Handle::parse(h).unwrap()
}

/// alice (SMS and voice at once for high urgency) and bob (SMS, no rules), a policy
/// paging alice then bob five minutes apart, and service `api` using it; its key.
async fn set_up(app: &TestApp) -> String {
    for h in ["alice", "bob"] {
        let user = NewUser {
            handle: handle(h),
            name: h.into(),
            email: format!("{h}@example.com"),
            role: None,
        };
        app.admin.create_user(&user).await.unwrap();
    }
    let phone = |kind, address: &str| NewContactMethod {
        kind,
        address: address.into(),
        label: None,
    };
    let sms = app
        .admin
        .add_contact_method(&handle("alice"), &phone(ContactKind::Sms, "+15551110001"))
        .await
        .unwrap();
    let voice = app
        .admin
        .add_contact_method(&handle("alice"), &phone(ContactKind::Voice, "+15551110001"))
        .await
        .unwrap();
    for m in [&sms, &voice] {
        let rule = NewNotificationRule {
            urgency: Urgency::High,
            contact_method: m.id,
            delay_minutes: 0,
        };
        app.admin
            .add_notification_rule(&handle("alice"), &rule)
            .await
            .unwrap();
    }
    app.admin
        .add_contact_method(&handle("bob"), &phone(ContactKind::Sms, "+15552220002"))
        .await
        .unwrap();
    let step = |h: &str| EscalationStep {
        targets: vec![Target::User(handle(h))],
        delay_minutes: 5,
    };
    let policy = NewEscalationPolicy {
        name: "api-oncall".into(),
        description: String::new(),
        steps: vec![step("alice"), step("bob")],
        repeat: 0,
        ack_timeout_minutes: None,
    };
    app.admin.create_escalation_policy(&policy).await.unwrap();
    let service = NewService {
        name: klaxon_domain::service::ServiceName::parse("api").unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: AlertRules {
            escalation_policy: Some("api-oncall".into()),
            ..Default::default()
        },
    };
    app.admin
        .create_service(&service)
        .await
        .unwrap()
        .integration_key
        .unwrap()
}

async fn trigger(app: &TestApp, key: &str) {
    let body = json!({"routing_key": key, "event_action": "trigger", "dedup_key": "api-5xx",
        "payload": {"summary": "API returning 502 errors", "source": "lb-1", "severity": "critical"}});
    app.enqueue(&body).await;
    app.settle().await;
}

#[tokio::test]
async fn an_alert_pages_escalates_and_stops_at_the_acknowledgement() {
    let twilio = MockServer::start().await;
    accept_twilio(&twilio).await;
    let slack = MockServer::start().await;
    accept_slack(&slack).await;
    let mut settings = twilio_settings(&twilio);
    settings.channels.slack = Some(klaxon_server::SlackConfig {
        base_url: format!("{}/api/", slack.uri()),
        bot_token: "xoxb-test".into(),
    });
    let app = spawn_sqlite(settings).await;
    let key = set_up(&app).await;
    trigger(&app, &key).await;
    app.run_jobs().await;

    let sms = sent(&twilio, MESSAGES).await;
    let calls = sent(&twilio, CALLS).await;
    assert_eq!(sms.len(), 1, "step 1 texts alice once: {sms:?}");
    assert_eq!(calls.len(), 1, "and calls her once");
    assert_eq!(field(&sms[0], "To"), "+15551110001");
    assert_eq!(field(&sms[0], "From"), "+15550000000");
    let body = field(&sms[0], "Body");
    assert!(
        body.starts_with("[SEV2 #1] API returning 502 errors"),
        "{body}"
    );
    let twiml = field(&calls[0], "Twiml");
    assert!(
        twiml.contains("<Gather numDigits=\"1\"") && twiml.contains("API returning 502 errors"),
        "{twiml}"
    );
    assert!(
        twiml.contains("https://klaxon.example.com/twilio/voice/"),
        "{twiml}"
    );

    // Nobody acknowledges: five minutes later, step 2 pages bob (SMS, his only method).
    app.clock.advance(SignedDuration::from_mins(4));
    app.run_jobs().await;
    assert_eq!(
        sent(&twilio, MESSAGES).await.len(),
        1,
        "not before the delay"
    );
    app.clock.advance(SignedDuration::from_mins(1));
    app.run_jobs().await;
    let sms = sent(&twilio, MESSAGES).await;
    assert_eq!(sms.len(), 2);
    assert_eq!(field(&sms[1], "To"), "+15552220002");

    // Alice acknowledges through the link in her SMS; it works once, without a login.
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with("https://klaxon.example.com/l/"))
        .unwrap();
    let local = link.replace("https://klaxon.example.com", &app.url);
    let shown = app.http().get(&local).send().await.unwrap();
    assert_eq!(shown.status(), 200);
    assert!(
        shown
            .text()
            .await
            .unwrap()
            .contains("<form method=\"post\">"),
        "opening the link only shows a button"
    );
    assert_eq!(
        app.admin
            .incident(IncidentNumber(1))
            .await
            .unwrap()
            .incident
            .status,
        Status::Triggered
    );
    let acted = app.http().post(&local).send().await.unwrap();
    assert_eq!(acted.status(), 200);
    let view = app.admin.incident(IncidentNumber(1)).await.unwrap();
    assert_eq!(view.incident.status, Status::Acknowledged);
    let again = app.http().post(&local).send().await.unwrap();
    assert_eq!(again.status(), 410, "a link works once");

    // No more pages after the acknowledgement.
    app.clock.advance(SignedDuration::from_mins(30));
    app.run_jobs().await;
    assert_eq!(sent(&twilio, MESSAGES).await.len(), 2);
    assert_eq!(sent(&twilio, CALLS).await.len(), 1);

    let timeline = app
        .admin
        .incident(IncidentNumber(1))
        .await
        .unwrap()
        .timeline
        .unwrap();
    let paged: Vec<_> = timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Paged { step, users, .. } => Some((*step, users.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        paged,
        [(0, vec!["alice".to_owned()]), (1, vec!["bob".to_owned()])]
    );
    let notified = timeline
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Notified { .. }))
        .count();
    assert_eq!(notified, 3, "alice by SMS and voice, bob by SMS");
    let acked = timeline
        .iter()
        .find(|e| matches!(e.kind, EventKind::Acknowledged))
        .unwrap();
    assert_eq!(
        acked.actor, "alice",
        "the link acts as the person it was sent to"
    );

    // Slack: a SEV2 gets its own channel with the runbook's detected message, and a
    // pointer to it in the incident channel; updates and the resolution follow there.
    let created = slack_calls(&slack, "conversations.create").await;
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0]["name"],
        "incident-20261126-api-returning-502-errors"
    );
    assert_eq!(created[0]["is_private"], false);
    let update = klaxon_domain::incident::StatusUpdateInput {
        status: Some("Rolling back release 2.1.3".into()),
        ..klaxon_domain::incident::StatusUpdateInput::new(
            klaxon_domain::incident::UpdateKind::Update,
        )
    };
    app.admin
        .post_update(IncidentNumber(1), &update)
        .await
        .unwrap();
    app.run_jobs().await;
    let resolve = klaxon_domain::api::ResolveRequest {
        root_cause: Some("Bad release".into()),
        fix: Some("Rolled back".into()),
        at: None,
    };
    app.admin
        .resolve(IncidentNumber(1), &resolve)
        .await
        .unwrap();
    app.run_jobs().await;
    let posts = slack_calls(&slack, "chat.postMessage").await;
    let all: Vec<(&str, &str)> = posts
        .iter()
        .map(|p| (p["channel"].as_str().unwrap(), p["text"].as_str().unwrap()))
        .collect();
    // Half an hour passed without an update: the room was reminded (see cadence.rs).
    let (reminders, texts): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|(_, t)| t.starts_with('⏰'));
    assert!(!reminders.is_empty());
    assert_eq!(texts.len(), 4, "{texts:#?}");
    let (detected, pointer, update, resolved) = (texts[0], texts[1], texts[2], texts[3]);
    assert!(
        detected.0 == "C42"
            && detected.1.contains("INCIDENT DETECTED")
            && detected.1.contains("API returning 502 errors"),
        "{texts:#?}"
    );
    assert!(
        pointer.0 == "#eng-incident-prd" && pointer.1.contains("<#C42>"),
        "{texts:#?}"
    );
    assert!(
        update.0 == "C42"
            && update.1.contains("STATUS UPDATE")
            && update.1.contains("Rolling back release 2.1.3"),
        "{texts:#?}"
    );
    assert!(
        resolved.0 == "C42"
            && resolved.1.contains("INCIDENT RESOLVED")
            && resolved.1.contains("Bad release"),
        "{texts:#?}"
    );
    let edits = slack_calls(&slack, "chat.update").await;
    let last = edits.last().unwrap();
    assert_eq!(
        (last["channel"].as_str(), last["ts"].as_str()),
        (Some("C42"), Some("1700000000.000100")),
        "the headline is edited in place"
    );
    assert!(
        last["text"].as_str().unwrap().contains("resolved"),
        "{last}"
    );
    // Only the post-incident review's reminders wait, for its deadline.
    let left: Vec<_> = app
        .state()
        .store
        .jobs(Some(IncidentNumber(1)))
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind != klaxon_domain::paging::JobKind::ReviewRemind)
        .collect();
    assert!(left.is_empty(), "nothing left to run: {left:#?}");
    app.cleanup().await;
}

#[tokio::test]
async fn a_failing_channel_is_retried_and_the_timeline_shows_it() {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&twilio)
        .await;
    accept_twilio(&twilio).await;
    let app = spawn_sqlite(twilio_settings(&twilio)).await;
    let key = set_up(&app).await;
    trigger(&app, &key).await;
    app.run_jobs().await;
    for _ in 0..3 {
        // Past any backoff with jitter: 10-12 s after the first failure, 20-24 after the second.
        app.clock.advance(SignedDuration::from_secs(25));
        app.run_jobs().await;
    }
    let sms = sent(&twilio, MESSAGES).await;
    assert_eq!(sms.len(), 3, "two failures, then delivered");
    let timeline = app
        .admin
        .incident(IncidentNumber(1))
        .await
        .unwrap()
        .timeline
        .unwrap();
    let failed: Vec<_> = timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NotificationFailed {
                method,
                attempt,
                retry_at,
                ..
            } if *method == ContactKind::Sms => Some((*attempt, retry_at.is_some())),
            _ => None,
        })
        .collect();
    assert_eq!(failed, [(1, true), (2, true)]);
    assert!(timeline.iter().any(|e| matches!(
        &e.kind,
        EventKind::Notified {
            method: ContactKind::Sms,
            attempt: 3,
            ..
        }
    )));
    app.cleanup().await;
}

#[tokio::test]
async fn a_number_twilio_refuses_is_given_up_at_once_and_said_so() {
    let twilio = MockServer::start().await;
    let refused = json!({"code": 21211, "message": "The 'To' number is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400});
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .respond_with(ResponseTemplate::new(400).set_body_json(refused))
        .expect(1)
        .mount(&twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(CALLS))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "CA1"})))
        .mount(&twilio)
        .await;
    let app = spawn_sqlite(twilio_settings(&twilio)).await;
    let key = set_up(&app).await;
    trigger(&app, &key).await;
    app.run_jobs().await;
    app.clock.advance(SignedDuration::from_mins(1));
    app.run_jobs().await;
    let timeline = app
        .admin
        .incident(IncidentNumber(1))
        .await
        .unwrap()
        .timeline
        .unwrap();
    let gave_up = timeline.iter().find_map(|e| match &e.kind {
        EventKind::NotificationFailed {
            error,
            retry_at: None,
            ..
        } => Some(error.clone()),
        _ => None,
    });
    assert!(gave_up.is_some_and(|e| e.contains("21211")), "{timeline:?}");
    let dead: Vec<_> = app
        .state()
        .store
        .jobs(Some(IncidentNumber(1)))
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.dead_at.is_some())
        .collect();
    assert_eq!(dead.len(), 1, "kept as a dead letter");
    app.cleanup().await;
}

#[tokio::test]
async fn pending_escalations_survive_a_restart() {
    let twilio = MockServer::start().await;
    accept_twilio(&twilio).await;
    survive_a_restart(spawn_sqlite(twilio_settings(&twilio)).await, &twilio).await;
}

#[tokio::test]
async fn pending_escalations_survive_a_restart_on_postgres() {
    let twilio = MockServer::start().await;
    accept_twilio(&twilio).await;
    let Some(app) = common::spawn_postgres(twilio_settings(&twilio)).await else {
        return;
    };
    survive_a_restart(app, &twilio).await;
}

async fn survive_a_restart(mut app: TestApp, twilio: &MockServer) {
    let key = set_up(&app).await;
    trigger(&app, &key).await;
    app.run_jobs().await;
    assert_eq!(sent(twilio, MESSAGES).await.len(), 1);
    app.restart().await;
    app.clock.advance(SignedDuration::from_mins(5));
    app.run_jobs().await;
    let sms = sent(twilio, MESSAGES).await;
    assert_eq!(sms.len(), 2, "step 2 fires after the restart, on time");
    assert_eq!(field(&sms[1], "To"), "+15552220002");
    app.cleanup().await;
}

#[tokio::test]
async fn contact_methods_are_checked_and_tested() {
    let twilio = MockServer::start().await;
    accept_twilio(&twilio).await;
    let app = spawn_sqlite(twilio_settings(&twilio)).await;
    set_up(&app).await;
    let bad = NewContactMethod {
        kind: ContactKind::Sms,
        address: "555-1234".into(),
        label: None,
    };
    let p = problem(app.admin.add_contact_method(&handle("alice"), &bad).await);
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "address"));
    assert!(p.errors[0].message.contains("E.164"), "{p:?}");
    let bob = app.admin.contact_methods(&handle("bob")).await.unwrap();
    assert!(bob[0].verified_at.is_none());
    app.admin
        .test_contact_method(&handle("bob"), bob[0].id)
        .await
        .unwrap();
    app.run_jobs().await;
    let sms = sent(&twilio, MESSAGES).await;
    assert_eq!(field(&sms[0], "To"), "+15552220002");
    assert!(field(&sms[0], "Body").contains("test"), "{sms:?}");
    // A delivered test message does not verify a phone number: its owner enters back a
    // code sent to it (people.rs).
    assert!(!app.admin.contact_methods(&handle("bob")).await.unwrap()[0].verified);
    let carol = app
        .user("carol", klaxon_domain::auth::Scope::Responder)
        .await;
    let p = problem(carol.contact_methods(&handle("bob")).await);
    assert_eq!(p.status, 403, "only bob and admins see how bob is reached");
    app.cleanup().await;
}

/// Two servers on one PostgreSQL database, both running the engine: every escalation
/// step of every incident is sent exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_send_each_page_once() {
    let twilio = MockServer::start().await;
    accept_twilio(&twilio).await;
    let Some(app) = common::spawn_postgres(twilio_settings(&twilio)).await else {
        return;
    };
    let key = set_up(&app).await;
    let replica = common::start(&app.database_url, app.clock.clone(), &app.settings).await;
    const INCIDENTS: usize = 20;
    for i in 0..INCIDENTS {
        app.enqueue(&json!({"routing_key": key, "event_action": "trigger", "dedup_key": format!("host-{i}"),
            "payload": {"summary": format!("host-{i} down"), "source": "lb-1", "severity": "critical"}}))
            .await;
    }
    app.settle().await;
    for minutes in [0, 5] {
        app.clock.advance(SignedDuration::from_mins(minutes));
        let (one, two) = tokio::join!(
            klaxon_server::run_due_jobs(app.state()),
            klaxon_server::run_due_jobs(&replica.state)
        );
        one.unwrap();
        two.unwrap();
        app.run_jobs().await;
    }
    let sms = sent(&twilio, MESSAGES).await;
    let to = |n: &str| sms.iter().filter(|f| field(f, "To") == n).count();
    assert_eq!(
        (to("+15551110001"), to("+15552220002")),
        (INCIDENTS, INCIDENTS),
        "each step once per incident"
    );
    assert_eq!(sent(&twilio, CALLS).await.len(), INCIDENTS);
    replica.stop().await.unwrap();
    app.cleanup().await;
}

/// A restricted incident gets a private channel and never touches the public incident
/// channel; a SEV3 (thread mode) otherwise lives in a thread of the incident channel.
#[tokio::test]
async fn restricted_incidents_stay_private_and_low_severities_get_a_thread() {
    let slack = MockServer::start().await;
    accept_slack(&slack).await;
    let settings = Settings {
        channels: ChannelConfig {
            slack: Some(klaxon_server::SlackConfig {
                base_url: format!("{}/api/", slack.uri()),
                bot_token: "xoxb-test".into(),
            }),
            ..Default::default()
        },
        ..Settings::default()
    };
    let app = spawn_sqlite(settings).await;
    let declare = |title: &str, restricted| klaxon_domain::incident::DeclareInput {
        title: title.into(),
        severity: Some(klaxon_domain::Severity::new(3).unwrap()),
        restricted,
        ..Default::default()
    };
    app.admin
        .declare(&declare("Leaked credentials", true))
        .await
        .unwrap();
    app.run_jobs().await;
    let created = slack_calls(&slack, "conversations.create").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["is_private"], true);
    let posts = slack_calls(&slack, "chat.postMessage").await;
    assert!(
        posts.iter().all(|p| p["channel"] == "C42"),
        "nothing public: {posts:#?}"
    );

    app.admin
        .declare(&declare("Search slow for some users", false))
        .await
        .unwrap();
    app.run_jobs().await;
    assert_eq!(
        slack_calls(&slack, "conversations.create").await.len(),
        1,
        "a SEV3 gets no channel"
    );
    let posts = slack_calls(&slack, "chat.postMessage").await;
    let last = posts.last().unwrap();
    assert_eq!(last["channel"], "#eng-incident-prd");
    assert!(last["text"]
        .as_str()
        .unwrap()
        .contains("Search slow for some users"));
    app.cleanup().await;
}

/// Whoever is paged for a restricted incident takes part in it: the link in their page
/// acknowledges it, though they neither declared it nor hold a role.
#[tokio::test]
async fn a_paged_person_can_act_on_a_restricted_incident() {
    let twilio = MockServer::start().await;
    accept_twilio(&twilio).await;
    let app = spawn_sqlite(twilio_settings(&twilio)).await;
    set_up(&app).await;
    let input = klaxon_domain::incident::DeclareInput {
        title: "Leaked credentials".into(),
        severity: Some(klaxon_domain::Severity::new(1).unwrap()),
        service: Some("api".into()),
        restricted: true,
        ..Default::default()
    };
    let n = app.admin.declare(&input).await.unwrap().incident.number;
    app.run_jobs().await;
    let sms = sent(&twilio, MESSAGES).await;
    assert_eq!(field(&sms[0], "To"), "+15551110001", "alice is paged");
    let view = app.admin.incident(n).await.unwrap();
    assert!(view.incident.participants.contains(&"alice".to_owned()));
    let link = field(&sms[0], "Body")
        .split_whitespace()
        .find(|w| w.starts_with("https://klaxon.example.com/l/"))
        .unwrap()
        .replace("https://klaxon.example.com", &app.url);
    let acted = app.http().post(&link).send().await.unwrap();
    assert_eq!(acted.status(), 200);
    let page = acted.text().await.unwrap();
    assert!(
        page.contains(&format!("href=\"/incidents/{}\"", n.0)),
        "{page}"
    );
    let view = app.admin.incident(n).await.unwrap();
    assert_eq!(view.incident.status, Status::Acknowledged);
    let acked = view.timeline.unwrap();
    let acked = acked
        .iter()
        .find(|e| matches!(e.kind, EventKind::Acknowledged))
        .unwrap();
    assert_eq!(
        (acked.actor.as_str(), acked.source),
        ("alice", klaxon_domain::incident::Source::Link)
    );
    app.drain().await;
    app.cleanup().await;
}
