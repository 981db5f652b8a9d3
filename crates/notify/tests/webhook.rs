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

fn delivery<'a>(url: &'a str, secret: &'a Secret) -> WebhookDelivery<'a> {
    WebhookDelivery {
        url,
        secret,
        event: "incident.acknowledged",
        delivery_id: "incident-1-2",
        timestamp: TIMESTAMP,
        body: BODY.as_bytes(),
    }
}

/// A client for user-given URLs reaches no loopback address, whether the URL names it
/// or a name resolves to it, unless the range is allowed; it gives up at once.
#[tokio::test]
async fn a_guarded_client_reaches_no_private_address() {
    use klaxon_notify::outbound::OutboundGuard;
    let receiver = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let secret = Secret::from(SECRET.to_owned());
    let port = receiver.address().port();
    let guarded = WebhookClient::guarded(OutboundGuard::default());
    for url in [
        receiver.uri(),
        format!("http://localhost:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
    ] {
        let err = guarded.send(&delivery(&url, &secret)).await.unwrap_err();
        assert!(!err.is_transient(), "{url}: {err:?}");
        assert!(err.message().contains("not"), "{url}: {}", err.message());
    }
    assert!(receiver.received_requests().await.unwrap().is_empty());
    let allowed = WebhookClient::guarded(OutboundGuard::parse(&["127.0.0.1".into()]).unwrap());
    allowed
        .send(&delivery(&format!("http://localhost:{port}/hook"), &secret))
        .await
        .unwrap();
    assert_eq!(receiver.received_requests().await.unwrap().len(), 1);
}

/// A public-looking URL cannot bounce the request to a private one: no redirect is
/// followed, and the answer's excerpt in the error is one bounded line.
#[tokio::test]
async fn a_guarded_client_follows_no_redirect() {
    use klaxon_notify::outbound::OutboundGuard;
    let receiver = MockServer::start().await;
    let long = format!("moved\n{}", "x".repeat(5000));
    Mock::given(path("/hook"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", "http://169.254.169.254/latest/meta-data/")
                .set_body_string(long),
        )
        .mount(&receiver)
        .await;
    let secret = Secret::from(SECRET.to_owned());
    let client = WebhookClient::guarded(OutboundGuard::parse(&["127.0.0.1".into()]).unwrap());
    let url = format!("{}/hook", receiver.uri());
    let err = client.send(&delivery(&url, &secret)).await.unwrap_err();
    let message = err.message();
    assert!(
        message.starts_with("webhook: HTTP 302 Found: moved x"),
        "{message}"
    );
    assert!(!message.contains('\n') && message.len() < 300, "{message}");
    assert_eq!(receiver.received_requests().await.unwrap().len(), 1);
}
