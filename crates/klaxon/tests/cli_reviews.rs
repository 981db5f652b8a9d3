//! `klaxon review` and `klaxon action` against a real server: the review a resolved
//! SEV2 opens, a 5-whys node, an action item on the list of the caller's overdue ones,
//! the Markdown report, and a publication refused while sections are empty; a drill's
//! score in `klaxon review show` and `klaxon report`.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn a_review_and_its_action_items_from_the_command_line() {
    let server = Server::start();
    server.ok(&["incident", "declare", "Checkout failing", "--severity", "2"]);
    server.ok(&["incident", "resolve", "1", "--root-cause", "A memory leak"]);
    // The engine opens the review a moment after the resolution.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !server.klaxon(&["review", "show", "1"]).status.success() {
        assert!(
            Instant::now() < deadline,
            "no review opened:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let review = server.json(&["review", "show", "1", "--json"]);
    assert_eq!(review["review"]["status"], "draft");
    assert_eq!(
        review["review"]["root_cause"]["technical_cause"],
        "A memory leak"
    );

    server.ok(&[
        "review",
        "why",
        "1",
        "--why",
        "Why did checkout fail?",
        "--because",
        "Out of memory",
    ]);
    // An immediate fix is due when the incident resolved: open, it is overdue at once.
    let added = server.ok(&[
        "action",
        "add",
        "1",
        "Roll back",
        "--owner",
        "admin",
        "--category",
        "immediate",
        "--answers",
        "why:1",
    ]);
    assert!(added.contains("1-1"), "{added}");
    let overdue = server.ok(&["action", "list", "--mine", "--overdue"]);
    assert!(
        overdue.contains("Roll back") && overdue.contains("(overdue)"),
        "{overdue}"
    );
    server.ok(&["action", "update", "1-1", "--status", "done"]);
    let listed = server.json(&["action", "list", "--mine", "--overdue", "--json"]);
    assert_eq!(listed, serde_json::json!([]));

    let report = server.ok(&["review", "export", "1"]);
    assert!(
        report.starts_with("# Post-incident review: #1 Checkout failing"),
        "{report}"
    );
    assert!(
        report.contains("- Why did checkout fail? — **because** Out of memory (action item 1-1)"),
        "{report}"
    );

    server.ok(&["review", "submit", "1"]);
    let refused = server.klaxon(&["review", "publish", "1"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("fill these sections before publishing"),
        "{}",
        stderr(&refused)
    );
    let closing = server.klaxon(&["incident", "close", "1"]);
    assert!(
        stderr(&closing).contains("post-incident review"),
        "{}",
        stderr(&closing)
    );
}

#[test]
fn a_drills_score_from_the_command_line() {
    let server = Server::start();
    server.ok(&[
        "incident",
        "declare",
        "Drill: checkout failing",
        "--severity",
        "2",
        "--drill",
    ]);
    server.ok(&["incident", "ack", "1"]);
    server.ok(&["incident", "resolve", "1"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while !server.klaxon(&["review", "show", "1"]).status.success() {
        assert!(
            Instant::now() < deadline,
            "no review opened:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Acknowledged and resolved at once, but with nobody in the required roles.
    let shown = server.ok(&["review", "show", "1"]);
    assert!(shown.contains("drill score 3 of 4"), "{shown}");
    let line = |text: &str, start: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no line {start:?} in:\n{text}"))
            .to_owned()
    };
    let ack = line(&shown, "Acknowledged within the response target?");
    assert!(
        ack.contains("within 15 minutes") && ack.trim_end().ends_with("met"),
        "{ack}"
    );
    let roles = line(&shown, "Required roles filled?");
    assert!(roles.trim_end().ends_with("missed"), "{roles}");
    let json = server.json(&["review", "show", "1", "--json"]);
    assert_eq!(json["drill_score"]["total"], 4);

    let report = server.ok(&["report", "--since", "1d"]);
    assert!(report.contains("0 incidents from"), "{report}");
    let drill = line(&report, "#1");
    assert!(
        drill.contains("SEV2") && drill.contains("3 of 4") && drill.contains("roles"),
        "{drill}"
    );
    let json = server.json(&["report", "--since", "1d", "--json"]);
    assert_eq!(json["drill_scores"][0]["score"]["met"], 3);
}
