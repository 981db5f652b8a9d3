use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};

use super::format::{escape, message_blocks, normalize_channel_name, with_suffix};
use crate::channel::wrong_destination;
use crate::{http, Channel, Delivered, DeliveryError, Destination, Message, Secret};

/// A message Slack accepted: keep it to thread replies (`thread_ts`) or edit in place.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageRef {
    pub channel: String,
    pub ts: String,
}

/// A conversation Slack created, with the name it finally got.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChannelRef {
    pub id: String,
    pub name: String,
}

/// A Slack Web API client for one bot token.
#[derive(Debug, Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    base_url: String,
    token: Secret,
    max_name_attempts: u32,
}

/// Slack's `error` strings that describe Slack's state, not ours; everything else
/// (`channel_not_found`, `invalid_auth`, `not_in_channel`, …) will not fix itself.
const TRANSIENT_ERRORS: &[&str] = &[
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

/// The outcome of one Web API call that got an HTTP answer: the body when `ok`, else
/// Slack's error string.
type SlackResult = Result<Value, String>;

impl SlackClient {
    /// Slack's production API root.
    pub const DEFAULT_BASE_URL: &'static str = "https://slack.com/api";

    /// `base_url` is the API root (`https://slack.com/api`); methods are appended to it.
    pub fn new(base_url: impl Into<String>, bot_token: impl Into<Secret>) -> Self {
        Self {
            http: http::client(crate::DEFAULT_TIMEOUT),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            token: bot_token.into(),
            max_name_attempts: 10,
        }
    }

    /// Replaces the default 10 s request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = http::client(timeout);
        self
    }

    /// How many names `create_channel` tries (`name`, `name-2`, … `name-N`) before
    /// giving up on `name_taken`. At least 1.
    pub fn with_max_name_attempts(mut self, attempts: u32) -> Self {
        self.max_name_attempts = attempts.max(1);
        self
    }

    /// `chat.postMessage`. `text` is required even with `blocks`: it is the notification
    /// fallback. `thread_ts` posts a reply in that thread.
    #[tracing::instrument(skip_all, fields(slack.channel = channel))]
    pub async fn post_message(
        &self,
        channel: &str,
        text: &str,
        blocks: Option<Value>,
        thread_ts: Option<&str>,
    ) -> Result<MessageRef, DeliveryError> {
        let mut body = json!({ "channel": channel, "text": text });
        if let Some(blocks) = blocks {
            body["blocks"] = blocks;
        }
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        let reply = self.call_ok("chat.postMessage", &body).await?;
        parse(reply, "chat.postMessage")
    }

    /// `chat.update`: replaces the text (and blocks) of a message posted earlier.
    #[tracing::instrument(skip_all, fields(slack.channel = %message.channel))]
    pub async fn update_message(
        &self,
        message: &MessageRef,
        text: &str,
        blocks: Option<Value>,
    ) -> Result<(), DeliveryError> {
        let mut body = json!({ "channel": message.channel, "ts": message.ts, "text": text });
        if let Some(blocks) = blocks {
            body["blocks"] = blocks;
        }
        self.call_ok("chat.update", &body).await.map(drop)
    }

    /// `conversations.create` with `name` normalised to Slack's rules. When the name is
    /// taken, tries `name-2`, `name-3`, … up to the configured number of attempts.
    #[tracing::instrument(skip_all, fields(slack.name = name))]
    pub async fn create_channel(
        &self,
        name: &str,
        private: bool,
    ) -> Result<ChannelRef, DeliveryError> {
        let base = normalize_channel_name(name).ok_or_else(|| {
            DeliveryError::permanent(format!(
                "slack: channel name {name:?} has no letters or digits Slack accepts"
            ))
        })?;
        for attempt in 1..=self.max_name_attempts {
            let candidate = with_suffix(&base, attempt);
            let body = json!({ "name": candidate, "is_private": private });
            match self.call("conversations.create", &body).await? {
                Ok(reply) => {
                    return parse(reply["channel"].clone(), "conversations.create");
                }
                Err(error) if error == "name_taken" => {
                    tracing::debug!(%candidate, "slack channel name taken; trying the next suffix");
                }
                Err(error) => return Err(slack_error("conversations.create", &error)),
            }
        }
        Err(DeliveryError::permanent(format!(
            "slack conversations.create: name_taken for {base:?} and {} suffixed variants; choose another name",
            self.max_name_attempts - 1
        )))
    }

    /// `conversations.invite`. Users already in the channel are not an error, so a
    /// repeated delivery succeeds.
    #[tracing::instrument(skip_all, fields(slack.channel = channel))]
    pub async fn invite(&self, channel: &str, users: &[&str]) -> Result<(), DeliveryError> {
        let body = json!({ "channel": channel, "users": users.join(",") });
        match self.call("conversations.invite", &body).await? {
            Ok(_) => Ok(()),
            Err(error) if error == "already_in_channel" => Ok(()),
            Err(error) => Err(slack_error("conversations.invite", &error)),
        }
    }

    /// `conversations.setTopic`.
    pub async fn set_topic(&self, channel: &str, topic: &str) -> Result<(), DeliveryError> {
        let body = json!({ "channel": channel, "topic": topic });
        self.call_ok("conversations.setTopic", &body)
            .await
            .map(drop)
    }

    /// `conversations.open` for one user; returns the DM channel id to post to.
    pub async fn open_dm(&self, user: &str) -> Result<String, DeliveryError> {
        let body = json!({ "users": user });
        let reply = self.call_ok("conversations.open", &body).await?;
        reply["channel"]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| malformed("conversations.open"))
    }

    async fn call_ok(&self, method: &str, body: &Value) -> Result<Value, DeliveryError> {
        self.call(method, body)
            .await?
            .map_err(|error| slack_error(method, &error))
    }

    /// One POST. The outer error is a failure to get a usable answer; the inner one is
    /// Slack's `ok: false` error string, which some callers handle themselves.
    async fn call(&self, method: &str, body: &Value) -> Result<SlackResult, DeliveryError> {
        let service = format!("slack {method}");
        let response = self
            .http
            .post(format!("{}/{method}", self.base_url))
            .bearer_auth(self.token.expose())
            // reqwest's .json() omits the charset Slack asks for.
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| http::send_error(&service, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .map_err(|e| http::send_error(&service, e))?;
        if !status.is_success() {
            return Err(http::status_error(&service, status, &headers, &text));
        }
        let reply: Value = serde_json::from_str(&text).map_err(|_| {
            // A 200 that is not Slack JSON comes from a proxy in between; it may pass.
            DeliveryError::transient(format!("{service}: answer is not JSON"))
        })?;
        if reply["ok"].as_bool() == Some(true) {
            Ok(Ok(reply))
        } else {
            let error = reply["error"].as_str().unwrap_or("unknown_error");
            Ok(Err(error.to_owned()))
        }
    }
}

