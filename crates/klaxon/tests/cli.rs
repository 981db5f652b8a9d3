//! The CLI end to end: the README tour, usage and server errors, policy, evidence,
//! triage, users and tokens, against a real `klaxon serve`.

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

#[test]
fn the_readme_tour_through_the_cli() {
    let server = Server::start();
    server.ok(&["service", "create", "api"]);
    let declared = server.ok(&[
        "incident",
        "declare",
        "API returning 502 errors",
        "--severity",
        "2",
        "--service",
        "api",
        "--broken",
        "public API",
        "--affected",
        "some",
        "--estimate",
        "~50% of API requests",
        "--changes",
        "deploy v2.1.2 at 10:05",
    ]);
    assert!(
        declared.starts_with("#1 declared (SEV2, incident-"),
        "{declared}"
    );
    // Let a second pass, so that the time to acknowledge is not zero.
    std::thread::sleep(Duration::from_millis(1100));
    let acked = server.ok(&["incident", "ack", "#1"]);
    assert!(acked.starts_with("#1 acknowledged (SEV2, "), "{acked}");
    server.ok(&["incident", "assign", "1", "commander", "admin"]);
    let detected = server.ok(&["incident", "update", "1", "--kind", "detected"]);
    assert!(
        detected.contains("Issue: API returning 502 errors"),
        "{detected}"
    );
    assert!(!detected.contains('{'), "{detected}");
    let update = server.ok(&[
        "incident",
        "update",
        "1",
        "--kind",
        "update",
        "--status",
        "Still investigating",
        "--progress",
        "High memory usage in API pods",
        "--next-steps",
        "Roll back v2.1.2",
        "--eta",
        "10 minutes",
    ]);
    assert!(update.contains("Still investigating"), "{update}");
    assert!(update.contains("Roll back v2.1.2"), "{update}");
    server.ok(&[
        "incident",
        "mitigate",
        "1",
        "--strategy",
        "rollback",
        "--action",
        "Rolled back to v2.1.1",
    ]);
    let resolved = server.ok(&[
        "incident",
        "resolve",
        "1",
        "--root-cause",
        "Memory leak in document processing",
        "--fix",
        "Patch v2.1.3",
    ]);
    assert!(resolved.starts_with("#1 resolved (SEV2, "), "{resolved}");

    let view = server.json(&["incident", "show", "1", "--json"]);
    assert_eq!(view["number"], 1);
    let slug = view["slug"].as_str().unwrap();
    assert!(
        slug.starts_with("incident-") && slug.ends_with("-api-returning-502-errors"),
        "{slug}"
    );
    assert_eq!(view["status"], "resolved");
    assert_eq!(view["severity"], 2);
    assert_eq!(view["roles"]["commander"], "admin");
    assert_eq!(view["assessment"]["affected"], "some");
    let declared_at = at(&view["declared_at"]);
    let acknowledged_at = at(&view["acknowledged_at"]);
    let to_ack = view["durations"]["to_acknowledge"].as_i64().unwrap();
    assert_eq!(
        to_ack,
        acknowledged_at.duration_since(declared_at).as_secs()
    );
    assert!(to_ack >= 1, "{to_ack}");
    let timeline = view["timeline"].as_array().unwrap();
    // The engine opens the SEV2's review when it gets to it: before this read or after.
    let types: Vec<&str> = timeline
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .filter(|t| *t != "review_opened")
        .collect();
    assert_eq!(
        types,
        [
            "declared",
            // The service has no escalation policy: nobody was paged, and the timeline says so.
            "noted",
            "acknowledged",
            "role_assigned",
            "status_updated",
            "status_updated",
            "mitigated",
            "resolved"
        ]
    );
    let by_people: Vec<_> = timeline.iter().filter(|e| e["type"] != "noted").collect();
    assert!(
        by_people
            .iter()
            .all(|e| e["source"] == "cli" && e["actor"] == "admin"),
        "{timeline:?}"
    );

    let page = server.ok(&["incident", "show", "1"]);
    for expected in [
        "#1 API returning 502 errors",
        "resolved",
        "Timeline",
        "Rolled back to v2.1.1",
    ] {
        assert!(
            page.contains(expected),
            "{expected:?} missing from:\n{page}"
        );
    }
    let list = server.ok(&["incident", "list"]);
    assert!(list.contains("API returning 502 errors"), "{list}");
    let open = server.json(&["incident", "list", "--open", "--json"]);
    assert_eq!(open["incidents"].as_array().unwrap().len(), 0, "{open}");
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [
        &["incident", "ack"][..],
        &["incident", "declare", "no severity given"],
        &["incident", "declare", "both", "--severity", "2", "--triage"],
        &["incident", "ack", "forty-two"],
        &["incident", "ack", "1", "--at", "25:00"],
        &[
            "incident",
            "mitigate",
            "1",
            "--strategy",
            "pray",
            "--action",
            "x",
        ],
        &["frobnicate"],
    ] {
        let out = klaxon_command().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("error:"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_missing_token_says_how_to_set_one() {
    let out = klaxon_command()
        .args(["incident", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("KLAXON_TOKEN"), "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn an_unreachable_server_is_named() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = klaxon_command()
        .args(["incident", "list", "--url", &url, "--token", "whatever"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot reach Klaxon at {url}")),
        "{err}"
    );
    assert!(err.contains("klaxon serve"), "{err}");
}

#[test]
fn server_errors_read_as_sentences() {
    let server = Server::start();
    let out = server.klaxon(&["incident", "show", "42"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("#42"), "{err}");
    assert!(!err.contains('{'), "{err}");

    server.ok(&["incident", "declare", "Disk filling up", "--severity", "3"]);
    let out = server.klaxon(&["incident", "close", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("triggered"), "{err}");
    assert!(!err.contains('{'), "{err}");

    let out = server.klaxon(&["incident", "assign", "1", "commander", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nobody"), "{}", stderr(&out));

    let out = klaxon_command()
        .args(["incident", "list"])
        .env("KLAXON_URL", &server.url)
        .env("KLAXON_TOKEN", "klx_not_a_real_token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("KLAXON_TOKEN"), "{}", stderr(&out));
}

#[test]
fn policy_check_points_at_line_and_column() {
    let dir = TempDir::new();
    let default = klaxon_command()
        .args(["policy", "default"])
        .output()
        .unwrap();
    assert!(default.status.success());
    let text = stdout(&default);
    let good = dir.0.join("good.toml");
    std::fs::write(&good, &text).unwrap();
    let out = klaxon_command()
        .arg("policy")
        .arg("check")
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}: ok\n", good.display()));

    let bad_line = "response_target = \"15m\"";
    let line = text.lines().position(|l| l == bad_line).unwrap() + 1;
    let bad = dir.0.join("bad.toml");
    std::fs::write(
        &bad,
        text.replacen(bad_line, "response_target = \"soon\"", 1),
    )
    .unwrap();
    let out = klaxon_command()
        .arg("policy")
        .arg("check")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let expected = format!(
        "{}:{line}:19: 'soon' is not a response target",
        bad.display()
    );
    assert!(err.starts_with(&expected), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    // The server refuses to start on the same file, with the same message.
    let out = klaxon_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.0.join("data"))
        .arg("--policy")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
}

#[test]
fn evidence_from_a_command_carries_its_output_and_exit_code() {
    let server = Server::start();
    server.ok(&["incident", "declare", "Pods crashing", "--severity", "3"]);
    let attached = server.ok(&["incident", "evidence", "1", "--", "echo", "hello"]);
    assert!(
        attached.starts_with("#1 evidence attached, exit 0"),
        "{attached}"
    );
    let failing = server.ok(&[
        "incident",
        "evidence",
        "1",
        "--",
        "sh",
        "-c",
        "echo broken >&2; exit 3",
    ]);
    assert!(failing.contains("exit 3"), "{failing}");

    let view = server.json(&["incident", "show", "1", "--json"]);
    let timeline = view["timeline"].as_array().unwrap();
    let evidence: Vec<&Value> = timeline
        .iter()
        .filter(|e| e["type"] == "evidence_attached")
        .map(|e| &e["evidence"])
        .collect();
    assert_eq!(evidence.len(), 2, "{timeline:?}");
    assert_eq!(evidence[0]["kind"], "command");
    assert_eq!(evidence[0]["command"], "echo hello");
    assert_eq!(evidence[0]["output"], "hello\n");
    assert_eq!(evidence[0]["exit_code"], 0);
    assert_eq!(evidence[0]["truncated"], false);
    assert_eq!(evidence[1]["output"], "broken\n");
    assert_eq!(evidence[1]["exit_code"], 3);

    let text = server.ok(&["incident", "evidence", "1", "--text", "p99 latency 4 s"]);
    assert!(text.starts_with("#1 evidence attached"), "{text}");
    let out = server.klaxon(&[
        "incident",
        "evidence",
        "1",
        "--file",
        "/nonexistent/file.log",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent/file.log"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn triage_asks_until_the_first_yes_and_policy_show_reads_well() {
    let server = Server::start();
    let mut child = klaxon_command()
        .args([
            "incident",
            "declare",
            "Checkout broken",
            "--triage",
            "--json",
        ])
        .env("KLAXON_URL", &server.url)
        .env("KLAXON_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"n\ny\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let view: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["severity"], 2, "{view}");
    let shown = server.ok(&["policy", "show"]);
    for expected in [
        "SEV1",
        "Critical",
        "every 15m",
        "Is production completely down?",
    ] {
        assert!(
            shown.contains(expected),
            "{expected:?} missing from:\n{shown}"
        );
    }
    let policy = server.json(&["policy", "show", "--json"]);
    assert_eq!(
        policy["severities"].as_array().unwrap().len(),
        4,
        "{policy}"
    );
    assert!(
        stderr(&out).contains("Is a critical user flow broken?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn users_and_tokens() {
    let server = Server::start();
    server.ok(&[
        "user",
        "create",
        "alice",
        "--name",
        "Alice Liddell",
        "--email",
        "alice@example.com",
    ]);
    let users = server.json(&["user", "list", "--json"]);
    let handles: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["handle"].as_str().unwrap())
        .collect();
    assert!(handles.contains(&"alice"), "{users}");

    let out = server.klaxon(&[
        "token",
        "create",
        "alice-laptop",
        "--scope",
        "responder",
        "--user",
        "alice",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = stdout(&out).trim().to_owned();
    assert!(
        stderr(&out).contains("won't be shown again"),
        "{}",
        stderr(&out)
    );
    assert!(!secret.is_empty() && !secret.contains(' '), "{secret}");

    // Alice's token works, as alice, and cannot manage tokens.
    let as_alice = |args: &[&str]| {
        klaxon_command()
            .args(args)
            .env("KLAXON_URL", &server.url)
            .env("KLAXON_TOKEN", &secret)
            .output()
            .unwrap()
    };
    let out = as_alice(&[
        "incident",
        "declare",
        "Queue backlog",
        "--severity",
        "4",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let view: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["declared_by"], "alice");
    let out = as_alice(&["token", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains('{'), "{}", stderr(&out));

    let tokens = server.json(&["token", "list", "--json"]);
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "alice-laptop")
        .map(|t| t["id"].as_i64().unwrap())
        .unwrap();
    server.ok(&["token", "revoke", &id.to_string()]);
    let out = as_alice(&["incident", "list"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

/// Locked out (the last admin token refused revocation, but suppose it was lost):
/// `klaxon token create --offline` on the server's data makes a working admin token.
#[test]
fn an_offline_token_recovers_a_locked_out_install() {
    let server = Server::start();
    let tokens = server.json(&["token", "list", "--json"]);
    let id = tokens[0]["id"].as_i64().unwrap().to_string();
    let out = server.klaxon(&["token", "revoke", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is the last admin token; create another first"),
        "{}",
        stderr(&out)
    );
    let data = server.dir.0.join("data");
    let offline = |args: &[&str]| {
        klaxon_command()
            .args(["token", "create"])
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap()
    };
    let usage = offline(&["rescue", "--scope", "admin", "--offline"]);
    assert_eq!(usage.status.code(), Some(2), "--offline needs --user");
    let out = offline(&["rescue", "--scope", "admin", "--user", "admin", "--offline"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = stdout(&out).trim().to_owned();
    let me = klaxon_command()
        .args(["token", "list", "--json"])
        .env("KLAXON_URL", &server.url)
        .env("KLAXON_TOKEN", &secret)
        .output()
        .unwrap();
    assert!(me.status.success(), "{}", stderr(&me));
    let listed: Value = serde_json::from_slice(&me.stdout).unwrap();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "rescue"));
    let nobody = offline(&["x", "--scope", "admin", "--user", "nobody", "--offline"]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(
        stderr(&nobody).contains("there is no user 'nobody'"),
        "{}",
        stderr(&nobody)
    );
    // A token acts with at most its user's role: an admin token of a responder is refused.
    server.ok(&[
        "user",
        "create",
        "carol",
        "--name",
        "Carol",
        "--email",
        "carol@example.com",
    ]);
    let responder = offline(&["x", "--scope", "admin", "--user", "carol", "--offline"]);
    assert_eq!(responder.status.code(), Some(1));
    assert!(
        stderr(&responder).contains("carol is a responder")
            && stderr(&responder).contains("give --user an admin (admin)"),
        "{}",
        stderr(&responder)
    );
}
