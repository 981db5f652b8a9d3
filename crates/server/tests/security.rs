//! What the security review asked of the API: viewers change nothing, test messages are
//! rate-limited, user-given URLs reach no private address, signed-link pages are not
//! cached, framed or referred, heartbeats have a body limit, the last admin token stays,
//! declarations name real services and `/metrics` can ask for a token.

mod common;

use common::{declare_input, problem, spawn_app, spawn_sqlite, Settings, TestApp};
use klaxon_client::Client;
use klaxon_domain::api::NewToken;
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::api::Subscription;
use klaxon_domain::paging::{ContactKind, NewContactMethod, NewNotificationRule, Urgency};
use klaxon_domain::Handle;

fn h(handle: &str) -> Handle {
    Handle::parse(handle).unwrap()
}

fn email(address: &str) -> NewContactMethod {
    NewContactMethod {
        kind: ContactKind::Email,
        address: address.into(),
        label: None,
    }
}

fn webhook(url: &str) -> NewContactMethod {
    NewContactMethod {
        kind: ContactKind::Webhook,
        address: url.into(),
        label: None,
    }
}

/// A viewer's token reads its own paging settings and changes none of them.
#[tokio::test]
async fn a_viewer_writes_nothing_not_even_its_own_settings() {
    let app = spawn_app().await;
    let vic = app.user("vic", Scope::Viewer).await;
    let method = app
        .admin
        .add_contact_method(&h("vic"), &email("vic@example.com"))
        .await
        .unwrap();
    assert_eq!(vic.contact_methods(&h("vic")).await.unwrap().len(), 1);
    let refusals = [
        problem(
            vic.add_contact_method(&h("vic"), &email("vic2@example.com"))
                .await,
        ),
        problem(vic.remove_contact_method(&h("vic"), method.id).await),
        problem(vic.test_contact_method(&h("vic"), method.id).await),
        problem(
            vic.add_notification_rule(
                &h("vic"),
                &NewNotificationRule {
                    urgency: Urgency::High,
                    contact_method: method.id,
                    delay_minutes: 0,
                },
            )
            .await,
        ),
        problem(
            vic.subscribe(&Subscription {
                team: "management".into(),
                user: h("vic"),
            })
            .await,
        ),
    ];
    for p in refusals {
        assert_eq!(p.status, 403, "{p:?}");
        assert!(
            p.detail.contains("scope viewer, which changes nothing"),
            "{}",
            p.detail
        );
    }
    assert_eq!(
        app.admin.contact_methods(&h("vic")).await.unwrap(),
        [method]
    );
    assert!(app
        .admin
        .notification_rules(&h("vic"))
        .await
        .unwrap()
        .is_empty());
    assert!(app.admin.subscriptions().await.unwrap().is_empty());
    assert!(
        app.state().store.jobs(None).await.unwrap().is_empty(),
        "no test was queued"
    );
    // A responder manages their own, and only their own.
    let rita = app.user("rita", Scope::Responder).await;
    rita.add_contact_method(&h("rita"), &email("rita@example.com"))
        .await
        .unwrap();
    let p = problem(
        rita.add_contact_method(&h("vic"), &email("x@example.com"))
            .await,
    );
    assert_eq!(p.status, 403);
    app.cleanup().await;
}

