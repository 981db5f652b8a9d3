//! Alertmanager and Grafana webhooks: the reference's payloads, the quirks it lists,
//! the grouping modes, malformed bodies and Grafana's signatures.

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_ingest::alertmanager::{self, Grouping};
use klaxon_ingest::{grafana, HeaderMap, IngestError, Parsed, SignatureError};
use serde_json::{json, Value};

fn am(body: &Value, grouping: Grouping) -> Result<Vec<AlertEvent>, IngestError> {
    match alertmanager::parse(body.to_string().as_bytes(), &HeaderMap::new(), grouping)? {
        Parsed::Alerts { key: None, events } => Ok(events),
        other => panic!("unexpected {other:?}"),
    }
}

fn reference() -> Value {
    json!({
      "version": "4",
      "groupKey": "{}/{team=\"db\"}:{alertname=\"InstanceDown\"}",
      "truncatedAlerts": 0,
      "status": "firing",
      "receiver": "team\\.db-pager",
      "groupLabels": {"alertname": "InstanceDown"},
      "commonLabels": {"alertname": "InstanceDown", "job": "node", "severity": "critical"},
      "commonAnnotations": {"summary": "Instance down"},
      "externalURL": "http://alertmanager:9093",
      "notification_reason": "new alerts",
      "routeLabels": {"team": "db"},
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "InstanceDown", "instance": "10.0.0.1:9100", "job": "node", "severity": "critical"},
        "annotations": {"summary": "Instance down", "runbook_url": "https://runbooks.example/instance-down"},
        "startsAt": "2020-08-08T14:32:08.326990857Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": "791cec13fcba0368"
      }, {
        "status": "resolved",
        "labels": {"alertname": "InstanceDown", "instance": "10.0.0.2:9100", "job": "node", "severity": "page"},
        "annotations": {"description": "10.0.0.2 was down"},
        "startsAt": "2020-08-08T14:30:00Z",
        "endsAt": "2020-08-08T14:40:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
        "fingerprint": "0a1b2c3d4e5f6071"
      }]
    })
}

#[test]
fn reference_body_gives_one_event_per_alert() {
    let events = am(&reference(), Grouping::PerAlert).unwrap();
    assert_eq!(events.len(), 2);
    let e = &events[0];
    assert_eq!(e.action, AlertAction::Trigger);
    assert_eq!(e.dedup_key.as_deref(), Some("791cec13fcba0368"));
    assert_eq!(e.summary.as_deref(), Some("Instance down"));
    assert_eq!(e.severity, AlertSeverity::Critical);
    assert_eq!(e.source.as_deref(), Some("10.0.0.1:9100"));
    assert_eq!(e.labels["job"], "node");
    assert_eq!(
        e.occurred_at,
        Some("2020-08-08T14:32:08.326990857Z".parse().unwrap())
    );
    let links: Vec<_> = e
        .links
        .iter()
        .map(|l| (l.href.as_str(), l.text.as_deref().unwrap()))
        .collect();
    assert_eq!(
        links,
        [
            (
                "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
                "Prometheus"
            ),
            ("https://runbooks.example/instance-down", "Runbook"),
            ("http://alertmanager:9093", "Alertmanager"),
        ]
    );
    assert_eq!(e.client.as_deref(), Some("Prometheus Alertmanager"));
    assert_eq!(e.client_url.as_deref(), Some("http://alertmanager:9093"));
    // The regex-escaped receiver arrives unescaped in the details.
    assert_eq!(e.details["receiver"], "team.db-pager");

    let r = &events[1];
    assert_eq!(r.action, AlertAction::Resolve);
    assert_eq!(r.dedup_key.as_deref(), Some("0a1b2c3d4e5f6071"));
    assert_eq!(r.summary.as_deref(), Some("10.0.0.2 was down"));
    assert_eq!(
        r.severity,
        AlertSeverity::Critical,
        "page is a synonym of critical"
    );
    assert_eq!(r.occurred_at, Some("2020-08-08T14:40:00Z".parse().unwrap()));
}

#[test]
fn summary_falls_back_to_alertname_then_fingerprint_never_none() {
    let mut body = reference();
    body["alerts"][0]["annotations"] = json!({});
    body["alerts"][1]["labels"] = json!({});
    body["alerts"][1]["annotations"] = json!(null);
    body["alerts"][1]["status"] = json!("firing");
    let events = am(&body, Grouping::PerAlert).unwrap();
    assert_eq!(events[0].summary.as_deref(), Some("InstanceDown"));
    assert_eq!(events[1].summary.as_deref(), Some("0a1b2c3d4e5f6071"));
    assert_eq!(
        events[1].severity,
        AlertSeverity::Error,
        "no severity label → error"
    );
}

