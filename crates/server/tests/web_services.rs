//! The service and people pages as plain HTTP, without JavaScript: every page reads for
//! a viewer; admins create services and see a key's secret once; forms a person may not
//! use are refused and change nothing; bad input is refused next to its field and
//! nothing is stored; a responder edits their own contact methods and no one else's.
//! What changed (or did not) is checked through the API.

mod common;

use common::plain::{escape, signed_in};
use common::{declare_input, spawn_app, TestApp};
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::{
    ContactKind, EscalationStep, NewContactMethod, NewEscalationPolicy, Target,
};
use klaxon_domain::service::{AlertRules, NewHeartbeat, NewService, ServiceName};
use klaxon_domain::Handle;
use reqwest::StatusCode;
use serde_json::json;

fn handle(h: &str) -> Handle {
    Handle::parse(h).unwrap()
}

fn name(n: &str) -> ServiceName {
    ServiceName::parse(n).unwrap()
}

/// Service `api` paging alice through policy `api-oncall`, made through the API.
async fn api_service(app: &TestApp) {
    app.user("alice", Scope::Responder).await;
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
        name: name("api"),
        description: "The public API".into(),
        owner_team: Some("platform".into()),
        runbook_links: vec![],
        rules: AlertRules {
            escalation_policy: Some("api-oncall".into()),
            ..AlertRules::default()
        },
    };
    app.admin.create_service(&service).await.unwrap();
}

/// The message a refused field shows, with its place: right after the field.
fn next_to(id: &str, message: &str) -> String {
    format!(
        "id=\"{id}-error\" class=\"field-error\" role=\"alert\">{}</p>",
        escape(message)
    )
}

