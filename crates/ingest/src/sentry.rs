//! Sentry's integration-platform webhooks, `POST /ingest/sentry/{key}`.
//!
//! Contract: the `Sentry-Hook-Resource` header says the shape of the JSON body.
//!
//! - `event_alert` (an issue alert rule fired): a trigger deduplicated on
//!   `data.event.issue_id` (as `sentry:issue:<id>`), summary from `title` (else
//!   `message`, `culprit`), severity from `level` (`fatal` → critical, `error`,
//!   `warning`, `info`/`debug` → info; otherwise error), `web_url` as a link, `tags`
//!   as labels, time from `timestamp` (Unix seconds) or `datetime`.
//! - `metric_alert`: `action` `critical` / `warning` trigger with that severity,
//!   `resolved` resolves; deduplicated on `data.metric_alert.id` (as
//!   `sentry:metric-alert:<id>`), summary from `description_title`, link `web_url`.
//! - `issue`: deduplicated on `data.issue.id`, the same key as `event_alert`, so
//!   either can open what the other resolves. `created` and `unresolved` (a regression
//!   or reopening) trigger; `resolved` resolves; `assigned` and `archived` (and the
//!   older name `ignored`) **acknowledge**: a person in Sentry has taken the issue or
//!   decided it can wait, so paging further would only repeat what they know, while
//!   resolving would be wrong (an archived issue can come back).
//! - `installation`, `comment`, `error`: well-formed hooks that ask nothing of Klaxon,
//!   answered as `Parsed::Ignored`.
//! - any other resource, or a missing header: an error naming it.
//!
//! Signatures: [`verify_sentry_signature`].

use http::HeaderMap;
use klaxon_domain::alert::{AlertAction, AlertEvent, AlertLink, AlertSeverity, MAX_SUMMARY};
use serde_json::{json, Map, Value};

use crate::json::{self, get_object, get_text, kind};
use crate::severity::from_word;
use crate::signature::verify_hex;
use crate::text::{dedup_key, header, quoted, timestamp, truncate, unix_time};
use crate::{IngestError, Parsed, SignatureError};

/// The header that names the body's shape.
pub const RESOURCE_HEADER: &str = "Sentry-Hook-Resource";
/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "Sentry-Hook-Signature";

/// A Sentry webhook: `Parsed::Alerts` with `key: None` and one event, or
/// `Parsed::Ignored` for the resources that ask nothing.
pub fn parse(body: &[u8], headers: &HeaderMap) -> Result<Parsed, IngestError> {
    let Some(resource) = header(headers, RESOURCE_HEADER) else {
        return Err(IngestError::new(format!(
            "the {RESOURCE_HEADER} header is missing; Sentry sends it on every webhook"
        )));
    };
    let event = match resource {
        "event_alert" => event_alert(&json::object(body)?)?,
        "metric_alert" => metric_alert(&json::object(body)?)?,
        "issue" => issue(&json::object(body)?)?,
        "installation" | "comment" | "error" => {
            return Ok(Parsed::Ignored {
                reason: format!("Sentry {resource} webhooks raise no alerts"),
            })
        }
        other => {
            return Err(IngestError::new(format!(
            "{RESOURCE_HEADER} {} is not one Klaxon handles: event_alert, metric_alert or issue",
            quoted(other)
        )))
        }
    };
    Ok(Parsed::Alerts {
        key: None,
        events: vec![event],
    })
}

/// Checks `Sentry-Hook-Signature`: the hex HMAC-SHA256 of the raw body bytes, keyed by
/// the integration's client secret. Constant-time. Sentry signs no timestamp, so this
/// does not stop a replay of a captured request.
pub fn verify_sentry_signature(
    secret: &[u8],
    body: &[u8],
    headers: &HeaderMap,
) -> Result<(), SignatureError> {
    let Some(signature) = header(headers, SIGNATURE_HEADER) else {
        return Err(SignatureError::Missing {
            header: SIGNATURE_HEADER,
        });
    };
    verify_hex(secret, &[body], signature, SIGNATURE_HEADER)
}

/// `root.data.<name>` as an object, or the error naming it.
fn data<'a>(
    root: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a Map<String, Value>, IngestError> {
    let data = match root.get("data") {
        Some(Value::Object(data)) => data,
        Some(other) => {
            return Err(IngestError::new(format!(
                "data must be an object, not {}",
                kind(other)
            )))
        }
        None => return Err(IngestError::new("data is missing")),
    };
    match data.get(name) {
        Some(Value::Object(inner)) => Ok(inner),
        Some(other) => Err(IngestError::new(format!(
            "data.{name} must be an object, not {}",
            kind(other)
        ))),
        None => Err(IngestError::new(format!("data.{name} is missing"))),
    }
}

fn id(obj: &Map<String, Value>, field: &str, name: &str) -> Result<String, IngestError> {
    get_text(obj, field).ok_or_else(|| IngestError::new(format!("{name} is missing")))
}

fn first_text(obj: &Map<String, Value>, fields: &[&str]) -> Option<String> {
    fields.iter().find_map(|f| get_text(obj, f))
}

fn severity(obj: &Map<String, Value>) -> AlertSeverity {
    get_text(obj, "level")
        .and_then(|l| from_word(&l))
        .unwrap_or(AlertSeverity::Error)
}

