//! Fakes of outbound services, for the tests that check what Klaxon sends.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A Slack fake that accepts what Klaxon sends to it with the bot token.
pub async fn accept_slack(slack: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/conversations.open"))
        .and(header("authorization", "Bearer xoxb-test"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "channel": {"id": "D1"}})),
        )
        .mount(slack)
        .await;
    let bearer = || header("authorization", "Bearer xoxb-test");
    let created = json!({"ok": true, "channel": {"id": "C42", "name": "incident-20261126-api-returning-502-errors"}});
    Mock::given(method("POST"))
        .and(path("/api/conversations.create"))
        .and(bearer())
        .respond_with(ResponseTemplate::new(200).set_body_json(created))
        .mount(slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(bearer())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": "C42", "ts": "1700000000.000100"})),
        )
        .mount(slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.update"))
        .and(bearer())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(slack)
        .await;
}

/// The JSON bodies Slack's fake received at `method`.
pub async fn slack_calls(slack: &MockServer, at: &str) -> Vec<serde_json::Value> {
    slack
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == format!("/api/{at}"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}
