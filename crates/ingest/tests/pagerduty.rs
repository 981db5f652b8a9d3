//! PagerDuty Events API v2, change events and v1: the reference's payloads and every
//! rule of its table.

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_ingest::{pagerduty, HeaderMap, IngestError, Parsed};
use serde_json::{json, Value};

fn event(body: Value) -> Result<(String, AlertEvent), IngestError> {
    match pagerduty::parse_event(body.to_string().as_bytes(), &HeaderMap::new())? {
        Parsed::Alerts {
            key: Some(key),
            mut events,
        } if events.len() == 1 => Ok((key, events.remove(0))),
        other => panic!("unexpected {other:?}"),
    }
}

fn errors(result: Result<impl std::fmt::Debug, IngestError>) -> Vec<String> {
    result.expect_err("should be refused").errors
}

fn reference_trigger() -> Value {
    json!({
      "routing_key": "e93facc04764012d7bfb002500d5d1a6",
      "event_action": "trigger",
      "dedup_key": "srv01/mysql",
      "payload": {
        "summary": "DISK at 99% on machine prod-datapipe03.example.com",
        "source": "prod-datapipe03.example.com",
        "severity": "critical",
        "timestamp": "2015-07-17T08:42:58.315+0000",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
        "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75}
      },
      "images": [{"src": "https://chart.example/x.png", "href": "https://example.com", "alt": "chart"}],
      "links": [{"href": "https://runbooks.example/disk", "text": "Runbook"}],
      "client": "Sample Monitoring Service",
      "client_url": "https://monitoring.example.com"
    })
}

#[test]
fn reference_trigger_is_parsed_whole() {
    let (key, e) = event(reference_trigger()).unwrap();
    assert_eq!(key, "e93facc04764012d7bfb002500d5d1a6");
    assert_eq!(e.action, AlertAction::Trigger);
    assert_eq!(e.dedup_key.as_deref(), Some("srv01/mysql"));
    assert_eq!(
        e.summary.as_deref(),
        Some("DISK at 99% on machine prod-datapipe03.example.com")
    );
    assert_eq!(e.source.as_deref(), Some("prod-datapipe03.example.com"));
    assert_eq!(e.severity, AlertSeverity::Critical);
    assert_eq!(
        e.occurred_at,
        Some("2015-07-17T08:42:58.315Z".parse().unwrap())
    );
    assert_eq!(e.component.as_deref(), Some("mysql"));
    assert_eq!(e.group.as_deref(), Some("prod-datapipe"));
    assert_eq!(e.class.as_deref(), Some("disk"));
    assert_eq!(e.details["load avg"], json!(0.75));
    assert_eq!(e.images[0].src, "https://chart.example/x.png");
    assert_eq!(e.images[0].alt.as_deref(), Some("chart"));
    assert_eq!(e.links[0].href, "https://runbooks.example/disk");
    assert_eq!(e.links[0].text.as_deref(), Some("Runbook"));
    assert_eq!(e.client.as_deref(), Some("Sample Monitoring Service"));
    assert_eq!(
        e.client_url.as_deref(),
        Some("https://monitoring.example.com")
    );
}

#[test]
fn every_offset_spelling_is_accepted() {
    for ts in [
        "2015-07-17T08:42:58.315+0000",
        "2015-07-17T08:42:58.315Z",
        "2015-07-17T08:42:58.315+00:00",
    ] {
        let mut body = reference_trigger();
        body["payload"]["timestamp"] = json!(ts);
        let (_, e) = event(body).unwrap();
        assert_eq!(
            e.occurred_at,
            Some("2015-07-17T08:42:58.315Z".parse().unwrap())
        );
    }
    let mut body = reference_trigger();
    body["payload"].as_object_mut().unwrap().remove("timestamp");
    assert_eq!(event(body).unwrap().1.occurred_at, None);
}

#[test]
fn trigger_without_dedup_key_leaves_it_to_the_server() {
    let mut body = reference_trigger();
    body.as_object_mut().unwrap().remove("dedup_key");
    assert_eq!(event(body).unwrap().1.dedup_key, None);
}

#[test]
fn acknowledge_and_resolve_need_only_key_and_dedup_key() {
    for (action, want) in [
        ("acknowledge", AlertAction::Acknowledge),
        ("resolve", AlertAction::Resolve),
    ] {
        let (key, e) =
            event(json!({"routing_key": "k", "dedup_key": "srv01/mysql", "event_action": action}))
                .unwrap();
        assert_eq!(key, "k");
        assert_eq!(e.action, want);
        assert_eq!(e.dedup_key.as_deref(), Some("srv01/mysql"));
        let errs = errors(event(json!({"routing_key": "k", "event_action": action})));
        assert_eq!(errs, ["dedup_key is required to acknowledge or resolve"]);
    }
}

#[test]
fn every_broken_rule_is_one_message_naming_its_field() {
    let errs = errors(event(json!({
        "event_action": "trigger",
        "dedup_key": "x".repeat(256),
        "payload": {"summary": "s".repeat(1025), "severity": "fatal", "timestamp": "yesterday"},
        "images": [{"alt": "no src"}],
        "links": [{"text": "no href"}]
    })));
    assert_eq!(
        errs,
        [
            "routing_key is required",
            "dedup_key is 256 characters long; the limit is 255",
            "payload.summary is 1025 characters long; the limit is 1024",
            "payload.source is required for a trigger",
            "payload.severity must be critical, error, warning or info, not \"fatal\"",
            "payload.timestamp is not an ISO 8601 time: \"yesterday\"",
            "images[0].src is required",
            "links[0].href is required",
        ]
    );
}

