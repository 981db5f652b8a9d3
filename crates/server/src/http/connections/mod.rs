//! Serving HTTP/1.1 connections so that no client can hold one for ever: deadlines for a
//! request's head, for its body and for a keep-alive connection's wait between requests,
//! a limit on how long a response may wait for the client to read it, and a cap on the
//! connections open at once. axum's own `serve` has none of these. hyper's header timeout
//! starts when a keep-alive connection goes idle, so it would cut idle connections at
//! the header timeout; the deadlines are kept here instead, around the socket (head,
//! idle, unread responses) and the request body (408).

mod deadlines;

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt as _;

use crate::http::error::ApiError;
use deadlines::{Answer, BodyDeadline, Deadlines, Exchange};

/// How long a client may take, and how many connections may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a connection's opening, or a request's first byte, to the end of its head;
    /// past it the connection is closed.
    pub header_timeout: Duration,
    /// From the end of a request's head to the end of its body; past it the request is
    /// answered 408 and the connection closed.
    pub body_timeout: Duration,
    /// How long a keep-alive connection may wait for its next request, and how long a
    /// response may wait for the client to read any of it; past it the connection is
    /// closed.
    pub idle_timeout: Duration,
    /// Connections open at once; further ones wait to be accepted until one closes.
    pub max_connections: u32,
}

/// The default [`ConnectionLimits::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The default [`ConnectionLimits::body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`ConnectionLimits::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The default [`ConnectionLimits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10_000;

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl ConnectionLimits {
    /// Why these limits cannot be served with, if they cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (name, timeout) in [
            ("header", self.header_timeout),
            ("body", self.body_timeout),
            ("idle", self.idle_timeout),
        ] {
            if timeout.is_zero() {
                return Err(format!("the {name} timeout must be more than zero"));
            }
        }
        if self.max_connections == 0 {
            return Err("the connection cap must be at least 1".into());
        }
        if self.max_connections as usize > Semaphore::MAX_PERMITS {
            return Err(format!(
                "the connection cap must be at most {}",
                Semaphore::MAX_PERMITS
            ));
        }
        Ok(())
    }
}

/// Connections the kernel may hold for the server to accept: the standard library's 128
/// is soon full when many clients connect at once, or while the cap is reached, and then
/// clients wait a second or more to retry their connection. The kernel lowers it to its
/// `somaxconn` where that is smaller.
const LISTEN_BACKLOG: u32 = 1024;

/// A listener on `addr` with a [`LISTEN_BACKLOG`] queue.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As the standard library's bind does: a restart may reuse the port at once.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Accepts and serves connections until `stop` turns true (or its sender is dropped),
/// then closes idle connections, lets each request in flight finish, and returns once
/// every connection is closed.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    // A connection holds a slot until it closes: the cap, and what shutdown waits for.
    let slots = Arc::new(Semaphore::new(limits.max_connections as usize));
    let mut warned_full: Option<Instant> = None;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if warned_full.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "{} connections are open, the most allowed (--max-connections); \
                         new connections wait until one closes",
                        limits.max_connections
                    );
                    warned_full = Some(Instant::now());
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => {
                        slot.expect("the connection semaphore is never closed")
                    }
                    () = stopped(&mut stop) => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        tokio::spawn(serve_connection(
            stream,
            peer,
            app.clone(),
            limits,
            stop.clone(),
            slot,
        ));
    }
    drop(listener);
    let _all = slots.acquire_many(limits.max_connections).await;
    Ok(())
}

/// Resolves once the server is told to stop, or its [`crate::RunningServer`] is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|&stop| stop).await;
}

/// After a failed accept: a connection reset before it was accepted is the client's
/// business; anything else (out of file descriptors, most often) waits a second for
/// connections to close rather than spinning.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("cannot accept a connection: {e}; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let exchange = Arc::new(Exchange::new(limits));
    let io = TokioIo::new(Deadlines::new(
        stream,
        exchange.clone(),
        limits.idle_timeout,
    ));
    let service = {
        let exchange = exchange.clone();
        hyper::service::service_fn(move |request| {
            let n = exchange.request();
            handle(
                app.clone(),
                exchange.clone(),
                n,
                limits.body_timeout,
                peer,
                request,
            )
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        // The head's deadline is kept by `Deadlines`, which tells idle from slow.
        .header_read_timeout(None)
        .serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stopped(&mut stop) => {
            exchange.stopping();
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("connection closed: {e}");
    }
}

/// One request: its body gets its deadline, and a body that missed it is answered 408
/// whatever the handler made of the broken body.
async fn handle(
    app: Router,
    exchange: Arc<Exchange>,
    n: u64,
    body_timeout: Duration,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Response<Answer>, Infallible> {
    // Handlers that need the client's address (sign-in limits) read it as `ConnectInfo`.
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    let timed_out = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + body_timeout;
    let request = request.map(|body| BodyDeadline::new(body, deadline, timed_out.clone()));
    let Ok(mut response) = app.oneshot(request).await;
    if timed_out.load(Ordering::Relaxed) {
        response = body_too_slow(body_timeout);
    }
    Ok(response.map(|body| Answer::new(body, exchange, n)))
}

fn body_too_slow(limit: Duration) -> Response<Body> {
    let mut response = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request body did not arrive within {limit:?} of its headers; \
             send it in one go (the server's --body-timeout)"
        ),
    )
    .into_response();
    // The rest of the body may still be on its way: this connection carries no more.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_of_zero_are_refused() {
        assert!(ConnectionLimits::default().check().is_ok());
        let zero = ConnectionLimits {
            body_timeout: Duration::ZERO,
            ..ConnectionLimits::default()
        };
        assert_eq!(
            zero.check().unwrap_err(),
            "the body timeout must be more than zero"
        );
        let none = ConnectionLimits {
            max_connections: 0,
            ..ConnectionLimits::default()
        };
        assert!(none.check().unwrap_err().contains("at least 1"));
    }
}
