//! `klaxon maintenance` through the real binary against `klaxon serve`: a maintenance is
//! scheduled on a component, listed, shown, rescheduled, started, verified and
//! completed by hand; another is cancelled; the public JSON follows; mistakes exit 1 or
//! 2 and change nothing.

mod common;

use common::{stderr, Server};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// A public JSON answer, over a plain socket (the tests need no HTTP client).
fn public(server: &Server, path: &str) -> Value {
    use std::io::{Read, Write};
    let addr = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/v2/{path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap()
}

/// A time `hours` from now, whole seconds, as RFC 3339.
fn in_hours(hours: i64) -> String {
    let t = Timestamp::now() + SignedDuration::from_hours(hours);
    Timestamp::from_second(t.as_second()).unwrap().to_string()
}

#[test]
fn maintenance_is_scheduled_and_run_by_hand_from_the_command_line() {
    let server = Server::start();
    server.ok(&["service", "create", "api"]);
    server.ok(&["component", "create", "API", "--service", "api"]);
    server.ok(&["component", "create", "Web"]);

    let from = in_hours(2);
    let scheduled = server.json(&[
        "maintenance",
        "schedule",
        "Database upgrade",
        "--component",
        "api",
        "--component",
        "Web",
        "--from",
        &from,
        "--for",
        "2h",
        "--message",
        "Writes pause briefly.",
        "--mute-services",
        "--json",
    ]);
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(scheduled["components"].as_array().unwrap().len(), 2);
    assert_eq!(scheduled["mute_services"], true);
    let id = scheduled["id"].to_string();
    let upcoming = public(&server, "scheduled-maintenances/upcoming.json");
    assert_eq!(
        upcoming["scheduled_maintenances"][0]["name"],
        "Database upgrade"
    );
    let windows = server.ok(&["service", "maintenance", "list", "api"]);
    assert!(
        windows.contains("scheduled maintenance: Database upgrade"),
        "{windows}"
    );

    let list = server.ok(&["maintenance", "list"]);
    assert!(
        list.contains("Database upgrade")
            && list.contains("scheduled")
            && list.contains("API, Web"),
        "{list}"
    );
    let shown = server.ok(&["maintenance", "show", &id]);
    assert!(shown.contains("Writes pause briefly."), "{shown}");

    let later = in_hours(3);
    let moved = server.json(&[
        "maintenance",
        "update",
        &id,
        "--from",
        &later,
        "--until",
        &in_hours(4),
        "--json",
    ]);
    assert_eq!(
        moved["scheduled_for"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()
            .unwrap(),
        later.parse::<Timestamp>().unwrap()
    );
    assert!(server
        .ok(&["maintenance", "start", &id])
        .contains("started maintenance"));
    assert_eq!(
        public(&server, "scheduled-maintenances/active.json")["scheduled_maintenances"][0]
            ["status"],
        "in_progress"
    );
    let summary = public(&server, "summary.json");
    assert_eq!(summary["status"]["indicator"], "maintenance");
    server.ok(&[
        "maintenance",
        "update",
        &id,
        "--status",
        "verifying",
        "--message",
        "Checking replication.",
    ]);
    let done = server.ok(&["maintenance", "complete", &id]);
    assert!(done.contains("completed"), "{done}");
    assert_eq!(
        public(&server, "summary.json")["scheduled_maintenances"],
        serde_json::json!([])
    );

    let other = server.json(&[
        "maintenance",
        "schedule",
        "Network work",
        "--component",
        "Web",
        "--from",
        &in_hours(5),
        "--until",
        &in_hours(6),
        "--json",
    ]);
    let other_id = other["id"].to_string();
    assert!(server
        .ok(&["maintenance", "cancel", &other_id])
        .contains("cancelled"));

    // Mistakes change nothing.
    let before = server.json(&["maintenance", "list", "--json"]);
    let unknown = server.klaxon(&[
        "maintenance",
        "schedule",
        "X",
        "--component",
        "Nope",
        "--from",
        &in_hours(2),
        "--for",
        "1h",
    ]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("there is no component 'Nope'"));
    let backwards = server.klaxon(&[
        "maintenance",
        "schedule",
        "X",
        "--component",
        "Web",
        "--from",
        &in_hours(3),
        "--until",
        &in_hours(2),
    ]);
    assert_eq!(backwards.status.code(), Some(1));
    assert!(
        stderr(&backwards).contains("before it starts"),
        "{}",
        stderr(&backwards)
    );
    let over = server.klaxon(&["maintenance", "start", &id]);
    assert_eq!(over.status.code(), Some(1));
    assert!(stderr(&over).contains("completed"), "{}", stderr(&over));
    let nothing = server.klaxon(&["maintenance", "update", &other_id]);
    assert_eq!(nothing.status.code(), Some(2));
    let missing = server.klaxon(&["maintenance", "show", "999"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(server.json(&["maintenance", "list", "--json"]), before);
}
