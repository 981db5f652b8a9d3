//! Issue 19's scenario, end to end on a real server: a SEV2 customer-facing incident on
//! the API service marks the API component partial_outage; a customer update posts;
//! the page, `summary.json`, the Atom feed, an e-mail subscriber (a real SMTP server on
//! loopback) and a webhook subscriber (a receiver that checks the signature) all show
//! it; resolving turns the component operational and the uptime bar shows the outage's
//! minutes.

mod common;

use common::smtp::SmtpSink;
use common::subscribers::{deliveries, local, signed_webhook};
use common::{declare_input, spawn_sqlite, TestApp};
use jiff::SignedDuration;
use klaxon_domain::api::ResolveRequest;
use klaxon_domain::incident::{DeclareInput, StatusUpdateInput, UpdateAudience, UpdateKind};
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::{ComponentStatus, NewComponent, NewSubscriber};
use serde_json::Value;
use wiremock::MockServer;

async fn public(app: &TestApp, path: &str) -> String {
    let r = app
        .http()
        .get(format!("{}{path}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "GET {path}");
    r.text().await.unwrap()
}

fn status_of(summary: &Value, name: &str) -> String {
    summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_sev2_on_the_api_reaches_the_page_its_json_its_feed_and_its_subscribers() {
    let mut smtp = SmtpSink::start().await;
    let app = spawn_sqlite(smtp.settings()).await;
    app.service_key("api").await;
    let api = app
        .admin
        .create_component(&NewComponent {
            name: "API".into(),
            services: vec![ServiceName::parse("api").unwrap()],
            ..NewComponent::default()
        })
        .await
        .unwrap();

    // A customer subscribes on the page and confirms; an admin adds a webhook.
    let form = app
        .http()
        .post(format!("{}/status/subscribe", app.url))
        .form(&[("email", "customer@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    app.run_jobs().await;
    let confirm = smtp.received().await.link("/confirm").unwrap();
    assert_eq!(
        app.http()
            .get(local(&app, &confirm))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let hook = MockServer::start().await;
    let secret = app
        .admin
        .add_subscriber(&NewSubscriber {
            webhook: Some(format!("{}/status-hook", hook.uri())),
            ..NewSubscriber::default()
        })
        .await
        .unwrap()
        .signing_secret
        .unwrap();
    signed_webhook(&hook, &secret, 0).await;

    // The SEV2: the API component goes to partial outage.
    let n = app
        .admin
        .declare(&DeclareInput {
            service: Some("api".into()),
            customer_facing: true,
            ..declare_input("Elevated API error rates", 2)
        })
        .await
        .unwrap()
        .incident
        .number;
    assert_eq!(
        app.admin.component(api.id).await.unwrap().status,
        ComponentStatus::PartialOutage
    );
    // The customer update.
    app.admin
        .post_update(
            n,
            &StatusUpdateInput {
                audience: UpdateAudience::Customer,
                impact: Some("API requests".into()),
                ..StatusUpdateInput::new(UpdateKind::Detected)
            },
        )
        .await
        .unwrap();
    app.run_jobs().await;
    let said = "aware of an issue affecting API requests";

    let page = public(&app, "/status").await;
    assert!(page.contains("Elevated API error rates"), "{page}");
    assert!(page.contains(said), "{page}");
    assert!(page.contains("Partial System Outage"), "{page}");
    let summary: Value = serde_json::from_str(&public(&app, "/api/v2/summary.json").await).unwrap();
    assert_eq!(status_of(&summary, "API"), "partial_outage");
    assert_eq!(summary["status"]["indicator"], "major");
    let incident = &summary["incidents"][0];
    assert_eq!(incident["name"], "Elevated API error rates");
    assert_eq!(incident["status"], "investigating");
    assert!(incident["incident_updates"][0]["body"]
        .as_str()
        .unwrap()
        .contains(said));
    let atom = public(&app, "/history.atom").await;
    assert!(
        atom.contains("<title>Elevated API error rates</title>"),
        "{atom}"
    );
    assert!(atom.contains(said), "{atom}");

    let mail = smtp.received().await;
    assert_eq!(mail.to, ["customer@example.com"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("[Acme Status] Elevated API error rates - Investigating")
    );
    assert!(mail.body().contains(said), "{}", mail.body());
    assert!(mail.header("List-Unsubscribe").is_some());

    let mut got = deliveries(&hook).await;
    // The two notices are delivered independently, in either order.
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let events: Vec<&str> = got.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(events, ["component.update", "incident.update"], "{got:?}");
    assert_eq!(got[0].1["component_update"]["new_status"], "partial_outage");
    let update = &got[1].1;
    assert_eq!(update["incident"]["id"], incident["id"]);
    assert!(update["incident"]["incident_updates"][0]["body"]
        .as_str()
        .unwrap()
        .contains(said));
    assert_eq!(
        update["page"]["status_description"],
        "Partial System Outage"
    );
    assert!(
        common::subscribers::pending_deliveries(&app)
            .await
            .is_empty(),
        "every delivery accepted: the receiver checked each signature"
    );

    // 45 minutes later the incident resolves, with the resolution notice.
    app.clock.advance(SignedDuration::from_mins(45));
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
    app.admin
        .post_update(
            n,
            &StatusUpdateInput {
                audience: UpdateAudience::Customer,
                status: Some("The API is back to normal".into()),
                ..StatusUpdateInput::new(UpdateKind::Resolved)
            },
        )
        .await
        .unwrap();
    app.run_jobs().await;
    assert_eq!(
        app.admin.component(api.id).await.unwrap().status,
        ComponentStatus::Operational
    );
    let summary: Value = serde_json::from_str(&public(&app, "/api/v2/summary.json").await).unwrap();
    assert_eq!(status_of(&summary, "API"), "operational");
    assert_eq!(summary["status"]["description"], "All Systems Operational");
    let page = public(&app, "/status").await;
    assert!(
        page.contains("Nov 26: Partial outage; 0 min major outage, 45 min partial outage"),
        "{page}"
    );
    let resolved = smtp.received().await;
    assert_eq!(
        resolved.header("Subject").as_deref(),
        Some("[Acme Status] Elevated API error rates - Resolved")
    );
    let got = deliveries(&hook).await;
    let last: Vec<&Value> = got[2..].iter().map(|(_, b)| b).collect();
    assert!(
        last.iter()
            .any(|b| b["component_update"]["new_status"] == "operational"),
        "{last:?}"
    );
    assert!(
        last.iter().any(|b| b["incident"]["status"] == "resolved"),
        "{last:?}"
    );
    app.cleanup().await;
}
