//! The server's life: SIGKILL loses nothing confirmed, SIGTERM stops cleanly,
//! `migrate` runs alone, logs can be JSON.

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

/// Every declaration the CLI saw succeed is still there after the server is killed with
/// SIGKILL mid-flight and restarted; none is there twice.
#[test]
fn a_crash_loses_no_acknowledged_write() {
    let server = Server::start();
    // Four streams of declarations through the CLI; the kill lands once some have been
    // confirmed, while others are in flight.
    let confirmed_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let url = server.url.clone();
            let counter = confirmed_so_far.clone();
            std::thread::spawn(move || {
                let mut confirmed = Vec::new();
                for i in 0..15 {
                    let title = format!("crash test {t}-{i}");
                    let out = klaxon_command()
                        .args(["incident", "declare", &title, "--severity", "3", "--json"])
                        .env("KLAXON_URL", &url)
                        .env("KLAXON_TOKEN", TOKEN)
                        .output()
                        .unwrap();
                    if !out.status.success() {
                        break; // the server is gone
                    }
                    confirmed.push(title);
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                confirmed
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while confirmed_so_far.load(std::sync::atomic::Ordering::SeqCst) < 8 {
        assert!(
            Instant::now() < deadline,
            "declarations are not getting through"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let server = server.crash_and_restart();
    let confirmed: Vec<String> = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    eprintln!(
        "{} of 60 declarations confirmed around the crash",
        confirmed.len()
    );
    let listed = server.json(&["incident", "list", "--limit", "200", "--json"]);
    let mut titles: Vec<String> = listed["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    for title in &confirmed {
        assert!(
            titles.contains(title),
            "{title} was confirmed but is gone after the crash"
        );
    }
    let count = titles.len();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), count, "an incident was stored twice");
}

/// SIGTERM stops the server gracefully: it exits 0, and its data is intact.
#[test]
fn sigterm_shuts_down_cleanly() {
    let mut server = Server::start();
    server.ok(&["incident", "declare", "before shutdown", "--severity", "2"]);
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "klaxon serve ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit {exit}:\n{}", server.log());
    let dir = std::mem::replace(&mut server.dir, TempDir(std::path::PathBuf::new()));
    drop(server);
    let server = Server::start_in(dir);
    let shown = server.json(&["incident", "show", "1", "--json"]);
    assert_eq!(shown["title"], "before shutdown");
}

/// Events sent in a burst while the server is killed with SIGKILL: every event that got
/// a 202 is stored after the restart, and none is stored twice. (At most 160 events, so
/// one page of `alert list` holds them all.)
#[test]
fn a_crash_during_an_alert_burst_loses_no_accepted_event() {
    let server = Server::start();
    let created = server.json(&[
        "service",
        "create",
        "burst",
        "--grouping",
        "time-window:60",
        "--json",
    ]);
    let key = created["integration_key"].as_str().unwrap().to_owned();
    let accepted_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let (url, key) = (server.url.clone(), key.clone());
            let counter = accepted_so_far.clone();
            std::thread::spawn(move || {
                let mut accepted = Vec::new();
                for i in 0..40 {
                    let dedup = format!("burst-{t}-{i}");
                    let body = format!(
                        r#"{{"routing_key":"{key}","event_action":"trigger","dedup_key":"{dedup}","payload":{{"summary":"burst {t} {i}","source":"load","severity":"critical"}}}}"#
                    );
                    match try_post_json(&url, "/v2/enqueue", &body) {
                        Some(status) if status.contains(" 202 ") => {
                            accepted.push(dedup);
                            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Some(_) => {}
                        None => break, // the server is gone
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                accepted
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted_so_far.load(std::sync::atomic::Ordering::SeqCst) < 20 {
        assert!(Instant::now() < deadline, "events are not getting through");
        std::thread::sleep(Duration::from_millis(2));
    }
    let server = server.crash_and_restart();
    let accepted: Vec<String> = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    assert!(
        !accepted.is_empty(),
        "no event got through before the crash: the test proved nothing"
    );
    // Accepted events wait in the inbox across the crash and are applied after it.
    let listed = server.json_when(
        &[
            "alert",
            "list",
            "--service",
            "burst",
            "--limit",
            "200",
            "--json",
        ],
        "every accepted event is applied",
        |v| {
            let keys: Vec<&str> = v
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|a| a["dedup_key"].as_str())
                .collect();
            accepted.iter().all(|a| keys.contains(&a.as_str()))
        },
    );
    let mut stored: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["dedup_key"].as_str().unwrap().to_owned())
        .collect();
    eprintln!(
        "{} events accepted around the crash, {} alerts stored",
        accepted.len(),
        stored.len()
    );
    for dedup in &accepted {
        assert!(
            stored.contains(dedup),
            "{dedup} got a 202 but is gone after the crash"
        );
    }
    let count = stored.len();
    stored.sort();
    stored.dedup();
    assert_eq!(stored.len(), count, "an alert was stored twice");
}

/// `klaxon migrate` creates and migrates the database alone; a bad URL is a clear error.
#[test]
fn migrate_runs_alone_and_names_a_bad_url() {
    let dir = TempDir::new();
    let data = dir.0.join("data");
    let out = klaxon_command()
        .args(["migrate", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(data.join("klaxon.db").exists());
    let out = klaxon_command()
        .args(["migrate", "--database-url", "mysql://x@y/z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unsupported database URL"),
        "{}",
        stderr(&out)
    );
}

/// `--log-format json` writes one JSON object per log line.
#[test]
fn json_logs_are_json() {
    let dir = TempDir::new();
    let addr = format!("127.0.0.1:{}", free_port());
    let log_path = dir.0.join("serve.log");
    let mut child = klaxon_command()
        .args([
            "serve",
            "--log-format",
            "json",
            "--listen",
            &addr,
            "--data-dir",
        ])
        .arg(dir.0.join("data"))
        .env("KLAXON_BOOTSTRAP_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !healthz(&addr) {
        assert!(Instant::now() < deadline, "klaxon serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The server may answer before its "listening" line is written.
    let has_listening = || {
        std::fs::read_to_string(&log_path)
            .unwrap()
            .contains("listening")
    };
    while !has_listening() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("listening"))),
        "{log}"
    );
}
