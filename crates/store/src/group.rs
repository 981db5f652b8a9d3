//! Group commit: writes from concurrent requests queue for one writer task, which
//! commits whatever has queued in a single transaction. Durability then costs one
//! commit per batch instead of one per request.
//!
//! Each request carries the channel its answer goes back on, typed by the request
//! ([`Request<Op, T>`] answers a `T`), so a write cannot be answered with another's
//! result. Accepted alert events ([`Accept`]) are the ingest path: each backend writes
//! them its own native way ([`Acceptor`]), on the writer's thread.

use std::future::Future;

use klaxon_domain::incident::{Declaration, Incident};
use sqlx::pool::PoolConnection;
use sqlx::AnyConnection;
use sqlx::{Any, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

use crate::alerts::{AlertChange, AlertOpening, InboxEntry, IncidentWrite, Repeat};
use crate::backend::Dialect;
use crate::paging::{ActionLink, JobDone};
use crate::sql::{alerts, inbox, incidents, jobs, links};
use crate::{Change, Result, StoreError};

/// The most writes one transaction takes; more wait for the next.
pub(crate) const MAX_BATCH: usize = 128;
/// How many writes may wait for the writer before callers wait to enqueue.
pub(crate) const QUEUE: usize = 1024;

/// A write of `Op` whose answer, once committed, is a `T`.
pub(crate) struct Request<Op, T> {
    pub op: Op,
    reply: oneshot::Sender<Result<T>>,
    /// The answer, kept from when the write is applied until its commit.
    done: Option<T>,
}

impl<Op, T> Request<Op, T> {
    /// A request for `op` and the receiver of its answer.
    pub(crate) fn new(op: Op) -> (Self, oneshot::Receiver<Result<T>>) {
        let (reply, answer) = oneshot::channel();
        let request = Self {
            op,
            reply,
            done: None,
        };
        (request, answer)
    }

    /// Sends the answer: the applied write's result once `committed` is `Ok`.
    fn answer(self, committed: Result<()>) {
        let outcome = committed.and_then(|()| {
            self.done
                .ok_or_else(|| StoreError::Other("the write was not applied".into()))
        });
        let _ = self.reply.send(outcome);
    }
}

/// Accepted alert events, in order; the answer is how many were counted on arrival.
pub(crate) type Accept = Request<Vec<InboxEntry>, usize>;

/// An action link and the hash of its token.
pub(crate) struct NewLink {
    pub token_hash: String,
    pub link: ActionLink,
}

/// Every write that goes through the group commit, each with its own answer's type.
pub(crate) enum Write {
    Declare(Request<Box<Declaration>, Incident>),
    Commit(Request<Vec<Change>, ()>),
    OpenAlert(Request<AlertOpening, (klaxon_domain::AlertId, Option<Incident>)>),
    UpdateAlert(Request<AlertChange, ()>),
    /// Repeated triggers on open alerts, in bulk.
    Repeats(Request<Vec<Repeat>, ()>),
    /// Inbox entries handled without a change to any alert.
    Discard(Request<Vec<i64>, ()>),
    /// A claimed job's outcome and effects.
    FinishJob(Request<JobDone, ()>),
    /// An acknowledge or resolve link, by its token's hash.
    CreateLink(Request<NewLink, ()>),
}

impl Write {
    /// Applies the write on `conn` (in the caller's transaction), keeping its answer.
    async fn apply(&mut self, conn: &mut AnyConnection) -> Result<()> {
        match self {
            Write::Declare(r) => {
                r.done = incidents::declare(conn, &[r.op.as_ref()]).await?.pop();
            }
            Write::Commit(r) => {
                let changes: Vec<&Change> = r.op.iter().collect();
                incidents::apply_changes(conn, &changes).await?;
                r.done = Some(());
            }
            Write::OpenAlert(r) => {
                r.done = alerts::open_alerts(conn, &[&r.op]).await?.pop();
            }
            Write::UpdateAlert(r) => {
                alerts::change_alert(&mut *conn, &r.op).await?;
                // The incident change the alert leads to, in the same transaction.
                if let Some(change) = &r.op.incident {
                    incidents::apply_changes(conn, &[change]).await?;
                }
                r.done = Some(());
            }
            Write::Repeats(r) => {
                inbox::apply_repeats(conn, &r.op).await?;
                r.done = Some(());
            }
            Write::Discard(r) => {
                inbox::discard(conn, &r.op).await?;
                r.done = Some(());
            }
            Write::FinishJob(r) => {
                jobs::finish_jobs(conn, &[&r.op]).await?;
                r.done = Some(());
            }
            Write::CreateLink(r) => {
                links::insert_link(conn, &r.op.token_hash, &r.op.link).await?;
                r.done = Some(());
            }
        }
        Ok(())
    }

    /// Sends the answer, once the transaction that applied the write is over.
    fn answer(self, committed: Result<()>) {
        match self {
            Write::Declare(r) => r.answer(committed),
            Write::Commit(r) => r.answer(committed),
            Write::OpenAlert(r) => r.answer(committed),
            Write::UpdateAlert(r) => r.answer(committed),
            Write::Repeats(r) => r.answer(committed),
            Write::Discard(r) => r.answer(committed),
            Write::FinishJob(r) => r.answer(committed),
            Write::CreateLink(r) => r.answer(committed),
        }
    }

    /// Forgets an answer kept from a transaction that was rolled back.
    fn forget(&mut self) {
        match self {
            Write::Declare(r) => r.done = None,
            Write::Commit(r) => r.done = None,
            Write::OpenAlert(r) => r.done = None,
            Write::UpdateAlert(r) => r.done = None,
            Write::Repeats(r) => r.done = None,
            Write::Discard(r) => r.done = None,
            Write::FinishJob(r) => r.done = None,
            Write::CreateLink(r) => r.done = None,
        }
    }

    /// The existing alerts the write updates: alerts by id, and incidents whose change
    /// moves their open alerts along (acknowledged, resolved), as the numbers SQL binds.
    fn alerts_updated(&self) -> (Vec<i64>, Vec<i64>) {
        let (ids, changes): (Vec<i64>, Vec<&Change>) = match self {
            Write::UpdateAlert(r) => (vec![r.op.id.0], r.op.incident.iter().collect()),
            Write::Repeats(r) => (r.op.iter().map(|r| r.alert_id.0).collect(), Vec::new()),
            Write::Commit(r) => (Vec::new(), r.op.iter().collect()),
            Write::OpenAlert(r) => match &r.op.incident {
                IncidentWrite::Join(change) => (Vec::new(), vec![&**change]),
                _ => (Vec::new(), Vec::new()),
            },
            Write::FinishJob(r) => (Vec::new(), r.op.changes.iter().collect()),
            Write::Declare(_) | Write::Discard(_) | Write::CreateLink(_) => {
                (Vec::new(), Vec::new())
            }
        };
        let incidents = changes
            .into_iter()
            .filter(|c| matches!(c.alerts, Some(s) if s != klaxon_domain::alert::AlertStatus::Triggered))
            .map(|c| c.incident.number.0)
            .collect();
        (ids, incidents)
    }
}

/// A backend's one way of committing accepted alert events (the ingest path), used by
/// its group-commit writer: SQLite's plain connection on the writer's thread,
/// PostgreSQL's connection of its own on a thread of its own.
pub(crate) trait Acceptor: Send {
    /// Commits `entries`, in order, all or nothing, durable when this returns; counts
    /// the repeats of open alerts on arrival (see [`crate::AlertStore::enqueue_alerts`]).
    /// Returns, per entry, whether it was counted.
    fn accept(&mut self, entries: &[&InboxEntry])
        -> impl Future<Output = Result<Vec<bool>>> + Send;

    /// Upkeep of the backend's own between two batches, with every write answered.
    fn between_batches(&mut self) {}
}

/// Commits a batch of accepted events with one call of `acceptor`, and answers each.
async fn accept_and_reply<A: Acceptor>(acceptor: &mut A, batch: Vec<Accept>) {
    let entries: Vec<&InboxEntry> = batch.iter().flat_map(|a| a.op.iter()).collect();
    match acceptor.accept(&entries).await {
        Ok(counted) => {
            let mut counted = counted.into_iter();
            for mut accept in batch {
                let n = accept.op.len();
                accept.done = Some(counted.by_ref().take(n).filter(|c| *c).count());
                accept.answer(Ok(()));
            }
        }
        Err(e) => {
            let message = e.to_string();
            for accept in batch {
                accept.answer(Err(StoreError::Other(message.clone())));
            }
        }
    }
}

/// The group-commit writer of everything but accepted events, through `sqlx::Any`.
pub(crate) struct SqlWriter {
    pool: AnyPool,
    /// The writer keeps one connection: acquiring it from the pool for every batch costs
    /// a wait for its return, which is most of a batch's time.
    held: Option<PoolConnection<Any>>,
    dialect: Dialect,
}

impl SqlWriter {
    pub(crate) fn new(pool: AnyPool, dialect: Dialect) -> Self {
        Self {
            pool,
            held: None,
            dialect,
        }
    }

    /// Commits `batch` and answers each write.
    async fn write_and_reply(&mut self, mut batch: Vec<Write>) {
        let conn = match self.held.take() {
            Some(conn) => Ok(conn),
            None => self.pool.acquire().await,
        };
        let mut conn = match conn {
            Ok(conn) => conn,
            Err(e) => {
                let message = e.to_string();
                for write in batch {
                    write.answer(Err(StoreError::Other(message.clone())));
                }
                return;
            }
        };
        let together = Self::write_together(self.dialect, &mut conn, &mut batch).await;
        let mut all_ok = together.is_ok();
        match together {
            Ok(()) => batch.into_iter().for_each(|w| w.answer(Ok(()))),
            Err(e) if batch.len() == 1 => {
                if let Some(write) = batch.pop() {
                    write.answer(Err(e));
                }
            }
            // One bad write must fail only itself: each goes again, alone.
            Err(_) => {
                for mut write in batch {
                    write.forget();
                    let alone = Self::write_alone(self.dialect, &mut conn, &mut write).await;
                    all_ok &= alone.is_ok();
                    write.answer(alone);
                }
            }
        }
        // A connection that failed may be broken: take a fresh one next.
        if all_ok {
            self.held = Some(conn);
        }
    }

    /// Writes the whole batch in one transaction.
    async fn write_together(
        dialect: Dialect,
        conn: &mut AnyConnection,
        batch: &mut [Write],
    ) -> Result<()> {
        let mut tx = conn.begin_with(dialect.begin_write).await?;
        let (mut ids, mut numbers) = (Vec::new(), Vec::new());
        for write in batch.iter() {
            let (i, n) = write.alerts_updated();
            ids.extend(i);
            numbers.extend(n);
        }
        alerts::lock_alerts(&mut tx, dialect.lock_rows, ids, numbers).await?;
        // New alerts with the incidents they open go in together: a storm of new alerts
        // opens thousands of incidents at once.
        let openings: Vec<&AlertOpening> = batch
            .iter()
            .filter_map(|w| match w {
                Write::OpenAlert(r) => Some(&r.op),
                _ => None,
            })
            .collect();
        let mut opened = alerts::open_alerts(&mut tx, &openings).await?.into_iter();
        for write in batch.iter_mut() {
            match write {
                Write::OpenAlert(r) => r.done = opened.next(),
                // Below, all together.
                Write::FinishJob(_) => {}
                other => other.apply(&mut tx).await?,
            }
        }
        // So are the jobs the engine finished: thousands of escalation steps due at
        // once finish in a few statements.
        let finished: Vec<&JobDone> = batch
            .iter()
            .filter_map(|w| match w {
                Write::FinishJob(r) => Some(&r.op),
                _ => None,
            })
            .collect();
        jobs::finish_jobs(&mut tx, &finished).await?;
        for write in batch.iter_mut() {
            if let Write::FinishJob(r) = write {
                r.done = Some(());
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes one write in a transaction of its own.
    async fn write_alone(
        dialect: Dialect,
        conn: &mut AnyConnection,
        write: &mut Write,
    ) -> Result<()> {
        let mut tx = conn.begin_with(dialect.begin_write).await?;
        let (ids, numbers) = write.alerts_updated();
        alerts::lock_alerts(&mut tx, dialect.lock_rows, ids, numbers).await?;
        write.apply(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Takes up to [`MAX_BATCH`] items from `queue` into `into`, waiting for the first;
/// never ready once `queue` is closed and drained (then `None`).
async fn receive<T>(queue: &mut Option<mpsc::Receiver<T>>, into: &mut Vec<T>) -> usize {
    match queue {
        Some(q) => q.recv_many(into, MAX_BATCH).await,
        None => std::future::pending().await,
    }
}

/// Tops `into` up from `queue` without waiting, while `room` allows.
fn top_up<T>(queue: &mut Option<mpsc::Receiver<T>>, into: &mut Vec<T>, room: usize) {
    if let Some(q) = queue {
        while into.len() < room {
            match q.try_recv() {
                Ok(item) => into.push(item),
                Err(_) => break,
            }
        }
    }
}

/// Runs one group-commit writer for both queues (SQLite: one write lock, so one
/// writer). Each round takes up to [`MAX_BATCH`] requests; accepted alert events are
/// written and answered first, so that a sender waits for its own commit, not for the
/// incidents and jobs queued beside it. Ends once both queues are closed.
pub(crate) async fn serve<A: Acceptor>(
    accepts: mpsc::Receiver<Accept>,
    writes: mpsc::Receiver<Write>,
    mut acceptor: A,
    mut writer: SqlWriter,
) {
    let (mut accepts, mut writes) = (Some(accepts), Some(writes));
    while accepts.is_some() || writes.is_some() {
        let (mut accepted, mut written) = (Vec::new(), Vec::new());
        let (from_accepts, n) = tokio::select! {
            biased;
            n = receive(&mut accepts, &mut accepted) => (true, n),
            n = receive(&mut writes, &mut written) => (false, n),
        };
        if n == 0 {
            match from_accepts {
                true => accepts = None,
                false => writes = None,
            }
            continue;
        }
        match from_accepts {
            true => top_up(&mut writes, &mut written, MAX_BATCH - accepted.len()),
            false => top_up(&mut accepts, &mut accepted, MAX_BATCH - written.len()),
        }
        if !accepted.is_empty() {
            accept_and_reply(&mut acceptor, accepted).await;
        }
        if !written.is_empty() {
            writer.write_and_reply(written).await;
        }
        acceptor.between_batches();
    }
}

/// Runs a group-commit writer of accepted events only (PostgreSQL's own acceptor).
pub(crate) async fn serve_accepts<A: Acceptor>(
    mut accepts: mpsc::Receiver<Accept>,
    mut acceptor: A,
) {
    let mut batch = Vec::new();
    while accepts.recv_many(&mut batch, MAX_BATCH).await > 0 {
        accept_and_reply(&mut acceptor, std::mem::take(&mut batch)).await;
        acceptor.between_batches();
    }
}

/// Runs a group-commit writer of everything but accepted events.
pub(crate) async fn serve_writes(mut writes: mpsc::Receiver<Write>, mut writer: SqlWriter) {
    let mut batch = Vec::new();
    while writes.recv_many(&mut batch, MAX_BATCH).await > 0 {
        writer.write_and_reply(std::mem::take(&mut batch)).await;
    }
}

/// Runs a group-commit writer on a thread of its own, with a single-threaded runtime,
/// for a writer that makes blocking calls (SQLite's direct connection) and must not
/// hold up a worker of the shared runtime while it does.
pub(crate) fn spawn_writer<F>(name: &str, writer: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    // Timers only: sqlx's SQLite connections are threads of their own, so the writer
    // does no socket I/O, and without an I/O driver an idle writer sleeps on a futex,
    // which wakes sooner and cheaper than the `epoll_wait` it otherwise parks in.
    let mut runtime = tokio::runtime::Builder::new_current_thread();
    runtime.enable_time();
    spawn_on_thread(name, runtime, writer);
}

/// Runs a group-commit writer that talks to its database over a socket (PostgreSQL's
/// accepted events) on a thread of its own, with its own I/O driver. On the shared
/// runtime, each answer from the database waited for a worker to come free of HTTP
/// requests before the writer could send the next batch; the writer's connections
/// must be made on that thread, so that its driver watches their sockets.
pub(crate) fn spawn_socket_writer<F>(name: &str, writer: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let mut runtime = tokio::runtime::Builder::new_current_thread();
    runtime.enable_all();
    spawn_on_thread(name, runtime, writer);
}

fn spawn_on_thread<F>(name: &str, mut runtime: tokio::runtime::Builder, writer: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    let runtime = runtime.build().expect("a single-threaded runtime builds");
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || runtime.block_on(writer))
        .expect("the writer thread starts");
}

/// The ticks of a store's periodic upkeep (SQLite's checkpoints, PostgreSQL's analysis
/// of grown tables), which ends when the store is dropped (its writer queue closes).
pub(crate) struct Upkeep {
    every: tokio::time::Interval,
    store_alive: mpsc::WeakSender<Write>,
}

impl Upkeep {
    /// Every `period`, first at once, for as long as the store that sends to `writes`
    /// lives.
    pub(crate) fn every(period: std::time::Duration, writes: &mpsc::Sender<Write>) -> Self {
        let mut every = tokio::time::interval(period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            every,
            store_alive: writes.downgrade(),
        }
    }

    /// Waits for the next tick; false once the store is gone.
    pub(crate) async fn tick(&mut self) -> bool {
        self.every.tick().await;
        self.store_alive.upgrade().is_some()
    }
}
