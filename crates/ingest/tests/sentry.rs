//! Sentry webhooks: each resource from Sentry's documentation, the decisions for
//! issue actions, malformed bodies and the signature.

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_ingest::{sentry, HeaderMap, IngestError, Parsed, SignatureError};
use serde_json::{json, Value};

fn headers(resource: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("sentry-hook-resource", resource.parse().unwrap());
    h.insert("request-id", "a1b2c3".parse().unwrap());
    h.insert("sentry-hook-timestamp", "1566248777".parse().unwrap());
    h
}

fn parse(resource: &str, body: &Value) -> Result<Parsed, IngestError> {
    sentry::parse(body.to_string().as_bytes(), &headers(resource))
}

fn one(resource: &str, body: &Value) -> AlertEvent {
    match parse(resource, body).unwrap() {
        Parsed::Alerts {
            key: None,
            mut events,
        } if events.len() == 1 => events.remove(0),
        other => panic!("unexpected {other:?}"),
    }
}

fn event_alert() -> Value {
    json!({"action": "triggered",
     "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
     "data": {"event": {"event_id": "e4874d664c3540c1a32eab185f12c5ab", "issue_id": "1117540176",
                        "issue_url": "https://sentry.io/api/0/issues/1117540176/",
                        "web_url": "https://sentry.io/organizations/acme/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/",
                        "title": "ReferenceError: heck is not defined", "level": "error",
                        "culprit": "?(<anonymous>)", "project": 1, "platform": "javascript",
                        "timestamp": 1566248777.677,
                        "tags": [["level", "error"], ["server_name", "web-1"], ["browser", "Chrome 75.0.3770"]]},
              "triggered_rule": "Very Important Alert Rule!"},
     "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}})
}

#[test]
fn event_alert_from_the_reference() {
    let e = one("event_alert", &event_alert());
    assert_eq!(e.action, AlertAction::Trigger);
    assert_eq!(e.dedup_key.as_deref(), Some("sentry:issue:1117540176"));
    assert_eq!(
        e.summary.as_deref(),
        Some("ReferenceError: heck is not defined")
    );
    assert_eq!(e.severity, AlertSeverity::Error);
    assert!(e.links[0]
        .href
        .ends_with("/events/e4874d664c3540c1a32eab185f12c5ab/"));
    assert_eq!(e.labels["browser"], "Chrome 75.0.3770");
    assert_eq!(e.source.as_deref(), Some("web-1"));
    assert_eq!(
        e.occurred_at,
        Some("2019-08-19T21:06:17.677Z".parse().unwrap())
    );
    assert_eq!(e.details["triggered_rule"], "Very Important Alert Rule!");

    let mut fatal = event_alert();
    fatal["data"]["event"]["level"] = json!("fatal");
    fatal["data"]["event"]["issue_id"] = json!(1117540176);
    let e = one("event_alert", &fatal);
    assert_eq!(e.severity, AlertSeverity::Critical);
    assert_eq!(
        e.dedup_key.as_deref(),
        Some("sentry:issue:1117540176"),
        "numeric ids too"
    );
}

fn metric_alert(action: &str) -> Value {
    json!({"action": action,
     "actor": {"id": "sentry", "name": "Sentry", "type": "application"},
     "data": {"description_text": "1000 events in the last 10 minutes\nFilter: level:error",
              "description_title": "Resolved: Too many errors",
              "metric_alert": {"alert_rule": {"aggregate": "count()", "id": "7", "name": "Too many errors"},
                               "date_closed": "2021-02-15T21:25:00Z", "date_detected": "2021-02-15T21:12:00Z",
                               "date_started": "2021-02-15T21:12:00Z", "id": "86", "identifier": 4,
                               "status": 2, "title": "Too many errors", "type": 2},
              "web_url": "https://sentry.io/organizations/acme/alerts/rules/details/7/?alert=4"},
     "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}})
}

#[test]
fn metric_alert_actions() {
    let critical = one("metric_alert", &metric_alert("critical"));
    assert_eq!(
        (critical.action, critical.severity),
        (AlertAction::Trigger, AlertSeverity::Critical)
    );
    assert_eq!(
        critical.dedup_key.as_deref(),
        Some("sentry:metric-alert:86")
    );
    assert_eq!(
        critical.summary.as_deref(),
        Some("Resolved: Too many errors")
    );
    assert_eq!(
        critical.occurred_at,
        Some("2021-02-15T21:12:00Z".parse().unwrap())
    );
    assert_eq!(
        critical.links[0].href,
        "https://sentry.io/organizations/acme/alerts/rules/details/7/?alert=4"
    );
    let warning = one("metric_alert", &metric_alert("warning"));
    assert_eq!(
        (warning.action, warning.severity),
        (AlertAction::Trigger, AlertSeverity::Warning)
    );
    let resolved = one("metric_alert", &metric_alert("resolved"));
    assert_eq!(resolved.action, AlertAction::Resolve);
    assert_eq!(resolved.dedup_key, critical.dedup_key);
    assert_eq!(
        resolved.occurred_at,
        Some("2021-02-15T21:25:00Z".parse().unwrap())
    );
    assert_eq!(
        parse("metric_alert", &metric_alert("exploded"))
            .unwrap_err()
            .errors,
        ["action must be critical, warning or resolved for a metric_alert, not \"exploded\""]
    );
}

fn issue(action: &str) -> Value {
    json!({"action": action,
     "actor": {"type": "user", "id": 1, "name": "colleen"},
     "data": {"issue": {"id": "1117540176", "shortId": "ACME-WEB-1", "title": "ReferenceError: heck is not defined",
                        "culprit": "?(<anonymous>)", "level": "warning", "status": "unresolved",
                        "substatus": "new", "firstSeen": "2019-08-19T20:58:37.391000Z",
                        "lastSeen": "2019-08-19T21:06:17.677000Z",
                        "project": {"id": "1", "name": "web", "slug": "web"},
                        "web_url": "https://sentry.io/organizations/acme/issues/1117540176/"}},
     "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}})
}

#[test]
fn issue_actions_share_the_event_alert_key() {
    for (action, want) in [
        ("created", AlertAction::Trigger),
        ("unresolved", AlertAction::Trigger),
        ("resolved", AlertAction::Resolve),
        ("assigned", AlertAction::Acknowledge),
        ("archived", AlertAction::Acknowledge),
        ("ignored", AlertAction::Acknowledge),
    ] {
        let e = one("issue", &issue(action));
        assert_eq!(e.action, want, "{action}");
        assert_eq!(e.dedup_key.as_deref(), Some("sentry:issue:1117540176"));
        assert_eq!(
            e.summary.as_deref(),
            Some("ReferenceError: heck is not defined")
        );
        assert_eq!(e.severity, AlertSeverity::Warning);
        assert_eq!(e.labels["project"], "web");
    }
    assert!(parse("issue", &issue("deleted")).unwrap_err().errors[0].contains("\"deleted\""));
}

#[test]
fn other_resources_are_ignored_or_named() {
    let comment = json!({"action": "created", "data": {"comment": "hi", "issue_id": 100}});
    assert!(matches!(
        parse("installation", &json!({"action": "created"})).unwrap(),
        Parsed::Ignored { .. }
    ));
    assert!(matches!(
        parse("comment", &comment).unwrap(),
        Parsed::Ignored { .. }
    ));
    assert_eq!(
        parse("activity_alert", &comment).unwrap_err().errors,
        ["Sentry-Hook-Resource \"activity_alert\" is not one Klaxon handles: event_alert, metric_alert or issue"]
    );
    let no_header = sentry::parse(event_alert().to_string().as_bytes(), &HeaderMap::new());
    assert!(no_header.unwrap_err().errors[0].contains("Sentry-Hook-Resource header is missing"));
}

#[test]
fn malformed_bodies_name_the_field() {
    let err = |r, v: Value| parse(r, &v).unwrap_err().errors;
    assert_eq!(
        err("event_alert", json!({"action": "triggered"})),
        ["data is missing"]
    );
    assert_eq!(
        err("event_alert", json!({"data": {"event": []}})),
        ["data.event must be an object, not an array"]
    );
    assert_eq!(
        err("event_alert", json!({"data": {"event": {"title": "t"}}})),
        ["data.event.issue_id is missing"]
    );
    assert_eq!(
        err("metric_alert", json!({"action": "critical", "data": {}})),
        ["data.metric_alert is missing"]
    );
    assert_eq!(
        err("issue", json!({"action": "created", "data": {"issue": {}}})),
        ["data.issue.id is missing"]
    );
    assert_eq!(
        err("issue", json!({"data": {"issue": {"id": 1}}})),
        ["action is missing"]
    );
}

fn hmac_hex(secret: &[u8], message: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn signature_valid_wrong_missing_tampered() {
    let secret = b"sentry-client-secret";
    let body = event_alert().to_string();
    let header = "Sentry-Hook-Signature";
    let mut h = headers("event_alert");
    h.insert(
        "sentry-hook-signature",
        hmac_hex(secret, body.as_bytes()).parse().unwrap(),
    );
    assert_eq!(
        sentry::verify_sentry_signature(secret, body.as_bytes(), &h),
        Ok(())
    );
    assert_eq!(
        sentry::verify_sentry_signature(b"other-secret", body.as_bytes(), &h),
        Err(SignatureError::Mismatch { header })
    );
    let tampered = body.replace("heck", "hack");
    assert_eq!(
        sentry::verify_sentry_signature(secret, tampered.as_bytes(), &h),
        Err(SignatureError::Mismatch { header })
    );
    assert_eq!(
        sentry::verify_sentry_signature(secret, body.as_bytes(), &headers("event_alert")),
        Err(SignatureError::Missing { header })
    );
    h.insert("sentry-hook-signature", "xyz".parse().unwrap());
    assert_eq!(
        sentry::verify_sentry_signature(secret, body.as_bytes(), &h),
        Err(SignatureError::Malformed { header })
    );
}
