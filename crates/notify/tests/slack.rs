//! The Slack client against a wiremock Slack: request bodies, auth, call counts, and how
//! each kind of failure is classified.
use std::time::Duration;

use klaxon_notify::slack::{MessageRef, SlackClient};
use klaxon_notify::{Channel, DeliveryError, Destination, Link, Message};
use serde_json::json;
use wiremock::matchers::{any, body_json, body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "xoxb-test-token";

fn ok(body: serde_json::Value) -> ResponseTemplate {
    let mut body = body;
    body["ok"] = json!(true);
    ResponseTemplate::new(200).set_body_json(body)
}

fn slack_error(error: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "ok": false, "error": error }))
}

async fn setup() -> (MockServer, SlackClient) {
    let server = MockServer::start().await;
    let client = SlackClient::new(server.uri(), TOKEN);
    (server, client)
}

#[tokio::test]
async fn post_message_sends_bearer_auth_and_charset_json() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(body_json(json!({ "channel": "C1", "text": "API down" })))
        .respond_with(ok(json!({ "channel": "C1", "ts": "1700000000.000100" })))
        .expect(1)
        .mount(&server)
        .await;

    let posted = client
        .post_message("C1", "API down", None, None)
        .await
        .unwrap();
    assert_eq!(
        posted,
        MessageRef {
            channel: "C1".into(),
            ts: "1700000000.000100".into()
        }
    );
}

#[tokio::test]
async fn post_message_threads_and_carries_blocks() {
    let (server, client) = setup().await;
    let blocks = json!([{ "type": "section", "text": { "type": "mrkdwn", "text": "*hi*" } }]);
    Mock::given(path("/chat.postMessage"))
        .and(body_json(json!({
            "channel": "C1", "text": "update", "blocks": blocks, "thread_ts": "1.2"
        })))
        .respond_with(ok(json!({ "channel": "C1", "ts": "1.3" })))
        .expect(1)
        .mount(&server)
        .await;

    let posted = client
        .post_message("C1", "update", Some(blocks.clone()), Some("1.2"))
        .await
        .unwrap();
    assert_eq!(posted.ts, "1.3");
}