#[tokio::test]
async fn every_page_reads_for_a_viewer_without_secrets_or_restricted_incidents() {
    let mut app = spawn_app().await;
    api_service(&app).await;
    let key = app
        .admin
        .service(&name("api"))
        .await
        .unwrap()
        .integration_keys
        .unwrap()[0]
        .clone();
    app.admin
        .create_heartbeat(&NewHeartbeat {
            service: name("api"),
            name: "nightly-backup".into(),
            interval: "1 day".into(),
        })
        .await
        .unwrap();
    let mut open = declare_input("Checkout is slow", 3);
    open.service = Some("api".into());
    app.admin.declare(&open).await.unwrap();
    let mut secret = declare_input("Credential leak", 1);
    secret.service = Some("api".into());
    secret.restricted = true;
    app.admin.declare(&secret).await.unwrap();
    app.enqueue(&json!({
        "routing_key": key.key,
        "event_action": "trigger",
        "payload": {"summary": "p99 latency above 2s", "source": "prometheus", "severity": "info"}
    }))
    .await;
    app.settle().await;

    let (viewer, _) = signed_in(&app, "vera", Scope::Viewer).await;
    for path in [
        "/services",
        "/services/api",
        "/people",
        "/people/vera",
        "/people/alice",
    ] {
        let page = viewer.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(page.body.starts_with("<!doctype html>"), "{path}");
        assert!(!page.body.contains(&key.key), "{path} shows a key");
    }
    let list = viewer.get("/services").await.body;
    assert!(list.contains("api-oncall"), "{list}");
    assert!(!list.contains("action=\"/services\""), "no create form");
    let service = viewer.get("/services/api").await.body;
    for shown in [
        "Checkout is slow",
        "p99 latency above 2s",
        "nightly-backup",
        "alice",
    ] {
        assert!(service.contains(shown), "{shown}: {service}");
    }
    assert!(
        !service.contains("Credential leak"),
        "a restricted incident"
    );
    assert!(!service.contains("Integration keys"), "keys are for admins");
    assert!(!service.contains("<form method=\"post\" action=\"/services/api/"));
    assert!(!service.contains(key.signing_secret.expose()));

    let (admin, _) = signed_in(&app, "ada", Scope::Admin).await;
    let seen_by_admin = admin.get("/services/api").await.body;
    assert!(seen_by_admin.contains("Credential leak"));
    assert!(seen_by_admin.contains("Integration keys"));
    assert!(
        !seen_by_admin.contains(&key.key),
        "keys are shown once only"
    );
    let people = viewer.get("/people").await.body;
    assert!(people.contains("href=\"/people/alice\"") && people.contains("responder"));
    assert!(viewer.get("/people/nobody").await.status == StatusCode::NOT_FOUND);
    assert!(viewer.get("/services/nothing").await.status == StatusCode::NOT_FOUND);
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn an_admin_creates_a_service_and_sees_each_new_key_once() {
    let app = spawn_app().await;
    let (admin, _) = signed_in(&app, "ada", Scope::Admin).await;
    let created = admin
        .submit(
            "/services",
            "/services",
            &[
                ("name", "payments"),
                ("description", "Card payments"),
                ("owner_team", "money"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.headers["cache-control"], "no-store");
    let stored = app.admin.service(&name("payments")).await.unwrap();
    assert_eq!(stored.owner_team.as_deref(), Some("money"));
    let first = &stored.integration_keys.unwrap()[0];
    assert!(created.body.contains(&first.key), "{}", created.body);
    assert!(created.body.contains(first.signing_secret.expose()));

    let page = admin.get("/services/payments").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(&first.key));
    assert!(!page.body.contains(first.signing_secret.expose()));
    assert!(page.body.contains("Card payments"));

    let added = admin
        .submit("/services/payments", "/services/payments/keys", &[])
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let keys = app
        .admin
        .service(&name("payments"))
        .await
        .unwrap()
        .integration_keys
        .unwrap();
    assert_eq!(keys.len(), 2);
    let second = keys.iter().find(|k| k.id != first.id).unwrap();
    assert!(added.body.contains(&second.key));
    assert!(!admin
        .get("/services/payments")
        .await
        .body
        .contains(&second.key));

    let revoke = format!("/services/payments/keys/{}/revoke", first.id);
    let revoked = admin.submit("/services/payments", &revoke, &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(revoked.location.as_deref(), Some("/services/payments"));
    let keys = app
        .admin
        .service(&name("payments"))
        .await
        .unwrap()
        .integration_keys
        .unwrap();
    assert!(keys
        .iter()
        .find(|k| k.id == first.id)
        .unwrap()
        .revoked_at
        .is_some());
    let again = admin.submit("/services/payments", &revoke, &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "revoked already");

    let changed = admin
        .submit(
            "/services/payments",
            "/services/payments/settings",
            &[
                ("description", "Card and wallet payments"),
                ("owner_team", "money"),
                ("runbook_links", "https://runbooks.example/payments\n"),
                ("grouping", "time-window:15"),
                ("auto_resolve", "1"),
                ("alertmanager_dedup", "per-group"),
                ("escalation_policy", ""),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    let service = app.admin.service(&name("payments")).await.unwrap();
    assert_eq!(service.description, "Card and wallet payments");
    assert_eq!(service.rules.grouping.to_string(), "time-window:15");
    assert!(service.rules.auto_resolve);
    assert_eq!(service.runbook_links, ["https://runbooks.example/payments"]);
    assert_eq!(
        service.rules.severities,
        AlertRules::default().severities,
        "kept"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn forms_a_person_may_not_use_are_refused_and_change_nothing() {
    let mut app = spawn_app().await;
    api_service(&app).await;
    let (viewer, _) = signed_in(&app, "vera", Scope::Viewer).await;
    let (responder, _) = signed_in(&app, "rex", Scope::Responder).await;
    let before = app.admin.service(&name("api")).await.unwrap();

    for browser in [&viewer, &responder] {
        let refused = browser
            .submit("/services", "/services", &[("name", "payments")])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let refused = browser
            .submit("/services/api", "/services/api/keys", &[])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = browser
            .submit(
                "/services/api",
                "/services/api/settings",
                &[
                    ("grouping", "per-alert"),
                    ("alertmanager_dedup", "per-alert"),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = browser
            .submit(
                "/services/api",
                "/services/api/heartbeats",
                &[("name", "x"), ("interval", "1h")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let refused = browser
            .submit("/services/api", "/services/api/delete", &[])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let window = [
        ("ends_at", "2026-11-26 12:00"),
        ("reason", "database upgrade"),
    ];
    let refused = viewer
        .submit("/services/api", "/services/api/maintenance", &window)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "viewers plan no maintenance"
    );

    assert_eq!(app.admin.services().await.unwrap().len(), 1);
    assert_eq!(app.admin.service(&name("api")).await.unwrap(), before);
    assert!(app.admin.heartbeats().await.unwrap().is_empty());
    assert!(app
        .admin
        .maintenance(&name("api"))
        .await
        .unwrap()
        .is_empty());

    // A responder plans maintenance and ends it, as in the API.
    let planned = responder
        .submit("/services/api", "/services/api/maintenance", &window)
        .await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.body);
    let windows = app.admin.maintenance(&name("api")).await.unwrap();
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0].created_by, "rex");
    assert_eq!(windows[0].ends_at.to_string(), "2026-11-26T12:00:00Z");
    assert!(viewer
        .get("/services")
        .await
        .body
        .contains("in maintenance now"));
    let end = format!("/services/api/maintenance/{}/end", windows[0].id);
    assert_eq!(
        viewer.submit("/services/api", &end, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.admin.maintenance(&name("api")).await.unwrap().len(), 1);
    let ended = responder.submit("/services/api", &end, &[]).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert!(app
        .admin
        .maintenance(&name("api"))
        .await
        .unwrap()
        .is_empty());
    app.allow_pending_jobs();
    app.cleanup().await;
}

#[tokio::test]
async fn bad_input_is_refused_next_to_its_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    api_service(&app).await;
    let (admin, _) = signed_in(&app, "ada", Scope::Admin).await;

    let unnamed = admin
        .submit(
            "/services",
            "/services",
            &[("name", ""), ("description", "kept")],
        )
        .await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unnamed.body.contains(&next_to(
            "s-name",
            "'' is not a service name; use 1 to 64 lower-case letters, digits, '-' or '_'"
        )),
        "{}",
        unnamed.body
    );
    assert!(
        unnamed.body.contains("value=\"kept\""),
        "what was entered stays"
    );
    let unknown = admin
        .submit(
            "/services",
            "/services",
            &[("name", "payments"), ("escalation_policy", "nope")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = "there is no escalation policy 'nope'; see `klaxon escalation list`";
    assert!(
        unknown.body.contains(&next_to("s-policy", message)),
        "{}",
        unknown.body
    );
    assert_eq!(
        app.admin.services().await.unwrap().len(),
        1,
        "nothing stored"
    );

    let before = app.admin.service(&name("api")).await.unwrap();
    let settings = admin
        .submit(
            "/services/api",
            "/services/api/settings",
            &[
                ("description", "changed"),
                ("grouping", "per-alert"),
                ("alertmanager_dedup", "per-alert"),
                ("escalation_policy", "nope"),
            ],
        )
        .await;
    assert_eq!(settings.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        settings.body.contains(&next_to("e-policy", message)),
        "{}",
        settings.body
    );
    let grouping = admin
        .submit(
            "/services/api",
            "/services/api/settings",
            &[
                ("grouping", "sometimes"),
                ("alertmanager_dedup", "per-alert"),
            ],
        )
        .await;
    assert_eq!(grouping.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(grouping
        .body
        .contains("&#39;sometimes&#39; is not a grouping"));
    assert_eq!(app.admin.service(&name("api")).await.unwrap(), before);

    let backwards = admin
        .submit(
            "/services/api",
            "/services/api/maintenance",
            &[
                ("starts_at", "2026-11-26T14:00"),
                ("ends_at", "2026-11-26T12:00"),
                ("reason", "database upgrade"),
            ],
        )
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        backwards.body.contains(&next_to(
            "m-end",
            "a maintenance window must end after it starts"
        )),
        "{}",
        backwards.body
    );
    let unreadable = admin
        .submit(
            "/services/api",
            "/services/api/maintenance",
            &[("ends_at", "tomorrow"), ("reason", "database upgrade")],
        )
        .await;
    assert_eq!(unreadable.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unreadable.body.contains("id=\"m-end-error\""));
    assert!(app
        .admin
        .maintenance(&name("api"))
        .await
        .unwrap()
        .is_empty());

    let address = admin
        .submit(
            "/people/ada",
            "/people/ada/contact-methods",
            &[("kind", "email"), ("address", "ada at example")],
        )
        .await;
    assert_eq!(address.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        address.body.contains(&next_to(
            "c-address",
            "'ada at example' is not an e-mail address such as alice@example.com"
        )),
        "{}",
        address.body
    );
    let rule = admin
        .submit(
            "/people/ada",
            "/people/ada/notification-rules",
            &[
                ("urgency", "high"),
                ("contact_method", "1"),
                ("delay_minutes", "9999"),
            ],
        )
        .await;
    assert_eq!(rule.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(rule.body.contains("use 0 to 1440 minutes"));
    assert!(app
        .admin
        .contact_methods(&handle("ada"))
        .await
        .unwrap()
        .is_empty());
    assert!(app
        .admin
        .notification_rules(&handle("ada"))
        .await
        .unwrap()
        .is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn forms_without_their_csrf_token_change_nothing() {
    let app = spawn_app().await;
    let (admin, _) = signed_in(&app, "ada", Scope::Admin).await;
    let missing = admin.post("/services", &[("name", "payments")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.body.contains("reload the page"));
    let wrong = admin
        .post(
            "/people/ada/contact-methods",
            &[
                ("csrf", "0123456789abcdef"),
                ("kind", "email"),
                ("address", "ada@example.com"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(app.admin.services().await.unwrap().is_empty());
    assert!(app
        .admin
        .contact_methods(&handle("ada"))
        .await
        .unwrap()
        .is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn a_responder_edits_their_own_contact_methods_but_not_anothers() {
    let mut app = spawn_app().await;
    let (alice, _) = signed_in(&app, "alice", Scope::Responder).await;
    app.user("bob", Scope::Responder).await;
    app.admin
        .add_contact_method(
            &handle("bob"),
            &NewContactMethod {
                kind: ContactKind::Sms,
                address: "+15551110002".into(),
                label: None,
            },
        )
        .await
        .unwrap();

    let added = alice
        .submit(
            "/people/alice",
            "/people/alice/contact-methods",
            &[
                ("kind", "email"),
                ("address", "alice@example.com"),
                ("label", "work"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(added.location.as_deref(), Some("/people/alice"));
    let methods = app.admin.contact_methods(&handle("alice")).await.unwrap();
    assert_eq!(methods.len(), 1);
    assert_eq!(methods[0].address, "alice@example.com");
    let mine = alice.get("/people/alice").await.body;
    assert!(mine.contains("alice@example.com") && mine.contains("work"));

    let rule = alice
        .submit(
            "/people/alice",
            "/people/alice/notification-rules",
            &[
                ("urgency", "high"),
                ("contact_method", &methods[0].id.to_string()),
                ("delay_minutes", "5"),
            ],
        )
        .await;
    assert_eq!(rule.status, StatusCode::SEE_OTHER, "{}", rule.body);
    let rules = app
        .admin
        .notification_rules(&handle("alice"))
        .await
        .unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].delay_minutes, 5);

    let test = format!("/people/alice/contact-methods/{}/test", methods[0].id);
    let tested = alice.submit("/people/alice", &test, &[]).await;
    assert_eq!(tested.status, StatusCode::SEE_OTHER);
    let notice = alice.get(tested.location.as_deref().unwrap()).await.body;
    assert!(notice.contains("A test message is on its way"), "{notice}");
    let again = alice.submit("/people/alice", &test, &[]).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "one a minute");

    let remove_rule = format!("/people/alice/notification-rules/{}/remove", rules[0].id);
    let removed = alice.submit("/people/alice", &remove_rule, &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(app
        .admin
        .notification_rules(&handle("alice"))
        .await
        .unwrap()
        .is_empty());

    // Bob's page shows who he is, not how he is reached, and takes no change from her.
    let bobs = alice.get("/people/bob").await;
    assert_eq!(bobs.status, StatusCode::OK);
    assert!(!bobs.body.contains("+15551110002"));
    assert!(bobs
        .body
        .contains("Only bob and admins see how bob is reached"));
    let refused = alice
        .submit(
            "/people/alice",
            "/people/bob/contact-methods",
            &[("kind", "email"), ("address", "mallory@example.com")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let bob_method = app.admin.contact_methods(&handle("bob")).await.unwrap()[0].id;
    let refused = alice
        .submit(
            "/people/alice",
            &format!("/people/bob/contact-methods/{bob_method}/remove"),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.admin
            .contact_methods(&handle("bob"))
            .await
            .unwrap()
            .len(),
        1
    );

    // An admin may change anyone's; a viewer not even their own.
    let (admin, _) = signed_in(&app, "ada", Scope::Admin).await;
    assert!(admin.get("/people/bob").await.body.contains("+15551110002"));
    let removed = admin
        .submit(
            "/people/bob",
            &format!("/people/bob/contact-methods/{bob_method}/remove"),
            &[],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(app
        .admin
        .contact_methods(&handle("bob"))
        .await
        .unwrap()
        .is_empty());
    let (viewer, _) = signed_in(&app, "vera", Scope::Viewer).await;
    let own = viewer.get("/people/vera").await.body;
    assert!(
        !own.contains("action=\"/people/vera/contact-methods\""),
        "no form"
    );
    let refused = viewer
        .submit(
            "/people/vera",
            "/people/vera/contact-methods",
            &[("kind", "email"), ("address", "vera@example.com")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(app
        .admin
        .contact_methods(&handle("vera"))
        .await
        .unwrap()
        .is_empty());
    // The test message to alice is queued for the engine, which this test does not run.
    app.allow_pending_jobs();
    app.cleanup().await;
}