#[test]
fn same_summary_different_fingerprints_stay_apart() {
    let mut body = reference();
    body["alerts"][1]["annotations"] = body["alerts"][0]["annotations"].clone();
    let events = am(&body, Grouping::PerAlert).unwrap();
    assert_eq!(events[0].summary, events[1].summary);
    assert_ne!(events[0].dedup_key, events[1].dedup_key);
}

#[test]
fn per_group_mode_keys_on_group_and_never_resolves_a_firing_group() {
    let firing = am(&reference(), Grouping::PerGroup).unwrap();
    assert_eq!(
        firing.len(),
        1,
        "the resolved alert of a firing group is left out"
    );
    assert_eq!(firing[0].action, AlertAction::Trigger);
    assert_eq!(
        firing[0].dedup_key.as_deref(),
        Some("{}/{team=\"db\"}:{alertname=\"InstanceDown\"}")
    );

    let mut body = reference();
    body["status"] = json!("resolved");
    body["alerts"][0]["status"] = json!("resolved");
    let resolved = am(&body, Grouping::PerGroup).unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].action, AlertAction::Resolve);
    assert_eq!(resolved[0].dedup_key, firing[0].dedup_key);

    body["groupKey"] = json!(format!("{{}}/{{{}}}", "x".repeat(400)));
    let long = am(&body, Grouping::PerGroup).unwrap();
    assert!(long[0].dedup_key.as_ref().unwrap().chars().count() <= 255);
}

#[test]
fn minimal_hand_written_body_is_enough() {
    let body = json!({"alerts": [{"status": "firing", "labels": {"alertname": "Test", "severity": "warn"},
        "fingerprint": "f1", "startsAt": "not a time"}]});
    let events = am(&body, Grouping::PerAlert).unwrap();
    assert_eq!(events[0].severity, AlertSeverity::Warning);
    assert_eq!(events[0].occurred_at, None);
    assert!(events[0].note.as_deref().unwrap().contains("startsAt"));
}

#[test]
fn bodies_of_another_shape_are_refused_naming_what_is_missing() {
    let err = |v: Value, g| am(&v, g).unwrap_err().errors;
    assert_eq!(
        err(json!({"text": "hello"}), Grouping::PerAlert),
        ["alerts is missing: this is not an Alertmanager webhook body (version 4, with an alerts array)"]
    );
    assert_eq!(
        err(json!({"alerts": {}}), Grouping::PerAlert),
        ["alerts must be an array, not an object"]
    );
    assert_eq!(
        err(
            json!({"alerts": [1, {"status": "firing"}, {"status": "pending", "fingerprint": "f"}, {"fingerprint": "f"}]}),
            Grouping::PerAlert
        ),
        [
            "alerts[0] must be an object, not a number",
            "alerts[1].fingerprint is missing",
            "alerts[2].status must be firing or resolved, not \"pending\"",
            "alerts[3].status is missing",
        ]
    );
    assert_eq!(
        err(
            json!({"status": "firing", "alerts": []}),
            Grouping::PerGroup
        ),
        ["groupKey is missing, and this service groups Alertmanager alerts per group"]
    );
    assert_eq!(am(&json!({"alerts": []}), Grouping::PerAlert).unwrap(), []);
}

fn grafana_body() -> Value {
    json!({
      "receiver": "klaxon",
      "status": "firing",
      "orgId": 1,
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
        "annotations": {"description": "The system has high memory usage",
                        "runbook_url": "https://myrunbook.com/runbook/1234",
                        "summary": "This alert was triggered for zone us-1"},
        "startsAt": "2021-10-12T09:51:03.157076+02:00",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
        "fingerprint": "c6eadffa33fcdf37",
        "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2",
        "dashboardURL": "https://play.grafana.org/d/abc",
        "panelURL": "",
        "values": {"B": 44.23943737541908, "C": 1},
        "valueString": "[ var='B' labels={} value=44.23943737541908 ], [ var='C' labels={} value=1 ]",
        "imageURL": "https://play.grafana.org/render/abc.png"
      }],
      "groupLabels": {},
      "commonLabels": {"team": "blue"},
      "commonAnnotations": {},
      "externalURL": "https://play.grafana.org/",
      "version": "1",
      "groupKey": "{}:{}",
      "truncatedAlerts": 0,
      "title": "[FIRING:1]  (blue)",
      "state": "alerting",
      "message": "**Firing**\n\nLabels:\n - alertname = High memory usage"
    })
}

