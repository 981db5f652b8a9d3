//! AWS CloudWatch alarms delivered by SNS, `POST /ingest/cloudwatch/{key}`.
//!
//! Contract: SNS sends JSON as `Content-Type: text/plain`, so the body is parsed as
//! JSON whatever the Content-Type says. The `x-amz-sns-message-type` header (else the
//! body's `Type`) says what it is:
//!
//! - `SubscriptionConfirmation` → `Parsed::SnsSubscription` carrying `SubscribeURL`,
//!   only if it is `https://sns.<region>.amazonaws.com/…` exactly (one DNS label for
//!   the region, no user info, no port, no backslash, space or control character);
//!   any other URL is refused as an SSRF risk. AWS China's `amazonaws.com.cn` is not
//!   accepted.
//! - `UnsubscribeConfirmation` → `Parsed::Ignored`.
//! - `Notification` → one event from `Message`, a CloudWatch alarm as **JSON inside a
//!   JSON string** (an object is accepted too): `NewStateValue` `ALARM` → trigger
//!   (severity error: CloudWatch has none), `OK` → resolve, `INSUFFICIENT_DATA` →
//!   trigger with severity warning; dedup key `AlarmArn`, else `AlarmName`; summary
//!   `ALARM: "<AlarmName>" in <Region>` as SNS writes its subject; `StateChangeTime`
//!   (with its `+0000` offset) → occurred_at; the metric's dimensions, `MetricName`
//!   and `Namespace` → labels; a link to the alarm in the AWS console.
//!
//! Both spellings AWS uses, `SigningCertURL`/`SigningCertUrl` and
//! `UnsubscribeURL`/`UnsubscribeUrl`, are accepted; details hold them under the `URL`
//! spelling. SNS message signatures are not checked here (that needs the signing
//! certificate, which is I/O).

use http::HeaderMap;
use klaxon_domain::alert::{AlertAction, AlertEvent, AlertLink, AlertSeverity, MAX_SUMMARY};
use serde_json::{json, Map, Value};

use crate::json::{self, get_object, get_text, kind};
use crate::text::{dedup_key, header, percent_encode, quoted, timestamp, truncate};
use crate::{IngestError, Parsed};

/// The header SNS names the message type in.
pub const TYPE_HEADER: &str = "x-amz-sns-message-type";

/// An SNS delivery: a subscription to confirm, an unsubscribe to ignore, or a
/// CloudWatch alarm as `Parsed::Alerts` with `key: None` and one event.
pub fn parse(body: &[u8], headers: &HeaderMap) -> Result<Parsed, IngestError> {
    let envelope = json::object(body)?;
    let kind = header(headers, TYPE_HEADER)
        .map(str::to_owned)
        .or_else(|| get_text(&envelope, "Type"));
    match kind.as_deref() {
        Some("SubscriptionConfirmation") => {
            let url = either(&envelope, "SubscribeURL", "SubscribeUrl")
                .ok_or_else(|| IngestError::new("SubscribeURL is missing"))?;
            subscribe_url(&url).map_err(IngestError::new)?;
            Ok(Parsed::SnsSubscription { subscribe_url: url })
        }
        Some("UnsubscribeConfirmation") => Ok(Parsed::Ignored {
            reason: "SNS unsubscribe confirmation".to_owned(),
        }),
        Some("Notification") => Ok(Parsed::Alerts {
            key: None,
            events: vec![notification(&envelope)?],
        }),
        Some(other) => Err(IngestError::new(format!(
            "{TYPE_HEADER} {} is not SubscriptionConfirmation, Notification or UnsubscribeConfirmation",
            quoted(other)
        ))),
        None => Err(IngestError::new(format!(
            "the {TYPE_HEADER} header is missing (and the body has no Type)"
        ))),
    }
}

/// `obj[a]`, else `obj[b]`, as text.
fn either(obj: &Map<String, Value>, a: &str, b: &str) -> Option<String> {
    get_text(obj, a).or_else(|| get_text(obj, b))
}

/// `Ok` when `url` is `https://sns.<region>.amazonaws.com` followed by nothing, or by a
/// path, query or fragment; else the reason it is refused.
fn subscribe_url(url: &str) -> Result<(), String> {
    let refused = || {
        format!(
            "SubscribeURL {} is not an https URL on sns.<region>.amazonaws.com; refused as an SSRF risk",
            quoted(url)
        )
    };
    if url
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(refused());
    }
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(refused());
    };
    let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let region = host
        .strip_prefix("sns.")
        .and_then(|h| h.strip_suffix(".amazonaws.com"))
        .ok_or_else(refused)?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && !region.ends_with('-');
    if region_ok {
        Ok(())
    } else {
        Err(refused())
    }
}

