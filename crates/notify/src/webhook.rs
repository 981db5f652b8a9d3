//! Klaxon's generic outbound webhook: a JSON POST signed with HMAC-SHA256 so receivers
//! can trust it, and [`verify`] for receivers written in Rust.
//!
//! Headers: `X-Klaxon-Event` (e.g. `incident.acknowledged`), `X-Klaxon-Delivery` (the
//! idempotency id: the same on every retry of one delivery), `X-Klaxon-Timestamp` (Unix
//! seconds) and `X-Klaxon-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." +
//! body)>`.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::channel::wrong_destination;
use crate::outbound::OutboundGuard;
use crate::{http, Channel, Delivered, DeliveryError, Destination, Message, Secret};

pub const EVENT_HEADER: &str = "X-Klaxon-Event";
pub const DELIVERY_HEADER: &str = "X-Klaxon-Delivery";
pub const TIMESTAMP_HEADER: &str = "X-Klaxon-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Klaxon-Signature";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Klaxon-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("sha256={}", hex::encode(digest))
}

/// Why a receiver should refuse a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("X-Klaxon-Timestamp is not a Unix time in seconds")]
    BadTimestamp,
    #[error("X-Klaxon-Timestamp is {age_secs} s away from now, outside the tolerance; refuse it as a possible replay")]
    Stale { age_secs: u64 },
    #[error("X-Klaxon-Signature is not of the form sha256=<64 hex digits>")]
    Malformed,
    #[error("X-Klaxon-Signature does not match the body; check the shared secret")]
    Mismatch,
}

/// Checks a delivery as a receiver: `timestamp` and `header` are the raw
/// `X-Klaxon-Timestamp` and `X-Klaxon-Signature` values, `body` the raw request bytes
/// (before any JSON parsing), `now` the receiver's clock in Unix seconds. Timestamps
/// further than `tolerance` from `now`, in either direction, are refused. The signature
/// comparison is constant-time.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    header: &str,
    now: i64,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    let age_secs = now.abs_diff(sent);
    if age_secs > tolerance.as_secs() {
        return Err(VerifyError::Stale { age_secs });
    }
    let given = header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|d| d.len() == 32)
        .ok_or(VerifyError::Malformed)?;
    mac(secret, timestamp.trim(), body)
        .verify_slice(&given)
        .map_err(|_| VerifyError::Mismatch)
}

/// One signed POST.
#[derive(Debug, Clone, Copy)]
pub struct WebhookDelivery<'a> {
    pub url: &'a str,
    pub secret: &'a Secret,
    pub event: &'a str,
    pub delivery_id: &'a str,
    /// Unix seconds; the engine's clock, so tests can fix it.
    pub timestamp: i64,
    /// The exact JSON bytes to send and sign.
    pub body: &'a [u8],
}

/// Sends signed webhook deliveries; any 2xx answer is success.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    /// For URLs users give (contact methods): where they may point.
    guard: Option<OutboundGuard>,
}

impl Default for WebhookClient {
    fn default() -> Self {
        Self::new()
    }
}

impl WebhookClient {
    /// A client for URLs an admin configured (the event webhook).
    pub fn new() -> Self {
        Self {
            http: http::client(crate::DEFAULT_TIMEOUT),
            guard: None,
        }
    }

    /// A client for URLs users give: only addresses `guard` allows, no redirects.
    pub fn guarded(guard: OutboundGuard) -> Self {
        Self {
            http: guard.client(crate::DEFAULT_TIMEOUT),
            guard: Some(guard),
        }
    }

    /// Replaces the default 10 s request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = match &self.guard {
            Some(guard) => guard.client(timeout),
            None => http::client(timeout),
        };
        self
    }

    #[tracing::instrument(skip_all, fields(webhook.event = delivery.event, webhook.delivery = delivery.delivery_id))]
    pub async fn send(&self, delivery: &WebhookDelivery<'_>) -> Result<(), DeliveryError> {
        if let Some(guard) = &self.guard {
            guard
                .check_literal(delivery.url)
                .map_err(|e| DeliveryError::permanent(format!("webhook: {e}")))?;
        }
        let signature = sign(
            delivery.secret.expose().as_bytes(),
            delivery.timestamp,
            delivery.body,
        );
        let response = self
            .http
            .post(delivery.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, delivery.event)
            .header(DELIVERY_HEADER, delivery.delivery_id)
            .header(TIMESTAMP_HEADER, delivery.timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(delivery.body.to_vec())
            .send()
            .await
            .map_err(|e| http::send_error("webhook", e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Err(http::status_error("webhook", status, &headers, &text))
    }
}

/// Posts `message.payload`, or the message itself as
/// `{event, subject, text, markdown, links}` when there is none, signed with the
/// destination's secret and stamped with the current time.
#[async_trait]
impl Channel for WebhookClient {
    async fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> Result<Delivered, DeliveryError> {
        let Destination::Webhook {
            url,
            signing_secret,
        } = to
        else {
            return Err(wrong_destination("webhook", to));
        };
        let secret = signing_secret.as_ref().ok_or_else(|| {
            DeliveryError::permanent(
                "webhook: destination has no signing secret; set one so receivers can verify",
            )
        })?;
        let body = message.payload.clone().unwrap_or_else(|| {
            json!({
                "event": message.event,
                "subject": message.subject,
                "text": message.text,
                "markdown": message.markdown,
                "links": message.links,
            })
        });
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let body = body.to_string();
        self.send(&WebhookDelivery {
            url: url.expose(),
            secret,
            event: &message.event,
            delivery_id: &message.idempotency_key,
            timestamp,
            body: body.as_bytes(),
        })
        .await?;
        Ok(Delivered {
            id: message.idempotency_key.clone(),
        })
    }
}
