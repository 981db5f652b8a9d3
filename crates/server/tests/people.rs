//! People's roles and verified phone numbers, end to end. A token acts with at most its
//! user's role; a phone number is verified by a code sent to it (a Twilio fake receives
//! the SMS or the call) and entered back; only a verified number acknowledges or
//! resolves by SMS reply or key press, with its owner's role; a number is verified by
//! one user only.

mod common;

use common::fakes::{accept_twilio, field, sent, twilio_settings, CALLS, MESSAGES};
use common::{declare_input, problem, spawn_sqlite, TestApp};
use jiff::SignedDuration;
use klaxon_client::Client;
use klaxon_domain::api::{NewToken, NewUser, UserUpdate};
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{EventKind, Source, Status};
use klaxon_domain::paging::{
    ContactKind, EscalationStep, NewContactMethod, NewEscalationPolicy, NewNotificationRule,
    Target, Urgency,
};
use klaxon_domain::service::{AlertRules, NewService, ServiceName};
use klaxon_domain::{ContactMethodId, Handle, IncidentNumber};
use serde_json::json;
use wiremock::MockServer;

const ALICE: &str = "+15551110001";

fn handle(h: &str) -> Handle {
    Handle::parse(h).unwrap()
}

async fn twilio_app() -> (TestApp, MockServer) {
    let twilio = MockServer::start().await;
    accept_twilio(&twilio).await;
    (spawn_sqlite(twilio_settings(&twilio)).await, twilio)
}

/// Adds a phone contact method for `user`; its id.
async fn add_phone(app: &TestApp, user: &str, kind: ContactKind, number: &str) -> ContactMethodId {
    let method = NewContactMethod {
        kind,
        address: number.into(),
        label: None,
    };
    app.admin
        .add_contact_method(&handle(user), &method)
        .await
        .unwrap()
        .id
}

/// The six digits of the newest code the fake sent, by SMS or read out in a call.
async fn last_code(twilio: &MockServer, kind: ContactKind) -> String {
    let (at, name) = match kind {
        ContactKind::Voice => (CALLS, "Twiml"),
        _ => (MESSAGES, "Body"),
    };
    let all = sent(twilio, at).await;
    let text = field(all.last().expect("something was sent"), name).to_owned();
    let after = text
        .split("verification code is ")
        .nth(1)
        .unwrap_or_else(|| panic!("no code in {text}"));
    let digits: String = after
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == ' ')
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(digits.len(), 6, "{text}");
    digits
}

