//! `klaxon review` and `klaxon action` against a real server: the review a resolved
//! SEV2 opens, a 5-whys node, an action item on the list of the caller's overdue ones,
//! the Markdown report, and a publication refused while sections are empty.

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
