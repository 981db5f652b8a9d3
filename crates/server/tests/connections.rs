//! No client can hold a connection for ever: slow heads are closed, slow bodies answered
//! 408, idle keep-alive connections closed, connections past the cap wait, and thousands
//! of idle or slow connections leave `/healthz` and `/v2/enqueue` answering. Raw sockets,
//! to send exactly as much of a request as each test needs.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{spawn_sqlite, Settings, TestApp};
use klaxon_server::ConnectionLimits;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

/// Longer than any deadline a test sets: a connection still open after it never closes.
const PATIENCE: Duration = Duration::from_secs(10);

async fn spawn_with(limits: ConnectionLimits) -> TestApp {
    spawn_sqlite(Settings {
        connections: limits,
        ..Settings::default()
    })
    .await
}

fn addr(app: &TestApp) -> SocketAddr {
    app.server.as_ref().expect("a running server").addr
}

/// Reads until the server closes the connection; what it sent before, or a panic when it
/// keeps the connection open past [`PATIENCE`].
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = timeout(PATIENCE, async {
        let mut buf = [0; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&received).into_owned();
    assert!(
        read.is_ok(),
        "the server kept the connection open for {PATIENCE:?}; it sent: {text:?}"
    );
    text
}

/// Reads one response (head and a Content-Length body) off a keep-alive connection.
async fn response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    timeout(PATIENCE, async {
        let mut buf = [0; 4096];
        loop {
            let text = String::from_utf8_lossy(&received).to_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |n| n.trim().parse::<usize>().unwrap());
                if received.len() >= end + 4 + length {
                    return;
                }
            }
            let n = stream
                .read(&mut buf)
                .await
                .expect("the connection stays up");
            assert!(n > 0, "closed mid-response: {text:?}");
            received.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a response within the patience");
    String::from_utf8(received).unwrap()
}

async fn get_healthz(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: klaxon\r\n\r\n")
        .await
        .unwrap();
    response(stream).await
}

#[tokio::test]
async fn a_client_that_sends_half_a_head_is_closed_after_the_header_timeout() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    };
    let app = spawn_with(limits).await;
    let mut half = TcpStream::connect(addr(&app)).await.unwrap();
    let mut silent = TcpStream::connect(addr(&app)).await.unwrap();
    let start = Instant::now();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: klaxon\r\nAccept: */*")
        .await
        .unwrap();
    assert_eq!(
        until_closed(&mut half).await,
        "",
        "closed without an answer"
    );
    assert!(start.elapsed() >= limits.header_timeout);
    // A connection that never sends a byte has the same deadline.
    assert_eq!(until_closed(&mut silent).await, "");
    // The server itself is fine.
    let mut next = TcpStream::connect(addr(&app)).await.unwrap();
    assert!(get_healthz(&mut next).await.starts_with("HTTP/1.1 200"));
    app.cleanup().await;
}

/// The head of an event for `/v2/enqueue` promising `length` bytes of body.
fn enqueue_head(length: usize) -> String {
    format!(
        "POST /v2/enqueue HTTP/1.1\r\nHost: klaxon\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

fn event(key: &str) -> String {
    json!({"routing_key": key, "event_action": "trigger", "dedup_key": "slow",
        "payload": {"summary": "disk full", "source": "db-1", "severity": "error"}})
    .to_string()
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408_and_stores_nothing() {
    let limits = ConnectionLimits {
        body_timeout: Duration::from_millis(500),
        ..ConnectionLimits::default()
    };
    let app = spawn_with(limits).await;
    let key = app.service_key("api").await;
    let body = event(&key);
    let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
    let start = Instant::now();
    stream
        .write_all(enqueue_head(body.len()).as_bytes())
        .await
        .unwrap();
    stream.write_all(&body.as_bytes()[..20]).await.unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("--body-timeout"), "{answer}");
    assert!(start.elapsed() >= limits.body_timeout);
    app.settle().await;
    assert!(app
        .admin
        .alerts(&Default::default())
        .await
        .unwrap()
        .alerts
        .is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_has_one_deadline_for_all_of_it() {
    let limits = ConnectionLimits {
        body_timeout: Duration::from_millis(500),
        ..ConnectionLimits::default()
    };
    let app = spawn_with(limits).await;
    let key = app.service_key("api").await;
    let body = event(&key);
    let stream = TcpStream::connect(addr(&app)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(enqueue_head(body.len()).as_bytes())
        .await
        .unwrap();
    // A byte every 50 ms: each far within the timeout, the whole body (~8 s) far beyond.
    let trickle = tokio::spawn(async move {
        for byte in body.into_bytes() {
            if write.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut answer = vec![0; 16];
    timeout(PATIENCE, read.read_exact(&mut answer))
        .await
        .expect("answered before the body is all sent")
        .unwrap();
    assert_eq!(&answer[..12], b"HTTP/1.1 408");
    trickle.abort();
    app.cleanup().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_one() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(1500),
        ..ConnectionLimits::default()
    };
    let app = spawn_with(limits).await;
    let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
    assert!(get_healthz(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Idle past the header timeout: still open, and the next request is served.
    tokio::time::sleep(limits.header_timeout * 2).await;
    assert!(get_healthz(&mut stream).await.starts_with("HTTP/1.1 200"));
    let idle_since = Instant::now();
    assert_eq!(until_closed(&mut stream).await, "");
    assert!(idle_since.elapsed() >= limits.idle_timeout);
    app.cleanup().await;
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    let limits = ConnectionLimits {
        max_connections: 3,
        ..ConnectionLimits::default()
    };
    let app = spawn_with(limits).await;
    let mut held = Vec::new();
    for _ in 0..limits.max_connections {
        let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
        assert!(get_healthz(&mut stream).await.starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    let mut waiting = TcpStream::connect(addr(&app)).await.unwrap();
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: klaxon\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0; 1];
    assert!(
        timeout(Duration::from_millis(500), waiting.read(&mut byte))
            .await
            .is_err(),
        "a connection past the cap was served"
    );
    drop(held.pop());
    assert!(response(&mut waiting).await.starts_with("HTTP/1.1 200"));
    drop(held);
    app.cleanup().await;
}

#[tokio::test]
async fn stopping_closes_idle_and_half_sent_connections_at_once() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        ..ConnectionLimits::default()
    };
    let mut app = spawn_with(limits).await;
    let mut idle = TcpStream::connect(addr(&app)).await.unwrap();
    assert!(get_healthz(&mut idle).await.starts_with("HTTP/1.1 200"));
    let mut half = TcpStream::connect(addr(&app)).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let silent = TcpStream::connect(addr(&app)).await.unwrap();
    // Let the server accept them before it is told to stop.
    let mut probe = TcpStream::connect(addr(&app)).await.unwrap();
    assert!(get_healthz(&mut probe).await.starts_with("HTTP/1.1 200"));
    let server = app.server.take().unwrap();
    timeout(PATIENCE, server.stop())
        .await
        .expect("stop does not wait for the 60 s timeouts")
        .unwrap();
    assert_eq!(until_closed(&mut idle).await, "");
    assert_eq!(until_closed(&mut half).await, "");
    drop(silent);
    app.cleanup().await;
}

/// Lets this process open `needed` more files, or says why it cannot.
fn open_files_for(needed: u64) {
    let limit = rlimit::increase_nofile_limit(u64::MAX).expect("the open-file limit can be read");
    assert!(
        limit >= needed,
        "this test opens {needed} sockets but the open-file hard limit is {limit}; \
         raise it (ulimit -Hn) to run it"
    );
}

#[tokio::test]
async fn thousands_of_idle_and_slow_connections_leave_healthz_and_enqueue_answering() {
    const IDLE: usize = 2_000;
    const SLOW: usize = 200;
    // Both ends of every connection live in this process.
    open_files_for(2 * (IDLE + SLOW) as u64 + 256);
    let app = spawn_with(ConnectionLimits::default()).await;
    let key = app.service_key("api").await;
    let addr = addr(&app);
    // Idle keep-alive connections, each served once so the server surely holds it.
    let mut opening = tokio::task::JoinSet::new();
    for _ in 0..IDLE {
        opening.spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            assert!(get_healthz(&mut stream).await.starts_with("HTTP/1.1 200"));
            stream
        });
    }
    let mut held = opening.join_all().await;
    // Slow ones: half a head each, the rest never sent.
    for _ in 0..SLOW {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /v2/enqueue HTTP/1.1\r\nHost: klaxon\r\nContent-")
            .await
            .unwrap();
        held.push(stream);
    }
    // A deadline about liveness, not speed: they would wait for ever if starved.
    let deadline = Duration::from_secs(5);
    let client = reqwest::Client::new();
    let health = timeout(deadline, client.get(format!("{}/healthz", app.url)).send())
        .await
        .expect("/healthz answers")
        .unwrap();
    assert_eq!(health.status(), 200);
    let enqueued = timeout(
        deadline,
        client
            .post(format!("{}/v2/enqueue", app.url))
            .header("content-type", "application/json")
            .body(event(&key))
            .send(),
    )
    .await
    .expect("/v2/enqueue answers")
    .unwrap();
    assert_eq!(enqueued.status(), 202);
    // The idle connections are still open: the server did not shed them to answer.
    let mut first = held.swap_remove(0);
    assert!(get_healthz(&mut first).await.starts_with("HTTP/1.1 200"));
    drop(held);
    // The event opened an incident: its announcement and escalation run.
    app.settle().await;
    app.run_jobs().await;
    app.cleanup().await;
}
