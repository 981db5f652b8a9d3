//! The one store, [`SqlStore`], and what sets its two databases apart, [`Backend`].
//!
//! Every query is written once, in `sql/`, as a plain function over `sqlx::Any`
//! connections; [`SqlStore`] implements the store's traits with them for any backend.
//! A backend supplies only what truly differs: connecting and migrating, its upkeep,
//! the few SQL fragments of its [`Dialect`], its singletons, its native path for
//! accepted alert events (the ingest path, which stays typed for speed) and, where it
//! has a faster one, its read of the reports' facts (SQLite's is native too).

use async_trait::async_trait;
use sqlx::AnyPool;
use tokio::sync::mpsc;

use crate::group::{Accept, Request, Write};
use crate::{Result, StoreError};

/// The SQL fragments in which SQLite and PostgreSQL differ.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// Appended to a `SELECT … ORDER BY` to lock the rows it reads, in that order, until
    /// the transaction ends (PostgreSQL); empty where a write transaction excludes every
    /// other writer already (SQLite).
    pub lock_rows: &'static str,
    /// Appended to the job claim's pick of due jobs, so that replicas claiming at once
    /// skip each other's rows instead of waiting (PostgreSQL); empty for one writer.
    pub skip_locked: &'static str,
    /// Appended to the inbox read's terms, to make the database use the index of
    /// waiting events in order for that read alone (PostgreSQL); empty if its planner
    /// needs no such hint.
    pub inbox_order: &'static str,
    /// Run first in a job claim's transaction to let its commit skip the wait for the
    /// disk, if the backend's commits wait for it.
    pub claim_without_flush: Option<&'static str>,
    /// The statement that begins a write transaction.
    pub begin_write: &'static str,
}

/// A database Klaxon's store runs on.
#[async_trait]
pub trait Backend: Send + Sync + Sized + 'static {
    /// The SQL fragments this backend needs.
    const DIALECT: Dialect;

    /// Connects to the database at `url`, brings its schema up to date, and starts the
    /// store's writers (the group commit, and the accept path of this backend) and its
    /// upkeep.
    async fn open(url: &str) -> Result<SqlStore<Self>>;

    /// Takes, or confirms this process still holds, the singleton `name` (see
    /// [`crate::Store::hold_singleton`]).
    async fn hold_singleton(&self, pool: &AnyPool, name: &str) -> Result<bool>;

    /// The facts of the incidents `filter` selects, sorted by number (see
    /// [`crate::Store::incident_facts`]), read through `reader` unless the backend has a
    /// faster way.
    async fn incident_facts(
        &self,
        reader: &AnyPool,
        filter: &crate::FactsFilter,
    ) -> Result<Vec<klaxon_domain::metrics::IncidentFacts>> {
        crate::sql::metrics::incident_facts(reader, filter).await
    }
}

/// Klaxon's store on backend `B`: the queries of `sql/` over `sqlx::Any` pools, writes
/// through the group-commit writer (`group.rs`).
#[derive(Debug)]
pub struct SqlStore<B: Backend> {
    pub(crate) reader: AnyPool,
    /// Where transactions outside the group commit begin (the same pool as `reader` on
    /// PostgreSQL).
    pub(crate) writer: AnyPool,
    pub(crate) writes: mpsc::Sender<Write>,
    pub(crate) accepts: mpsc::Sender<Accept>,
    pub(crate) backend: B,
}

impl<B: Backend> SqlStore<B> {
    /// Opens (creating a SQLite file if missing) the database at `url` and migrates it.
    pub async fn open(url: &str) -> Result<Self> {
        B::open(url).await
    }

    /// Begins a write transaction outside the group commit.
    pub(crate) async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(self.writer.begin_with(B::DIALECT.begin_write).await?)
    }

    /// Hands a write to the group-commit writer and waits until it is committed; `wrap`
    /// names the kind of write, which decides the answer's type.
    pub(crate) async fn submit<Op, T>(
        &self,
        wrap: fn(Request<Op, T>) -> Write,
        op: Op,
    ) -> Result<T> {
        let (request, answer) = Request::new(op);
        self.writes
            .send(wrap(request))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Hands accepted alert events to the backend's accept path; how many were counted
    /// on arrival.
    pub(crate) async fn accept(&self, entries: Vec<crate::InboxEntry>) -> Result<usize> {
        let (request, answer) = Request::new(entries);
        self.accepts.send(request).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Other("the database writer has stopped".into())
}
