//! The harness of the CLI tests: `klaxon serve` in the background on a fresh data
//! directory, and the real binary driven against it.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_klaxon");
pub const TOKEN: &str = "klx_cli_test_bootstrap_token_0123456789";

/// A fresh directory under the system's temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
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
pub struct Server {
    pub child: Child,
    pub url: String,
    pub dir: TempDir,
    /// Settings the server is started (and restarted) with.
    pub env: Vec<(String, String)>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_in(TempDir::new())
    }

    /// Starts `klaxon serve` on the data under `dir`.
    pub fn start_in(dir: TempDir) -> Server {
        Server::start_with(dir, Vec::new())
    }

    /// Starts `klaxon serve` on the data under `dir` with these environment settings.
    pub fn start_with(dir: TempDir, env: Vec<(String, String)>) -> Server {
        Server::start_using(dir, env, klaxon_command())
    }

    /// Starts `command` (`klaxon`, perhaps behind a shell) as `klaxon serve`.
    pub fn start_using(dir: TempDir, env: Vec<(String, String)>, command: Command) -> Server {
        Server::start_serving(dir, env, command, &[])
    }

    /// [`Server::start_using`], with more flags for `klaxon serve`.
    pub fn start_serving(
        dir: TempDir,
        env: Vec<(String, String)>,
        mut command: Command,
        flags: &[&str],
    ) -> Server {
        let addr = format!("127.0.0.1:{}", free_port());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.0.join("serve.log"))
            .unwrap();
        let child = command
            .args(["serve", "--data-dir"])
            .arg(dir.0.join("data"))
            .args(["--listen", &addr])
            .args(flags)
            .env("KLAXON_BOOTSTRAP_TOKEN", TOKEN)
            .env("KLAXON_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("klaxon serve starts");
        let mut server = Server {
            child,
            url: format!("http://{addr}"),
            dir,
            env,
        };
        server.wait_until_healthy(&addr);
        server
    }

    pub fn wait_until_healthy(&mut self, addr: &str) {
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
    pub fn crash_and_restart(mut self) -> Server {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let dir = std::mem::replace(&mut self.dir, TempDir(PathBuf::new()));
        let env = std::mem::take(&mut self.env);
        drop(self);
        Server::start_with(dir, env)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("serve.log")).unwrap_or_default()
    }

    /// Runs `klaxon ARGS` against this server with the bootstrap admin token.
    pub fn klaxon(&self, args: &[&str]) -> Output {
        klaxon_command()
            .args(args)
            .env("KLAXON_URL", &self.url)
            .env("KLAXON_TOKEN", TOKEN)
            .output()
            .unwrap()
    }

    /// Runs `klaxon ARGS` and insists that it succeeds; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
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

    pub fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
    }

    /// Runs `klaxon ARGS` (which must print JSON) until `check` accepts its answer, for
    /// up to 15 seconds: accepted alert events are applied a moment after the 202.
    pub fn json_when(&self, args: &[&str], what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let answer = self.json(args);
            if check(&answer) {
                return answer;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting until {what}; last answer: {answer}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary with no Klaxon settings inherited from the environment running the tests.
pub fn klaxon_command() -> Command {
    without_klaxon_env(Command::new(BIN))
}

/// `klaxon` run by `sh` after the shell commands in `prelude` (e.g. `ulimit -Sn 1024`).
pub fn klaxon_command_after(prelude: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("{prelude} && exec \"$0\" \"$@\""))
        .arg(BIN);
    without_klaxon_env(c)
}

fn without_klaxon_env(mut c: Command) -> Command {
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

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `GET /healthz` answers 200; plain HTTP/1.1 over a socket, to need no client.
pub fn healthz(addr: &str) -> bool {
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

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn at(v: &Value) -> Timestamp {
    v.as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {v}"))
        .parse()
        .unwrap()
}

/// POSTs JSON over a plain socket (the tests need no HTTP client); returns the status line.
pub fn post_json(url: &str, path: &str, body: &str) -> String {
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

/// Like [`post_json`], but `None` when the server cannot be reached or hangs up.
pub fn try_post_json(url: &str, path: &str, body: &str) -> Option<String> {
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
