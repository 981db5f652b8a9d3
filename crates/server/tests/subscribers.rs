//! Status-page subscribers end to end, over HTTP on a real server with a real SMTP
//! server on loopback and a webhook receiver that checks signatures: the double opt-in
//! (confirm once, twice, tampered), one-click unsubscribe (GET asks, POST acts), who a
//! notice reaches (the whole page, a component, a group with components added later),
//! webhook retries after a 500 and across a restart, rate limits, and bad input refused
//! with nothing changed.

mod common;

use std::time::Duration;

use common::plain::signed_in;
use common::smtp::{Mail, SmtpSink};
use common::subscribers::{deliveries, local, signed_webhook};
use common::{declare_input, problem, spawn_postgres, spawn_sqlite, Settings, TestApp};
use jiff::SignedDuration;
use klaxon_domain::api::ResolveRequest;
use klaxon_domain::auth::Scope;
use klaxon_domain::incident::{DeclareInput, StatusUpdateInput, UpdateAudience, UpdateKind};
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::{ComponentChoice, NewComponent, NewSubscriber};
use klaxon_domain::{ComponentId, IncidentNumber};
use reqwest::StatusCode;
use serde_json::{json, Value};
use wiremock::MockServer;

fn customer(kind: UpdateKind, status: &str) -> StatusUpdateInput {
    StatusUpdateInput {
        audience: UpdateAudience::Customer,
        status: Some(status.into()),
        impact: Some("API requests".into()),
        ..StatusUpdateInput::new(kind)
    }
}

async fn component(app: &TestApp, name: &str, group: Option<ComponentId>) -> ComponentId {
    app.admin
        .create_component(&NewComponent {
            name: name.into(),
            group_id: group,
            services: if name == "API" {
                vec![ServiceName::parse("api").unwrap()]
            } else {
                vec![]
            },
            ..NewComponent::default()
        })
        .await
        .unwrap()
        .id
}

async fn group(app: &TestApp, name: &str) -> ComponentId {
    app.admin
        .create_component(&NewComponent {
            name: name.into(),
            group: true,
            ..NewComponent::default()
        })
        .await
        .unwrap()
        .id
}

/// A SEV2 customer-facing incident on service `api`.
async fn outage(app: &TestApp, title: &str) -> IncidentNumber {
    app.admin
        .declare(&DeclareInput {
            service: Some("api".into()),
            customer_facing: true,
            ..declare_input(title, 2)
        })
        .await
        .unwrap()
        .incident
        .number
}