fn base(
    action: AlertAction,
    severity: AlertSeverity,
    key: String,
    summary: String,
    web_url: Option<String>,
) -> AlertEvent {
    let mut event = AlertEvent::new(action, severity);
    event.dedup_key = Some(dedup_key(&key));
    event.summary = Some(truncate(summary.trim(), MAX_SUMMARY));
    event.links.extend(web_url.map(|href| AlertLink {
        href,
        text: Some("Sentry".to_owned()),
    }));
    event.client = Some("Sentry".to_owned());
    event
}

fn event_alert(root: &Map<String, Value>) -> Result<AlertEvent, IngestError> {
    let event = data(root, "event")?;
    let issue_id = id(event, "issue_id", "data.event.issue_id")?;
    let summary = first_text(event, &["title", "message", "culprit"])
        .unwrap_or_else(|| format!("Sentry issue {issue_id}"));
    let mut out = base(
        AlertAction::Trigger,
        severity(event),
        format!("sentry:issue:{issue_id}"),
        summary,
        get_text(event, "web_url"),
    );
    out.occurred_at = match event.get("timestamp") {
        Some(Value::Number(n)) => n.as_f64().and_then(unix_time),
        _ => get_text(event, "datetime").and_then(|t| timestamp(&t)),
    };
    if let Some(Value::Array(tags)) = event.get("tags") {
        for tag in tags {
            if let Some([k, v]) = tag.as_array().map(Vec::as_slice) {
                if let (Some(k), Some(v)) = (json::text(k), json::text(v)) {
                    out.labels.insert(k, v);
                }
            }
        }
    }
    out.source = out.labels.get("server_name").cloned();
    out.details = json!({
        "triggered_rule": root.get("data").and_then(|d| d.get("triggered_rule")),
        "event_id": event.get("event_id"),
        "culprit": event.get("culprit"),
        "platform": event.get("platform"),
        "project": event.get("project"),
        "issue_url": event.get("issue_url"),
    });
    Ok(out)
}

fn metric_alert(root: &Map<String, Value>) -> Result<AlertEvent, IngestError> {
    let (action, severity) = match get_text(root, "action").as_deref() {
        Some("critical") => (AlertAction::Trigger, AlertSeverity::Critical),
        Some("warning") => (AlertAction::Trigger, AlertSeverity::Warning),
        Some("resolved") => (AlertAction::Resolve, AlertSeverity::Error),
        Some(other) => {
            return Err(IngestError::new(format!(
                "action must be critical, warning or resolved for a metric_alert, not {}",
                quoted(other)
            )))
        }
        None => return Err(IngestError::new("action is missing")),
    };
    let alert = data(root, "metric_alert")?;
    let alert_id = id(alert, "id", "data.metric_alert.id")?;
    let data = get_object(root, "data").cloned().unwrap_or_default();
    let rule_name = get_object(alert, "alert_rule").and_then(|r| get_text(r, "name"));
    let summary = first_text(&data, &["description_title"])
        .or_else(|| get_text(alert, "title"))
        .or(rule_name)
        .unwrap_or_else(|| format!("Sentry metric alert {alert_id}"));
    let mut out = base(
        action,
        severity,
        format!("sentry:metric-alert:{alert_id}"),
        summary,
        get_text(&data, "web_url"),
    );
    let time_fields: &[&str] = match action {
        AlertAction::Resolve => &["date_closed", "date_detected"],
        _ => &["date_detected", "date_started"],
    };
    out.occurred_at = time_fields
        .iter()
        .find_map(|f| get_text(alert, f).and_then(|t| timestamp(&t)));
    out.details = json!({
        "description_text": data.get("description_text"),
        "metric_alert": alert,
    });
    Ok(out)
}

fn issue(root: &Map<String, Value>) -> Result<AlertEvent, IngestError> {
    let action = match get_text(root, "action").as_deref() {
        Some("created" | "unresolved") => AlertAction::Trigger,
        Some("resolved") => AlertAction::Resolve,
        Some("assigned" | "archived" | "ignored") => AlertAction::Acknowledge,
        Some(other) => {
            return Err(IngestError::new(format!(
                "action must be created, unresolved, resolved, assigned or archived for an issue, not {}",
                quoted(other)
            )))
        }
        None => return Err(IngestError::new("action is missing")),
    };
    let issue = data(root, "issue")?;
    let issue_id = id(issue, "id", "data.issue.id")?;
    let summary = first_text(issue, &["title", "culprit", "shortId"])
        .unwrap_or_else(|| format!("Sentry issue {issue_id}"));
    let mut out = base(
        action,
        severity(issue),
        format!("sentry:issue:{issue_id}"),
        summary,
        first_text(issue, &["web_url", "permalink"]),
    );
    if action == AlertAction::Trigger {
        out.occurred_at = first_text(issue, &["lastSeen", "firstSeen"]).and_then(|t| timestamp(&t));
    }
    if let Some(slug) = get_object(issue, "project").and_then(|p| get_text(p, "slug")) {
        out.labels.insert("project".to_owned(), slug);
    }
    out.details = json!({
        "action": root.get("action"),
        "shortId": issue.get("shortId"),
        "culprit": issue.get("culprit"),
        "status": issue.get("status"),
        "substatus": issue.get("substatus"),
        "assignedTo": issue.get("assignedTo"),
        "actor": root.get("actor"),
    });
    Ok(out)
}
