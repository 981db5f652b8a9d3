//! The deadlines of one connection: where it is in its exchange (waiting for a request,
//! reading a head, serving a request), the socket that fails its reads once the
//! exchange's deadline passes and its writes once they stall, and the request body that
//! fails once its own deadline passes.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::body::{Body, Bytes};
use hyper::body::{Frame, Incoming, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::ConnectionLimits;
/// Where a connection is in its exchange, and so which deadline its reads have.
pub(super) struct Exchange {
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
    pub(super) fn new(limits: ConnectionLimits) -> Self {
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
    pub(super) fn request(&self) -> u64 {
        let mut inner = self.lock();
        inner.requests += 1;
        inner.state = State::Busy(inner.requests);
        inner.requests
    }

    /// The server is stopping: a request not yet (fully) sent is not waited for.
    pub(super) fn stopping(&self) {
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
pub(super) struct Deadlines<T> {
    io: T,
    exchange: Arc<Exchange>,
    read_timer: Timer,
    stall: Duration,
    stalled_since: Option<Instant>,
    write_timer: Timer,
}

impl<T> Deadlines<T> {
    pub(super) fn new(io: T, exchange: Arc<Exchange>, stall: Duration) -> Self {
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
pub(super) struct BodyDeadline {
    body: Incoming,
    deadline: Instant,
    timer: Timer,
    timed_out: Arc<AtomicBool>,
}

impl BodyDeadline {
    pub(super) fn new(body: Incoming, deadline: Instant, timed_out: Arc<AtomicBool>) -> Self {
        Self {
            body,
            deadline,
            timer: Timer::default(),
            timed_out,
        }
    }
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
pub(super) struct Answer {
    body: Body,
    exchange: Arc<Exchange>,
    n: u64,
}

impl Answer {
    pub(super) fn new(body: Body, exchange: Arc<Exchange>, n: u64) -> Self {
        Self { body, exchange, n }
    }
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
}
