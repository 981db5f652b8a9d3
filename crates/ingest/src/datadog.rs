//! Datadog webhooks, `POST /ingest/datadog/{key}`.
//!
//! Datadog sends whatever payload template the user writes, so Klaxon defines one.
//! Paste this as the webhook's payload (Integrations → Webhooks), with or without
//! "Encode as form":
//!
//! ```json
//! {
//!   "alert_cycle_key": "$ALERT_CYCLE_KEY",
//!   "alert_id": "$ALERT_ID",
//!   "alert_scope": "$ALERT_SCOPE",
//!   "alert_transition": "$ALERT_TRANSITION",
//!   "alert_priority": "$ALERT_PRIORITY",
//!   "alert_type": "$ALERT_TYPE",
//!   "alert_title": "$ALERT_TITLE",
//!   "event_title": "$EVENT_TITLE",
//!   "event_msg": "$EVENT_MSG",
//!   "hostname": "$HOSTNAME",
//!   "link": "$LINK",
//!   "tags": "$TAGS",
//!   "date": "$DATE",
//!   "org_name": "$ORG_NAME"
//! }
//! ```
//!
//! Contract: a JSON object, or the same names form-encoded when Content-Type is
//! `application/x-www-form-urlencoded`. Values may be strings or numbers. One event:
//!
//! - dedup key: `alert_cycle_key` (one per trigger-to-recovery cycle), else
//!   `alert_id` and `alert_scope` as `<id>:<scope>`; a trigger may have neither (the
//!   server makes a key), a recovery may not;
//! - action from `alert_transition`: `Triggered`, `Re-Triggered`, `Warn`, `No Data`,
//!   `Renotify` → trigger; `Recovered` (and any `… Recovered`) → resolve; anything
//!   else, or none, → trigger with a `note` saying so;
//! - severity from `alert_priority`: P1 → critical, P2 → error, P3 → warning, P4 and
//!   P5 → info; without a priority, from `alert_type` (`error`, `warning`,
//!   `info`/`success` → info); otherwise error;
//! - summary: `alert_title`, else `event_title`, else the first line of `event_msg`
//!   (required for a trigger; cut to 1024 characters);
//! - `link` → a link; `hostname` → source; `tags` (`env:prod,team:db`) → labels;
//!   `date` (Unix milliseconds, or an ISO 8601 time) → occurred_at; the whole body →
//!   details.

use http::HeaderMap;
use klaxon_domain::alert::{AlertAction, AlertEvent, AlertLink, AlertSeverity, MAX_SUMMARY};
use serde_json::{Map, Value};

use crate::json::{self, get_text};
use crate::severity::from_word;
use crate::text::{dedup_key, form_object, is_form, quoted, timestamp, truncate, unix_time};
use crate::{IngestError, Parsed};

/// A Datadog webhook in the documented template: `Parsed::Alerts` with `key: None` and
/// one event.
pub fn parse(body: &[u8], headers: &HeaderMap) -> Result<Parsed, IngestError> {
    let fields = if is_form(headers) {
        form_object(body, "body")?
    } else {
        json::object(body)?
    };
    let (action, note) = transition(get_text(&fields, "alert_transition"));
    let key = get_text(&fields, "alert_cycle_key").or_else(|| {
        let id = get_text(&fields, "alert_id")?;
        Some(match get_text(&fields, "alert_scope") {
            Some(scope) => format!("{id}:{scope}"),
            None => id,
        })
    });
    let summary = get_text(&fields, "alert_title")
        .or_else(|| get_text(&fields, "event_title"))
        .or_else(|| {
            let msg = get_text(&fields, "event_msg")?;
            msg.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_owned)
        });
    let mut errors = Vec::new();
    if action == AlertAction::Trigger && summary.is_none() {
        errors.push(
            "alert_title is missing (and there is no event_title or event_msg to use instead)"
                .to_owned(),
        );
    }
    if action != AlertAction::Trigger && key.is_none() {
        errors.push(
            "alert_cycle_key is missing (or alert_id); a recovery needs it to find its alert"
                .to_owned(),
        );
    }
    IngestError::check(errors)?;

    let mut event = AlertEvent::new(action, severity(&fields));
    event.note = note;
    event.dedup_key = key.as_deref().map(dedup_key);
    event.summary = summary.map(|s| truncate(s.trim(), MAX_SUMMARY));
    event.source = get_text(&fields, "hostname");
    event.occurred_at = get_text(&fields, "date").and_then(|d| match d.parse::<f64>() {
        Ok(n) => unix_time(n),
        Err(_) => timestamp(&d),
    });
    if let Some(tags) = get_text(&fields, "tags") {
        for tag in tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (name, value) = tag.split_once(':').unwrap_or((tag, ""));
            event.labels.insert(name.to_owned(), value.to_owned());
        }
    }
    event
        .links
        .extend(get_text(&fields, "link").map(|href| AlertLink {
            href,
            text: Some("Datadog".to_owned()),
        }));
    event.client = Some("Datadog".to_owned());
    event.details = Value::Object(fields);
    Ok(Parsed::Alerts {
        key: None,
        events: vec![event],
    })
}

/// The action for `$ALERT_TRANSITION`, and a note when it was guessed.
fn transition(value: Option<String>) -> (AlertAction, Option<String>) {
    let Some(value) = value else {
        return (
            AlertAction::Trigger,
            Some("Datadog sent no alert_transition; treated as a trigger".to_owned()),
        );
    };
    let lower = value.trim().to_ascii_lowercase();
    match lower.as_str() {
        "triggered" | "re-triggered" | "warn" | "no data" | "renotify" => (AlertAction::Trigger, None),
        _ if lower.ends_with("recovered") => (AlertAction::Resolve, None),
        _ => (
            AlertAction::Trigger,
            Some(format!(
                "Datadog sent alert_transition {}, which Klaxon does not know; treated as a trigger",
                quoted(&value)
            )),
        ),
    }
}

/// `$ALERT_PRIORITY` (P1–P5), else `$ALERT_TYPE`, else error.
fn severity(fields: &Map<String, Value>) -> AlertSeverity {
    let by_priority = get_text(fields, "alert_priority").and_then(|p| {
        match p.trim().to_ascii_uppercase().as_str() {
            "P1" => Some(AlertSeverity::Critical),
            "P2" => Some(AlertSeverity::Error),
            "P3" => Some(AlertSeverity::Warning),
            "P4" | "P5" => Some(AlertSeverity::Info),
            _ => None,
        }
    });
    let by_type = || {
        let kind = get_text(fields, "alert_type")?;
        if kind.eq_ignore_ascii_case("success") {
            Some(AlertSeverity::Info)
        } else {
            from_word(&kind)
        }
    };
    by_priority.or_else(by_type).unwrap_or(AlertSeverity::Error)
}
