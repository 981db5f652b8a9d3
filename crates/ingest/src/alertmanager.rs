//! Prometheus Alertmanager's webhook (`version: "4"`), `POST /ingest/alertmanager/{key}`.
//!
//! Contract: the body is a JSON object with an `alerts` array; unknown top-level keys
//! (`notification_reason`, `routeLabels`, …) are accepted. Each alert becomes one
//! [`AlertEvent`]:
//!
//! - action: `status: firing` → trigger, `resolved` → resolve (an alert without its own
//!   `status` takes the group's);
//! - dedup key: the alert's `fingerprint` under [`Grouping::PerAlert`], the
//!   notification's `groupKey` under [`Grouping::PerGroup`] — never the summary; a key
//!   over 255 characters is shortened with a hash (stable across notifications);
//! - summary: the `summary` annotation, else `description`, else the `alertname`
//!   label, else the fingerprint — a trigger always has one; cut to 1024 characters;
//! - severity: the `severity` label through the common synonyms (`page` → critical,
//!   `warn` → warning, `p1`…`p5`, …); absent or unknown → **error**, the middle of the
//!   scale that still opens an incident under the default policy;
//! - labels: the alert's labels; `source`: the `instance` label;
//! - links: `generatorURL`, the `runbook_url` annotation, `externalURL`;
//! - occurred_at: `startsAt` for a trigger, `endsAt` for a resolve (the zero time
//!   counts as absent); a time that does not parse is dropped with a `note`;
//! - details: annotations, `startsAt`, `endsAt`, `fingerprint`, `groupKey` and the
//!   `receiver` with Alertmanager's regex escaping undone (`team\.a` → `team.a`).
//!
//! Under [`Grouping::PerGroup`] all of a notification's alerts share one Klaxon alert,
//! so a resolved alert in a still-firing group must not resolve it: a firing group
//! gives one trigger per firing alert, and a resolved group one resolve.
//!
//! A body that is not this shape is refused with messages naming what is missing
//! (Alertmanager does not retry a 4xx, and a retry would not help). Content-Type is not
//! checked.

use http::HeaderMap;
use klaxon_domain::alert::{AlertAction, AlertEvent, AlertLink, AlertSeverity, MAX_SUMMARY};
use serde_json::{json, Map, Value};

use crate::json::{self, get_text, kind, string_map};
use crate::severity::from_word;
use crate::text::{dedup_key, quoted, timestamp_not_zero, truncate};
use crate::{IngestError, Parsed};

/// Which Alertmanager field deduplicates: a per-service setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// One Klaxon alert per Prometheus alert, keyed by its `fingerprint`.
    #[default]
    PerAlert,
    /// One Klaxon alert per Alertmanager group, keyed by the `groupKey`.
    PerGroup,
}

/// An Alertmanager webhook body: `Parsed::Alerts` with `key: None` (the key is in the
/// URL) and one event per alert, as the module documentation describes.
pub fn parse(body: &[u8], _headers: &HeaderMap, grouping: Grouping) -> Result<Parsed, IngestError> {
    let root = json::object(body)?;
    let events = events(&root, grouping, &Flavour::ALERTMANAGER, &|_, _| {})?;
    Ok(Parsed::Alerts { key: None, events })
}

/// What differs between Alertmanager and the Grafana bodies built on it.
pub(crate) struct Flavour {
    pub client: &'static str,
    pub generator_text: &'static str,
    pub external_text: &'static str,
}

impl Flavour {
    const ALERTMANAGER: Self = Self {
        client: "Prometheus Alertmanager",
        generator_text: "Prometheus",
        external_text: "Alertmanager",
    };
}

/// The events of an Alertmanager-shaped body; `extra` adds a flavour's per-alert
/// fields to each event.
pub(crate) fn events(
    root: &Map<String, Value>,
    grouping: Grouping,
    flavour: &Flavour,
    extra: &dyn Fn(&Map<String, Value>, &mut AlertEvent),
) -> Result<Vec<AlertEvent>, IngestError> {
    let alerts = match root.get("alerts") {
        Some(Value::Array(alerts)) => alerts,
        Some(other) => {
            return Err(IngestError::new(format!(
                "alerts must be an array, not {}",
                kind(other)
            )))
        }
        None => {
            return Err(IngestError::new(
                "alerts is missing: this is not an Alertmanager webhook body (version 4, with an alerts array)",
            ))
        }
    };
    let group_key = get_text(root, "groupKey");
    let group_status = get_text(root, "status");
    let mut errors = Vec::new();
    if grouping == Grouping::PerGroup && group_key.is_none() {
        errors.push(
            "groupKey is missing, and this service groups Alertmanager alerts per group".to_owned(),
        );
    }
    let common = Common {
        group_key: group_key.as_deref(),
        receiver: get_text(root, "receiver").map(|r| unescape_regex(&r)),
        external_url: get_text(root, "externalURL"),
        title: get_text(root, "title"),
    };
    let mut events = Vec::new();
    for (i, alert) in alerts.iter().enumerate() {
        let Value::Object(alert) = alert else {
            errors.push(format!(
                "alerts[{i}] must be an object, not {}",
                kind(alert)
            ));
            continue;
        };
        match one(
            alert,
            i,
            group_status.as_deref(),
            &common,
            grouping,
            flavour,
        ) {
            Ok(mut event) => {
                extra(alert, &mut event);
                events.push(event);
            }
            Err(message) => errors.push(message),
        }
    }
    IngestError::check(errors)?;
    if grouping == Grouping::PerGroup {
        events = per_group(events, group_status.as_deref());
    }
    Ok(events)
}

