//! Other tools' own clients against a real `klaxon serve`: PagerDuty's official Python
//! client (`pip install pagerduty`). Skipped where the client is not installed, except
//! under CI, which installs it.

use std::net::TcpListener;
use std::process::{Command, Stdio};
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
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .args(["serve", "--listen", &addr, "--data-dir"])
        .arg(&dir)
        .env("KLAXON_BOOTSTRAP_TOKEN", TOKEN)
        .env("KLAXON_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "klaxon serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
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
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
