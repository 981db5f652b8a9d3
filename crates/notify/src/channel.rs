//! The seam between the engine and the outbound services: one trait, so the engine can be
//! tested against a fake, and plain data for what to send and where.
use async_trait::async_trait;
use serde::Serialize;

use crate::{DeliveryError, Secret};

/// Something that can deliver a rendered [`Message`] to a [`Destination`].
///
/// Implementations send exactly one request per call (Slack DMs: two, to open the DM
/// first) and never retry: the engine owns retries, and passes the same
/// `idempotency_key` on each attempt. A destination of the wrong kind for the channel is
/// a [`DeliveryError::Permanent`].
#[async_trait]
pub trait Channel: Send + Sync {
    async fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> Result<Delivered, DeliveryError>;
}

/// Where a message goes. Who that is was decided by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An E.164 phone number (`+15551234567`), for SMS or voice.
    Phone(String),
    /// An e-mail address.
    Email(String),
    /// A Slack conversation id (`C…`, `G…`, `D…`).
    SlackChannel(String),
    /// A Slack user id (`U…`); the message goes to a DM with them.
    SlackUser(String),
    /// An incoming-webhook URL (Teams, Mattermost, our generic webhook). The URL is a
    /// credential for Teams and Mattermost; `signing_secret` is required by the generic
    /// webhook and ignored by the others.
    Webhook {
        url: Secret,
        signing_secret: Option<Secret>,
    },
}

/// An already-rendered notification. Channels pick the parts they can show.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Message {
    /// One line: `[SEV1 #42] API returning 502 errors`. E-mail subject, Slack and Teams
    /// headline, the start of an SMS and of a voice call.
    pub subject: String,
    /// Plain-text body (e-mail, voice, and any channel without markdown).
    pub text: String,
    /// The body as markdown (Mattermost) or Slack mrkdwn, when rendered; channels fall
    /// back to `text` without it.
    pub markdown: Option<String>,
    /// Links to show as buttons or a footer, most important first.
    pub links: Vec<Link>,
    /// The same for every attempt of one delivery; becomes the webhook's
    /// `X-Klaxon-Delivery` and the e-mail `Message-ID`.
    pub idempotency_key: String,
    /// Stable id of the conversation the message belongs to (one incident), so e-mail
    /// clients thread it (`In-Reply-To` / `References`).
    pub thread: Option<String>,
    /// The event name for webhook receivers, e.g. `incident.acknowledged`.
    pub event: String,
    /// The JSON body of a generic webhook delivery; without it the webhook posts this
    /// message itself as JSON.
    pub payload: Option<serde_json::Value>,
    /// Where Twilio posts the digit a person pressed during a voice call; without it the
    /// call reads the message and hangs up.
    pub voice_ack_url: Option<String>,
}

/// A labelled URL (acknowledge, resolve, open the incident).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

impl Link {
    pub fn new(label: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            url: url.into(),
        }
    }
}

/// What the service accepted, by its own id: Slack `channel/ts`, Twilio SID, e-mail
/// `Message-ID`, webhook delivery id. Kept on the timeline and used to thread or edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub id: String,
}

/// The error for a destination a channel cannot reach.
pub(crate) fn wrong_destination(channel: &str, to: &Destination) -> DeliveryError {
    let kind = match to {
        Destination::Phone(_) => "a phone number",
        Destination::Email(_) => "an e-mail address",
        Destination::SlackChannel(_) => "a Slack channel",
        Destination::SlackUser(_) => "a Slack user",
        Destination::Webhook { .. } => "a webhook URL",
    };
    DeliveryError::permanent(format!("the {channel} channel cannot deliver to {kind}"))
}