/// Posts a Twilio webhook to `path`, signed as Twilio signs it; the status and body.
async fn from_twilio(app: &TestApp, path: &str, params: &[(&str, &str)]) -> (u16, String) {
    let url = format!("https://klaxon.example.com{path}");
    let signature = klaxon_notify::twilio::signature("twilio-secret", &url, params);
    let r = app
        .http()
        .post(format!("{}{path}", app.url))
        .header("x-twilio-signature", signature)
        .form(params)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn sms_reply(app: &TestApp, from: &str, body: &str) -> String {
    let (status, twiml) = from_twilio(app, "/twilio/sms", &[("From", from), ("Body", body)]).await;
    assert_eq!(status, 200, "{twiml}");
    twiml
}

async fn status(app: &TestApp, n: i64) -> Status {
    app.admin
        .incident(IncidentNumber(n))
        .await
        .unwrap()
        .incident
        .status
}

/// Verifies contact method `id` of `user` as `client`: asks for a code, enters it back.
async fn verify(
    app: &TestApp,
    twilio: &MockServer,
    client: &Client,
    user: &str,
    id: ContactMethodId,
) {
    let kind = app.admin.contact_methods(&handle(user)).await.unwrap();
    let kind = kind.iter().find(|m| m.id == id).unwrap().kind;
    client.send_code(&handle(user), id).await.unwrap();
    let code = last_code(twilio, kind).await;
    let verified = client.verify_code(&handle(user), id, &code).await.unwrap();
    assert!(verified.verified && verified.verified_at.is_some());
}

#[tokio::test]
async fn an_unverified_numbers_ack_changes_nothing() {
    let (app, twilio) = twilio_app().await;
    let alice = app.user("alice", Scope::Responder).await;
    let id = add_phone(&app, "alice", ContactKind::Sms, ALICE).await;
    app.admin
        .declare(&declare_input("Queue backlog", 2))
        .await
        .unwrap();
    assert!(!alice.contact_methods(&handle("alice")).await.unwrap()[0].verified);

    let reply = sms_reply(&app, ALICE, "ACK 1").await;
    assert!(
        reply.contains("This number is not verified")
            && reply.contains("klaxon user contact verify"),
        "{reply}"
    );
    assert_eq!(status(&app, 1).await, Status::Triggered, "nothing changed");

    // Alice verifies it: the code comes by SMS, and a wrong one first is refused.
    let sent_code = alice.send_code(&handle("alice"), id).await.unwrap();
    assert_eq!(sent_code.address, ALICE);
    let texts = sent(&twilio, MESSAGES).await;
    assert_eq!(field(&texts[0], "To"), ALICE);
    let code = last_code(&twilio, ContactKind::Sms).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let p = problem(alice.verify_code(&handle("alice"), id, wrong).await);
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "code"));
    assert!(p.detail.contains("4 more tries"), "{p:?}");
    let verified = alice
        .verify_code(&handle("alice"), id, &code)
        .await
        .unwrap();
    assert!(verified.verified);

    // Now the same reply acknowledges, as alice, from an SMS.
    let reply = sms_reply(&app, ALICE, "ack 1").await;
    assert!(reply.contains("Incident #1 acknowledged"), "{reply}");
    let view = app.admin.incident(IncidentNumber(1)).await.unwrap();
    assert_eq!(view.incident.status, Status::Acknowledged);
    let acked = view
        .timeline
        .unwrap()
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::Acknowledged))
        .unwrap();
    assert_eq!((acked.actor.as_str(), acked.source), ("alice", Source::Sms));
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_viewers_verified_number_resolve_changes_nothing() {
    let (app, twilio) = twilio_app().await;
    let victor = app.user("victor", Scope::Viewer).await;
    let id = add_phone(&app, "victor", ContactKind::Sms, ALICE).await;
    app.admin
        .declare(&declare_input("Queue backlog", 2))
        .await
        .unwrap();

    // A viewer cannot verify a number; an admin can, with the code victor received.
    let p = problem(victor.send_code(&handle("victor"), id).await);
    assert_eq!(p.status, 403, "{p:?}");
    verify(&app, &twilio, &app.admin, "victor", id).await;

    let reply = sms_reply(&app, ALICE, "RESOLVE 1").await;
    assert!(
        reply.contains("viewers cannot acknowledge or resolve"),
        "{reply}"
    );
    assert_eq!(status(&app, 1).await, Status::Triggered, "nothing changed");

    // Made a responder, the same reply resolves.
    app.admin
        .update_user(
            &handle("victor"),
            &UserUpdate {
                role: Some(Scope::Responder),
            },
        )
        .await
        .unwrap();
    let reply = sms_reply(&app, ALICE, "RESOLVE 1").await;
    assert!(reply.contains("Incident #1 resolved"), "{reply}");
    assert_eq!(status(&app, 1).await, Status::Resolved);
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_second_user_cannot_verify_a_verified_number() {
    let (app, twilio) = twilio_app().await;
    let alice = app.user("alice", Scope::Responder).await;
    let bob = app.user("bob", Scope::Responder).await;
    let alice_sms = add_phone(&app, "alice", ContactKind::Sms, ALICE).await;
    let bob_sms = add_phone(&app, "bob", ContactKind::Sms, ALICE).await;
    let bob_voice = add_phone(&app, "bob", ContactKind::Voice, ALICE).await;

    // Both ask for a code before either enters one; alice enters hers first.
    alice.send_code(&handle("alice"), alice_sms).await.unwrap();
    let alices = last_code(&twilio, ContactKind::Sms).await;
    bob.send_code(&handle("bob"), bob_sms).await.unwrap();
    let bobs = last_code(&twilio, ContactKind::Sms).await;
    alice
        .verify_code(&handle("alice"), alice_sms, &alices)
        .await
        .unwrap();
    let p = problem(bob.verify_code(&handle("bob"), bob_sms, &bobs).await);
    assert_eq!(p.status, 409);
    assert!(
        p.detail.contains("verified by another Klaxon user"),
        "{p:?}"
    );
    assert!(!p.detail.contains("alice"), "it does not say who: {p:?}");
    assert!(!bob.contact_methods(&handle("bob")).await.unwrap()[0].verified);

    // No more codes go to the number for bob, by SMS or by call.
    let texts = sent(&twilio, MESSAGES).await.len();
    let p = problem(bob.send_code(&handle("bob"), bob_voice).await);
    assert_eq!(p.status, 409, "{p:?}");
    assert_eq!(sent(&twilio, MESSAGES).await.len(), texts);
    assert!(sent(&twilio, CALLS).await.is_empty());

    // Replies from the number act as alice, whose method is verified.
    app.admin
        .declare(&declare_input("Queue backlog", 2))
        .await
        .unwrap();
    sms_reply(&app, ALICE, "ACK 1").await;
    let view = app.admin.incident(IncidentNumber(1)).await.unwrap();
    let acked = view.timeline.unwrap();
    let acked = acked
        .iter()
        .find(|e| matches!(e.kind, EventKind::Acknowledged));
    assert_eq!(acked.unwrap().actor, "alice");

    // Once alice removes it, bob can verify it.
    alice
        .remove_contact_method(&handle("alice"), alice_sms)
        .await
        .unwrap();
    verify(&app, &twilio, &bob, "bob", bob_voice).await;
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn codes_expire_allow_five_wrong_tries_and_come_once_a_minute() {
    let (app, twilio) = twilio_app().await;
    let alice = app.user("alice", Scope::Responder).await;
    let id = add_phone(&app, "alice", ContactKind::Voice, ALICE).await;
    let me = handle("alice");

    let p = problem(alice.verify_code(&me, id, "123456").await);
    assert!(
        p.status == 409 && p.detail.contains("no code was sent"),
        "{p:?}"
    );

    // A voice method gets a call that reads the code.
    alice.send_code(&me, id).await.unwrap();
    let calls = sent(&twilio, CALLS).await;
    assert_eq!(field(&calls[0], "To"), ALICE);
    let first = last_code(&twilio, ContactKind::Voice).await;
    let p = problem(alice.send_code(&me, id).await);
    assert_eq!(p.status, 429, "one code a minute: {p:?}");
    assert_eq!(sent(&twilio, CALLS).await.len(), 1);

    // Ten minutes on, the code no longer works.
    app.clock.advance(SignedDuration::from_mins(10));
    let p = problem(alice.verify_code(&me, id, &first).await);
    assert!(p.status == 409 && p.detail.contains("expired"), "{p:?}");

    // A new code; five wrong ones and even the right one is refused.
    alice.send_code(&me, id).await.unwrap();
    let second = last_code(&twilio, ContactKind::Voice).await;
    let wrong = if second == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let p = problem(alice.verify_code(&me, id, wrong).await);
        assert_eq!(p.status, 422, "{p:?}");
    }
    let p = problem(alice.verify_code(&me, id, &second).await);
    assert!(
        p.status == 409 && p.detail.contains("too many wrong codes"),
        "{p:?}"
    );
    let p = problem(alice.verify_code(&me, id, "12345").await);
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "code"));

    // A minute after the last code, a third one works.
    app.clock.advance(SignedDuration::from_mins(1));
    alice.send_code(&me, id).await.unwrap();
    let third = last_code(&twilio, ContactKind::Voice).await;
    assert!(alice.verify_code(&me, id, &third).await.unwrap().verified);
    let p = problem(alice.send_code(&me, id).await);
    assert!(
        p.status == 409 && p.detail.contains("verified already"),
        "{p:?}"
    );

    // Only alice and admins verify alice's numbers; e-mail is not verified by code.
    let bob = app.user("bob", Scope::Responder).await;
    assert_eq!(problem(bob.send_code(&me, id).await).status, 403);
    let email = NewContactMethod {
        kind: ContactKind::Email,
        address: "alice@example.com".into(),
        label: None,
    };
    let email = alice.add_contact_method(&me, &email).await.unwrap();
    assert_eq!(problem(alice.send_code(&me, email.id).await).status, 409);
    app.cleanup().await;
}

