//! Klaxon's own generic webhook, `POST /ingest/generic/{key}`, for scripts, cron jobs
//! and support forms.
//!
//! Contract: the fields
//!
//! | field | meaning |
//! |---|---|
//! | `summary` | required for a trigger; at most 1024 characters |
//! | `action` | `trigger` (default), `acknowledge` (or `ack`) or `resolve` |
//! | `dedup_key` | at most 255 characters; required to acknowledge or resolve |
//! | `severity` | `critical`, `error` (default), `warning`, `info`, or a common synonym (`page`, `warn`, `p1`…) |
//! | `details` | a string or any JSON value |
//! | `links` | an array of URLs or `{href, text}` objects, or one URL |
//! | `source` | the host or system it is about |
//! | `reporter` | who reported it (customer reports from a support tool or form) |
//! | `labels` | an object of strings, for grouping (JSON only) |
//!
//! come as a JSON object, as a form body (Content-Type
//! `application/x-www-form-urlencoded`; repeat `links` for several), as URL query
//! parameters, or as a mix: query parameters first, the body's fields over them. Each
//! problem is one message naming its field. Unknown fields are ignored.

use http::HeaderMap;
use klaxon_domain::alert::{
    AlertAction, AlertEvent, AlertLink, AlertSeverity, MAX_DEDUP_KEY, MAX_SUMMARY,
};
use serde_json::{Map, Value};

use crate::json::{self, is_blank, kind, string_map, Check};
use crate::severity::from_word;
use crate::text::{form_object, is_form, quoted};
use crate::{IngestError, Parsed};

/// A generic webhook from the body and/or the URL's query string (without the `?`):
/// `Parsed::Alerts` with `key: None` and one event.
pub fn parse(body: &[u8], headers: &HeaderMap, query: Option<&str>) -> Result<Parsed, IngestError> {
    let mut fields = match query {
        Some(query) if !query.is_empty() => form_object(query.as_bytes(), "the query string")?,
        _ => Map::new(),
    };
    if is_form(headers) {
        fields.extend(form_object(body, "body")?);
    } else if !body.iter().all(u8::is_ascii_whitespace) {
        fields.extend(json::object(body)?);
    } else if fields.is_empty() {
        return Err(IngestError::new(
            "summary is required: send it in a JSON body, a form body or the query string",
        ));
    }
    let mut check = Check::default();
    let action = match check
        .string(&fields, "action", "action")
        .map(|a| a.trim().to_ascii_lowercase())
    {
        None => AlertAction::Trigger,
        Some(a) if a.is_empty() || a == "trigger" => AlertAction::Trigger,
        Some(a) if a == "acknowledge" || a == "ack" => AlertAction::Acknowledge,
        Some(a) if a == "resolve" => AlertAction::Resolve,
        Some(a) => {
            check.errors.push(format!(
                "action must be trigger, acknowledge or resolve, not {}",
                quoted(&a)
            ));
            AlertAction::Trigger
        }
    };
    let summary = match action {
        AlertAction::Trigger => check.required(&fields, "summary", "summary", ""),
        _ => check.string(&fields, "summary", "summary"),
    };
    let summary = check.at_most(
        summary.filter(|s| !s.trim().is_empty()),
        "summary",
        MAX_SUMMARY,
    );
    let key = check
        .string(&fields, "dedup_key", "dedup_key")
        .filter(|k| !k.trim().is_empty());
    if action != AlertAction::Trigger && is_blank(&fields, "dedup_key") {
        check
            .errors
            .push("dedup_key is required to acknowledge or resolve".to_owned());
    }
    let key = check.at_most(key, "dedup_key", MAX_DEDUP_KEY);
    let severity = match check
        .string(&fields, "severity", "severity")
        .filter(|s| !s.trim().is_empty())
    {
        None => AlertSeverity::Error,
        Some(word) => from_word(&word).unwrap_or_else(|| {
            check.errors.push(format!(
                "severity must be critical, error, warning or info, not {}",
                quoted(&word)
            ));
            AlertSeverity::Error
        }),
    };
    let links = links(&mut check, fields.get("links"));
    let labels = match fields.get("labels") {
        None | Some(Value::Null | Value::Object(_)) => string_map(fields.get("labels")),
        Some(other) => {
            check
                .errors
                .push(format!("labels must be an object, not {}", kind(other)));
            Default::default()
        }
    };
    let mut event = AlertEvent::new(action, severity);
    event.source = check.string(&fields, "source", "source");
    event.reporter = check.string(&fields, "reporter", "reporter");
    check.into_result()?;
    event.summary = summary;
    event.dedup_key = key;
    event.links = links;
    event.labels = labels;
    event.details = fields.remove("details").unwrap_or(Value::Null);
    Ok(Parsed::Alerts {
        key: None,
        events: vec![event],
    })
}

/// `links`: one URL, or an array of URLs and `{href, text}` objects.
fn links(check: &mut Check, value: Option<&Value>) -> Vec<AlertLink> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let name = format!("links[{i}]");
        match item {
            Value::String(href) if !href.trim().is_empty() => out.push(AlertLink {
                href: href.clone(),
                text: None,
            }),
            Value::Object(link) => {
                let href = check.required(link, "href", &format!("{name}.href"), "");
                let text = check.string(link, "text", &format!("{name}.text"));
                out.extend(href.map(|href| AlertLink { href, text }));
            }
            other => check.errors.push(format!(
                "{name} must be a URL or an object with href, not {}",
                if other.is_string() {
                    "a blank string"
                } else {
                    kind(other)
                }
            )),
        }
    }
    out
}
