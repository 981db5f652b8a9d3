//! The generic webhook as JSON, form body and query string, customer reports, and
//! malformed input.

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_ingest::{generic, HeaderMap, IngestError, Parsed};
use serde_json::{json, Value};

fn parse(
    body: &[u8],
    content_type: Option<&str>,
    query: Option<&str>,
) -> Result<AlertEvent, IngestError> {
    let mut h = HeaderMap::new();
    if let Some(ct) = content_type {
        h.insert("content-type", ct.parse().unwrap());
    }
    match generic::parse(body, &h, query)? {
        Parsed::Alerts {
            key: None,
            mut events,
        } if events.len() == 1 => Ok(events.remove(0)),
        other => panic!("unexpected {other:?}"),
    }
}

fn json_event(body: Value) -> Result<AlertEvent, IngestError> {
    parse(body.to_string().as_bytes(), Some("application/json"), None)
}

#[test]
fn full_json_body() {
    let e = json_event(json!({
        "summary": "Nightly backup failed", "details": {"exit": 2, "log": "/var/log/backup"},
        "dedup_key": "backup/nightly", "action": "trigger", "severity": "warning",
        "links": ["https://ci.example/1", {"href": "https://runbooks.example/backup", "text": "Runbook"}],
        "source": "db-1", "labels": {"team": "storage", "attempt": 3}
    }))
    .unwrap();
    assert_eq!(e.action, AlertAction::Trigger);
    assert_eq!(e.summary.as_deref(), Some("Nightly backup failed"));
    assert_eq!(e.dedup_key.as_deref(), Some("backup/nightly"));
    assert_eq!(e.severity, AlertSeverity::Warning);
    assert_eq!(e.details["exit"], 2);
    assert_eq!(e.links.len(), 2);
    assert_eq!(e.links[1].text.as_deref(), Some("Runbook"));
    assert_eq!(e.source.as_deref(), Some("db-1"));
    assert_eq!(e.labels["attempt"], "3");
}

#[test]
fn customer_report_with_string_details_and_defaults() {
    let e = json_event(
        json!({"summary": "Checkout page shows a 500", "details": "Customer #881 on Safari",
        "reporter": "support@acme.example"}),
    )
    .unwrap();
    assert_eq!(e.reporter.as_deref(), Some("support@acme.example"));
    assert_eq!(e.details, json!("Customer #881 on Safari"));
    assert_eq!(e.severity, AlertSeverity::Error);
    assert_eq!(e.dedup_key, None);
}

#[test]
fn form_body_and_query_string() {
    let form = parse(
        b"summary=Disk+full&severity=critical&links=https%3A%2F%2Fa.example&links=https%3A%2F%2Fb.example",
        Some("application/x-www-form-urlencoded"),
        None,
    )
    .unwrap();
    assert_eq!(form.summary.as_deref(), Some("Disk full"));
    assert_eq!(form.severity, AlertSeverity::Critical);
    assert_eq!(form.links.len(), 2);

    let query = parse(
        b"",
        None,
        Some("summary=Cron%20missed&dedup_key=cron-1&source=host-9"),
    )
    .unwrap();
    assert_eq!(query.summary.as_deref(), Some("Cron missed"));
    assert_eq!(query.dedup_key.as_deref(), Some("cron-1"));

    let resolve = parse(b"", None, Some("action=resolve&dedup_key=cron-1")).unwrap();
    assert_eq!(resolve.action, AlertAction::Resolve);

    // Body fields win over query parameters.
    let mixed = parse(
        br#"{"summary": "from body"}"#,
        Some("application/json"),
        Some("summary=from+query&severity=info"),
    )
    .unwrap();
    assert_eq!(mixed.summary.as_deref(), Some("from body"));
    assert_eq!(mixed.severity, AlertSeverity::Info);
}

#[test]
fn acknowledge_and_resolve_need_a_dedup_key_not_a_summary() {
    let ack = json_event(json!({"action": "acknowledge", "dedup_key": "k"})).unwrap();
    assert_eq!(ack.action, AlertAction::Acknowledge);
    assert_eq!(
        json_event(json!({"action": "resolve"})).unwrap_err().errors,
        ["dedup_key is required to acknowledge or resolve"]
    );
}

#[test]
fn malformed_input_names_each_field() {
    assert_eq!(
        json_event(
            json!({"summary": "s".repeat(1025), "dedup_key": "k".repeat(256), "action": "explode",
            "severity": "apocalyptic", "links": [3, {"text": "t"}], "labels": [], "source": 5})
        )
        .unwrap_err()
        .errors,
        [
            "action must be trigger, acknowledge or resolve, not \"explode\"",
            "summary is 1025 characters long; the limit is 1024",
            "dedup_key is 256 characters long; the limit is 255",
            "severity must be critical, error, warning or info, not \"apocalyptic\"",
            "links[0] must be a URL or an object with href, not a number",
            "links[1].href is required",
            "labels must be an object, not an array",
            "source must be a string, not a number",
        ]
    );
    assert_eq!(
        json_event(json!({})).unwrap_err().errors,
        ["summary is required"]
    );
    assert!(parse(b"", None, None).unwrap_err().errors[0].starts_with("summary is required"));
    assert!(parse(b"[1]", None, None).unwrap_err().errors[0].contains("JSON object"));
}
