//! The CLI for services, alerts, events, heartbeats and maintenance windows, against
//! a real `klaxon serve`.

mod common;

#[allow(unused_imports)]
use std::io::{Read, Write};
#[allow(unused_imports)]
use std::process::{Command, Stdio};
#[allow(unused_imports)]
use std::time::{Duration, Instant};

#[allow(unused_imports)]
use common::*;
#[allow(unused_imports)]
use jiff::Timestamp;
#[allow(unused_imports)]
use serde_json::Value;

/// `klaxon service create api --json` hands over the first integration key; keys rotate;
/// bad names are usage errors and unknown services read as sentences.
#[test]
fn services_and_their_keys() {
    let server = Server::start();
    let created = server.json(&[
        "service",
        "create",
        "api",
        "--team",
        "platform",
        "--runbook",
        "https://runbooks.example/api",
        "--grouping",
        "time-window:10",
        "--json",
    ]);
    let key = created["integration_key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 32);
    assert_eq!(created["rules"]["grouping"]["minutes"], 10);
    let listed = server.ok(&["service", "list"]);
    assert!(
        listed.contains("api") && listed.contains("time-window:10"),
        "{listed}"
    );
    let id = created["integration_keys"][0]["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let rotated = server.json(&["service", "key", "rotate", "api", &id, "--json"]);
    assert_ne!(rotated["key"].as_str().unwrap(), key);
    let shown = server.ok(&["service", "show", "api"]);
    assert!(shown.contains(rotated["key"].as_str().unwrap()), "{shown}");
    server.ok(&["service", "update", "api", "--auto-resolve", "true"]);
    let updated = server.json(&["service", "show", "api", "--json"]);
    assert_eq!(updated["rules"]["auto_resolve"], true);
    assert_eq!(
        updated["rules"]["grouping"]["minutes"], 10,
        "update keeps what it does not name"
    );

    let bad = server.klaxon(&["service", "create", "Bad Name"]);
    assert_eq!(bad.status.code(), Some(2));
    let again = server.klaxon(&["service", "create", "api"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists") && !stderr(&again).contains('{'),
        "{}",
        stderr(&again)
    );
    server.ok(&["service", "delete", "api"]);
    let gone = server.klaxon(&["service", "show", "api"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(
        stderr(&gone).contains("there is no service 'api'"),
        "{}",
        stderr(&gone)
    );
}

/// A deploy sent as a PagerDuty change event shows on `incident show` as a recent change.
#[test]
fn incident_show_lists_recent_changes() {
    let server = Server::start();
    let created = server.json(&["service", "create", "api", "--json"]);
    let key = created["integration_key"].as_str().unwrap();
    let now = Timestamp::now();
    let body = format!(
        r#"{{"routing_key":"{key}","payload":{{"summary":"Deploy api v2.1.3","timestamp":"{now}","source":"github-actions"}}}}"#
    );
    let status = post_json(&server.url, "/v2/change/enqueue", &body);
    assert!(status.contains("202"), "{status}");
    server.ok(&[
        "incident",
        "declare",
        "API 502s",
        "--severity",
        "2",
        "--service",
        "api",
    ]);
    let shown = server.ok(&["incident", "show", "1"]);
    assert!(
        shown.contains("Recent changes") && shown.contains("Deploy api v2.1.3"),
        "{shown}"
    );
}

/// `klaxon alert`: list, show with the log, acknowledge (which acknowledges the incident)
/// and resolve; repeated or unknown requests read as sentences.
#[test]
fn alerts_from_the_command_line() {
    let server = Server::start();
    let created = server.json(&["service", "create", "db", "--json"]);
    let key = created["integration_key"].as_str().unwrap();
    let body = format!(
        r#"{{"routing_key":"{key}","event_action":"trigger","dedup_key":"srv01/mysql","payload":{{"summary":"DISK at 99%","source":"srv01","severity":"critical"}}}}"#
    );
    assert!(post_json(&server.url, "/v2/enqueue", &body).contains("202"));
    let listed = server.json_when(
        &["alert", "list", "--service", "db", "--json"],
        "the alert is applied",
        |v| v[0]["incident"].is_number(),
    );
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    let table = server.ok(&["alert", "list"]);
    assert!(
        table.contains("DISK at 99%") && table.contains("triggered"),
        "{table}"
    );
    server.ok(&["alert", "ack", &id]);
    let incident = server.json(&["incident", "show", "1", "--json"]);
    assert_eq!(
        incident["status"], "acknowledged",
        "acknowledging the alert acknowledges its incident"
    );
    let again = server.klaxon(&["alert", "ack", &id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("is acknowledged"),
        "{}",
        stderr(&again)
    );
    server.ok(&["alert", "resolve", &id]);
    let shown = server.ok(&["alert", "show", &id]);
    assert!(
        shown.contains("trigger") && shown.contains("acknowledge") && shown.contains("resolve"),
        "{shown}"
    );
    assert!(shown.contains("(once)"), "seen once: {shown}");
    assert!(!shown.contains("The newest"), "nothing left out: {shown}");
    let newest = server.ok(&["alert", "show", &id, "--log", "1"]);
    let hint = format!("The newest 1 events; older ones: klaxon alert show {id} --log-before ");
    assert!(
        newest.contains(&hint) && newest.contains("(`--log N` shows up to 10000 at once)."),
        "{newest}"
    );
    let log = newest.split("RECEIVED").nth(1).unwrap();
    assert!(
        log.contains("resolve") && !log.contains("trigger") && !log.contains("acknowledge"),
        "only the newest entry: {log}"
    );
    let cursor = newest
        .split(&hint)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    let older = server.ok(&["alert", "show", &id, "--log", "1", "--log-before", cursor]);
    let log = older.split("RECEIVED").nth(1).unwrap();
    assert!(
        log.contains("acknowledge") && !log.contains("resolve"),
        "the entry before the newest: {older}"
    );
    let bad = server.klaxon(&["alert", "show", &id, "--log", "0"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("log: 0 is out of range; use 1 to 10000"),
        "{}",
        stderr(&bad)
    );
    let missing = server.klaxon(&["alert", "show", "999"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("there is no alert 999"),
        "{}",
        stderr(&missing)
    );
}

/// `klaxon event send` triggers an alert with an integration key, as a monitoring tool
/// would; a wrong key is named.
#[test]
fn event_send_triggers_an_alert() {
    let server = Server::start();
    let created = server.json(&["service", "create", "web", "--json"]);
    let key = created["integration_key"].as_str().unwrap();
    let sent = server.json(&[
        "event",
        "send",
        key,
        "Checkout latency above 2s",
        "--severity",
        "warning",
        "--dedup-key",
        "checkout",
        "--json",
    ]);
    assert_eq!(sent["dedup_key"], "checkout");
    let alerts = server.json_when(&["alert", "list", "--json"], "the alert is applied", |v| {
        v[0].is_object()
    });
    assert_eq!(
        (
            alerts[0]["summary"].as_str(),
            alerts[0]["severity"].as_str()
        ),
        (Some("Checkout latency above 2s"), Some("warning"))
    );
    let bad = server.klaxon(&["event", "send", "0123456789abcdef0123456789abcdef", "x"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("routing_key") && !stderr(&bad).contains('{'),
        "{}",
        stderr(&bad)
    );
}

/// `klaxon service maintenance`: during a window an alert opens no incident.
#[test]
fn maintenance_windows_from_the_command_line() {
    let server = Server::start();
    let created = server.json(&["service", "create", "db", "--json"]);
    let key = created["integration_key"].as_str().unwrap();
    let window = server.json(&[
        "service",
        "maintenance",
        "add",
        "db",
        "--for",
        "1h",
        "--reason",
        "PostgreSQL 16 upgrade",
        "--json",
    ]);
    let listed = server.ok(&["service", "maintenance", "list", "db"]);
    assert!(listed.contains("PostgreSQL 16 upgrade"), "{listed}");
    server.ok(&[
        "event",
        "send",
        key,
        "Replication lag",
        "--dedup-key",
        "lag",
    ]);
    let alerts = server.json_when(&["alert", "list", "--json"], "the alert is applied", |v| {
        v[0].is_object()
    });
    assert!(
        alerts[0]["incident"].is_null(),
        "no incident during maintenance: {alerts}"
    );
    let id = window["id"].as_i64().unwrap().to_string();
    server.ok(&["service", "maintenance", "remove", "db", &id]);
    assert!(!server
        .ok(&["service", "maintenance", "list", "db"])
        .contains("PostgreSQL"));
    let usage = server.klaxon(&["service", "maintenance", "add", "db", "--reason", "x"]);
    assert_eq!(usage.status.code(), Some(2), "--for or --until is required");
}

/// `klaxon heartbeat create` prints the URL to ping; a ping answers 202.
#[test]
fn heartbeats_from_the_command_line() {
    let server = Server::start();
    server.ok(&["service", "create", "backups"]);
    let hb = server.json(&[
        "heartbeat",
        "create",
        "--service",
        "backups",
        "--interval",
        "1h",
        "--name",
        "nightly",
        "--json",
    ]);
    let key = hb["key"].as_str().unwrap();
    assert!(post_json(&server.url, &format!("/heartbeat/{key}"), "").contains("202"));
    let listed = server.ok(&["heartbeat", "list"]);
    assert!(
        listed.contains("nightly") && listed.contains("up"),
        "{listed}"
    );
    let bad = server.klaxon(&[
        "heartbeat",
        "create",
        "--service",
        "backups",
        "--interval",
        "soon",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("interval"), "{}", stderr(&bad));
}

/// `klaxon alert list` pages with a cursor, and `--all` walks every page: 450 alerts
/// from one Alertmanager notification come back once each, newest first.
#[test]
fn alert_list_walks_every_alert_page_by_page() {
    const ALERTS: usize = 450;
    let server = Server::start();
    let created = server.json(&["service", "create", "nodes", "--json"]);
    let key = created["integration_key"].as_str().unwrap();
    let alerts: Vec<String> = (0..ALERTS)
        .map(|i| {
            format!(
                r#"{{"status":"firing","labels":{{"alertname":"Load{i}","severity":"info"}},"annotations":{{"summary":"load {i}"}},"startsAt":"2026-12-01T00:00:00Z","fingerprint":"fp{i:05}"}}"#
            )
        })
        .collect();
    let body = format!(
        r#"{{"version":"4","status":"firing","receiver":"klaxon","groupKey":"g","alerts":[{}]}}"#,
        alerts.join(",")
    );
    let status = post_json(&server.url, &format!("/ingest/alertmanager/{key}"), &body);
    assert!(status.contains("202"), "{status}");
    let all = server.json_when(
        &["alert", "list", "--all", "--json"],
        "every alert is applied",
        |v| v.as_array().map(Vec::len) == Some(ALERTS),
    );
    let ids: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, each alert once: {ids:?}"
    );

    let first = server.ok(&["alert", "list", "--limit", "200"]);
    let hint = format!("klaxon alert list --before {}", ids[199]);
    assert!(first.contains(&hint), "{first}");
    let second = server.json(&[
        "alert",
        "list",
        "--limit",
        "200",
        "--before",
        &ids[199].to_string(),
        "--json",
    ]);
    let second: Vec<i64> = second
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(second, ids[200..400]);
    let last = server.ok(&[
        "alert",
        "list",
        "--limit",
        "200",
        "--before",
        &ids[399].to_string(),
    ]);
    assert!(
        !last.contains("More:"),
        "the last page has no cursor: {last}"
    );
}
