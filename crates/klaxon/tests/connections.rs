//! `klaxon serve` raises its open-file limit at start: under the common soft limit of
//! 1,024 a few thousand idle connections would use every file it may open, and
//! `/healthz` could not even be accepted.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::{klaxon_command_after, Server, TempDir};

#[test]
fn two_thousand_idle_connections_under_a_low_soft_limit_leave_healthz_answering() {
    const IDLE: usize = 2_000;
    let limit = rlimit::increase_nofile_limit(u64::MAX).expect("the open-file limit can be read");
    assert!(
        limit >= IDLE as u64 + 256,
        "this test opens {IDLE} sockets but the open-file hard limit is {limit}; \
         raise it (ulimit -Hn) to run it"
    );
    let server = Server::start_using(
        TempDir::new(),
        vec![("KLAXON_LOG".into(), "info".into())],
        klaxon_command_after("ulimit -Sn 1024"),
    );
    assert!(
        server.log().contains("open-file limit: "),
        "{}",
        server.log()
    );
    let addr: SocketAddr = server.url.strip_prefix("http://").unwrap().parse().unwrap();
    // A deadline about liveness, not speed: a starved server never answers.
    let patience = Duration::from_secs(5);
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|i| {
            TcpStream::connect_timeout(&addr, patience).unwrap_or_else(|e| {
                panic!(
                    "connection {i} of {IDLE} was not taken: {e}\n{}",
                    server.log()
                )
            })
        })
        .collect();
    let mut stream = TcpStream::connect_timeout(&addr, patience).expect("/healthz connects");
    stream.set_read_timeout(Some(patience)).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: klaxon\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let read = stream.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "/healthz with {IDLE} idle connections open: {read:?} {answer:?}\n{}",
        server.log()
    );
    drop(idle);
}

#[test]
fn the_connection_settings_reach_the_server() {
    let server = Server::start_with(
        TempDir::new(),
        vec![("KLAXON_HEADER_TIMEOUT".into(), "1".into())],
    );
    let addr: SocketAddr = server.url.strip_prefix("http://").unwrap().parse().unwrap();
    let mut silent = TcpStream::connect(addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    // Closed after the second (an error here means it was still open after ten).
    silent
        .read_to_end(&mut rest)
        .expect("a silent connection is closed after --header-timeout");
    assert!(rest.is_empty());
}

#[test]
fn connection_settings_of_zero_are_refused() {
    for flag in [
        "--header-timeout",
        "--body-timeout",
        "--idle-timeout",
        "--max-connections",
    ] {
        let out = common::klaxon_command()
            .args(["serve", flag, "0"])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} 0 was accepted");
        let stderr = common::stderr(&out);
        assert!(stderr.contains(flag) && stderr.contains("'0'"), "{stderr}");
    }
}

#[test]
fn the_server_uses_the_workers_it_is_given() {
    let given = Server::start_with(TempDir::new(), vec![("KLAXON_LOG".into(), "info".into())]);
    let cores = std::thread::available_parallelism().unwrap().get();
    assert!(
        given.log().contains(&format!("worker threads: {cores}")),
        "one worker per core by default ({cores}):\n{}",
        given.log()
    );
    drop(given);
    let by_env = Server::start_with(
        TempDir::new(),
        vec![
            ("KLAXON_LOG".into(), "info".into()),
            ("TOKIO_WORKER_THREADS".into(), "3".into()),
        ],
    );
    assert!(
        by_env.log().contains("worker threads: 3"),
        "{}",
        by_env.log()
    );
    drop(by_env);
    let by_flag = Server::start_serving(
        TempDir::new(),
        vec![
            ("KLAXON_LOG".into(), "info".into()),
            ("TOKIO_WORKER_THREADS".into(), "3".into()),
        ],
        common::klaxon_command(),
        &["--workers", "5"],
    );
    assert!(
        by_flag.log().contains("worker threads: 5"),
        "{}",
        by_flag.log()
    );
}

#[test]
fn zero_workers_are_refused() {
    let out = common::klaxon_command()
        .args(["serve", "--workers", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "--workers 0 was accepted");
    let stderr = common::stderr(&out);
    assert!(
        stderr.contains("--workers") && stderr.contains("'0'"),
        "{stderr}"
    );
}