fn slack_error(method: &str, error: &str) -> DeliveryError {
    let message = format!("slack {method} failed: {error}");
    if TRANSIENT_ERRORS.contains(&error) {
        DeliveryError::transient(message)
    } else {
        DeliveryError::permanent(message)
    }
}

fn malformed(method: &str) -> DeliveryError {
    DeliveryError::transient(format!("slack {method}: unexpected answer shape"))
}

fn parse<T: serde::de::DeserializeOwned>(value: Value, method: &str) -> Result<T, DeliveryError> {
    serde_json::from_value(value).map_err(|_| malformed(method))
}

/// Posts the subject as a header, the body (mrkdwn, or escaped plain text) and the links.
/// A [`Destination::SlackUser`] gets a DM.
#[async_trait]
impl Channel for SlackClient {
    async fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> Result<Delivered, DeliveryError> {
        let channel = match to {
            Destination::SlackChannel(id) => id.clone(),
            Destination::SlackUser(user) => self.open_dm(user).await?,
            other => return Err(wrong_destination("Slack", other)),
        };
        let body = match &message.markdown {
            Some(markdown) => markdown.clone(),
            None => escape(&message.text),
        };
        let blocks = message_blocks(&message.subject, &body, &message.links);
        // `text` is the notification fallback and Slack reads it as mrkdwn too.
        let fallback = format!("{}\n{}", escape(&message.subject), escape(&message.text));
        let posted = self
            .post_message(&channel, &fallback, Some(blocks), None)
            .await?;
        Ok(Delivered {
            id: format!("{}/{}", posted.channel, posted.ts),
        })
    }
}