/// Service `api` pages alice on contact method `method`; an alert opens incident #1
/// and the engine sends the page.
async fn page_alice(app: &TestApp, method: ContactMethodId) {
    let rule = NewNotificationRule {
        urgency: Urgency::High,
        contact_method: method,
        delay_minutes: 0,
    };
    app.admin
        .add_notification_rule(&handle("alice"), &rule)
        .await
        .unwrap();
    let policy = NewEscalationPolicy {
        name: "api-oncall".into(),
        description: String::new(),
        steps: vec![EscalationStep {
            targets: vec![Target::User(handle("alice"))],
            delay_minutes: 5,
        }],
        repeat: 0,
        ack_timeout_minutes: None,
    };
    app.admin.create_escalation_policy(&policy).await.unwrap();
    let service = NewService {
        name: ServiceName::parse("api").unwrap(),
        description: String::new(),
        owner_team: None,
        runbook_links: vec![],
        rules: AlertRules {
            escalation_policy: Some("api-oncall".into()),
            ..Default::default()
        },
    };
    let key = app
        .admin
        .create_service(&service)
        .await
        .unwrap()
        .integration_key
        .unwrap();
    app.enqueue(&json!({"routing_key": key, "event_action": "trigger",
        "payload": {"summary": "API down", "source": "lb-1", "severity": "critical"}}))
        .await;
    app.settle().await;
    app.run_jobs().await;
}

