//! No input makes any parser or signature check panic, and every event a parser
//! returns keeps the invariants `AlertEvent` documents.

use http::{HeaderName, HeaderValue};
use klaxon_domain::alert::{AlertAction, MAX_DEDUP_KEY, MAX_SUMMARY};
use klaxon_ingest::alertmanager::Grouping;
use klaxon_ingest::{
    alertmanager, cloudwatch, datadog, generic, grafana, pagerduty, sentry, HeaderMap, IngestError,
    Parsed,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

type Parser = fn(&[u8], &HeaderMap) -> Result<Parsed, IngestError>;

const PARSERS: &[(&str, Parser)] = &[
    ("pagerduty event", pagerduty::parse_event),
    ("pagerduty change", pagerduty::parse_change),
    ("pagerduty v1", pagerduty::parse_v1),
    ("alertmanager per alert", |b, h| {
        alertmanager::parse(b, h, Grouping::PerAlert)
    }),
    ("alertmanager per group", |b, h| {
        alertmanager::parse(b, h, Grouping::PerGroup)
    }),
    ("grafana per alert", |b, h| {
        grafana::parse(b, h, Grouping::PerAlert)
    }),
    ("grafana per group", |b, h| {
        grafana::parse(b, h, Grouping::PerGroup)
    }),
    ("sentry", sentry::parse),
    ("datadog", datadog::parse),
    ("cloudwatch", cloudwatch::parse),
    ("generic", |b, h| generic::parse(b, h, None)),
];

/// Field names of every format, so that arbitrary JSON often has the right keys with
/// the wrong values.
const KEYS: &[&str] = &[
    "routing_key",
    "event_action",
    "dedup_key",
    "payload",
    "summary",
    "source",
    "severity",
    "timestamp",
    "custom_details",
    "images",
    "links",
    "src",
    "href",
    "text",
    "service_key",
    "event_type",
    "incident_key",
    "description",
    "contexts",
    "type",
    "alerts",
    "status",
    "labels",
    "annotations",
    "fingerprint",
    "groupKey",
    "startsAt",
    "endsAt",
    "generatorURL",
    "receiver",
    "externalURL",
    "title",
    "imageURL",
    "values",
    "silenceURL",
    "action",
    "data",
    "event",
    "issue_id",
    "level",
    "metric_alert",
    "issue",
    "id",
    "web_url",
    "tags",
    "alert_cycle_key",
    "alert_id",
    "alert_transition",
    "alert_priority",
    "alert_title",
    "date",
    "Type",
    "Message",
    "SubscribeURL",
    "NewStateValue",
    "AlarmArn",
    "AlarmName",
    "StateChangeTime",
    "Trigger",
    "Dimensions",
    "details",
    "reporter",
    "ruleId",
];

const HEADER_VALUES: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("content-type", "application/x-www-form-urlencoded"),
    ("content-type", "text/plain; charset=UTF-8"),
    ("sentry-hook-resource", "event_alert"),
    ("sentry-hook-resource", "metric_alert"),
    ("sentry-hook-resource", "issue"),
    ("sentry-hook-resource", "installation"),
    ("x-amz-sns-message-type", "Notification"),
    ("x-amz-sns-message-type", "SubscriptionConfirmation"),
    ("x-amz-sns-message-type", "UnsubscribeConfirmation"),
];

fn json_value() -> impl Strategy<Value = Value> {
    let key =
        prop_oneof![4 => proptest::sample::select(KEYS).prop_map(str::to_owned), 1 => ".{0,8}"];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("trigger".to_owned()),
            Just("resolve".to_owned()),
            Just("firing".to_owned()),
            Just("resolved".to_owned()),
            Just("ALARM".to_owned()),
            Just("2015-07-17T08:42:58.315+0000".to_owned()),
            Just("https://sns.us-east-1.amazonaws.com/".to_owned()),
            Just("{\"NewStateValue\":\"ALARM\",\"AlarmName\":\"x\"}".to_owned()),
            ".{0,300}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    prop::collection::vec(proptest::sample::select(HEADER_VALUES), 0..3).prop_map(|pairs| {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name, HeaderValue::from_static(value));
        }
        map
    })
}

