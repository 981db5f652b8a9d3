//! `klaxon subscriber` through the real binary against `klaxon serve`: a webhook is
//! added (its signing secret printed once), listed and removed; mistakes exit 1 or 2
//! with a sentence and change nothing.

mod common;

use common::{stderr, Server};

#[test]
fn subscribers_are_added_listed_and_removed_from_the_command_line() {
    let server = Server::start();
    server.ok(&["component", "create", "API"]);
    let added = server.ok(&[
        "subscriber",
        "add",
        "--webhook",
        "https://hooks.example.com/status",
        "--component",
        "API",
    ]);
    assert!(
        added.contains("added subscriber 1 (webhook https://hooks.example.com/status)"),
        "{added}"
    );
    let secret = added
        .lines()
        .find_map(|l| l.strip_prefix("signing secret (shown once): "))
        .expect("the secret, once");
    assert_eq!(secret.len(), 64);
    assert!(added.contains("X-Klaxon-Signature"), "{added}");

    let list = server.ok(&["subscriber", "list"]);
    assert!(
        list.contains("https://hooks.example.com/status") && list.contains("API"),
        "{list}"
    );
    assert!(!list.contains(secret), "{list}");
    let all = server.json(&["subscriber", "list", "--json"]);
    assert_eq!(all[0]["kind"], "webhook");
    assert!(all[0]["confirmed_at"].is_string());

    let not_http = server.klaxon(&["subscriber", "add", "--webhook", "ftp://example.com/x"]);
    assert_eq!(not_http.status.code(), Some(1), "{}", stderr(&not_http));
    assert!(
        stderr(&not_http).contains("not an http(s) URL"),
        "{}",
        stderr(&not_http)
    );
    let no_mail = server.klaxon(&["subscriber", "add", "--email", "ops@example.com"]);
    assert_eq!(no_mail.status.code(), Some(1));
    assert!(
        stderr(&no_mail).contains("--smtp-host"),
        "{}",
        stderr(&no_mail)
    );
    let unknown = server.klaxon(&[
        "subscriber",
        "add",
        "--webhook",
        "https://hooks.example.com/x",
        "--component",
        "Nope",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("there is no component 'Nope'"));
    let neither = server.klaxon(&["subscriber", "add"]);
    assert_eq!(neither.status.code(), Some(2));
    assert_eq!(
        server
            .json(&["subscriber", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let missing = server.klaxon(&["subscriber", "remove", "nobody@example.com"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(server
        .ok(&["subscriber", "remove", "https://hooks.example.com/status"])
        .contains("removed https://hooks.example.com/status"));
    assert_eq!(
        server.json(&["subscriber", "list", "--json"]),
        serde_json::json!([])
    );
}