fn gf(body: &Value) -> Result<Vec<AlertEvent>, IngestError> {
    match grafana::parse(
        body.to_string().as_bytes(),
        &HeaderMap::new(),
        Grouping::PerAlert,
    )? {
        Parsed::Alerts { key: None, events } => Ok(events),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn grafana_extras_become_links_images_and_details() {
    let events = gf(&grafana_body()).unwrap();
    let e = &events[0];
    assert_eq!(e.dedup_key.as_deref(), Some("c6eadffa33fcdf37"));
    assert_eq!(
        e.summary.as_deref(),
        Some("This alert was triggered for zone us-1")
    );
    assert_eq!(
        e.occurred_at,
        Some("2021-10-12T07:51:03.157076Z".parse().unwrap())
    );
    let texts: Vec<_> = e.links.iter().map(|l| l.text.as_deref().unwrap()).collect();
    assert_eq!(
        texts,
        ["Alert rule", "Runbook", "Grafana", "Silence", "Dashboard"]
    );
    assert_eq!(e.images[0].src, "https://play.grafana.org/render/abc.png");
    assert_eq!(e.details["values"]["C"], 1);
    assert!(e.details["valueString"]
        .as_str()
        .unwrap()
        .contains("var='B'"));
    assert_eq!(e.details["grafana"]["state"], "alerting");
    assert_eq!(e.details["grafana"]["title"], "[FIRING:1]  (blue)");
    assert_eq!(e.client.as_deref(), Some("Grafana"));
}

#[test]
fn grafana_summary_falls_back_to_title_and_legacy_is_named() {
    let mut body = grafana_body();
    body["alerts"][0]["annotations"] = json!({});
    body["alerts"][0]["labels"] = json!({});
    assert_eq!(
        gf(&body).unwrap()[0].summary.as_deref(),
        Some("[FIRING:1]  (blue)")
    );

    let legacy = json!({"ruleId": 1, "ruleName": "Load peaking!", "state": "alerting",
        "evalMatches": [{"metric": "requests", "tags": {}, "value": 122}], "title": "My alert"});
    assert!(gf(&legacy).unwrap_err().errors[0].contains("legacy Grafana alert body"));
}

fn signed(headers: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, value.parse().unwrap());
    }
    map
}

fn hmac_hex(secret: &[u8], message: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn grafana_signatures_under_both_header_names_and_with_a_timestamp() {
    let secret = b"grafana-secret";
    let body = grafana_body().to_string();
    let sig = hmac_hex(secret, body.as_bytes());
    for name in ["X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature"] {
        let headers = signed(&[(name, sig.clone())]);
        assert_eq!(
            grafana::verify_grafana_signature(secret, body.as_bytes(), &headers),
            Ok(())
        );
    }

    let ts = "1700000000";
    let ts_sig = hmac_hex(secret, format!("{ts}:{body}").as_bytes());
    for ts_name in grafana::TIMESTAMP_HEADERS {
        let headers = signed(&[
            ("X-Grafana-Alerting-Signature", ts_sig.clone()),
            (ts_name, ts.into()),
        ]);
        assert_eq!(
            grafana::verify_grafana_signature(secret, body.as_bytes(), &headers),
            Ok(())
        );
    }
    // The body-only signature does not pass once a timestamp is announced.
    let headers = signed(&[
        ("X-Grafana-Alerting-Signature", sig.clone()),
        ("X-Grafana-Alerting-Signature-Timestamp", ts.into()),
    ]);
    assert!(grafana::verify_grafana_signature(secret, body.as_bytes(), &headers).is_err());
}

#[test]
fn grafana_signature_wrong_missing_malformed_or_tampered() {
    let secret = b"grafana-secret";
    let body = grafana_body().to_string();
    let header = "X-Grafana-Alerting-Signature";
    let good = signed(&[(header, hmac_hex(secret, body.as_bytes()))]);
    let mismatch = Err(SignatureError::Mismatch { header });
    assert_eq!(
        grafana::verify_grafana_signature(b"wrong", body.as_bytes(), &good),
        mismatch
    );
    let tampered = body.replace("us-1", "us-2");
    assert_eq!(
        grafana::verify_grafana_signature(secret, tampered.as_bytes(), &good),
        mismatch
    );
    assert_eq!(
        grafana::verify_grafana_signature(secret, body.as_bytes(), &HeaderMap::new()),
        Err(SignatureError::Missing { header })
    );
    assert_eq!(
        grafana::verify_grafana_signature(
            secret,
            body.as_bytes(),
            &signed(&[(header, "not-hex".into())])
        ),
        Err(SignatureError::Malformed { header })
    );
}
