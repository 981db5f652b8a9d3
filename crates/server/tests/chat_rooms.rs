//! Teams and Mattermost as shared incident rooms: the announcements Slack gets, as new
//! posts (incoming webhooks cannot edit), in order, once per room; a failing room does
//! not make the other post twice; restricted incidents and drills post nothing.

mod common;

use common::{spawn_sqlite, Settings, TestApp};
use jiff::SignedDuration;
use klaxon_domain::api::{MitigateRequest, ResolveRequest};
use klaxon_domain::incident::{DeclareInput, MitigationStrategy, StatusUpdateInput, UpdateKind};
use klaxon_domain::{IncidentNumber, Severity};
use klaxon_server::ChannelConfig;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn settings(teams: &MockServer, mattermost: &MockServer) -> Settings {
    Settings {
        channels: ChannelConfig {
            teams_webhook: Some(format!("{}/webhookb2/secret-token", teams.uri())),
            mattermost_webhook: Some(format!("{}/hooks/secret-token", mattermost.uri())),
            ..Default::default()
        },
        ..Settings::default()
    }
}

async fn accept(server: &MockServer, at: &str) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(server)
        .await;
}

async fn bodies(server: &MockServer) -> Vec<serde_json::Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// The card's body texts, headline first.
fn card_texts(body: &serde_json::Value) -> Vec<String> {
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(attachment["content"]["version"], "1.4");
    attachment["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap().to_owned())
        .collect()
}

async fn declare(app: &TestApp, title: &str, restricted: bool, drill: bool) {
    let input = DeclareInput {
        title: title.into(),
        severity: Some(Severity::new(2).unwrap()),
        restricted,
        drill,
        ..Default::default()
    };
    app.admin.declare(&input).await.unwrap();
}

/// Acknowledges, updates, mitigates and resolves incident `n`.
async fn work_through(app: &TestApp, n: IncidentNumber) {
    app.admin.ack(n, &Default::default()).await.unwrap();
    let update = StatusUpdateInput {
        status: Some("Rolling back the deploy".into()),
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

#[tokio::test]
async fn announcements_go_to_teams_and_mattermost_in_order_once_each() {
    let (teams, mattermost) = (MockServer::start().await, MockServer::start().await);
    accept(&teams, "/webhookb2/secret-token").await;
    accept(&mattermost, "/hooks/secret-token").await;
    let app = spawn_sqlite(settings(&teams, &mattermost)).await;
    declare(&app, "Checkout failing", false, false).await;
    work_through(&app, IncidentNumber(1)).await;
    app.run_jobs().await;

    // Opening, update, mitigation, resolution; the acknowledgement only edits Slack's
    // headline, which a webhook cannot do.
    let cards = bodies(&teams).await;
    assert_eq!(cards.len(), 4, "{cards:#?}");
    let texts: Vec<Vec<String>> = cards.iter().map(card_texts).collect();
    assert!(
        texts.iter().all(|t| t[0] == "[SEV2 #1] Checkout failing"),
        "{texts:#?}"
    );
    assert!(texts[0][1].contains("INCIDENT DETECTED"), "{texts:#?}");
    assert!(
        texts[0][1].contains("Status: triggered"),
        "as it was then: {texts:#?}"
    );
    assert!(
        texts[1][1].contains("Rolling back the deploy"),
        "{texts:#?}"
    );
    assert!(texts[2][1].contains("MITIGATION APPLIED"), "{texts:#?}");
    assert!(texts[2][1].contains("rolled back to v2.1.2"), "{texts:#?}");
    assert!(texts[3][1].contains("INCIDENT RESOLVED"), "{texts:#?}");

    let posts = bodies(&mattermost).await;
    assert_eq!(posts.len(), 4, "{posts:#?}");
    let text = |i: usize| posts[i]["text"].as_str().unwrap().to_owned();
    assert!(
        text(0).starts_with("**[SEV2 #1] Checkout failing**"),
        "{posts:#?}"
    );
    assert!(text(0).contains("INCIDENT DETECTED"), "{posts:#?}");
    assert!(text(1).contains("Rolling back the deploy"), "{posts:#?}");
    // The same templates as the Teams card, not a second copy.
    for (i, card) in texts.iter().enumerate() {
        assert!(text(i).contains(&card[1]), "{posts:#?}");
    }
    let jobs = app.state().store.jobs(None).await.unwrap();
    assert!(
        jobs.iter().all(|j| j.kind.as_str() != "room-post"),
        "{jobs:#?}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_failing_room_is_retried_without_reposting_in_the_other() {
    let (teams, mattermost) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&teams)
        .await;
    accept(&teams, "/webhookb2/secret-token").await;
    accept(&mattermost, "/hooks/secret-token").await;
    let app = spawn_sqlite(settings(&teams, &mattermost)).await;
    declare(&app, "Search slow", false, false).await;
    let update = StatusUpdateInput {
        status: Some("Reindexing".into()),
        ..StatusUpdateInput::new(UpdateKind::Update)
    };
    app.admin
        .post_update(IncidentNumber(1), &update)
        .await
        .unwrap();
    for _ in 0..6 {
        app.run_jobs().await;
        app.clock.advance(SignedDuration::from_mins(5));
    }
    assert_eq!(bodies(&mattermost).await.len(), 2, "posted once each");
    let cards = bodies(&teams).await;
    assert_eq!(cards.len(), 4, "two refused, then both posts: {cards:#?}");
    let accepted: Vec<String> = cards[2..]
        .iter()
        .map(|c| card_texts(c)[1].clone())
        .collect();
    assert!(accepted[0].contains("INCIDENT DETECTED"), "{accepted:#?}");
    assert!(
        accepted[1].contains("Reindexing"),
        "in order: {accepted:#?}"
    );
    // Failures retried, like Slack's: none left once delivered.
    let jobs = app.state().store.jobs(None).await.unwrap();
    assert!(
        jobs.iter().all(|j| j.kind.as_str() != "room-post"),
        "{jobs:#?}"
    );
    // The clock has passed the next update's reminder: it runs too.
    app.run_jobs().await;
    app.cleanup().await;
}

#[tokio::test]
async fn restricted_incidents_and_drills_are_never_posted() {
    let (teams, mattermost) = (MockServer::start().await, MockServer::start().await);
    accept(&teams, "/webhookb2/secret-token").await;
    accept(&mattermost, "/hooks/secret-token").await;
    let app = spawn_sqlite(settings(&teams, &mattermost)).await;
    declare(&app, "Leaked credentials", true, false).await;
    work_through(&app, IncidentNumber(1)).await;
    declare(&app, "Game day", false, true).await;
    work_through(&app, IncidentNumber(2)).await;
    app.run_jobs().await;
    assert!(bodies(&teams).await.is_empty());
    assert!(bodies(&mattermost).await.is_empty());
    app.cleanup().await;
}
