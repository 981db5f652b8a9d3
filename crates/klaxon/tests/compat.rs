//! Other tools against a real `klaxon serve`: PagerDuty's official Python client
//! (`pip install pagerduty`) and a real Prometheus Alertmanager (Debian package
//! `prometheus-alertmanager`). Each is skipped where the tool is not installed, except
//! under CI, which installs them.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "klx_compat_test_bootstrap_token_0123456789";

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn pagerdutys_python_client_triggers_acknowledges_and_resolves() {
    if !python_has("pagerduty") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install the pagerduty Python package"
        );
        eprintln!("skipping: `pip install pagerduty` to run this test");
        return;
    }
    let dir = std::env::temp_dir().join(format!("klaxon-compat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (klaxon, addr) = start_klaxon(&dir);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/compat/pagerduty_client.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .env("KLAXON_URL", format!("http://{addr}"))
        .env("KLAXON_TOKEN", TOKEN)
        .output()
        .unwrap();
    drop(klaxon);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(addr: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed on drop, with its directory removed.
struct Running(Child, PathBuf);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn klaxon(addr: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .args(args)
        .env("KLAXON_URL", format!("http://{addr}"))
        .env("KLAXON_TOKEN", TOKEN)
        .output()
        .unwrap()
}

fn klaxon_json(addr: &str, args: &[&str]) -> serde_json::Value {
    let out = klaxon(addr, args);
    assert!(
        out.status.success(),
        "klaxon {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// POSTs JSON over a plain socket; returns the status line.
fn post_json(addr: &str, path: &str, body: &str) -> String {
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

/// Polls `check` for up to `secs` seconds.
fn eventually(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn start_klaxon(dir: &Path) -> (Running, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .args(["serve", "--listen", &addr, "--data-dir"])
        .arg(dir.join("klaxon"))
        .env("KLAXON_BOOTSTRAP_TOKEN", TOKEN)
        .env("KLAXON_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(&addr, "klaxon serve");
    (Running(child, dir.to_owned()), addr)
}

/// A real Alertmanager with a `webhook_configs` receiver pointing at Klaxon: an alert
/// pushed into it becomes a Klaxon alert and incident, and its end resolves the alert.
#[test]
fn a_real_alertmanager_opens_and_resolves_alerts() {
    let Some(alertmanager) = ["prometheus-alertmanager", "alertmanager"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install prometheus-alertmanager"
        );
        eprintln!("skipping: install prometheus-alertmanager to run this test");
        return;
    };
    let dir = std::env::temp_dir().join(format!("klaxon-am-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (_klaxon, addr) = start_klaxon(&dir);
    let service = klaxon_json(&addr, &["service", "create", "prometheus", "--json"]);
    let key = service["integration_key"].as_str().unwrap();

    let config = format!(
        "route:\n  receiver: klaxon\n  group_by: ['alertname']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
         receivers:\n  - name: klaxon\n    webhook_configs:\n      - url: http://{addr}/ingest/alertmanager/{key}\n        send_resolved: true\n"
    );
    std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
    let am_addr = format!("127.0.0.1:{}", free_port());
    let am = Command::new(alertmanager)
        .arg(format!(
            "--config.file={}",
            dir.join("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address={am_addr}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _am = Running(am, dir.join("am-data"));
    wait_for_port(&am_addr, "alertmanager");

    let alert = |ends: &str| {
        format!(
            r#"[{{"labels": {{"alertname": "InstanceDown", "instance": "db1:9100", "severity": "critical"}},
                 "annotations": {{"summary": "db1 is down"}}, "endsAt": "{ends}"}}]"#
        )
    };
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    let status = post_json(&am_addr, "/api/v2/alerts", &alert(&later.to_string()));
    assert!(
        status.contains("200"),
        "alertmanager refused the alert: {status}"
    );
    eventually(
        30,
        "Klaxon has an incident from Alertmanager's webhook",
        || {
            let list = klaxon_json(&addr, &["incident", "list", "--json"]);
            list["incidents"]
                .as_array()
                .is_some_and(|i| i.len() == 1 && i[0]["alert_count"] == 1)
        },
    );
    let incident = klaxon_json(&addr, &["incident", "show", "1", "--json"]);
    assert_eq!(incident["title"], "db1 is down");
    assert_eq!(incident["severity"], 2);

    let now = jiff::Timestamp::now();
    post_json(&am_addr, "/api/v2/alerts", &alert(&now.to_string()));
    eventually(30, "the resolved alert reaches Klaxon", || {
        let shown = klaxon_json(&addr, &["incident", "show", "1", "--json"]);
        shown["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["text"].as_str().is_some_and(|t| t.contains("All alerts")))
    });
}
