//! Events API v2 (`/v2/enqueue`).

use http::HeaderMap;
use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity, MAX_DEDUP_KEY, MAX_SUMMARY};
use serde_json::{Map, Value};

use super::{action, time};
use crate::json::{self, is_blank as blank, Check};
use crate::text::quoted;
use crate::{IngestError, Parsed};

/// An Events API v2 body: `Parsed::Alerts` with the `routing_key` and one event.
/// A trigger without `dedup_key` gets one from the server (which must echo it).
pub fn parse_event(body: &[u8], _headers: &HeaderMap) -> Result<Parsed, IngestError> {
    let obj = json::object(body)?;
    let mut check = Check::default();
    let key = check.required(&obj, "routing_key", "routing_key", "");
    let action = action(&mut check, &obj, "event_action");
    let dedup_key = check
        .string(&obj, "dedup_key", "dedup_key")
        .filter(|k| !k.trim().is_empty());
    let dedup_key = check.at_most(dedup_key, "dedup_key", MAX_DEDUP_KEY);

    let event = match action {
        Some(AlertAction::Trigger) => trigger(&mut check, &obj),
        Some(other) => {
            if blank(&obj, "dedup_key") {
                check
                    .errors
                    .push("dedup_key is required to acknowledge or resolve".to_owned());
            }
            Some(AlertEvent::new(other, AlertSeverity::Error))
        }
        None => None,
    };
    check.into_result()?;
    let (Some(key), Some(mut event)) = (key, event) else {
        return Err(IngestError::new("event is invalid"));
    };
    event.dedup_key = dedup_key;
    Ok(Parsed::Alerts {
        key: Some(key),
        events: vec![event],
    })
}

/// A trigger's payload, images, links and client.
fn trigger(check: &mut Check, obj: &Map<String, Value>) -> Option<AlertEvent> {
    let Some(payload) = check.object(obj, "payload", "payload") else {
        if obj.get("payload").is_none_or(Value::is_null) {
            check
                .errors
                .push("payload is required for a trigger".to_owned());
        }
        return None;
    };
    let for_trigger = " for a trigger";
    let summary = check.required(payload, "summary", "payload.summary", for_trigger);
    let summary = check.at_most(summary, "payload.summary", MAX_SUMMARY);
    let source = check.required(payload, "source", "payload.source", for_trigger);
    let severity = check
        .required(payload, "severity", "payload.severity", for_trigger)
        .and_then(|text| {
            let severity = AlertSeverity::parse(&text);
            if severity.is_none() {
                check.errors.push(format!(
                    "payload.severity must be critical, error, warning or info, not {}",
                    quoted(&text)
                ));
            }
            severity
        });
    let mut event = AlertEvent::new(
        AlertAction::Trigger,
        severity.unwrap_or(AlertSeverity::Error),
    );
    event.summary = summary;
    event.source = source;
    event.occurred_at = time(check, payload, "timestamp", "payload.timestamp");
    event.component = check.string(payload, "component", "payload.component");
    event.group = check.string(payload, "group", "payload.group");
    event.class = check.string(payload, "class", "payload.class");
    event.details = payload
        .get("custom_details")
        .cloned()
        .unwrap_or(Value::Null);
    event.images = check.images(obj);
    event.links = check.links(obj);
    event.client = check.string(obj, "client", "client");
    event.client_url = check.string(obj, "client_url", "client_url");
    Some(event)
}
