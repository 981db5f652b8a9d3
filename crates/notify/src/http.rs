//! What every HTTP channel shares: a client with a timeout, and the mapping from HTTP
//! failures to [`DeliveryError`].
use std::time::Duration;

use reqwest::{header::HeaderMap, StatusCode};

use crate::DeliveryError;

/// A reqwest client whose every request gives up after `timeout`.
pub(crate) fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        // Only fails when the TLS backend cannot initialise, which is a build defect.
        .expect("the rustls HTTP client always builds")
}

/// A request that did not get an HTTP response. The URL is stripped because Teams and
/// Mattermost webhook URLs are credentials.
pub(crate) fn send_error(service: &str, err: reqwest::Error) -> DeliveryError {
    let err = err.without_url();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&err);
    while let Some(e) = cause {
        if let Some(refused) = e.downcast_ref::<crate::outbound::Refused>() {
            return DeliveryError::permanent(format!("{service}: {refused}"));
        }
        cause = e.source();
    }
    if err.is_builder() {
        DeliveryError::permanent(format!("{service}: invalid request: {err}"))
    } else if err.is_timeout() {
        DeliveryError::transient(format!("{service}: request timed out"))
    } else {
        DeliveryError::transient(format!("{service}: request failed: {err}"))
    }
}

/// Whether an HTTP status means "try again later".
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

/// `Retry-After` in delta-seconds. The HTTP-date form is not used by the services we
/// call and is ignored (the engine's own backoff applies).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A non-success HTTP answer, classified by status; `detail` is what the service said.
pub(crate) fn status_error(
    service: &str,
    status: StatusCode,
    headers: &HeaderMap,
    detail: &str,
) -> DeliveryError {
    let message = format!("{service}: HTTP {status}: {}", excerpt(detail));
    if is_transient_status(status) {
        DeliveryError::Transient {
            message,
            retry_after: retry_after(headers),
        }
    } else {
        DeliveryError::Permanent { message }
    }
}

/// Posts `body` as JSON to a webhook URL and accepts any 2xx answer.
pub(crate) async fn post_json_webhook(
    http: &reqwest::Client,
    service: &str,
    url: &str,
    body: &serde_json::Value,
) -> Result<(), DeliveryError> {
    let response = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| send_error(service, e))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    Err(status_error(service, status, &headers, &text))
}

/// What of a reply goes into an error (and so into logs and the timeline): its first
/// 200 characters, control characters and line breaks as spaces, so a receiver cannot
/// forge log lines or flood them.
fn excerpt(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    #[test]
    fn statuses_are_classified() {
        for code in [500, 502, 503, 429, 408] {
            assert!(
                is_transient_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 410, 422] {
            assert!(
                !is_transient_status(StatusCode::from_u16(code).unwrap()),
                "{code}"
            );
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_ignores_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(30)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        let long = "é".repeat(300);
        assert_eq!(excerpt(&long).chars().count(), 200);
        assert_eq!(excerpt("short"), "short");
        assert_eq!(
            excerpt("bad\nlevel=INFO msg=forged\r\u{1b}[31m"),
            "bad level=INFO msg=forged  [31m"
        );
    }
}