fn notification(envelope: &Map<String, Value>) -> Result<AlertEvent, IngestError> {
    let parsed;
    let alarm =
        match envelope.get("Message") {
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(alarm)) => {
                    parsed = alarm;
                    &parsed
                }
                _ => return Err(IngestError::new(
                    "Message is not a CloudWatch alarm: expected a JSON object inside the string",
                )),
            },
            Some(Value::Object(alarm)) => alarm,
            Some(other) => {
                return Err(IngestError::new(format!(
                    "Message must be a string, not {}",
                    kind(other)
                )))
            }
            None => return Err(IngestError::new("Message is missing")),
        };
    let state = get_text(alarm, "NewStateValue");
    let (action, severity) = match state.as_deref() {
        Some("ALARM") => (AlertAction::Trigger, AlertSeverity::Error),
        Some("OK") => (AlertAction::Resolve, AlertSeverity::Error),
        Some("INSUFFICIENT_DATA") => (AlertAction::Trigger, AlertSeverity::Warning),
        Some(other) => {
            return Err(IngestError::new(format!(
                "Message.NewStateValue must be ALARM, OK or INSUFFICIENT_DATA, not {}",
                quoted(other)
            )))
        }
        None => return Err(IngestError::new("Message.NewStateValue is missing")),
    };
    let name = get_text(alarm, "AlarmName");
    let arn = get_text(alarm, "AlarmArn");
    let Some(key) = arn.clone().or_else(|| name.clone()) else {
        return Err(IngestError::new(
            "Message.AlarmArn is missing (and so is AlarmName)",
        ));
    };
    let state = state.unwrap_or_default();
    let name = name.unwrap_or_else(|| key.clone());
    let summary = match get_text(alarm, "Region") {
        Some(region) => format!("{state}: \"{name}\" in {region}"),
        None => format!("{state}: \"{name}\""),
    };
    let mut event = AlertEvent::new(action, severity);
    event.dedup_key = Some(dedup_key(&key));
    event.summary = Some(truncate(&summary, MAX_SUMMARY));
    event.occurred_at = get_text(alarm, "StateChangeTime").and_then(|t| timestamp(&t));
    if let Some(trigger) = get_object(alarm, "Trigger") {
        if let Some(Value::Array(dimensions)) = trigger.get("Dimensions") {
            for d in dimensions.iter().filter_map(Value::as_object) {
                if let (Some(k), Some(v)) = (get_text(d, "name"), get_text(d, "value")) {
                    event.labels.insert(k, v);
                }
            }
        }
        for (field, label) in [("MetricName", "metric"), ("Namespace", "namespace")] {
            if let Some(value) = get_text(trigger, field) {
                event.labels.insert(label.to_owned(), value);
            }
        }
    }
    // arn:aws:cloudwatch:<region>:<account>:alarm:<name>
    let region = arn
        .as_deref()
        .and_then(|a| a.split(':').nth(3))
        .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    event.links.extend(region.map(|region| AlertLink {
        href: format!(
            "https://console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{}",
            percent_encode(&name)
        ),
        text: Some("CloudWatch alarm".to_owned()),
    }));
    event.source = get_text(alarm, "AWSAccountId").map(|account| format!("aws:{account}"));
    event.client = Some("Amazon CloudWatch".to_owned());
    event.details = json!({
        "alarm": alarm,
        "sns": {
            "TopicArn": envelope.get("TopicArn"),
            "MessageId": envelope.get("MessageId"),
            "Subject": envelope.get("Subject"),
            "Timestamp": envelope.get("Timestamp"),
            "SigningCertURL": either(envelope, "SigningCertURL", "SigningCertUrl"),
            "UnsubscribeURL": either(envelope, "UnsubscribeURL", "UnsubscribeUrl"),
        },
    });
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::subscribe_url;

    #[test]
    fn only_sns_hosts_over_https() {
        for ok in [
            "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:MyTopic&Token=2336412f37",
            "https://sns.us-gov-west-1.amazonaws.com/",
            "https://sns.ap-southeast-2.amazonaws.com",
        ] {
            assert_eq!(subscribe_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://sns.us-east-1.amazonaws.com/",
            "https://evil.example/?sns.us-east-1.amazonaws.com",
            "https://sns.us-east-1.amazonaws.com.evil.example/",
            "https://sns.us-east-1.amazonaws.com@evil.example/",
            "https://user@sns.us-east-1.amazonaws.com/",
            "https://sns.us-east-1.amazonaws.com:8443/",
            "https://sns.evil.example.amazonaws.com/",
            "https://sns..amazonaws.com/",
            "https://sns.amazonaws.com/",
            "https://s3.us-east-1.amazonaws.com/",
            "https://sns.us-east-1.amazonaws.com\\@evil.example/",
            "https://sns.US-EAST-1.amazonaws.com/",
            "https://sns.us-east-1.amazonaws.com\t/",
            "https://169.254.169.254/latest/meta-data",
            "",
        ] {
            assert!(subscribe_url(bad).unwrap_err().contains("SSRF"), "{bad}");
        }
    }
}