#[test]
fn limits_are_inclusive_and_count_characters() {
    let mut body = reference_trigger();
    body["dedup_key"] = json!("é".repeat(255));
    body["payload"]["summary"] = json!("é".repeat(1024));
    assert!(event(body).is_ok());
}

#[test]
fn missing_or_wrong_shapes() {
    assert_eq!(
        errors(event(
            json!({"routing_key": "k", "event_action": "trigger"})
        )),
        ["payload is required for a trigger"]
    );
    assert_eq!(
        errors(event(
            json!({"routing_key": "k", "event_action": "explode"})
        )),
        ["event_action must be trigger, acknowledge or resolve, not \"explode\""]
    );
    assert_eq!(
        errors(event(
            json!({"routing_key": 7, "event_action": "trigger", "payload": []})
        )),
        [
            "routing_key must be a string, not a number",
            "payload must be an object, not an array"
        ]
    );
    assert_eq!(
        errors(event(json!({"routing_key": "k"}))),
        ["event_action is required"]
    );
    let not_json = pagerduty::parse_event(b"{\"routing_key\":", &HeaderMap::new());
    assert!(errors(not_json)[0].starts_with("body is not valid JSON"));
}

#[test]
fn change_event_from_the_reference() {
    let body = json!({"routing_key": "R0UT1NGKEY",
     "payload": {"summary": "Deploy api v2.1.3", "timestamp": "2026-11-26T10:05:00Z",
                 "source": "github-actions", "custom_details": {"sha": "abc123"}},
     "links": [{"href": "https://ci.example/run/2", "text": "View run"}]});
    let parsed = pagerduty::parse_change(body.to_string().as_bytes(), &HeaderMap::new()).unwrap();
    let Parsed::Change { key, event } = parsed else {
        panic!("{parsed:?}")
    };
    assert_eq!(key.as_deref(), Some("R0UT1NGKEY"));
    assert_eq!(event.summary, "Deploy api v2.1.3");
    assert_eq!(event.source.as_deref(), Some("github-actions"));
    assert_eq!(
        event.occurred_at,
        Some("2026-11-26T10:05:00Z".parse().unwrap())
    );
    assert_eq!(event.details, json!({"sha": "abc123"}));
    assert_eq!(event.links[0].text.as_deref(), Some("View run"));
}

#[test]
fn change_event_rules() {
    let change = |v: Value| pagerduty::parse_change(v.to_string().as_bytes(), &HeaderMap::new());
    assert_eq!(
        errors(change(json!({"payload": {}}))),
        ["routing_key is required", "payload.summary is required"]
    );
    assert_eq!(
        errors(change(json!({"routing_key": "k"}))),
        ["payload is required"]
    );
    assert_eq!(
        errors(change(
            json!({"routing_key": "k", "payload": {"summary": "s".repeat(1025)}})
        )),
        ["payload.summary is 1025 characters long; the limit is 1024"]
    );
}

fn v1(body: Value) -> Result<(String, AlertEvent), IngestError> {
    match pagerduty::parse_v1(body.to_string().as_bytes(), &HeaderMap::new())? {
        Parsed::Alerts {
            key: Some(key),
            mut events,
        } if events.len() == 1 => Ok((key, events.remove(0))),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn v1_trigger_as_alertmanager_sends_it() {
    let (key, e) = v1(json!({
        "service_key": "abc123",
        "event_type": "trigger",
        "incident_key": "{}/{team=\"db\"}:{alertname=\"InstanceDown\"}",
        "description": "[FIRING:1] InstanceDown (node)",
        "client": "Alertmanager",
        "client_url": "http://alertmanager:9093/#/alerts?receiver=db-pager",
        "details": {"firing": "Labels:\n - alertname = InstanceDown", "num_firing": "1"},
        "contexts": [
            {"type": "link", "href": "http://prometheus/graph", "text": "Graph"},
            {"type": "image", "src": "https://chart.example/x.png"}
        ]
    }))
    .unwrap();
    assert_eq!(key, "abc123");
    assert_eq!(e.action, AlertAction::Trigger);
    assert_eq!(e.severity, AlertSeverity::Error);
    assert_eq!(
        e.dedup_key.as_deref(),
        Some("{}/{team=\"db\"}:{alertname=\"InstanceDown\"}")
    );
    assert_eq!(e.summary.as_deref(), Some("[FIRING:1] InstanceDown (node)"));
    assert_eq!(e.client.as_deref(), Some("Alertmanager"));
    assert_eq!(e.details["num_firing"], "1");
    assert_eq!(e.links[0].href, "http://prometheus/graph");
    assert_eq!(e.images[0].src, "https://chart.example/x.png");
}

#[test]
fn v1_rules() {
    let (_, e) =
        v1(json!({"service_key": "k", "event_type": "resolve", "incident_key": "i"})).unwrap();
    assert_eq!(e.action, AlertAction::Resolve);
    assert_eq!(
        errors(v1(json!({"service_key": "k", "event_type": "trigger"}))),
        ["description is required for a trigger"]
    );
    assert_eq!(
        errors(v1(json!({"service_key": "k", "event_type": "acknowledge"}))),
        ["incident_key is required to acknowledge or resolve"]
    );
    assert_eq!(
        errors(v1(
            json!({"event_type": "trigger", "description": "d".repeat(1025),
            "incident_key": "i".repeat(256),
            "contexts": [{"type": "video"}, {"type": "link"}, {"type": "image"}]})
        )),
        [
            "service_key is required",
            "incident_key is 256 characters long; the limit is 255",
            "description is 1025 characters long; the limit is 1024",
            "contexts[0].type must be link or image, not \"video\"",
            "contexts[1].href is required",
            "contexts[2].src is required",
        ]
    );
}
