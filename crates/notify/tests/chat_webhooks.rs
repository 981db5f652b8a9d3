//! Teams and Mattermost incoming webhooks against wiremock.
use std::time::Duration;

use klaxon_notify::mattermost::MattermostClient;
use klaxon_notify::teams::{adaptive_card, TeamsClient};
use klaxon_notify::{Channel, Destination, Link, Message, Secret};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn message() -> Message {
    Message {
        subject: "[SEV2 #7] Checkout slow".into(),
        text: "p99 latency above 2 s".into(),
        markdown: Some("p99 latency **above 2 s**".into()),
        links: vec![Link::new("Open incident", "https://k.test/i/7")],
        idempotency_key: "d-7".into(),
        ..Message::default()
    }
}

fn webhook(url: String) -> Destination {
    Destination::Webhook {
        url: Secret::new(url),
        signing_secret: None,
    }
}

#[tokio::test]
async fn teams_delivery_posts_an_adaptive_card() {
    let server = MockServer::start().await;
    let card = adaptive_card(
        "[SEV2 #7] Checkout slow",
        "p99 latency **above 2 s**",
        &[Link::new("Open incident", "https://k.test/i/7")],
    );
    assert_eq!(
        card["attachments"][0]["content"]["actions"][0]["type"],
        "Action.OpenUrl"
    );
    Mock::given(method("POST"))
        .and(path("/webhookb2/abc"))
        .and(body_json(card))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let to = webhook(format!("{}/webhookb2/abc", server.uri()));
    let delivered = TeamsClient::new().deliver(&to, &message()).await.unwrap();
    assert_eq!(delivered.id, "d-7");
}

#[tokio::test]
async fn teams_throttling_is_transient_with_retry_after_and_400_permanent() {
    let server = MockServer::start().await;
    Mock::given(path("/throttled"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/bad"))
        .respond_with(ResponseTemplate::new(400).set_body_string("Bad payload"))
        .expect(1)
        .mount(&server)
        .await;
    let client = TeamsClient::new();
    let err = client
        .post(&format!("{}/throttled", server.uri()), &json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    let err = client
        .post(&format!("{}/bad", server.uri()), &json!({}))
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    assert!(err.message().contains("Bad payload"), "{err}");
}

#[tokio::test]
async fn mattermost_delivery_posts_markdown_with_username_and_channel() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/xyz"))
        .and(body_json(json!({
            "text": "**[SEV2 #7] Checkout slow**\n\np99 latency **above 2 s**\n\n[Open incident](https://k.test/i/7)",
            "username": "klaxon",
            "channel": "incidents"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let client = MattermostClient::new()
        .with_username("klaxon")
        .with_channel("incidents");
    let to = webhook(format!("{}/hooks/xyz", server.uri()));
    client.deliver(&to, &message()).await.unwrap();
}

#[tokio::test]
async fn mattermost_omits_optional_fields_and_classifies_5xx() {
    let server = MockServer::start().await;
    Mock::given(path("/hooks/xyz"))
        .and(body_json(json!({ "text": "hello" })))
        .respond_with(ResponseTemplate::new(502))
        .expect(1)
        .mount(&server)
        .await;
    let err = MattermostClient::new()
        .post(&format!("{}/hooks/xyz", server.uri()), "hello")
        .await
        .unwrap_err();
    assert!(err.is_transient());
}

#[tokio::test]
async fn errors_never_show_the_webhook_url() {
    // The path of a Teams or Mattermost webhook URL is its credential.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let to = webhook(format!("http://127.0.0.1:{port}/hooks/SECRET-TOKEN"));
    let err = MattermostClient::new()
        .deliver(&to, &message())
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert!(!err.to_string().contains("SECRET-TOKEN"), "{err}");
    assert!(!format!("{to:?}").contains("SECRET-TOKEN"));
    let err = TeamsClient::new()
        .deliver(&to, &message())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("SECRET-TOKEN"), "{err}");
}