/// Notification-level fields every alert's event repeats.
struct Common<'a> {
    group_key: Option<&'a str>,
    receiver: Option<String>,
    external_url: Option<String>,
    title: Option<String>,
}

/// One alert's event, or the message naming what is wrong with it.
fn one(
    alert: &Map<String, Value>,
    i: usize,
    group_status: Option<&str>,
    common: &Common,
    grouping: Grouping,
    flavour: &Flavour,
) -> Result<AlertEvent, String> {
    let status = get_text(alert, "status").or(group_status.map(str::to_owned));
    let action = match status.as_deref() {
        Some("firing") => AlertAction::Trigger,
        Some("resolved") => AlertAction::Resolve,
        Some(other) => {
            return Err(format!(
                "alerts[{i}].status must be firing or resolved, not {}",
                quoted(other)
            ))
        }
        None => return Err(format!("alerts[{i}].status is missing")),
    };
    let fingerprint = get_text(alert, "fingerprint");
    let key = match grouping {
        Grouping::PerAlert => fingerprint.clone(),
        Grouping::PerGroup => common.group_key.map(str::to_owned),
    };
    let Some(key) = key else {
        return Err(format!("alerts[{i}].fingerprint is missing"));
    };
    let labels = string_map(alert.get("labels"));
    let annotations = string_map(alert.get("annotations"));
    let summary = ["summary", "description"]
        .iter()
        .find_map(|name| annotations.get(*name))
        .or(labels.get("alertname"))
        .or(common.title.as_ref())
        .or(fingerprint.as_ref())
        .cloned()
        .unwrap_or_else(|| format!("{} alert {key}", flavour.client));

    let severity = labels
        .get("severity")
        .and_then(|s| from_word(s))
        .unwrap_or(AlertSeverity::Error);
    let mut event = AlertEvent::new(action, severity);
    event.dedup_key = Some(dedup_key(&key));
    event.summary = Some(truncate(summary.trim(), MAX_SUMMARY));
    event.source = labels.get("instance").cloned();
    event.occurred_at = occurred_at(alert, action, &mut event.note);
    for (href, text) in [
        (get_text(alert, "generatorURL"), flavour.generator_text),
        (annotations.get("runbook_url").cloned(), "Runbook"),
        (common.external_url.clone(), flavour.external_text),
    ] {
        if let Some(href) = href {
            event.links.push(AlertLink {
                href,
                text: Some(text.to_owned()),
            });
        }
    }
    event.details = json!({
        "annotations": alert.get("annotations").cloned().unwrap_or(Value::Null),
        "startsAt": alert.get("startsAt").cloned().unwrap_or(Value::Null),
        "endsAt": alert.get("endsAt").cloned().unwrap_or(Value::Null),
        "fingerprint": fingerprint,
        "groupKey": common.group_key,
        "receiver": common.receiver,
    });
    event.labels = labels;
    event.client = Some(flavour.client.to_owned());
    event.client_url = common.external_url.clone();
    Ok(event)
}

/// `startsAt` for a trigger, `endsAt` (else `startsAt`) for a resolve.
fn occurred_at(
    alert: &Map<String, Value>,
    action: AlertAction,
    note: &mut Option<String>,
) -> Option<jiff::Timestamp> {
    let fields: &[&str] = match action {
        AlertAction::Resolve => &["endsAt", "startsAt"],
        _ => &["startsAt"],
    };
    for field in fields {
        let Some(text) = get_text(alert, field) else {
            continue;
        };
        match timestamp_not_zero(&text) {
            Some(ts) => return Some(ts),
            None if crate::text::timestamp(&text).is_none() => {
                *note = Some(format!(
                    "{field} {} is not a time; the time of receipt is used",
                    quoted(&text)
                ));
            }
            None => {}
        }
    }
    None
}

/// Per-group events: the firing alerts' triggers while the group fires, one resolve
/// when it has resolved.
fn per_group(events: Vec<AlertEvent>, group_status: Option<&str>) -> Vec<AlertEvent> {
    let group_resolved = match group_status {
        Some(status) => status == "resolved",
        None => events.iter().all(|e| e.action == AlertAction::Resolve),
    };
    if group_resolved {
        events
            .into_iter()
            .take(1)
            .map(|mut e| {
                e.action = AlertAction::Resolve;
                e
            })
            .collect()
    } else {
        events
            .into_iter()
            .filter(|e| e.action == AlertAction::Trigger)
            .collect()
    }
}

/// Undoes regex escaping: Alertmanager sends `receiver` as `team\.a`.
fn unescape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_escaping_is_undone() {
        assert_eq!(unescape_regex(r"team\.a"), "team.a");
        assert_eq!(unescape_regex(r"a\\b"), r"a\b");
        assert_eq!(unescape_regex("trailing\\"), "trailing");
    }
}
