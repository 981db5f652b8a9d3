//! Paging through the real binary: escalations pending when `klaxon serve` is killed
//! (SIGKILL) fire after the restart, on time; a number is verified with the code sent to
//! it. Twilio is faked by a small HTTP server in this test that notes when each SMS
//! request arrives, to whom, and its body.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{post_json, Server, TempDir};

/// SMS requests: (arrival, the `To` number, the form body as sent).
type Sent = Arc<Mutex<Vec<(Instant, String, String)>>>;

/// A fake Twilio on a free port: answers every POST with 201 and a SID.
fn fake_twilio() -> (String, Sent) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent: Sent = Arc::default();
    let seen = sent.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let form = String::from_utf8_lossy(&body).to_string();
                    let to = form
                        .split('&')
                        .find_map(|kv| kv.strip_prefix("To="))
                        .unwrap_or("")
                        .replace("%2B", "+");
                    if line.contains("Messages.json") {
                        seen.lock().unwrap().push((Instant::now(), to, form));
                    }
                    let answer = r#"{"sid":"SM1","status":"queued"}"#;
                    let mut out = &stream;
                    let _ = write!(
                        out,
                        "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                }
            });
        }
    });
    (url, sent)
}

fn sms_to(sent: &Sent, number: &str) -> Option<Instant> {
    sent.lock()
        .unwrap()
        .iter()
        .find(|(_, to, _)| to == number)
        .map(|(at, _, _)| *at)
}

fn twilio_env(twilio: &str) -> Vec<(String, String)> {
    vec![
        ("KLAXON_TWILIO_ACCOUNT_SID".to_owned(), "ACtest".to_owned()),
        ("KLAXON_TWILIO_AUTH_TOKEN".to_owned(), "secret".to_owned()),
        ("KLAXON_TWILIO_FROM".to_owned(), "+15550000000".to_owned()),
        (
            "KLAXON_TWILIO_URL".to_owned(),
            format!("{twilio}/2010-04-01"),
        ),
    ]
}

/// The code in the newest SMS the fake received.
fn last_code(sent: &Sent) -> String {
    let sent = sent.lock().unwrap();
    let (_, _, form) = sent.last().expect("an SMS was sent");
    let after = form
        .split("code+is+")
        .nth(1)
        .unwrap_or_else(|| panic!("no code in {form}"));
    after.chars().take(6).collect()
}

/// Roles and a verified number, from the command line.
#[test]
fn people_get_roles_and_verify_their_numbers() {
    let (twilio, sent) = fake_twilio();
    let server = Server::start_with(TempDir::new(), twilio_env(&twilio));
    for (user, role) in [("alice", "responder"), ("bob", "viewer")] {
        let out = server.ok(&[
            "user",
            "create",
            user,
            "--name",
            user,
            "--email",
            &format!("{user}@example.com"),
            "--role",
            role,
        ]);
        assert!(out.contains(role), "{out}");
    }
    let users = server.json(&["user", "list", "--json"]);
    let roles: Vec<(&str, &str)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["handle"].as_str().unwrap(), u["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("admin", "admin"),
            ("alice", "responder"),
            ("bob", "viewer")
        ]
    );

    // A token above bob's role is refused, saying how to raise it; raised, it works.
    let out = server.klaxon(&[
        "token",
        "create",
        "bob-ci",
        "--scope",
        "responder",
        "--user",
        "bob",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(
        err.contains("klaxon user update bob --role responder"),
        "{err}"
    );
    let out = server.ok(&["user", "update", "bob", "--role", "responder"]);
    assert!(out.contains("@bob is now a responder"), "{out}");
    server.ok(&[
        "token",
        "create",
        "bob-ci",
        "--scope",
        "responder",
        "--user",
        "bob",
    ]);

    let out = server.ok(&["user", "contact", "add", "alice", "sms", "+15551110001"]);
    assert!(out.contains("klaxon user contact verify alice 1"), "{out}");
    let out = server.ok(&["user", "contact", "verify", "alice", "1"]);
    assert!(
        out.contains("a code is on its way to +15551110001"),
        "{out}"
    );
    let code = last_code(&sent);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let out = server.klaxon(&["user", "contact", "verify", "alice", "1", "--code", wrong]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::stderr(&out).contains("not the code"),
        "{}",
        common::stderr(&out)
    );
    let out = server.ok(&["user", "contact", "verify", "alice", "1", "--code", &code]);
    assert!(
        out.contains("sms +15551110001 of @alice is verified"),
        "{out}"
    );
    let methods = server.json(&["user", "contact", "list", "alice", "--json"]);
    assert_eq!(methods[0]["verified"], true, "{methods}");
    assert!(methods[0]["verified_at"].is_string(), "{methods}");
}

/// Step 1 pages alice at once; step 2 pages bob a minute later. The server is killed
/// right after step 1; after the restart bob is paged a minute after alice, as planned.
#[test]
fn escalations_pending_at_a_crash_fire_on_time_after_the_restart() {
    let (twilio, sent) = fake_twilio();
    let server = Server::start_with(TempDir::new(), twilio_env(&twilio));
    for (user, phone) in [("alice", "+15551110001"), ("bob", "+15552220002")] {
        server.ok(&[
            "user",
            "create",
            user,
            "--name",
            user,
            "--email",
            &format!("{user}@example.com"),
        ]);
        server.ok(&["user", "contact", "add", user, "sms", phone]);
    }
    let policy = server.dir.0.join("policy.json");
    std::fs::write(
        &policy,
        r#"{"name": "api-oncall", "steps": [
            {"targets": [{"user": "alice"}], "delay_minutes": 1},
            {"targets": [{"user": "bob"}], "delay_minutes": 1}]}"#,
    )
    .unwrap();
    server.ok(&["escalation", "create", "--file", policy.to_str().unwrap()]);
    let created = server.json(&[
        "service",
        "create",
        "api",
        "--escalation-policy",
        "api-oncall",
        "--json",
    ]);
    let key = created["integration_key"].as_str().unwrap();
    let body = format!(
        r#"{{"routing_key":"{key}","event_action":"trigger","dedup_key":"api-5xx","payload":{{"summary":"API returning 502 errors","source":"lb-1","severity":"critical"}}}}"#
    );
    assert!(post_json(&server.url, "/v2/enqueue", &body).contains("202"));
    let deadline = Instant::now() + Duration::from_secs(15);
    let alice = loop {
        if let Some(at) = sms_to(&sent, "+15551110001") {
            break at;
        }
        assert!(
            Instant::now() < deadline,
            "step 1 never paged alice:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };

    let server = server.crash_and_restart();
    let deadline = alice + Duration::from_secs(90);
    let bob = loop {
        if let Some(at) = sms_to(&sent, "+15552220002") {
            break at;
        }
        assert!(
            Instant::now() < deadline,
            "step 2 never paged bob after the restart:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let after = bob.duration_since(alice);
    assert!(
        (Duration::from_secs(59)..Duration::from_secs(65)).contains(&after),
        "bob was paged {after:?} after alice; the step waits one minute"
    );
    // At least once, never lost: the kill may land between alice's SMS and its record,
    // and then that page is sent once more when its lease runs out. Never more.
    let alice_pages = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, to, _)| to == "+15551110001")
        .count();
    assert!(
        (1..=2).contains(&alice_pages),
        "step 1 paged alice {alice_pages} times"
    );
}
