//! Serving HTTP/1.1 connections so that no client can hold one for ever: deadlines for a
//! request's head, for its body and for a keep-alive connection's wait between requests,
//! a limit on how long a response may wait for the client to read it, and a cap on the
//! connections open at once. axum's own `serve` has none of these. hyper's header timeout
//! starts when a keep-alive connection goes idle, so it would cut idle connections at
//! the header timeout; the deadlines are kept here instead, around the socket (head,
//! idle, unread responses) and the request body (408).

use std::convert::Infallible;
use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

use crate::error::ApiError;

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
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        tokio::spawn(serve_connection(
            stream,
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
    request: Request<Incoming>,
) -> Result<Response<Answer>, Infallible> {
    let timed_out = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + body_timeout;
    let request = request.map(|body| BodyDeadline {
        body,
        deadline,
        timer: Timer::default(),
        timed_out: timed_out.clone(),
    });
    let Ok(mut response) = app.oneshot(request).await;
    if timed_out.load(Ordering::Relaxed) {
        response = body_too_slow(body_timeout);
    }
    Ok(response.map(|body| Answer { body, exchange, n }))
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

/// Where a connection is in its exchange, and so which deadline its reads have.
struct Exchange {
    limits: ConnectionLimits,
    inner: Mutex<Inner>,
}

struct Inner {
    state: State,
    /// Requests read so far; the last one's number.
    requests: u64,
    /// The connection's task, when a read waited while no deadline applied: hyper does
    /// not read again on its own after such a wait, so it must be woken for the idle
    /// deadline to start counting.
    reader: Option<Waker>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for a request's first byte until then.
    Idle(Instant),
    /// Reading a request's head until then.
    Head(Instant),
    /// Serving the request of this number: its body's deadline and the handler are in
    /// charge until the answer is sent.
    Busy(u64),
}

impl Exchange {
    fn new(limits: ConnectionLimits) -> Self {
        // A new connection is opened to send a request: its head is due at once.
        let state = State::Head(Instant::now() + limits.header_timeout);
        Self {
            limits,
            inner: Mutex::new(Inner {
                state,
                requests: 0,
                reader: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is plain values; a panic elsewhere cannot leave it half-written.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When the client must have sent what it is sending, if anything is due; if
    /// nothing is, `reader` is woken once something is.
    fn read_deadline(&self, reader: &Waker) -> Option<Instant> {
        let mut inner = self.lock();
        match inner.state {
            State::Idle(at) | State::Head(at) => Some(at),
            State::Busy(_) => {
                if !inner.reader.as_ref().is_some_and(|w| w.will_wake(reader)) {
                    inner.reader = Some(reader.clone());
                }
                None
            }
        }
    }

    /// Bytes arrived: on an idle connection, a request's head has begun.
    fn received(&self) {
        let mut inner = self.lock();
        if let State::Idle(_) = inner.state {
            inner.state = State::Head(Instant::now() + self.limits.header_timeout);
        }
    }

    /// A request's head is read; its number.
    fn request(&self) -> u64 {
        let mut inner = self.lock();
        inner.requests += 1;
        inner.state = State::Busy(inner.requests);
        inner.requests
    }

    /// The server is stopping: a request not yet (fully) sent is not waited for.
    fn stopping(&self) {
        let mut inner = self.lock();
        if let State::Idle(_) | State::Head(_) = inner.state {
            inner.state = State::Head(Instant::now());
        }
    }

    /// The answer to request `n` is sent: the connection waits for the next one.
    fn answered(&self, n: u64) {
        let reader = {
            let mut inner = self.lock();
            if inner.state != State::Busy(n) {
                return;
            }
            inner.state = State::Idle(Instant::now() + self.limits.idle_timeout);
            inner.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

/// A sleep armed for one deadline at a time, made when first needed (most reads and
/// writes never wait).
#[derive(Default)]
struct Timer(Option<(Instant, Pin<Box<Sleep>>)>);

impl Timer {
    /// Whether `deadline` has passed; if not, the task is woken when it does.
    fn expired(&mut self, deadline: Instant, cx: &mut Context<'_>) -> bool {
        let (armed, sleep) = self
            .0
            .get_or_insert_with(|| (deadline, Box::pin(tokio::time::sleep_until(deadline))));
        if *armed != deadline {
            sleep.as_mut().reset(deadline);
            *armed = deadline;
        }
        sleep.as_mut().poll(cx).is_ready()
    }
}

/// A socket whose reads fail once the connection's read deadline passes while it waits
/// for the client, and whose writes fail once they have made no progress for `stall`.
struct Deadlines<T> {
    io: T,
    exchange: Arc<Exchange>,
    read_timer: Timer,
    stall: Duration,
    stalled_since: Option<Instant>,
    write_timer: Timer,
}

impl<T> Deadlines<T> {
    fn new(io: T, exchange: Arc<Exchange>, stall: Duration) -> Self {
        Self {
            io,
            exchange,
            read_timer: Timer::default(),
            stall,
            stalled_since: None,
            write_timer: Timer::default(),
        }
    }

    fn write_progress<R>(
        &mut self,
        polled: Poll<io::Result<R>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<R>> {
        if polled.is_ready() {
            self.stalled_since = None;
            return polled;
        }
        let since = *self.stalled_since.get_or_insert_with(Instant::now);
        if self.write_timer.expired(since + self.stall, cx) {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading the response",
            )));
        }
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Deadlines<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.exchange.received();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.exchange.read_deadline(cx.waker()) {
                Some(deadline) if this.read_timer.expired(deadline, cx) => {
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client sent no request in time",
                    )))
                }
                _ => Poll::Pending,
            },
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Deadlines<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, data);
        this.write_progress(polled, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, data);
        this.write_progress(polled, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_flush(cx);
        this.write_progress(polled, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_shutdown(cx);
        this.write_progress(polled, cx)
    }
}

/// A request body that fails once its deadline passes while it waits for the client,
/// and says so in `timed_out`. The deadline is for the whole body, so a client trickling
/// a byte at a time cannot stretch it.
struct BodyDeadline {
    body: Incoming,
    deadline: Instant,
    timer: Timer,
    timed_out: Arc<AtomicBool>,
}

/// Why a request body ended early: it did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

impl hyper::body::Body for BodyDeadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Pending if this.timer.expired(this.deadline, cx) => {
                this.timed_out.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(BodyTimedOut.into())))
            }
            polled => polled.map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response body that tells the exchange when it is sent (hyper drops it then), so
/// the connection's idle deadline starts.
struct Answer {
    body: Body,
    exchange: Arc<Exchange>,
    n: u64,
}

impl hyper::body::Body for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.exchange.answered(self.n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn limits(ms: u64) -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_millis(ms),
            body_timeout: Duration::from_millis(ms),
            idle_timeout: Duration::from_millis(ms),
            max_connections: 1,
        }
    }

    #[tokio::test]
    async fn a_response_the_client_does_not_read_fails_after_the_stall_limit() {
        let (server, client) = tokio::io::duplex(64);
        let exchange = Arc::new(Exchange::new(limits(100)));
        exchange.request();
        let mut io = Deadlines::new(server, exchange, Duration::from_millis(100));
        let written = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Err(e) = io.write_all(&[b'x'; 1024]).await {
                    return e;
                }
            }
        })
        .await
        .expect("the write fails instead of waiting for ever");
        assert_eq!(written.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }

    #[tokio::test]
    async fn a_response_the_client_reads_slowly_is_written_in_full() {
        let (server, mut client) = tokio::io::duplex(64);
        let exchange = Arc::new(Exchange::new(limits(200)));
        exchange.request();
        let mut io = Deadlines::new(server, exchange, Duration::from_millis(200));
        let reader = tokio::spawn(async move {
            let mut total = 0;
            let mut buf = [0; 64];
            while total < 4096 {
                // Each read is well within the stall limit, the whole far beyond it.
                tokio::time::sleep(Duration::from_millis(5)).await;
                total += client.read(&mut buf).await.unwrap();
            }
            total
        });
        io.write_all(&[b'x'; 4096]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 4096);
    }

    #[tokio::test]
    async fn an_idle_connection_gets_the_idle_deadline_and_a_request_the_header_one() {
        let limits = ConnectionLimits {
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(60),
            ..ConnectionLimits::default()
        };
        let exchange = Exchange::new(limits);
        let fresh = exchange.read_deadline(Waker::noop()).unwrap();
        assert!(fresh <= Instant::now() + limits.header_timeout);
        let n = exchange.request();
        assert_eq!(
            exchange.read_deadline(Waker::noop()),
            None,
            "a request in flight"
        );
        exchange.answered(n);
        let idle = exchange.read_deadline(Waker::noop()).unwrap();
        assert!(idle > Instant::now() + Duration::from_secs(30), "{idle:?}");
        exchange.received();
        let head = exchange.read_deadline(Waker::noop()).unwrap();
        assert!(head <= Instant::now() + limits.header_timeout);
        // A later byte of the same head does not move its deadline.
        exchange.received();
        assert_eq!(exchange.read_deadline(Waker::noop()), Some(head));
        // An answer to an earlier request does not make a newer one idle.
        let m = exchange.request();
        exchange.answered(n);
        assert_eq!(exchange.read_deadline(Waker::noop()), None);
        exchange.answered(m);
        assert!(exchange.read_deadline(Waker::noop()).is_some());
    }

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