#[tokio::test]
async fn test_messages_are_limited_per_method_and_per_person() {
    let app = spawn_app().await;
    let rita = app.user("rita", Scope::Responder).await;
    let mut ids = vec![];
    for i in 0..6 {
        let added = rita
            .add_contact_method(&h("rita"), &email(&format!("rita{i}@example.com")))
            .await
            .unwrap();
        ids.push(added.id);
    }
    rita.test_contact_method(&h("rita"), ids[0]).await.unwrap();
    let p = problem(rita.test_contact_method(&h("rita"), ids[0]).await);
    assert_eq!(p.status, 429);
    assert!(
        p.detail.contains("less than a minute ago; try again in"),
        "{}",
        p.detail
    );
    for id in &ids[1..5] {
        rita.test_contact_method(&h("rita"), *id).await.unwrap();
    }
    let p = problem(rita.test_contact_method(&h("rita"), ids[5]).await);
    assert_eq!(p.status, 429);
    assert!(
        p.detail
            .contains("rita was sent 5 test messages in the last hour"),
        "{}",
        p.detail
    );
    let queued = app.state().store.jobs(None).await.unwrap();
    assert_eq!(queued.len(), 5, "refused tests queue nothing");
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn webhook_contact_methods_reach_no_private_address() {
    let app = spawn_app().await;
    let rita = app.user("rita", Scope::Responder).await;
    for (url, kind) in [
        ("http://127.0.0.1:9000/hook", "a loopback address"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "a cloud metadata address",
        ),
        ("http://10.0.0.8/hook", "a private address"),
        ("http://[fe80::1]/hook", "a link-local address"),
        ("http://localhost:8080/hook", "a loopback address"),
    ] {
        let p = problem(rita.add_contact_method(&h("rita"), &webhook(url)).await);
        assert_eq!(p.status, 422, "{url}: {p:?}");
        assert_eq!(p.errors[0].field, "address");
        assert!(
            p.errors[0].message.contains(kind),
            "{url}: {}",
            p.errors[0].message
        );
    }
    assert!(rita.contact_methods(&h("rita")).await.unwrap().is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn an_admin_allows_a_private_range_for_webhooks() {
    let mut settings = Settings::default();
    settings.channels.outbound =
        klaxon_server::OutboundGuard::parse(&["10.20.0.0/16".into()]).unwrap();
    let app = spawn_sqlite(settings).await;
    app.admin
        .add_contact_method(&h("admin"), &webhook("http://10.20.1.2/hook"))
        .await
        .unwrap();
    let p = problem(
        app.admin
            .add_contact_method(&h("admin"), &webhook("http://10.21.1.2/hook"))
            .await,
    );
    assert_eq!(p.status, 422);
    app.cleanup().await;
}

/// The page a signed link opens is a credential: not stored, not referred, not framed.
#[tokio::test]
async fn the_signed_link_page_is_neither_cached_nor_framed() {
    let app = spawn_app().await;
    let r = app
        .http()
        .get(format!("{}/l/klx_no_such_link", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    let header = |name: &str| r.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("x-frame-options"), "DENY");
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    app.cleanup().await;
}

#[tokio::test]
async fn a_heartbeat_ping_has_the_ingest_body_limit() {
    let app = spawn_app().await;
    app.service_key("backups").await;
    let hb = app
        .admin
        .create_heartbeat(&klaxon_domain::service::NewHeartbeat {
            service: klaxon_domain::service::ServiceName::parse("backups").unwrap(),
            name: "nightly".into(),
            interval: "1h".into(),
        })
        .await
        .unwrap();
    let url = format!("{}/heartbeat/{}", app.url, hb.key.unwrap());
    let big = vec![b'x'; 2 * 1024 * 1024];
    let r = app.http().post(&url).body(big).send().await.unwrap();
    assert_eq!(r.status(), 413);
    let r = app.http().post(&url).send().await.unwrap();
    assert_eq!(r.status(), 202);
    app.cleanup().await;
}

#[tokio::test]
async fn the_last_admin_token_cannot_be_revoked() {
    let app = spawn_app().await;
    let tokens = app.admin.tokens().await.unwrap();
    let bootstrap = tokens[0].id;
    let p = problem(app.admin.revoke_token(bootstrap).await);
    assert_eq!(p.status, 409);
    assert!(
        p.detail.contains("is the last admin token; create another first (`klaxon token create NAME --scope admin`)"),
        "{}",
        p.detail
    );
    assert!(app.admin.tokens().await.unwrap()[0].revoked_at.is_none());
    let second = app
        .admin
        .create_token(&NewToken {
            name: "second".into(),
            scope: Scope::Admin,
            user: None,
        })
        .await
        .unwrap();
    let second = Client::new(app.url.clone(), second.token);
    second.revoke_token(bootstrap).await.unwrap();
    let p = problem(
        second
            .revoke_token(second.me().await.unwrap().token.id)
            .await,
    );
    assert_eq!(p.status, 409);
    app.cleanup().await;
}

#[tokio::test]
async fn a_declaration_names_a_service_that_exists() {
    let app = spawn_app().await;
    let mut input = declare_input("API returning 502 errors", 2);
    input.service = Some("api".into());
    let p = problem(app.admin.declare(&input).await);
    assert_eq!(p.status, 422);
    assert_eq!(p.errors[0].field, "service");
    assert_eq!(
        p.errors[0].message,
        "there is no service 'api'; see `klaxon service list`"
    );
    let listed = app.admin.list_incidents(&Default::default()).await.unwrap();
    assert!(listed.incidents.is_empty(), "nothing was declared");
    app.service_key("api").await;
    app.admin.declare(&input).await.unwrap();
    app.drain().await;
    app.cleanup().await;
}

async fn metrics(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.http().get(format!("{}/metrics", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn metrics_can_ask_for_a_token_and_never_name_restricted_incidents() {
    let app = spawn_sqlite(Settings {
        metrics_token: Some("metrics-secret-0123456789".into()),
        ..Settings::default()
    })
    .await;
    let mut input = declare_input("Leaked credentials of the payroll admin", 1);
    input.restricted = true;
    app.admin.declare(&input).await.unwrap();
    assert_eq!(metrics(&app, None).await.status(), 401);
    assert_eq!(metrics(&app, Some("wrong")).await.status(), 401);
    let r = metrics(&app, Some("metrics-secret-0123456789")).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        text.contains(r#"klaxon_incidents{status="triggered",severity="1"} 1"#),
        "{text}"
    );
    assert!(
        !text.contains("restricted") && !text.contains("payroll"),
        "{text}"
    );
    app.drain().await;
    app.cleanup().await;
}

#[tokio::test]
async fn metrics_are_open_without_a_token_configured() {
    let app = spawn_app().await;
    assert_eq!(metrics(&app, None).await.status(), 200);
    app.cleanup().await;
}

/// Every configuration that holds a secret prints `[redacted]` for it in `Debug`: tokens,
/// passwords, signing secrets, the database password and webhook URLs that are
/// credentials.
#[test]
fn configurations_never_print_their_secrets() {
    use klaxon_server::{ChannelConfig, ServeConfig, SlackConfig, SmtpConfig, TwilioConfig};
    let secrets = [
        "twilio-auth-0123456789",
        "xoxb-slack-0123456789",
        "smtp-password-0123456789",
        "webhook-signing-0123456789",
        "teams-path-token-0123456789",
        "mattermost-path-token-0123456789",
        "events-path-token-0123456789",
        "metrics-token-0123456789",
        "bootstrap-token-0123456789",
        "database-password-0123456789",
    ];
    let twilio = TwilioConfig {
        base_url: "https://api.twilio.example".into(),
        account_sid: "AC123".into(),
        auth_token: secrets[0].into(),
        from: "+15550000000".into(),
    };
    let slack = SlackConfig {
        base_url: "https://slack.example/api/".into(),
        bot_token: secrets[1].into(),
    };
    let mut smtp = SmtpConfig::new("smtp.example.com", "klaxon@example.com");
    smtp.username = Some("klaxon".into());
    smtp.password = Some(secrets[2].into());
    let channels = ChannelConfig {
        twilio: Some(twilio.clone()),
        smtp: Some(smtp.clone()),
        slack: Some(slack.clone()),
        webhook_secret: Some(secrets[3].into()),
        events_webhook: Some(format!("https://events.example/{}", secrets[6])),
        teams_webhook: Some(format!("https://teams.example/{}", secrets[4])),
        mattermost_webhook: Some(format!("https://mm.example/hooks/{}", secrets[5])),
        ..ChannelConfig::default()
    };
    let serve = ServeConfig {
        database_url: format!("postgres://klaxon:{}@db.example/klaxon", secrets[9]),
        listen: "127.0.0.1:0".parse().unwrap(),
        policy: klaxon_domain::policy::Policy::builtin(),
        bootstrap_token: Some(secrets[8].into()),
        public_url: None,
        ingest_rate_limit: None,
        channels: channels.clone(),
        metrics_token: Some(secrets[7].into()),
        connections: Default::default(),
        status_page: Default::default(),
    };
    let printed = [
        format!("{twilio:?}"),
        format!("{slack:?}"),
        format!("{smtp:?}"),
        format!("{channels:?}"),
        format!("{serve:?}"),
        format!("{:?}", klaxon_server::Secret::from(secrets[0])),
    ];
    for text in &printed {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    assert!(printed[0].contains("[redacted]"), "{}", printed[0]);
    assert!(
        printed[4].contains("metrics_token: Some([redacted])"),
        "{}",
        printed[4]
    );
}