async fn resolve(app: &TestApp, n: IncidentNumber) {
    app.admin
        .resolve(
            n,
            &ResolveRequest {
                root_cause: None,
                fix: None,
                at: None,
            },
        )
        .await
        .unwrap();
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let r = app
        .http()
        .post(format!("{}{path}", app.url))
        .form(fields)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn get(app: &TestApp, url: &str) -> (StatusCode, String) {
    let r = app.http().get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn subscribe_json(app: &TestApp, body: &str) -> reqwest::Response {
    app.http()
        .post(format!("{}/api/v2/subscribers.json", app.url))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// The mails that arrive before a second passes without one.
async fn mails(smtp: &mut SmtpSink) -> Vec<Mail> {
    let mut out = vec![];
    while let Some(m) = smtp.within(Duration::from_secs(1)).await {
        out.push(m);
    }
    out
}

async fn opt_in_flow(app: TestApp, smtp: &mut SmtpSink) {
    app.service_key("api").await;
    component(&app, "API", None).await;
    let (status, page) = get(&app, &format!("{}/status", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("action=\"/status/subscribe\""), "{page}");

    let (status, answer) =
        post_form(&app, "/status/subscribe", &[("email", "Ana@Example.COM")]).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("Check your inbox"), "{answer}");
    let pending = app.admin.subscribers().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].address, "Ana@example.com");
    assert_eq!(pending[0].confirmed_at, None);
    assert_eq!(pending[0].components, None, "the whole page");

    app.run_jobs().await;
    let mail = smtp.received().await;
    assert_eq!(mail.to, ["Ana@example.com"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your subscription to Acme Status")
    );
    let unsubscribe = mail.link("/unsubscribe").expect("an unsubscribe link");
    assert_eq!(
        mail.header("List-Unsubscribe"),
        Some(format!("<{unsubscribe}>"))
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let confirm = mail.link("/confirm").expect("a confirm link");
    assert!(confirm.starts_with("https://klaxon.example.com/status/subscribers/confirm?s="));

    // Not confirmed: a customer update reaches nobody.
    let n = outage(&app, "Elevated API errors").await;
    app.admin
        .post_update(n, &customer(UpdateKind::Detected, ""))
        .await
        .unwrap();
    app.run_jobs().await;
    assert!(smtp.within(Duration::from_millis(500)).await.is_none());

    // A tampered link, or one pointed at another subscriber, confirms nothing.
    let mut tampered = local(&app, &confirm);
    let last = tampered.pop().unwrap();
    tampered.push(if last == '0' { '1' } else { '0' });
    let (status, answer) = get(&app, &tampered).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("This link is not valid"), "{answer}");
    let (status, _) = get(&app, &local(&app, &confirm).replace("?s=1&", "?s=2&")).await;
    assert_eq!(status, 400);
    let (status, _) = get(&app, &format!("{}/status/subscribers/confirm", app.url)).await;
    assert_eq!(status, 400);
    assert_eq!(app.admin.subscribers().await.unwrap()[0].confirmed_at, None);

    let (status, answer) = get(&app, &local(&app, &confirm)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("Subscription confirmed"), "{answer}");
    let confirmed_at = app.admin.subscribers().await.unwrap()[0].confirmed_at;
    assert!(confirmed_at.is_some());
    app.clock.advance(SignedDuration::from_mins(1));
    let (status, answer) = get(&app, &local(&app, &confirm)).await;
    assert_eq!(status, 200);
    assert!(answer.contains("Already confirmed"), "{answer}");
    assert_eq!(
        app.admin.subscribers().await.unwrap()[0].confirmed_at,
        confirmed_at
    );

    // Now the next customer update arrives, with its own way out.
    app.admin
        .post_update(
            n,
            &customer(UpdateKind::Update, "A bad deploy; we are rolling it back"),
        )
        .await
        .unwrap();
    app.run_jobs().await;
    let mail = smtp.received().await;
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("[Acme Status] Elevated API errors - Identified")
    );
    let body = mail.body();
    assert!(
        body.contains("A bad deploy; we are rolling it back"),
        "{body}"
    );
    assert!(body.contains("Affects: API"), "{body}");
    assert!(body.contains("/status/incidents/"), "{body}");
    assert_eq!(mail.line_after("Unsubscribe:"), Some(unsubscribe.clone()));
    assert_eq!(
        mail.header("List-Unsubscribe"),
        Some(format!("<{unsubscribe}>"))
    );
    assert!(
        smtp.within(Duration::from_millis(300)).await.is_none(),
        "one mail"
    );

    // The unsubscribe link's page asks first: a mail scanner opening it changes nothing.
    let (status, answer) = get(&app, &local(&app, &unsubscribe)).await;
    assert_eq!(status, 200);
    assert!(
        answer.contains("Stop sending Acme Status updates to Ana@example.com?"),
        "{answer}"
    );
    assert!(answer.contains("method=\"post\""), "{answer}");
    assert_eq!(app.admin.subscribers().await.unwrap().len(), 1);
    // A tampered one-click POST does nothing either.
    let refused = app
        .http()
        .post(local(&app, &unsubscribe).replace("&t=", "&t=00"))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(app.admin.subscribers().await.unwrap().len(), 1);
    // RFC 8058's one-click POST, as a mail client sends it: no login, no CSRF token.
    let one_click = app
        .http()
        .post(local(&app, &unsubscribe))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(one_click.status(), 200);
    assert!(one_click.text().await.unwrap().contains("Unsubscribed"));
    assert!(
        app.admin.subscribers().await.unwrap().is_empty(),
        "the address is forgotten"
    );
    let again = app
        .http()
        .post(local(&app, &unsubscribe))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert!(again.text().await.unwrap().contains("Not subscribed"));
    // And its confirm link no longer brings it back.
    let (status, _) = get(&app, &local(&app, &confirm)).await;
    assert_eq!(status, 404);

    app.admin
        .post_update(n, &customer(UpdateKind::Update, "Still rolling back"))
        .await
        .unwrap();
    resolve(&app, n).await;
    app.run_jobs().await;
    assert!(smtp.within(Duration::from_millis(500)).await.is_none());
    app.cleanup().await;
}

#[tokio::test]
async fn an_address_confirms_before_anything_is_sent_and_leaves_with_one_click() {
    let mut smtp = SmtpSink::start().await;
    let app = spawn_sqlite(smtp.settings()).await;
    opt_in_flow(app, &mut smtp).await;
}

#[tokio::test]
async fn the_opt_in_works_on_postgres() {
    let mut smtp = SmtpSink::start().await;
    let Some(app) = spawn_postgres(smtp.settings()).await else {
        return;
    };
    opt_in_flow(app, &mut smtp).await;
}

async fn add_email(app: &TestApp, address: &str, components: Option<Vec<ComponentId>>) {
    app.admin
        .add_subscriber(&NewSubscriber {
            email: Some(address.into()),
            components,
            confirmed: true,
            ..NewSubscriber::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn notices_reach_who_follows_the_page_the_component_or_its_group() {
    let mut smtp = SmtpSink::start().await;
    let app = spawn_sqlite(smtp.settings()).await;
    app.service_key("api").await;
    let core = group(&app, "Core").await;
    let api = component(&app, "API", Some(core)).await;
    let billing = component(&app, "Billing", None).await;
    add_email(&app, "whole@example.com", None).await;
    add_email(&app, "api@example.com", Some(vec![api])).await;
    add_email(&app, "core@example.com", Some(vec![core])).await;
    add_email(&app, "billing@example.com", Some(vec![billing])).await;
    app.run_jobs().await;
    assert!(
        mails(&mut smtp).await.is_empty(),
        "confirmed by an admin: no link to mail"
    );

    // Search joins Core after the subscriptions were made.
    let search = component(&app, "Search", Some(core)).await;
    let n = app
        .admin
        .declare(&DeclareInput {
            customer_facing: true,
            components: Some(vec![ComponentChoice {
                component: search,
                status: None,
            }]),
            ..declare_input("Search is slow", 3)
        })
        .await
        .unwrap()
        .incident
        .number;
    app.admin
        .post_update(n, &customer(UpdateKind::Detected, ""))
        .await
        .unwrap();
    app.run_jobs().await;
    let mut to: Vec<String> = mails(&mut smtp)
        .await
        .into_iter()
        .flat_map(|m| m.to)
        .collect();
    to.sort();
    assert_eq!(to, ["core@example.com", "whole@example.com"]);

    // The API outage reaches the API's, its group's and the whole page's followers.
    let m = outage(&app, "API errors").await;
    app.admin
        .post_update(m, &customer(UpdateKind::Detected, ""))
        .await
        .unwrap();
    app.run_jobs().await;
    let mut to: Vec<String> = mails(&mut smtp)
        .await
        .into_iter()
        .flat_map(|m| m.to)
        .collect();
    to.sort();
    assert_eq!(
        to,
        ["api@example.com", "core@example.com", "whole@example.com"]
    );

    // An internal update, a restricted incident and a drill reach nobody.
    app.admin
        .post_update(
            m,
            &StatusUpdateInput {
                status: Some("INTERNAL pods restarting".into()),
                ..StatusUpdateInput::new(UpdateKind::Update)
            },
        )
        .await
        .unwrap();
    for (restricted, drill) in [(true, false), (false, true)] {
        let hidden = app
            .admin
            .declare(&DeclareInput {
                service: Some("api".into()),
                customer_facing: true,
                restricted,
                drill,
                ..declare_input("HIDDEN", 1)
            })
            .await
            .unwrap()
            .incident
            .number;
        app.admin
            .post_update(hidden, &customer(UpdateKind::Detected, "HIDDEN"))
            .await
            .unwrap();
        resolve(&app, hidden).await;
    }
    app.run_jobs().await;
    assert!(mails(&mut smtp).await.is_empty());

    resolve(&app, n).await;
    resolve(&app, m).await;
    app.run_jobs().await;
    app.cleanup().await;
}

fn webhook_settings() -> Settings {
    let mut settings = Settings::default();
    settings.channels.outbound =
        klaxon_server::OutboundGuard::parse(&["127.0.0.1".into()]).unwrap();
    settings
}

async fn add_webhook(app: &TestApp, hook: &MockServer) -> String {
    let added = app
        .admin
        .add_subscriber(&NewSubscriber {
            webhook: Some(format!("{}/status-hook", hook.uri())),
            ..NewSubscriber::default()
        })
        .await
        .unwrap();
    assert!(
        added.subscriber.confirmed_at.is_some(),
        "a webhook needs no confirmation"
    );
    added.signing_secret.expect("a signing secret, once")
}

#[tokio::test]
async fn webhook_deliveries_are_signed_in_the_statuspage_shape_and_retried_after_a_500() {
    let app = spawn_sqlite(webhook_settings()).await;
    app.service_key("api").await;
    component(&app, "API", None).await;
    let hook = MockServer::start().await;
    let secret = add_webhook(&app, &hook).await;
    assert_eq!(secret.len(), 64);
    assert!(
        !serde_json::to_string(&app.admin.subscribers().await.unwrap())
            .unwrap()
            .contains(&secret),
        "the secret is shown once"
    );
    signed_webhook(&hook, &secret, 1).await;

    let n = outage(&app, "Elevated API errors").await;
    app.run_jobs().await;
    assert_eq!(
        deliveries(&hook).await.len(),
        1,
        "one attempt, answered 500"
    );
    let pending: Vec<_> = app
        .state()
        .store
        .jobs(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind.as_str() == "subscriber-delivery")
        .collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].attempts, 1);
    assert!(
        pending[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("500"),
        "{pending:?}"
    );
    assert!(pending[0].dead_at.is_none());

    app.clock.advance(SignedDuration::from_mins(1));
    app.run_jobs().await;
    let got = hook.received_requests().await.unwrap();
    assert_eq!(got.len(), 2, "retried once, then accepted");
    let id = |i: usize| got[i].headers.get("x-klaxon-delivery").unwrap().clone();
    assert_eq!(id(0), id(1), "a retry is the same delivery");
    assert!(common::subscribers::pending_deliveries(&app)
        .await
        .is_empty());

    let (event, body) = deliveries(&hook).await.remove(1);
    assert_eq!(event, "component.update");
    assert_eq!(body["page"]["status_indicator"], "major");
    assert_eq!(body["page"]["status_description"], "Partial System Outage");
    assert!(body["meta"]["unsubscribe"]
        .as_str()
        .unwrap()
        .contains("/status/subscribers/unsubscribe?s="));
    assert_eq!(body["component_update"]["old_status"], "operational");
    assert_eq!(body["component_update"]["new_status"], "partial_outage");
    assert_eq!(body["component"]["name"], "API");
    assert_eq!(body["component"]["status"], "partial_outage");
    let summary: Value = app
        .http()
        .get(format!("{}/api/v2/components.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["component"]["id"], summary["components"][0]["id"]);
    assert_eq!(
        body["component_update"]["component_id"],
        summary["components"][0]["id"]
    );

    app.admin
        .post_update(n, &customer(UpdateKind::Detected, ""))
        .await
        .unwrap();
    app.run_jobs().await;
    let (event, body) = deliveries(&hook).await.pop().unwrap();
    assert_eq!(event, "incident.update");
    assert_eq!(body["incident"]["name"], "Elevated API errors");
    assert_eq!(body["incident"]["status"], "investigating");
    assert_eq!(body["incident"]["impact"], "major");
    assert!(body["incident"]["incident_updates"][0]["body"]
        .as_str()
        .unwrap()
        .contains("API requests"));
    assert_eq!(body["incident"]["components"][0]["name"], "API");

    // By hand too: a status set on a component is a component update.
    resolve(&app, n).await;
    app.run_jobs().await;
    let (_, body) = deliveries(&hook).await.pop().unwrap();
    assert_eq!(body["component_update"]["old_status"], "partial_outage");
    assert_eq!(body["component_update"]["new_status"], "operational");
    assert_eq!(body["page"]["status_indicator"], "none");
    for r in hook.received_requests().await.unwrap() {
        assert!(common::subscribers::signature_ok(&secret, &r));
    }
    app.cleanup().await;
}

#[tokio::test]
async fn a_delivery_still_due_survives_a_restart() {
    let mut app = spawn_sqlite(webhook_settings()).await;
    app.service_key("api").await;
    let api = component(&app, "API", None).await;
    let hook = MockServer::start().await;
    let secret = add_webhook(&app, &hook).await;
    let failures = signed_webhook(&hook, &secret, 100).await;
    app.admin
        .update_component(
            api,
            &klaxon_domain::status::ComponentUpdate {
                status: Some(klaxon_domain::status::ComponentStatus::UnderMaintenance),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.run_jobs().await;
    assert_eq!(deliveries(&hook).await.len(), 1);

    app.restart().await;
    failures.store(0, std::sync::atomic::Ordering::SeqCst);
    app.clock.advance(SignedDuration::from_mins(1));
    app.run_jobs().await;
    let got = deliveries(&hook).await;
    assert_eq!(got.len(), 2, "delivered after the restart");
    assert_eq!(
        got[1].1["component_update"]["new_status"],
        "under_maintenance"
    );
    assert!(common::subscribers::pending_deliveries(&app)
        .await
        .is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn subscribing_is_rate_limited_per_address_and_per_client() {
    let mut smtp = SmtpSink::start().await;
    let app = spawn_sqlite(smtp.settings()).await;
    for _ in 0..3 {
        let (status, answer) =
            post_form(&app, "/status/subscribe", &[("email", "bo@example.com")]).await;
        assert_eq!(status, 200, "{answer}");
    }
    let (status, answer) =
        post_form(&app, "/status/subscribe", &[("email", "BO@example.com")]).await;
    assert_eq!(status, 429, "{answer}");
    assert!(
        answer.contains("this address was subscribed several times"),
        "{answer}"
    );
    for i in 0..6 {
        let r = subscribe_json(
            &app,
            &json!({"email": format!("p{i}@example.com")}).to_string(),
        )
        .await;
        assert_eq!(r.status(), 202);
    }
    let r = subscribe_json(&app, r#"{"email": "late@example.com"}"#).await;
    assert_eq!(r.status(), 429);
    let p: Value = r.json().await.unwrap();
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("too many subscriptions from your network"),
        "{p}"
    );
    let all = app.admin.subscribers().await.unwrap();
    assert_eq!(all.len(), 7, "bo once, and the six others");
    assert!(!all.iter().any(|s| s.address == "late@example.com"));
    app.run_jobs().await;
    let sent = mails(&mut smtp).await;
    assert_eq!(
        sent.iter().filter(|m| m.to == ["bo@example.com"]).count(),
        3,
        "a link each time, until the limit"
    );
    assert_eq!(sent.len(), 9);
    app.cleanup().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let smtp = SmtpSink::start().await;
    let app = spawn_sqlite(smtp.settings()).await;
    app.service_key("api").await;
    let api = component(&app, "API", None).await;

    let (status, answer) =
        post_form(&app, "/status/subscribe", &[("email", "not-an-address")]).await;
    assert_eq!(status, 422);
    assert!(answer.contains("is not an e-mail address"), "{answer}");
    let long = format!("{}@example.com", "a".repeat(300));
    let (status, _) = post_form(&app, "/status/subscribe", &[("email", &long)]).await;
    assert_eq!(status, 413);
    let (status, _) = post_form(&app, "/status/subscribe", &[("email", &"a".repeat(9000))]).await;
    assert_eq!(status, 413);
    let (status, answer) = post_form(
        &app,
        "/status/subscribe",
        &[("email", "cy@example.com"), ("components", "nosuchthing")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(answer.contains("there is no component"), "{answer}");

    for (body, code, says) in [
        (r#"{"email": "a@b"}"#, 422, "not an e-mail address"),
        (
            r#"{"email": "x@example.com", "admin": true}"#,
            422,
            "unknown field",
        ),
        (
            r#"{"email": "x@example.com", "components": []}"#,
            422,
            "at least one component",
        ),
        (
            r#"{"email": "x@example.com", "components": ["zzz"]}"#,
            422,
            "no component 'zzz'",
        ),
        ("not json", 400, "send {"),
        (r#"{}"#, 422, "missing field"),
    ] {
        let r = subscribe_json(&app, body).await;
        assert_eq!(r.status(), code, "{body}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{body}"
        );
        let p: Value = r.json().await.unwrap();
        assert!(p["detail"].as_str().unwrap().contains(says), "{body}: {p}");
    }

    for (webhook, says) in [
        ("ftp://example.com/hook", "not an http(s) URL"),
        ("javascript:alert(1)", "not an http(s) URL"),
        ("https://10.1.2.3/hook", "--allow-outbound"),
    ] {
        let p = problem(
            app.admin
                .add_subscriber(&NewSubscriber {
                    webhook: Some(webhook.into()),
                    ..NewSubscriber::default()
                })
                .await,
        );
        assert_eq!(p.status, 422, "{webhook}: {p:?}");
        assert!(p.detail.contains(says), "{webhook}: {p:?}");
    }
    let both = problem(
        app.admin
            .add_subscriber(&NewSubscriber {
                email: Some("a@example.com".into()),
                webhook: Some("https://example.com/h".into()),
                ..NewSubscriber::default()
            })
            .await,
    );
    assert_eq!(both.status, 422);
    let unknown = problem(
        app.admin
            .add_subscriber(&NewSubscriber {
                email: Some("a@example.com".into()),
                components: Some(vec![api, ComponentId(999)]),
                confirmed: true,
                ..NewSubscriber::default()
            })
            .await,
    );
    assert_eq!(unknown.status, 422);
    assert!(unknown.detail.contains("no component 999"), "{unknown:?}");

    let viewer = app.user("vic", Scope::Responder).await;
    assert_eq!(problem(viewer.subscribers().await).status, 403);
    let add = viewer
        .add_subscriber(&NewSubscriber {
            email: Some("v@example.com".into()),
            ..NewSubscriber::default()
        })
        .await;
    assert_eq!(problem(add).status, 403);

    assert!(
        app.admin.subscribers().await.unwrap().is_empty(),
        "nothing was stored"
    );
    let added = add_email_confirmed(&app, "dup@example.com").await;
    let dup = problem(
        app.admin
            .add_subscriber(&NewSubscriber {
                email: Some("DUP@example.com".into()),
                confirmed: true,
                ..NewSubscriber::default()
            })
            .await,
    );
    assert_eq!(dup.status, 409, "{dup:?}");
    assert_eq!(app.admin.subscribers().await.unwrap().len(), 1);
    // Addresses are never public.
    for path in ["/status", "/api/v2/summary.json", "/history.atom"] {
        let (_, body) = get(&app, &format!("{}{path}", app.url)).await;
        assert!(!body.contains("dup@"), "{path}");
    }
    app.admin.remove_subscriber(added).await.unwrap();
    assert_eq!(
        problem(app.admin.remove_subscriber(added).await).status,
        404
    );
    app.run_jobs().await;
    app.cleanup().await;
}

async fn add_email_confirmed(app: &TestApp, address: &str) -> klaxon_domain::SubscriberId {
    app.admin
        .add_subscriber(&NewSubscriber {
            email: Some(address.into()),
            confirmed: true,
            ..NewSubscriber::default()
        })
        .await
        .unwrap()
        .subscriber
        .id
}

#[tokio::test]
async fn admins_list_and_remove_subscribers_on_their_page() {
    let smtp = SmtpSink::start().await;
    let app = spawn_sqlite(smtp.settings()).await;
    let hook = MockServer::start().await;
    let _ = hook;
    add_email_confirmed(&app, "ops@example.com").await;
    let pending = app
        .admin
        .add_subscriber(&NewSubscriber {
            email: Some("later@example.com".into()),
            ..NewSubscriber::default()
        })
        .await
        .unwrap()
        .subscriber;
    let (admin, _) = signed_in(&app, "ada", Scope::Admin).await;
    let page = admin.get("/subscribers").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ops@example.com"), "{}", page.body);
    assert!(
        page.body.contains("waiting for confirmation"),
        "{}",
        page.body
    );
    assert!(page.body.contains("the whole page"));
    let removed = admin
        .submit(
            "/subscribers",
            &format!("/subscribers/{}/remove", pending.id),
            &[],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(removed.location.as_deref(), Some("/subscribers"));
    let left = app.admin.subscribers().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].address, "ops@example.com");
    // Without the form's token, nothing is removed.
    let forged = admin
        .post(&format!("/subscribers/{}/remove", left[0].id), &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert_eq!(app.admin.subscribers().await.unwrap().len(), 1);

    let (responder, _) = signed_in(&app, "rex", Scope::Responder).await;
    let refused = responder.get("/subscribers").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains("ops@example.com"));
    app.run_jobs().await;
    app.cleanup().await;
}

/// An hour before a scheduled maintenance starts (the policy's default), its
/// subscribers are reminded, once, in the Statuspage maintenance shape.
#[tokio::test]
async fn subscribers_are_reminded_of_a_maintenance_an_hour_before() {
    let app = spawn_sqlite(webhook_settings()).await;
    app.service_key("api").await;
    let api = component(&app, "API", None).await;
    let hook = MockServer::start().await;
    let secret = add_webhook(&app, &hook).await;
    signed_webhook(&hook, &secret, 0).await;
    let start = klaxon_server::Clock::now(app.clock.as_ref()) + SignedDuration::from_mins(120);
    app.admin
        .schedule_maintenance(&klaxon_domain::status::NewScheduledMaintenance {
            name: "Database upgrade".into(),
            components: vec![api],
            scheduled_for: start,
            scheduled_until: start + SignedDuration::from_mins(60),
            body: Some("Writes pause briefly.".into()),
            auto_start: None,
            auto_complete: None,
            mute_services: false,
        })
        .await
        .unwrap();
    app.run_jobs().await;
    app.clock.advance(SignedDuration::from_mins(59));
    app.run_jobs().await;
    assert!(deliveries(&hook).await.is_empty(), "not yet");

    app.clock.advance(SignedDuration::from_mins(1));
    app.run_jobs().await;
    let sent = deliveries(&hook).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let (event, body) = &sent[0];
    assert_eq!(event, "maintenance.update");
    assert_eq!(body["incident"]["name"], "Database upgrade");
    assert_eq!(body["incident"]["status"], "scheduled");
    assert_eq!(body["incident"]["impact"], "maintenance");
    assert_eq!(
        body["incident"]["incident_updates"][0]["body"],
        "Writes pause briefly."
    );

    // Started on time: the reminder is not sent again.
    app.clock.advance(SignedDuration::from_mins(60));
    app.run_jobs().await;
    assert_eq!(deliveries(&hook).await.len(), 1);
    app.cleanup().await;
}
