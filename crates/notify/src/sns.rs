//! Amazon SNS subscription confirmation: a new HTTPS subscription is confirmed by a GET
//! on the `SubscribeURL` SNS sent. The caller checks that the URL is SNS's own (the
//! ingest crate refuses any other host); this client only makes the request, through an
//! endpoint override when one is configured (a VPC endpoint, or a fake in tests).

use std::time::Duration;

use crate::http::{client, send_error, status_error};
use crate::DeliveryError;

#[derive(Clone)]
pub struct SnsClient {
    http: reqwest::Client,
    /// Replaces the scheme and host of every `SubscribeURL`, keeping its path and query.
    endpoint: Option<String>,
}

impl SnsClient {
    /// Confirms at the URL's own host.
    pub fn new() -> Self {
        Self {
            http: client(crate::DEFAULT_TIMEOUT),
            endpoint: None,
        }
    }

    /// Confirms through `endpoint` (`http(s)://host[:port]`) instead.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into().trim_end_matches('/').to_owned());
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = client(timeout);
        self
    }

    /// The address the confirmation for `subscribe_url` goes to.
    pub fn confirm_url(&self, subscribe_url: &str) -> String {
        match &self.endpoint {
            None => subscribe_url.to_owned(),
            Some(endpoint) => {
                let rest = subscribe_url
                    .split_once("://")
                    .map_or(subscribe_url, |(_, rest)| rest);
                let tail = rest.find(['/', '?', '#']).map_or("", |i| &rest[i..]);
                format!("{endpoint}{tail}")
            }
        }
    }

    /// Confirms the subscription; SNS answers 200 with a `ConfirmSubscriptionResponse`.
    pub async fn confirm(&self, subscribe_url: &str) -> Result<(), DeliveryError> {
        let response = self
            .http
            .get(self.confirm_url(subscribe_url))
            .send()
            .await
            .map_err(|e| send_error("SNS", e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let headers = response.headers().clone();
        let detail = response.text().await.unwrap_or_default();
        Err(status_error("SNS", status, &headers, &detail))
    }
}

impl Default for SnsClient {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::SnsClient;

    #[test]
    fn an_endpoint_keeps_the_path_and_query() {
        let url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc";
        assert_eq!(SnsClient::new().confirm_url(url), url);
        let via = SnsClient::new().with_endpoint("http://127.0.0.1:9000/");
        assert_eq!(
            via.confirm_url(url),
            "http://127.0.0.1:9000/?Action=ConfirmSubscription&Token=abc"
        );
        assert_eq!(
            via.confirm_url("https://sns.eu-west-1.amazonaws.com"),
            "http://127.0.0.1:9000"
        );
    }
}
