//! Group commit: incident writes from concurrent requests queue for one writer task,
//! which commits whatever has queued in a single transaction. Durability then costs one
//! commit per batch instead of one per request.

use klaxon_domain::incident::{Incident, TimelineEvent};
use tokio::sync::oneshot;

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
}

/// A write and where to send its outcome: the declared incident for a declaration.
pub(crate) struct WriteJob {
    pub op: WriteOp,
    pub reply: oneshot::Sender<Result<Option<Incident>>>,
}
