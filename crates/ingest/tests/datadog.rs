//! Datadog webhooks in the documented template, as JSON and form-encoded.

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_ingest::{datadog, HeaderMap, IngestError, Parsed};
use serde_json::{json, Value};

fn parse_with(body: &[u8], content_type: &str) -> Result<AlertEvent, IngestError> {
    let mut h = HeaderMap::new();
    h.insert("content-type", content_type.parse().unwrap());
    match datadog::parse(body, &h)? {
        Parsed::Alerts {
            key: None,
            mut events,
        } if events.len() == 1 => Ok(events.remove(0)),
        other => panic!("unexpected {other:?}"),
    }
}

fn json_event(body: &Value) -> Result<AlertEvent, IngestError> {
    parse_with(body.to_string().as_bytes(), "application/json")
}

fn template() -> Value {
    json!({
      "alert_cycle_key": "7085938923482348923",
      "alert_id": "1234",
      "alert_scope": "availability-zone:us-east-1a,role:computing-node",
      "alert_transition": "Triggered",
      "alert_priority": "P1",
      "alert_type": "error",
      "alert_title": "[Triggered on {host:web-1}] CPU load is very high",
      "event_title": "[P1] [Triggered on {host:web-1}] CPU load is very high",
      "event_msg": "%%%\nCPU load is above 4 on web-1 @pagerduty\n%%%",
      "hostname": "web-1",
      "link": "https://app.datadoghq.com/event/event?id=1234",
      "tags": "env:prod,role:computing-node,monitor",
      "date": "1406662672000",
      "org_name": "Acme"
    })
}

#[test]
fn recommended_template_as_json() {
    let e = json_event(&template()).unwrap();
    assert_eq!(e.action, AlertAction::Trigger);
    assert_eq!(e.note, None);
    assert_eq!(e.dedup_key.as_deref(), Some("7085938923482348923"));
    assert_eq!(
        e.summary.as_deref(),
        Some("[Triggered on {host:web-1}] CPU load is very high")
    );
    assert_eq!(e.severity, AlertSeverity::Critical);
    assert_eq!(e.source.as_deref(), Some("web-1"));
    assert_eq!(e.labels["env"], "prod");
    assert_eq!(e.labels["monitor"], "");
    assert_eq!(
        e.links[0].href,
        "https://app.datadoghq.com/event/event?id=1234"
    );
    assert_eq!(
        e.occurred_at,
        Some(jiff::Timestamp::from_millisecond(1_406_662_672_000).unwrap())
    );
    assert_eq!(e.details["org_name"], "Acme");
}

#[test]
fn recommended_template_form_encoded() {
    let fields: Vec<(String, String)> = template()
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let body = serde_urlencoded::to_string(&fields).unwrap();
    let form = parse_with(
        body.as_bytes(),
        "application/x-www-form-urlencoded; charset=utf-8",
    )
    .unwrap();
    assert_eq!(form, json_event(&template()).unwrap());
}

#[test]
fn transitions() {
    for (transition, want) in [
        ("Triggered", AlertAction::Trigger),
        ("Re-Triggered", AlertAction::Trigger),
        ("Warn", AlertAction::Trigger),
        ("No Data", AlertAction::Trigger),
        ("Renotify", AlertAction::Trigger),
        ("Recovered", AlertAction::Resolve),
    ] {
        let mut body = template();
        body["alert_transition"] = json!(transition);
        let e = json_event(&body).unwrap();
        assert_eq!((e.action, e.note), (want, None), "{transition}");
    }
    let mut body = template();
    body["alert_transition"] = json!("Exploded");
    let e = json_event(&body).unwrap();
    assert_eq!(e.action, AlertAction::Trigger);
    assert!(e.note.unwrap().contains("\"Exploded\""));
}

#[test]
fn priorities_and_fallbacks() {
    for (p, want) in [
        ("P1", AlertSeverity::Critical),
        ("P2", AlertSeverity::Error),
        ("P3", AlertSeverity::Warning),
        ("P4", AlertSeverity::Info),
        ("p5", AlertSeverity::Info),
    ] {
        let mut body = template();
        body["alert_priority"] = json!(p);
        assert_eq!(json_event(&body).unwrap().severity, want, "{p}");
    }
    let body = json!({"alert_id": 1234, "alert_scope": "host:web-1", "alert_type": "warning",
        "event_msg": "\n  first line\nsecond", "alert_transition": "Triggered"});
    let e = json_event(&body).unwrap();
    assert_eq!(e.severity, AlertSeverity::Warning);
    assert_eq!(e.dedup_key.as_deref(), Some("1234:host:web-1"));
    assert_eq!(e.summary.as_deref(), Some("first line"));
}

#[test]
fn malformed_bodies_name_the_field() {
    assert_eq!(
        json_event(&json!({"alert_transition": "Triggered"}))
            .unwrap_err()
            .errors,
        ["alert_title is missing (and there is no event_title or event_msg to use instead)"]
    );
    assert_eq!(
        json_event(&json!({"alert_transition": "Recovered", "alert_title": "t"}))
            .unwrap_err()
            .errors,
        ["alert_cycle_key is missing (or alert_id); a recovery needs it to find its alert"]
    );
    let not_json = parse_with(b"alert_title=x", "application/json").unwrap_err();
    assert!(not_json.errors[0].starts_with("body is not valid JSON"));
}