#[tokio::test]
async fn update_message_edits_in_place() {
    let (server, client) = setup().await;
    Mock::given(path("/chat.update"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(
            json!({ "channel": "C1", "ts": "1.2", "text": "resolved" }),
        ))
        .respond_with(ok(json!({ "channel": "C1", "ts": "1.2" })))
        .expect(1)
        .mount(&server)
        .await;
    let message = MessageRef {
        channel: "C1".into(),
        ts: "1.2".into(),
    };
    client
        .update_message(&message, "resolved", None)
        .await
        .unwrap();
}

#[tokio::test]
async fn ok_false_is_an_error_naming_slacks_error_even_on_http_200() {
    let (server, client) = setup().await;
    Mock::given(path("/chat.postMessage"))
        .respond_with(slack_error("channel_not_found"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .post_message("C404", "x", None, None)
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err:?}");
    assert!(err.message().contains("channel_not_found"), "{err}");
    assert!(err.message().contains("chat.postMessage"), "{err}");
}

#[tokio::test]
async fn invalid_auth_is_permanent_and_slack_internal_error_is_transient() {
    let (server, client) = setup().await;
    Mock::given(path("/conversations.setTopic"))
        .respond_with(slack_error("invalid_auth"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/conversations.open"))
        .respond_with(slack_error("internal_error"))
        .expect(1)
        .mount(&server)
        .await;
    assert!(!client
        .set_topic("C1", "t")
        .await
        .unwrap_err()
        .is_transient());
    assert!(client.open_dm("U1").await.unwrap_err().is_transient());
}

#[tokio::test]
async fn http_429_is_transient_with_retry_after_and_is_not_retried_here() {
    let (server, client) = setup().await;
    Mock::given(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "30"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .post_message("C1", "x", None, None)
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn http_5xx_is_transient_and_4xx_permanent() {
    let (server, client) = setup().await;
    Mock::given(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/chat.update"))
        .respond_with(ResponseTemplate::new(400))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .post_message("C1", "x", None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DeliveryError::Transient {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
    let message = MessageRef {
        channel: "C1".into(),
        ts: "1".into(),
    };
    let err = client
        .update_message(&message, "x", None)
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Permanent { .. }), "{err:?}");
}

#[tokio::test]
async fn a_slow_slack_times_out_as_transient() {
    let (server, client) = setup().await;
    let client = client.with_timeout(Duration::from_millis(200));
    Mock::given(path("/chat.postMessage"))
        .respond_with(ok(json!({ "channel": "C1", "ts": "1" })).set_delay(Duration::from_secs(3)))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .post_message("C1", "x", None, None)
        .await
        .unwrap_err();
    assert!(err.is_transient());
    assert!(err.message().contains("timed out"), "{err}");
}

#[tokio::test]
async fn create_channel_normalises_and_suffixes_taken_names() {
    let (server, client) = setup().await;
    for (name, response) in [
        ("sev1-42-api-down", slack_error("name_taken")),
        ("sev1-42-api-down-2", slack_error("name_taken")),
        (
            "sev1-42-api-down-3",
            ok(json!({ "channel": { "id": "C9", "name": "sev1-42-api-down-3" } })),
        ),
    ] {
        Mock::given(path("/conversations.create"))
            .and(body_json(json!({ "name": name, "is_private": true })))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
    }
    let created = client
        .create_channel("SEV1 #42: API down", true)
        .await
        .unwrap();
    assert_eq!(created.id, "C9");
    assert_eq!(created.name, "sev1-42-api-down-3");
}

#[tokio::test]
async fn create_channel_gives_up_after_the_configured_attempts() {
    let (server, client) = setup().await;
    let client = client.with_max_name_attempts(3);
    Mock::given(path("/conversations.create"))
        .respond_with(slack_error("name_taken"))
        .expect(3)
        .mount(&server)
        .await;
    let err = client
        .create_channel("incident-1", false)
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    assert!(err.message().contains("name_taken"), "{err}");
}

#[tokio::test]
async fn create_channel_stops_on_other_errors() {
    let (server, client) = setup().await;
    Mock::given(path("/conversations.create"))
        .respond_with(slack_error("restricted_action"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client
        .create_channel("incident-1", false)
        .await
        .unwrap_err();
    assert!(err.message().contains("restricted_action"), "{err}");
}

#[tokio::test]
async fn create_channel_refuses_names_with_nothing_usable_without_calling() {
    let (server, client) = setup().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    assert!(!client
        .create_channel("!!!", false)
        .await
        .unwrap_err()
        .is_transient());
}

#[tokio::test]
async fn invite_joins_users_and_tolerates_already_in_channel() {
    let (server, client) = setup().await;
    Mock::given(path("/conversations.invite"))
        .and(body_json(json!({ "channel": "C1", "users": "U1,U2" })))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/conversations.invite"))
        .and(body_json(json!({ "channel": "C1", "users": "U3" })))
        .respond_with(slack_error("already_in_channel"))
        .expect(1)
        .mount(&server)
        .await;
    client.invite("C1", &["U1", "U2"]).await.unwrap();
    client.invite("C1", &["U3"]).await.unwrap();
}

#[tokio::test]
async fn set_topic_and_open_dm() {
    let (server, client) = setup().await;
    Mock::given(path("/conversations.setTopic"))
        .and(body_json(json!({ "channel": "C1", "topic": "IC: @ana" })))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/conversations.open"))
        .and(body_json(json!({ "users": "U7" })))
        .respond_with(ok(json!({ "channel": { "id": "D7" } })))
        .expect(1)
        .mount(&server)
        .await;
    client.set_topic("C1", "IC: @ana").await.unwrap();
    assert_eq!(client.open_dm("U7").await.unwrap(), "D7");
}

fn message() -> Message {
    Message {
        subject: "[SEV1 #42] API down".into(),
        text: "502s on <all> routes".into(),
        links: vec![Link::new("Acknowledge", "https://k.test/ack?i=42&t=1")],
        idempotency_key: "d-1".into(),
        ..Message::default()
    }
}

#[tokio::test]
async fn channel_delivery_to_a_user_opens_a_dm_and_posts_blocks() {
    let (server, client) = setup().await;
    Mock::given(path("/conversations.open"))
        .and(body_json(json!({ "users": "U7" })))
        .respond_with(ok(json!({ "channel": { "id": "D7" } })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/chat.postMessage"))
        .and(body_partial_json(json!({
            "channel": "D7",
            "text": "[SEV1 #42] API down\n502s on &lt;all&gt; routes",
            "blocks": [
                { "type": "header", "text": { "text": "[SEV1 #42] API down" } },
                { "type": "section", "text": { "type": "mrkdwn", "text": "502s on &lt;all&gt; routes" } },
                { "type": "context", "elements": [{ "type": "mrkdwn", "text": "<https://k.test/ack?i=42&amp;t=1|Acknowledge>" }] }
            ]
        })))
        .respond_with(ok(json!({ "channel": "D7", "ts": "5.6" })))
        .expect(1)
        .mount(&server)
        .await;
    let delivered = client
        .deliver(&Destination::SlackUser("U7".into()), &message())
        .await
        .unwrap();
    assert_eq!(delivered.id, "D7/5.6");
}

#[tokio::test]
async fn channel_refuses_destinations_it_cannot_reach() {
    let (server, client) = setup().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let err = client
        .deliver(&Destination::Phone("+15550001111".into()), &message())
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    assert!(err.message().contains("phone number"), "{err}");
}
