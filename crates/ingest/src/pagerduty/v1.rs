//! Events API v1 (`/generic/2010-04-15/create_event.json`).

use http::HeaderMap;
use klaxon_domain::alert::{
    AlertAction, AlertEvent, AlertImage, AlertLink, AlertSeverity, MAX_DEDUP_KEY, MAX_SUMMARY,
};
use serde_json::{Map, Value};

use super::action;
use crate::json::{self, is_blank as blank, Check};
use crate::text::quoted;
use crate::{IngestError, Parsed};

/// A v1 body: `Parsed::Alerts` with the `service_key` and one event. `incident_key`
/// becomes the dedup key, `description` the summary, `details` the details and
/// `contexts[]` the links and images. v1 has no severity: triggers are `error`.
pub fn parse_v1(body: &[u8], _headers: &HeaderMap) -> Result<Parsed, IngestError> {
    let obj = json::object(body)?;
    let mut check = Check::default();
    let key = check.required(&obj, "service_key", "service_key", "");
    let action = action(&mut check, &obj, "event_type");
    let incident_key = check
        .string(&obj, "incident_key", "incident_key")
        .filter(|k| !k.trim().is_empty());
    let incident_key = check.at_most(incident_key, "incident_key", MAX_DEDUP_KEY);
    let description = check
        .string(&obj, "description", "description")
        .filter(|d| !d.trim().is_empty());
    let description = check.at_most(description, "description", MAX_SUMMARY);
    match action {
        Some(AlertAction::Trigger) if blank(&obj, "description") => check
            .errors
            .push("description is required for a trigger".to_owned()),
        Some(AlertAction::Acknowledge | AlertAction::Resolve) if blank(&obj, "incident_key") => {
            check
                .errors
                .push("incident_key is required to acknowledge or resolve".to_owned())
        }
        _ => {}
    }
    let mut event = AlertEvent::new(action.unwrap_or(AlertAction::Trigger), AlertSeverity::Error);
    contexts(&mut check, &obj, &mut event);
    event.client = check.string(&obj, "client", "client");
    event.client_url = check.string(&obj, "client_url", "client_url");
    check.into_result()?;
    let Some(key) = key else {
        return Err(IngestError::new("service_key is required"));
    };
    event.dedup_key = incident_key;
    event.summary = description;
    event.details = obj.get("details").cloned().unwrap_or(Value::Null);
    Ok(Parsed::Alerts {
        key: Some(key),
        events: vec![event],
    })
}

enum Context {
    Link(AlertLink),
    Image(AlertImage),
}

/// `contexts[]`: `{type: "link", href, text}` or `{type: "image", src, href, alt}`.
fn contexts(check: &mut Check, obj: &Map<String, Value>, event: &mut AlertEvent) {
    let items = check.each(obj, "contexts", |check, context, name| {
        let kind = check.required(context, "type", &format!("{name}.type"), "")?;
        match kind.as_str() {
            "link" => {
                let href = check.required(context, "href", &format!("{name}.href"), "");
                let text = check.string(context, "text", &format!("{name}.text"));
                Some(Context::Link(AlertLink { href: href?, text }))
            }
            "image" => {
                let src = check.required(context, "src", &format!("{name}.src"), "");
                let href = check.string(context, "href", &format!("{name}.href"));
                let alt = check.string(context, "alt", &format!("{name}.alt"));
                Some(Context::Image(AlertImage {
                    src: src?,
                    href,
                    alt,
                }))
            }
            other => {
                check.errors.push(format!(
                    "{name}.type must be link or image, not {}",
                    quoted(other)
                ));
                None
            }
        }
    });
    for item in items {
        match item {
            Context::Image(image) => event.images.push(image),
            Context::Link(link) => event.links.push(link),
        }
    }
}
