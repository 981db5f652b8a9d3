//! Microsoft Teams incoming webhooks: an Adaptive Card 1.4 in `attachments`, links as
//! `Action.OpenUrl` buttons.
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::channel::wrong_destination;
use crate::{http, Channel, Delivered, DeliveryError, Destination, Link, Message};

/// The whole webhook body: a `message` whose one attachment is an Adaptive Card with the
/// headline (bold, large), the body (Adaptive Card markdown) and one button per link.
pub fn adaptive_card(headline: &str, body: &str, links: &[Link]) -> Value {
    let mut card_body = vec![json!({
        "type": "TextBlock",
        "text": headline,
        "weight": "Bolder",
        "size": "Large",
        "wrap": true
    })];
    if !body.is_empty() {
        card_body.push(json!({ "type": "TextBlock", "text": body, "wrap": true }));
    }
    let actions: Vec<Value> = links
        .iter()
        .map(|l| json!({ "type": "Action.OpenUrl", "title": l.label, "url": l.url }))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": card_body,
                "actions": actions
            }
        }]
    })
}

/// Posts cards to Teams incoming-webhook URLs; any 2xx answer is success.
#[derive(Debug, Clone)]
pub struct TeamsClient {
    http: reqwest::Client,
}

impl Default for TeamsClient {
    fn default() -> Self {
        Self::new()
    }
}

impl TeamsClient {
    pub fn new() -> Self {
        Self {
            http: http::client(crate::DEFAULT_TIMEOUT),
        }
    }

    /// Replaces the default 10 s request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = http::client(timeout);
        self
    }

    /// Posts `body` (usually from [`adaptive_card`]) to the webhook URL.
    #[tracing::instrument(skip_all)]
    pub async fn post(&self, webhook_url: &str, body: &Value) -> Result<(), DeliveryError> {
        http::post_json_webhook(&self.http, "teams", webhook_url, body).await
    }
}

/// Posts the subject, the text (or markdown) and the links as an Adaptive Card.
#[async_trait]
impl Channel for TeamsClient {
    async fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> Result<Delivered, DeliveryError> {
        let Destination::Webhook { url, .. } = to else {
            return Err(wrong_destination("Teams", to));
        };
        let body = message.markdown.as_deref().unwrap_or(&message.text);
        let card = adaptive_card(&message.subject, body, &message.links);
        self.post(url.expose(), &card).await?;
        Ok(Delivered {
            id: message.idempotency_key.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_is_adaptive_1_4_with_open_url_actions() {
        let card = adaptive_card(
            "[SEV1 #42] API down",
            "502s",
            &[Link::new("Open", "https://k.test/i/42")],
        );
        let attachment = &card["attachments"][0];
        assert_eq!(
            attachment["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let content = &attachment["content"];
        assert_eq!(content["type"], "AdaptiveCard");
        assert_eq!(content["version"], "1.4");
        assert_eq!(content["body"][0]["text"], "[SEV1 #42] API down");
        assert_eq!(content["body"][1]["text"], "502s");
        assert_eq!(
            content["actions"][0],
            json!({"type": "Action.OpenUrl", "title": "Open", "url": "https://k.test/i/42"})
        );
    }
}
