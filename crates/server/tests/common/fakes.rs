//! Fakes of outbound services, for the tests that check what Klaxon sends.

use klaxon_server::{ChannelConfig, TwilioConfig};
use serde_json::json;

use super::Settings;
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

/// The Twilio fake's account, and where messages and calls are posted under it.
pub const SID: &str = "ACtest";
pub const MESSAGES: &str = "/2010-04-01/Accounts/ACtest/Messages.json";
pub const CALLS: &str = "/2010-04-01/Accounts/ACtest/Calls.json";

/// Settings with Twilio pointed at the fake (auth token `twilio-secret`).
pub fn twilio_settings(twilio: &MockServer) -> Settings {
    Settings {
        channels: ChannelConfig {
            twilio: Some(TwilioConfig {
                base_url: format!("{}/2010-04-01", twilio.uri()),
                account_sid: SID.into(),
                auth_token: "twilio-secret".into(),
                from: "+15550000000".into(),
            }),
            ..Default::default()
        },
        ..Settings::default()
    }
}

/// Makes the fake accept messages and calls sent with the account's credentials.
pub async fn accept_twilio(twilio: &MockServer) {
    let created =
        ResponseTemplate::new(201).set_body_json(json!({"sid": "SM123", "status": "queued"}));
    // HTTP Basic auth with the account SID and auth token.
    let auth = "Basic QUN0ZXN0OnR3aWxpby1zZWNyZXQ=";
    Mock::given(method("POST"))
        .and(path(MESSAGES))
        .and(header("authorization", auth))
        .respond_with(created.clone())
        .mount(twilio)
        .await;
    Mock::given(method("POST"))
        .and(path(CALLS))
        .and(header("authorization", auth))
        .respond_with(created)
        .mount(twilio)
        .await;
}

/// The form fields of every request the fake received at `at`.
pub async fn sent(twilio: &MockServer, at: &str) -> Vec<Vec<(String, String)>> {
    twilio
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == at)
        .map(|r| serde_urlencoded::from_bytes(&r.body).unwrap())
        .collect()
}

pub fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}
