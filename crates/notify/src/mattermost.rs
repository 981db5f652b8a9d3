//! Mattermost incoming webhooks: `{"text": markdown, "username"?, "channel"?}`.
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::channel::wrong_destination;
use crate::{http, Channel, Delivered, DeliveryError, Destination, Link, Message};

/// A markdown link `[label](url)`; brackets in the label and parentheses in the URL are
/// escaped so they cannot end the link early.
pub fn link(label: &str, url: &str) -> String {
    let label = label.replace('[', "\\[").replace(']', "\\]");
    let url = url.replace('(', "%28").replace(')', "%29");
    format!("[{label}]({url})")
}

/// The post text: the subject in bold, the body, then the links on one line.
pub fn message_text(subject: &str, body: &str, links: &[Link]) -> String {
    let mut text = format!("**{subject}**");
    if !body.is_empty() {
        text.push_str("\n\n");
        text.push_str(body);
    }
    if !links.is_empty() {
        let line: Vec<String> = links.iter().map(|l| link(&l.label, &l.url)).collect();
        text.push_str("\n\n");
        text.push_str(&line.join(" · "));
    }
    text
}

/// Posts to Mattermost incoming-webhook URLs, optionally overriding the poster's name
/// and the channel (when the webhook allows it).
#[derive(Debug, Clone)]
pub struct MattermostClient {
    http: reqwest::Client,
    username: Option<String>,
    channel: Option<String>,
}

impl Default for MattermostClient {
    fn default() -> Self {
        Self::new()
    }
}

impl MattermostClient {
    pub fn new() -> Self {
        Self {
            http: http::client(crate::DEFAULT_TIMEOUT),
            username: None,
            channel: None,
        }
    }

    /// Replaces the default 10 s request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = http::client(timeout);
        self
    }

    /// Posts as this name instead of the webhook's default.
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Posts to this channel instead of the webhook's default.
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// Posts `text` (Mattermost markdown).
    #[tracing::instrument(skip_all)]
    pub async fn post(&self, webhook_url: &str, text: &str) -> Result<(), DeliveryError> {
        let mut body: Value = json!({ "text": text });
        if let Some(username) = &self.username {
            body["username"] = json!(username);
        }
        if let Some(channel) = &self.channel {
            body["channel"] = json!(channel);
        }
        http::post_json_webhook(&self.http, "mattermost", webhook_url, &body).await
    }
}

/// Posts [`message_text`] of the subject, markdown (or text) and links.
#[async_trait]
impl Channel for MattermostClient {
    async fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> Result<Delivered, DeliveryError> {
        let Destination::Webhook { url, .. } = to else {
            return Err(wrong_destination("Mattermost", to));
        };
        let body = message.markdown.as_deref().unwrap_or(&message.text);
        let text = message_text(&message.subject, body, &message.links);
        self.post(url.expose(), &text).await?;
        Ok(Delivered {
            id: message.idempotency_key.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_bold_subject_body_and_links() {
        assert_eq!(
            message_text("[SEV2 #7] Slow", "p99 *up*", &[Link::new("Ack [now]", "https://k.test/a(1)"), Link::new("Open", "https://k.test/i")]),
            "**[SEV2 #7] Slow**\n\np99 *up*\n\n[Ack \\[now\\]](https://k.test/a%281%29) · [Open](https://k.test/i)"
        );
    }
}
