//! Change events (`/v2/change/enqueue`).

use http::HeaderMap;
use klaxon_domain::alert::{ChangeEvent, MAX_SUMMARY};
use serde_json::Value;

use super::time;
use crate::json::{self, Check};
use crate::{IngestError, Parsed};

/// A change event body: `Parsed::Change` with the `routing_key`. `payload.summary` is
/// required (at most 1024 characters); `timestamp`, `source`, `custom_details` and
/// `links[]` are optional.
pub fn parse_change(body: &[u8], _headers: &HeaderMap) -> Result<Parsed, IngestError> {
    let obj = json::object(body)?;
    let mut check = Check::default();
    let key = check.required(&obj, "routing_key", "routing_key", "");
    let payload = check.object(&obj, "payload", "payload");
    if obj.get("payload").is_none_or(Value::is_null) {
        check.errors.push("payload is required".to_owned());
    }
    let links = check.links(&obj);
    let mut event = None;
    if let Some(payload) = payload {
        let summary = check.required(payload, "summary", "payload.summary", "");
        let summary = check.at_most(summary, "payload.summary", MAX_SUMMARY);
        let source = check.string(payload, "source", "payload.source");
        let occurred_at = time(&mut check, payload, "timestamp", "payload.timestamp");
        let details = payload
            .get("custom_details")
            .cloned()
            .unwrap_or(Value::Null);
        event = summary.map(|summary| ChangeEvent {
            summary,
            source,
            occurred_at,
            details,
            links,
        });
    }
    check.into_result()?;
    let (Some(key), Some(event)) = (key, event) else {
        return Err(IngestError::new("change event is invalid"));
    };
    Ok(Parsed::Change {
        key: Some(key),
        event,
    })
}