fn check_all(body: &[u8], headers: &HeaderMap) {
    for (name, parse) in PARSERS {
        if let Ok(Parsed::Alerts { events, .. }) = parse(body, headers) {
            for event in events {
                if event.action == AlertAction::Trigger {
                    let summary = event
                        .summary
                        .as_deref()
                        .unwrap_or_else(|| panic!("{name}: trigger without summary"));
                    assert!(
                        summary.chars().count() <= MAX_SUMMARY,
                        "{name}: summary too long"
                    );
                } else {
                    assert!(
                        event.dedup_key.is_some(),
                        "{name}: {:?} without dedup key",
                        event.action
                    );
                }
                if let Some(key) = &event.dedup_key {
                    assert!(
                        key.chars().count() <= MAX_DEDUP_KEY,
                        "{name}: dedup key too long"
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512), headers in headers()) {
        check_all(&body, &headers);
    }

    #[test]
    fn arbitrary_json(value in json_value(), headers in headers()) {
        check_all(value.to_string().as_bytes(), &headers);
    }

    #[test]
    fn arbitrary_json_objects_of_known_fields(
        fields in prop::collection::vec((proptest::sample::select(KEYS), json_value()), 0..10),
        headers in headers(),
    ) {
        let object: Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        check_all(Value::Object(object).to_string().as_bytes(), &headers);
    }

    #[test]
    fn arbitrary_form_bodies_and_queries(body in ".{0,200}", query in ".{0,200}") {
        let mut form = HeaderMap::new();
        form.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
        let _ = generic::parse(body.as_bytes(), &form, Some(&query));
        let _ = generic::parse(b"", &HeaderMap::new(), Some(&query));
        let _ = datadog::parse(body.as_bytes(), &form);
    }

    #[test]
    fn arbitrary_signatures(
        secret in prop::collection::vec(any::<u8>(), 0..64),
        body in prop::collection::vec(any::<u8>(), 0..256),
        signature in prop::collection::vec(any::<u8>(), 0..80),
        timestamp in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        let mut headers = HeaderMap::new();
        for name in ["x-grafana-alerting-signature", "x-grafana-alert-signature", "sentry-hook-signature"] {
            if let Ok(value) = HeaderValue::from_bytes(&signature) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        if let Ok(value) = HeaderValue::from_bytes(&timestamp) {
            headers.insert("x-grafana-alerting-signature-timestamp", value);
        }
        prop_assert!(grafana::verify_grafana_signature(&secret, &body, &headers).is_err());
        prop_assert!(sentry::verify_sentry_signature(&secret, &body, &headers).is_err());
    }
}

/// A valid body per format, with the header it needs.
fn samples() -> Vec<(Value, Option<(&'static str, &'static str)>)> {
    use serde_json::json;
    vec![
        (
            json!({"routing_key": "k", "event_action": "trigger", "dedup_key": "d",
            "payload": {"summary": "s", "source": "h", "severity": "info", "timestamp": "2015-07-17T08:42:58.315+0000",
                        "custom_details": {"a": 1}},
            "images": [{"src": "x"}], "links": [{"href": "y", "text": "t"}]}),
            None,
        ),
        (
            json!({"routing_key": "k", "payload": {"summary": "s", "timestamp": "2026-11-26T10:05:00Z"},
            "links": [{"href": "y"}]}),
            None,
        ),
        (
            json!({"service_key": "k", "event_type": "trigger", "incident_key": "i", "description": "d",
            "contexts": [{"type": "link", "href": "h"}, {"type": "image", "src": "s"}]}),
            None,
        ),
        (
            json!({"version": "4", "groupKey": "g", "status": "firing", "receiver": "a\\.b", "externalURL": "u",
            "title": "t", "alerts": [{"status": "firing", "labels": {"alertname": "A", "severity": "page"},
            "annotations": {"summary": "s"}, "startsAt": "2020-08-08T14:32:08Z", "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "f", "silenceURL": "s", "imageURL": "i", "values": {"B": 1}}]}),
            None,
        ),
        (
            json!({"action": "triggered", "data": {"event": {"issue_id": "1", "title": "t", "level": "error",
            "timestamp": 1566248777.677, "tags": [["a", "b"]], "web_url": "w"}, "triggered_rule": "r"}}),
            Some(("sentry-hook-resource", "event_alert")),
        ),
        (
            json!({"action": "critical", "data": {"metric_alert": {"id": "1", "title": "t", "alert_rule": {"name": "n"},
            "date_detected": "2021-02-15T21:12:00Z"}, "description_title": "d", "web_url": "w"}}),
            Some(("sentry-hook-resource", "metric_alert")),
        ),
        (
            json!({"action": "created", "data": {"issue": {"id": "1", "title": "t", "project": {"slug": "p"},
            "lastSeen": "2019-08-19T21:06:17Z"}}}),
            Some(("sentry-hook-resource", "issue")),
        ),
        (
            json!({"alert_cycle_key": "c", "alert_id": "1", "alert_scope": "s", "alert_transition": "Recovered",
            "alert_priority": "P1", "alert_title": "t", "tags": "a:b,c", "date": "1406662672000", "link": "l"}),
            None,
        ),
        (
            json!({"Type": "Notification", "Message": {"AlarmName": "a", "AlarmArn": "arn:aws:cloudwatch:us-east-1:1:alarm:a",
            "NewStateValue": "ALARM", "StateChangeTime": "2012-08-05T22:31:25.524+0000", "Region": "r",
            "Trigger": {"Dimensions": [{"name": "n", "value": "v"}], "MetricName": "m"}}}),
            None,
        ),
        (
            json!({"Type": "SubscriptionConfirmation", "SubscribeURL": "https://sns.us-east-1.amazonaws.com/"}),
            None,
        ),
        (
            json!({"summary": "s", "details": {"a": 1}, "dedup_key": "d", "action": "resolve", "severity": "warn",
            "links": ["l", {"href": "h"}], "source": "s", "reporter": "r", "labels": {"a": "b"}}),
            None,
        ),
    ]
}

/// Every JSON pointer inside `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Valid bodies with a few of their fields replaced by arbitrary JSON, so the
    /// parsers' deeper paths see wrong types, huge strings and odd times.
    #[test]
    fn valid_bodies_with_fields_replaced(
        which in any::<prop::sample::Index>(),
        replacements in prop::collection::vec((any::<prop::sample::Index>(), json_value()), 1..4),
    ) {
        let all = samples();
        let (mut body, header) = all[which.index(all.len())].clone();
        for (at, value) in replacements {
            let mut paths = Vec::new();
            pointers(&body, String::new(), &mut paths);
            if paths.is_empty() {
                break;
            }
            if let Some(slot) = body.pointer_mut(&paths[at.index(paths.len())]) {
                *slot = value;
            }
        }
        let mut headers = HeaderMap::new();
        if let Some((name, value)) = header {
            headers.insert(name, HeaderValue::from_static(value));
        }
        check_all(body.to_string().as_bytes(), &headers);
    }
}

#[test]
fn samples_are_valid_for_their_parser() {
    // Keeps the mutation test honest: each unmutated sample parses somewhere.
    for (body, header) in samples() {
        let mut headers = HeaderMap::new();
        if let Some((name, value)) = header {
            headers.insert(name, HeaderValue::from_static(value));
        }
        let bytes = body.to_string();
        let ok = PARSERS
            .iter()
            .any(|(_, parse)| parse(bytes.as_bytes(), &headers).is_ok());
        assert!(ok, "no parser accepts {body}");
    }
}
