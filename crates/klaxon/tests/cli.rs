//! The `klaxon` binary end to end: each test starts `klaxon serve` on a free port with a
//! fresh data directory, drives it through the CLI as a person would, and checks what
//! the CLI prints and how it exits.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_klaxon");
const TOKEN: &str = "klx_cli_test_bootstrap_token_0123456789";

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("klaxon-cli-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `klaxon serve` in the background, killed when dropped.
struct Server {
    child: Child,
    url: String,
    dir: TempDir,
}

impl Server {
    fn start() -> Server {
        Server::start_in(TempDir::new())
    }

    /// Starts `klaxon serve` on the data under `dir`.
    fn start_in(dir: TempDir) -> Server {
        let addr = format!("127.0.0.1:{}", free_port());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.0.join("serve.log"))
            .unwrap();
        let child = klaxon_command()
            .args(["serve", "--data-dir"])
            .arg(dir.0.join("data"))
            .args(["--listen", &addr])
            .env("KLAXON_BOOTSTRAP_TOKEN", TOKEN)
            .env("KLAXON_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("klaxon serve starts");
        let mut server = Server {
            child,
            url: format!("http://{addr}"),
            dir,
        };
        server.wait_until_healthy(&addr);
        server
    }

    fn wait_until_healthy(&mut self, addr: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("klaxon serve exited with {status}:\n{}", self.log());
            }
            if healthz(addr) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "klaxon serve did not answer /healthz within 10 s:\n{}",
            self.log()
        );
    }

    /// Kills the server with SIGKILL, as a crash would, and starts it again on the same data.
    fn crash_and_restart(mut self) -> Server {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let dir = std::mem::replace(&mut self.dir, TempDir(PathBuf::new()));
        drop(self);
        Server::start_in(dir)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("serve.log")).unwrap_or_default()
    }

    /// Runs `klaxon ARGS` against this server with the bootstrap admin token.
    fn klaxon(&self, args: &[&str]) -> Output {
        klaxon_command()
            .args(args)
            .env("KLAXON_URL", &self.url)
            .env("KLAXON_TOKEN", TOKEN)
            .output()
            .unwrap()
    }

    /// Runs `klaxon ARGS` and insists that it succeeds; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.klaxon(args);
        assert!(
            out.status.success(),
            "klaxon {args:?} failed with {}:\nstdout: {}\nstderr: {}\nserver log:\n{}",
            out.status,
            stdout(&out),
            stderr(&out),
            self.log()
        );
        stdout(&out)
    }

    fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary with no Klaxon settings inherited from the environment running the tests.
fn klaxon_command() -> Command {
    let mut c = Command::new(BIN);
    for var in [
        "KLAXON_URL",
        "KLAXON_TOKEN",
        "KLAXON_DATABASE_URL",
        "KLAXON_LISTEN",
        "KLAXON_POLICY",
        "KLAXON_PUBLIC_URL",
        "KLAXON_BOOTSTRAP_TOKEN",
    ] {
        c.env_remove(var);
    }
    c.stdin(Stdio::null());
    c
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `GET /healthz` answers 200; plain HTTP/1.1 over a socket, to need no client.
fn healthz(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn at(v: &Value) -> Timestamp {
    v.as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {v}"))
        .parse()
        .unwrap()
}

#[test]
fn the_readme_tour_through_the_cli() {
    let server = Server::start();
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
    let types: Vec<&str> = timeline
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "declared",
            "acknowledged",
            "role_assigned",
            "status_updated",
            "status_updated",
            "mitigated",
            "resolved"
        ]
    );
    assert!(
        timeline.iter().all(|e| e["source"] == "cli"),
        "{timeline:?}"
    );
    assert!(
        timeline.iter().all(|e| e["actor"] == "admin"),
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
    let dir = std::mem::replace(&mut server.dir, TempDir(PathBuf::new()));
    drop(server);
    let server = Server::start_in(dir);
    let shown = server.json(&["incident", "show", "1", "--json"]);
    assert_eq!(shown["title"], "before shutdown");
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

/// POSTs JSON over a plain socket (the tests need no HTTP client); returns the status line.
fn post_json(url: &str, path: &str, body: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
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
    let listed = server.json(&["alert", "list", "--service", "db", "--json"]);
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
    let alerts = server.json(&["alert", "list", "--json"]);
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
    let listed = server.json(&[
        "alert",
        "list",
        "--service",
        "burst",
        "--limit",
        "200",
        "--json",
    ]);
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

/// Like [`post_json`], but `None` when the server cannot be reached or hangs up.
fn try_post_json(url: &str, path: &str, body: &str) -> Option<String> {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.lines().next().map(str::to_owned)
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
    let alerts = server.json(&["alert", "list", "--json"]);
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