/// alice is paged by a call to her voice method `voice`: the URL Twilio posts the key
/// pressed to.
async fn page_alice_by_voice(app: &TestApp, twilio: &MockServer, voice: ContactMethodId) -> String {
    page_alice(app, voice).await;
    let calls = sent(twilio, CALLS).await;
    let twiml = field(calls.last().unwrap(), "Twiml");
    let start = twiml
        .find("https://klaxon.example.com/twilio/voice/")
        .unwrap();
    let url = &twiml[start..];
    url[..url.find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_key_press_acts_only_from_a_verified_voice_number_and_with_the_role() {
    let (app, twilio) = twilio_app().await;
    let alice = app.user("alice", Scope::Responder).await;
    let voice = add_phone(&app, "alice", ContactKind::Voice, ALICE).await;
    let url = page_alice_by_voice(&app, &twilio, voice).await;
    let path = url.trim_start_matches("https://klaxon.example.com");
    let press = || from_twilio(&app, path, &[("Digits", "1"), ("To", ALICE)]);

    let (code, said) = press().await;
    assert_eq!(code, 200);
    assert!(said.contains("This number is not verified"), "{said}");
    assert_eq!(status(&app, 1).await, Status::Triggered, "nothing changed");

    // Verified, but alice is lowered to viewer: still nothing.
    verify(&app, &twilio, &alice, "alice", voice).await;
    let viewer = UserUpdate {
        role: Some(Scope::Viewer),
    };
    app.admin
        .update_user(&handle("alice"), &viewer)
        .await
        .unwrap();
    let (_, said) = press().await;
    assert!(said.contains("viewers cannot acknowledge"), "{said}");
    assert_eq!(status(&app, 1).await, Status::Triggered, "nothing changed");

    // As a responder again, the key press acknowledges, once.
    let responder = UserUpdate {
        role: Some(Scope::Responder),
    };
    app.admin
        .update_user(&handle("alice"), &responder)
        .await
        .unwrap();
    let (_, said) = press().await;
    assert!(said.contains("Incident #1 acknowledged"), "{said}");
    assert_eq!(status(&app, 1).await, Status::Acknowledged);
    let (_, said) = press().await;
    assert!(said.contains("expired or was answered"), "{said}");
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn a_viewers_page_link_changes_nothing() {
    let (app, twilio) = twilio_app().await;
    app.user("alice", Scope::Viewer).await;
    let sms = add_phone(&app, "alice", ContactKind::Sms, ALICE).await;
    page_alice(&app, sms).await;
    let texts = sent(&twilio, MESSAGES).await;
    let body = field(&texts[0], "Body");
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with("https://klaxon.example.com/l/"))
        .unwrap()
        .replace("https://klaxon.example.com", &app.url);
    let r = app.http().post(&link).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("viewers cannot acknowledge or resolve"),
        "{page}"
    );
    assert_eq!(status(&app, 1).await, Status::Triggered, "nothing changed");
    app.cleanup().await;
}

#[tokio::test]
async fn a_token_acts_with_at_most_its_users_role() {
    let app = spawn_sqlite(Default::default()).await;
    let alice = NewUser {
        handle: handle("alice"),
        name: "Alice".into(),
        email: "alice@example.com".into(),
        role: None,
    };
    let created = app.admin.create_user(&alice).await.unwrap();
    assert_eq!(created.role, Scope::Responder, "responder unless told");
    let token = |scope| NewToken {
        name: format!("alice-{scope}"),
        scope,
        user: Some(handle("alice")),
    };

    // A token above the role is refused, naming the field and the fix.
    let p = problem(app.admin.create_token(&token(Scope::Admin)).await);
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "scope"));
    assert!(
        p.errors[0]
            .message
            .contains("klaxon user update alice --role admin"),
        "{p:?}"
    );
    let secret = app
        .admin
        .create_token(&token(Scope::Responder))
        .await
        .unwrap()
        .token;
    let as_alice = Client::new(app.url.clone(), secret);
    as_alice
        .declare(&declare_input("Disk full", 3))
        .await
        .unwrap();

    // Lowered to viewer, her token reads but no longer declares, at once.
    let lowered = app
        .admin
        .update_user(
            &handle("alice"),
            &UserUpdate {
                role: Some(Scope::Viewer),
            },
        )
        .await
        .unwrap();
    assert_eq!(lowered.role, Scope::Viewer);
    let me = as_alice.me().await.unwrap();
    assert_eq!(
        (me.user.role, me.token.scope, me.scope),
        (Scope::Viewer, Scope::Responder, Scope::Viewer)
    );
    let p = problem(as_alice.declare(&declare_input("Disk full", 3)).await);
    assert_eq!(p.status, 403);
    assert!(p.detail.contains("alice is a viewer"), "{p:?}");
    as_alice.incident(IncidentNumber(1)).await.unwrap();

    // Raised to admin, the responder token stays a responder's.
    app.admin
        .update_user(
            &handle("alice"),
            &UserUpdate {
                role: Some(Scope::Admin),
            },
        )
        .await
        .unwrap();
    as_alice
        .declare(&declare_input("Disk full", 3))
        .await
        .unwrap();
    assert_eq!(problem(as_alice.tokens().await).status, 403);
    let users = app.admin.users().await.unwrap();
    let roles: Vec<_> = users.iter().map(|u| (u.handle.as_str(), u.role)).collect();
    assert_eq!(roles, [("admin", Scope::Admin), ("alice", Scope::Admin)]);
    // alice is an admin without an admin token: lowering `admin` would lock everyone out.
    let p = problem(
        app.admin
            .update_user(
                &handle("admin"),
                &UserUpdate {
                    role: Some(Scope::Responder),
                },
            )
            .await,
    );
    assert!(p.status == 409 && p.detail.contains("admin token"), "{p:?}");

    // Only admins change roles; the last admin keeps the role; a role must be given.
    let p = problem(
        as_alice
            .update_user(
                &handle("admin"),
                &UserUpdate {
                    role: Some(Scope::Viewer),
                },
            )
            .await,
    );
    assert_eq!(p.status, 403, "alice's token is a responder's: {p:?}");
    app.admin
        .update_user(
            &handle("alice"),
            &UserUpdate {
                role: Some(Scope::Responder),
            },
        )
        .await
        .unwrap();
    let p = problem(
        app.admin
            .update_user(
                &handle("admin"),
                &UserUpdate {
                    role: Some(Scope::Responder),
                },
            )
            .await,
    );
    assert!(p.status == 409 && p.detail.contains("only admin"), "{p:?}");
    let p = problem(
        app.admin
            .update_user(&handle("admin"), &UserUpdate::default())
            .await,
    );
    assert_eq!((p.status, p.errors[0].field.as_str()), (422, "role"));
    let p = problem(
        app.admin
            .update_user(
                &handle("nobody"),
                &UserUpdate {
                    role: Some(Scope::Viewer),
                },
            )
            .await,
    );
    assert_eq!(p.status, 404);
    app.drain().await;
    app.cleanup().await;
}
