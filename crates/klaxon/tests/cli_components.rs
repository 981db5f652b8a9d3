//! `klaxon component` and `klaxon incident components` through the real binary against
//! `klaxon serve`: components are made, grouped and linked; a customer-facing incident of
//! a linked service names them; the public JSON follows; mistakes exit 1 or 2 and change
//! nothing.

mod common;

use common::{stderr, Server};
use serde_json::Value;

/// The public `summary.json`, over a plain socket (the tests need no HTTP client).
fn summary(server: &Server) -> Value {
    use std::io::{Read, Write};
    let addr = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/v2/summary.json HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap()
}

fn status_of(summary: &Value, name: &str) -> String {
    summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn components_are_managed_and_follow_incidents_from_the_command_line() {
    let server = Server::start();
    server.ok(&["service", "create", "api"]);
    assert!(server
        .ok(&["component", "create", "Core", "--group"])
        .contains("created group Core"));
    server.ok(&[
        "component",
        "create",
        "REST API",
        "--in",
        "Core",
        "--service",
        "api",
    ]);
    server.ok(&["component", "create", "Webhooks", "--showcase", "false"]);
    let list = server.ok(&["component", "list"]);
    assert!(
        list.contains("Core (group)") && list.contains("  REST API"),
        "{list}"
    );
    let all = server.json(&["component", "list", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(all[1]["services"][0], "api");

    let declared = server.json(&[
        "incident",
        "declare",
        "Elevated API errors",
        "--severity",
        "1",
        "--service",
        "api",
        "--customer-facing",
        "--json",
    ]);
    assert_eq!(declared["components"][0]["status"], "major_outage");
    assert_eq!(status_of(&summary(&server), "REST API"), "major_outage");

    let changed = server.ok(&[
        "incident",
        "components",
        "1",
        "rest api=partial_outage",
        "Webhooks",
    ]);
    assert!(
        changed.contains("affects REST API partial outage, Webhooks major outage"),
        "{changed}"
    );
    server.ok(&[
        "component",
        "update",
        "Webhooks",
        "--status",
        "under_maintenance",
    ]);
    let shown = server.ok(&["component", "show", "webhooks"]);
    assert!(
        shown.contains("set by hand") && shown.contains("under maintenance"),
        "{shown}"
    );
    assert_eq!(
        status_of(&summary(&server), "Webhooks"),
        "major_outage",
        "the worst wins"
    );
    server.ok(&["incident", "components", "1", "--none"]);
    assert_eq!(status_of(&summary(&server), "REST API"), "operational");
    assert_eq!(
        status_of(&summary(&server), "Webhooks"),
        "under_maintenance"
    );

    // Mistakes change nothing.
    let unknown = server.klaxon(&["incident", "components", "1", "Nope"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("there is no component 'Nope'"));
    let bad_status = server.klaxon(&["incident", "components", "1", "Webhooks=down"]);
    assert_eq!(bad_status.status.code(), Some(2));
    let nested = server.klaxon(&["component", "create", "Inner", "--group", "--in", "Core"]);
    assert_eq!(nested.status.code(), Some(1));
    assert!(
        stderr(&nested).contains("groups nest one level"),
        "{}",
        stderr(&nested)
    );
    let busy = server.klaxon(&["component", "delete", "Core"]);
    assert_eq!(busy.status.code(), Some(1));
    assert!(stderr(&busy).contains("still holds REST API"));
    assert_eq!(
        server
            .json(&["component", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    server.ok(&["component", "delete", "REST API"]);
    server.ok(&["component", "delete", "Core"]);
    assert_eq!(
        server
            .json(&["component", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
