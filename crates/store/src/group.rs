//! Group commit: writes from concurrent requests queue for one writer task, which
//! commits whatever has queued in a single transaction. Durability then costs one
//! commit per batch instead of one per request.

use jiff::Timestamp;
use klaxon_domain::alert::AlertEvent;
use klaxon_domain::incident::{Incident, TimelineEvent};
use tokio::sync::oneshot;

use crate::alerts::{AlertUpdate, InboxEntry, IncidentWrite, NewAlert};
use crate::{Change, Result};

/// The most writes one transaction takes; more wait for the next.
pub(crate) const MAX_BATCH: usize = 128;
/// How many writes may wait for the writer before callers wait to enqueue.
pub(crate) const QUEUE: usize = 1024;

pub(crate) enum WriteOp {
    Declare {
        slug_base: String,
        events: Vec<TimelineEvent>,
    },
    Commit(Vec<Change>),
    /// Accepted alert events, into the inbox.
    Enqueue(Vec<InboxEntry>),
    OpenAlert {
        alert: Box<NewAlert>,
        incident: Box<IncidentWrite>,
        inbox: Option<i64>,
    },
    UpdateAlert {
        id: i64,
        update: AlertUpdate,
        event: Box<AlertEvent>,
        at: Timestamp,
        incident: Option<Box<Change>>,
        inbox: Option<i64>,
    },
    /// Repeated triggers on open alerts, in bulk.
    Repeats(Vec<crate::alerts::Repeat>),
    /// Inbox entries handled without a change to any alert.
    Discard(Vec<i64>),
    /// A claimed job's outcome and effects.
    FinishJob(Box<crate::paging::JobDone>),
    /// An acknowledge or resolve link, by its token's hash.
    CreateLink(String, Box<crate::paging::ActionLink>),
}

/// What a write produced.
pub(crate) enum Written {
    Nothing,
    Incident(Incident),
    Alert {
        id: i64,
        incident: Option<Incident>,
    },
    /// Accepted alert events, of which `counted` were repeats counted on arrival.
    Accepted {
        counted: usize,
    },
}

/// A write and where to send its outcome.
pub(crate) struct WriteJob {
    pub op: WriteOp,
    pub reply: oneshot::Sender<Result<Written>>,
}

/// Runs a group-commit writer on a thread of its own, with a single-threaded runtime,
/// for a writer that makes blocking calls (SQLite's direct connection) and must not
/// hold up a worker of the shared runtime while it does.
pub(crate) fn spawn_writer<F>(name: &str, writer: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
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
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let mut runtime = tokio::runtime::Builder::new_current_thread();
    runtime.enable_all();
    spawn_on_thread(name, runtime, writer);
}

fn spawn_on_thread<F>(name: &str, mut runtime: tokio::runtime::Builder, writer: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
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
    store_alive: tokio::sync::mpsc::WeakSender<WriteJob>,
}

impl Upkeep {
    /// Every `period`, first at once, for as long as the store that sends to `jobs` lives.
    pub(crate) fn every(
        period: std::time::Duration,
        jobs: &tokio::sync::mpsc::Sender<WriteJob>,
    ) -> Self {
        let mut every = tokio::time::interval(period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            every,
            store_alive: jobs.downgrade(),
        }
    }

    /// Waits for the next tick; false once the store is gone.
    pub(crate) async fn tick(&mut self) -> bool {
        self.every.tick().await;
        self.store_alive.upgrade().is_some()
    }
}
