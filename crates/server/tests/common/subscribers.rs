//! What the status-page subscriber tests share: a webhook receiver that checks Klaxon's
//! signature before it accepts a delivery (and can fail the first ones), and links from
//! mails made local to the test server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::TestApp;

/// Answers 401 to a delivery whose `X-Klaxon-Signature` is not the HMAC-SHA256 of
/// `X-Klaxon-Timestamp + "." + body` under `secret`; 500 to the first `fail` signed
/// ones; 200 after.
pub struct SignedWebhook {
    pub secret: String,
    pub fail: Arc<AtomicUsize>,
}

pub fn signature_ok(secret: &str, request: &Request) -> bool {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let timestamp = header("x-klaxon-timestamp");
    let Ok(sent) = timestamp.parse::<i64>() else {
        return false;
    };
    klaxon_notify::webhook::verify(
        secret.as_bytes(),
        &timestamp,
        &request.body,
        &header("x-klaxon-signature"),
        sent,
        std::time::Duration::from_secs(300),
    )
    .is_ok()
}

impl Respond for SignedWebhook {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if !signature_ok(&self.secret, request) {
            return ResponseTemplate::new(401).set_body_string("bad signature");
        }
        let failing = self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            ResponseTemplate::new(500).set_body_string("receiver down")
        } else {
            ResponseTemplate::new(200)
        }
    }
}

/// Mounts the checking receiver at `/status-hook`; the counter of failures still to come.
pub async fn signed_webhook(server: &MockServer, secret: &str, fail: usize) -> Arc<AtomicUsize> {
    let fail = Arc::new(AtomicUsize::new(fail));
    Mock::given(method("POST"))
        .and(path("/status-hook"))
        .respond_with(SignedWebhook {
            secret: secret.to_owned(),
            fail: fail.clone(),
        })
        .mount(server)
        .await;
    fail
}

/// The JSON bodies of the deliveries the receiver got, with their event header.
pub async fn deliveries(server: &MockServer) -> Vec<(String, Value)> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            let event = r
                .headers
                .get("x-klaxon-event")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            (event, serde_json::from_slice(&r.body).unwrap())
        })
        .collect()
}

/// A link from a mail (made under the server's public URL), on the test server.
pub fn local(app: &TestApp, link: &str) -> String {
    link.replace("https://klaxon.example.com", &app.url)
}

/// The status-notice and subscriber-delivery jobs still in the queue.
pub async fn pending_deliveries(app: &TestApp) -> Vec<klaxon_store::Job> {
    app.state()
        .store
        .jobs(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| matches!(j.kind.as_str(), "status-notice" | "subscriber-delivery"))
        .collect()
}
