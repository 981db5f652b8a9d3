use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::{ack_prompt, say_only, sms_text};
use crate::channel::wrong_destination;
use crate::{http, Channel, Delivered, DeliveryError, Destination, Message, Secret};

/// A Twilio REST client for one account.
#[derive(Debug, Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    auth_token: Secret,
}

/// Twilio's error body.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
    more_info: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

impl TwilioClient {
    /// Twilio's production API root; `Accounts/{sid}/…` is appended.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.twilio.com/2010-04-01";

    pub fn new(
        base_url: impl Into<String>,
        account_sid: impl Into<String>,
        auth_token: impl Into<Secret>,
    ) -> Self {
        Self {
            http: http::client(crate::DEFAULT_TIMEOUT),
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
        }
    }

    /// Replaces the default 10 s request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = http::client(timeout);
        self
    }

    /// Sends an SMS; returns the message SID (`SM…`). Numbers are E.164.
    #[tracing::instrument(skip_all)]
    pub async fn send_sms(
        &self,
        from: &str,
        to: &str,
        body: &str,
    ) -> Result<String, DeliveryError> {
        self.create(
            "Messages.json",
            &[("To", to), ("From", from), ("Body", body)],
        )
        .await
    }

    /// Places a call that runs the inline `twiml`; returns the call SID (`CA…`).
    #[tracing::instrument(skip_all)]
    pub async fn place_call(
        &self,
        from: &str,
        to: &str,
        twiml: &str,
    ) -> Result<String, DeliveryError> {
        self.create(
            "Calls.json",
            &[("To", to), ("From", from), ("Twiml", twiml)],
        )
        .await
    }

    async fn create(&self, resource: &str, form: &[(&str, &str)]) -> Result<String, DeliveryError> {
        let service = format!("twilio {resource}");
        let url = format!("{}/Accounts/{}/{resource}", self.base_url, self.account_sid);
        let response = self
            .http
            .post(url)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .form(form)
            .send()
            .await
            .map_err(|e| http::send_error(&service, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response
            .text()
            .await
            .map_err(|e| http::send_error(&service, e))?;
        if status.is_success() {
            let created: Created = serde_json::from_str(&text)
                .map_err(|_| DeliveryError::transient(format!("{service}: answer has no sid")))?;
            return Ok(created.sid);
        }
        // Classify by status (429/5xx transient, other 4xx such as 21211 permanent) and
        // name Twilio's code and message when the body has them.
        let detail = match serde_json::from_str::<TwilioError>(&text) {
            Ok(TwilioError {
                code: Some(code),
                message,
                more_info,
            }) => {
                let mut detail = format!("error {code}: {}", message.unwrap_or_default());
                if let Some(info) = more_info {
                    detail.push_str(&format!(" ({info})"));
                }
                detail
            }
            _ => text,
        };
        Err(http::status_error(&service, status, &headers, &detail))
    }
}

/// Pages by SMS: the subject and the first link, trimmed to one segment when possible.
#[derive(Debug, Clone)]
pub struct SmsChannel {
    pub client: TwilioClient,
    /// The sending number (E.164).
    pub from: String,
}

#[async_trait]
impl Channel for SmsChannel {
    async fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> Result<Delivered, DeliveryError> {
        let Destination::Phone(number) = to else {
            return Err(wrong_destination("SMS", to));
        };
        let link = message.links.first().map(|l| l.url.as_str());
        let body = sms_text(&message.subject, link);
        let sid = self.client.send_sms(&self.from, number, &body).await?;
        Ok(Delivered { id: sid })
    }
}

/// Pages by phone call: reads the subject and text, then gathers one digit to the
/// message's `voice_ack_url` (without one, reads the message twice and hangs up).
#[derive(Debug, Clone)]
pub struct VoiceChannel {
    pub client: TwilioClient,
    /// The calling number (E.164).
    pub from: String,
}

#[async_trait]
impl Channel for VoiceChannel {
    async fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> Result<Delivered, DeliveryError> {
        let Destination::Phone(number) = to else {
            return Err(wrong_destination("voice", to));
        };
        let spoken = format!(
            "{}. {}",
            message.subject.trim_end_matches('.'),
            message.text
        );
        let twiml = match &message.voice_ack_url {
            Some(url) => ack_prompt(&spoken, url),
            None => say_only(&spoken),
        };
        let sid = self.client.place_call(&self.from, number, &twiml).await?;
        Ok(Delivered { id: sid })
    }
}
