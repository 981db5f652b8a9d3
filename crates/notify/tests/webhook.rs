//! The signed outbound webhook: headers and signature on the wire, and the receiver's
//! `verify`, against a vector computed independently with Python's `hmac`.
use std::time::Duration;

use klaxon_notify::webhook::{sign, verify, VerifyError, WebhookClient, WebhookDelivery};
use klaxon_notify::{Channel, Destination, Message, Secret};
use serde_json::json;
use wiremock::matchers::{any, body_string, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// `hmac.new(b"whsec_test", b'1764175200.{"event":"incident.acknowledged"}',
/// hashlib.sha256).hexdigest()` in Python.
const SECRET: &str = "whsec_test";
const TIMESTAMP: i64 = 1_764_175_200;
const BODY: &str = r#"{"event":"incident.acknowledged"}"#;
const SIGNATURE: &str = "sha256=cb445d3df7aa1a7d855f32d4398b35792f266b49d094dbaefc00e0488ed8c881";
const FIVE_MINUTES: Duration = Duration::from_secs(300);

#[test]
fn sign_matches_the_independent_vector() {
    assert_eq!(
        sign(SECRET.as_bytes(), TIMESTAMP, BODY.as_bytes()),
        SIGNATURE
    );
}

#[test]
fn verify_accepts_the_vector_within_tolerance() {
    let v = |now| {
        verify(
            SECRET.as_bytes(),
            "1764175200",
            BODY.as_bytes(),
            SIGNATURE,
            now,
            FIVE_MINUTES,
        )
    };
    assert_eq!(v(TIMESTAMP), Ok(()));
    assert_eq!(v(TIMESTAMP + 300), Ok(()));
    assert_eq!(v(TIMESTAMP - 300), Ok(()));
    assert_eq!(
        v(TIMESTAMP + 301),
        Err(VerifyError::Stale { age_secs: 301 })
    );
    assert_eq!(
        v(TIMESTAMP - 301),
        Err(VerifyError::Stale { age_secs: 301 })
    );
}

#[test]
fn verify_refuses_tampering_and_garbage() {
    let secret = SECRET.as_bytes();
    let now = TIMESTAMP;
    let tampered = br#"{"event":"incident.resolved"}"#;
    assert_eq!(
        verify(secret, "1764175200", tampered, SIGNATURE, now, FIVE_MINUTES),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        verify(
            b"other",
            "1764175200",
            BODY.as_bytes(),
            SIGNATURE,
            now,
            FIVE_MINUTES
        ),
        Err(VerifyError::Mismatch)
    );
    // The timestamp is signed: moving it breaks the signature.
    assert_eq!(
        verify(
            secret,
            "1764175201",
            BODY.as_bytes(),
            SIGNATURE,
            now,
            FIVE_MINUTES
        ),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(
        verify(
            secret,
            "yesterday",
            BODY.as_bytes(),
            SIGNATURE,
            now,
            FIVE_MINUTES
        ),
        Err(VerifyError::BadTimestamp)
    );
    let no_prefix = SIGNATURE.trim_start_matches("sha256=");
    assert_eq!(
        verify(
            secret,
            "1764175200",
            BODY.as_bytes(),
            no_prefix,
            now,
            FIVE_MINUTES
        ),
        Err(VerifyError::Malformed)
    );
    assert_eq!(
        verify(
            secret,
            "1764175200",
            BODY.as_bytes(),
            "sha256=zz",
            now,
            FIVE_MINUTES
        ),
        Err(VerifyError::Malformed)
    );
}

#[tokio::test]
async fn send_posts_the_body_with_klaxon_headers_and_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/klaxon"))
        .and(header("content-type", "application/json"))
        .and(header("x-klaxon-event", "incident.acknowledged"))
        .and(header("x-klaxon-delivery", "dlv-1"))
        .and(header("x-klaxon-timestamp", "1764175200"))
        .and(header("x-klaxon-signature", SIGNATURE))
        .and(body_string(BODY))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/hooks/klaxon", server.uri());
    let secret = Secret::new(SECRET);
    WebhookClient::new()
        .send(&WebhookDelivery {
            url: &url,
            secret: &secret,
            event: "incident.acknowledged",
            delivery_id: "dlv-1",
            timestamp: TIMESTAMP,
            body: BODY.as_bytes(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn receiver_errors_are_classified() {
    let server = MockServer::start().await;
    Mock::given(path("/busy"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "12"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/gone"))
        .respond_with(ResponseTemplate::new(410))
        .expect(1)
        .mount(&server)
        .await;
    let secret = Secret::new(SECRET);
    let client = WebhookClient::new();
    let send = |url: String| {
        let (client, secret) = (client.clone(), secret.clone());
        async move {
            let delivery = WebhookDelivery {
                url: &url,
                secret: &secret,
                event: "e",
                delivery_id: "d",
                timestamp: TIMESTAMP,
                body: b"{}",
            };
            client.send(&delivery).await
        }
    };
    let err = send(format!("{}/busy", server.uri())).await.unwrap_err();
    assert!(err.is_transient());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(12)));
    let err = send(format!("{}/gone", server.uri())).await.unwrap_err();
    assert!(!err.is_transient());
}

#[tokio::test]
async fn channel_delivery_is_verifiable_by_a_receiver() {
    let server = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let payload = json!({ "event": "incident.resolved", "incident": { "number": 42 } });
    let message = Message {
        event: "incident.resolved".into(),
        idempotency_key: "dlv-42-7".into(),
        payload: Some(payload.clone()),
        ..Message::default()
    };
    let to = Destination::Webhook {
        url: Secret::new(format!("{}/hook", server.uri())),
        signing_secret: Some(Secret::new(SECRET)),
    };
    let delivered = WebhookClient::new().deliver(&to, &message).await.unwrap();
    assert_eq!(delivered.id, "dlv-42-7");

    let requests = server.received_requests().await.unwrap();
    let request = &requests[0];
    let get = |name: &str| {
        request
            .headers
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(get("x-klaxon-event"), "incident.resolved");
    assert_eq!(get("x-klaxon-delivery"), "dlv-42-7");
    let sent_at: i64 = get("x-klaxon-timestamp").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    verify(
        SECRET.as_bytes(),
        &get("x-klaxon-timestamp"),
        &request.body,
        &get("x-klaxon-signature"),
        now,
        FIVE_MINUTES,
    )
    .unwrap();
    assert!((now - sent_at).abs() <= 5);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&request.body).unwrap(),
        payload
    );
}

#[tokio::test]
async fn channel_refuses_a_webhook_without_a_secret() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let to = Destination::Webhook {
        url: Secret::new(server.uri()),
        signing_secret: None,
    };
    let err = WebhookClient::new()
        .deliver(&to, &Message::default())
        .await
        .unwrap_err();
    assert!(!err.is_transient());
    assert!(err.message().contains("signing secret"), "{err}");
}
