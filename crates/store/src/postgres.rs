//! The multi-replica backend: PostgreSQL. Several `klaxon serve` processes may share one
//! database; every write is a transaction, and concurrent changes to one incident are
//! caught by its version column.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::Connection;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Klaxon's store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    jobs: tokio::sync::mpsc::Sender<crate::group::WriteJob>,
    /// Accepted alert events have a writer (and connection) of their own: their inserts
    /// never conflict with other writes, and an alert storm's incidents and jobs, queued
    /// on the main writer, would otherwise hold up the 202s.
    accepted: tokio::sync::mpsc::Sender<crate::group::WriteJob>,
    outlets: crate::SharedOutlets,
    /// The sessions holding this process's singleton advisory locks, by name.
    singletons: Arc<tokio::sync::Mutex<HashMap<String, PgConnection>>>,
}

impl PostgresStore {
    /// Replicas claiming jobs at once skip each other's rows instead of waiting.
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    /// Makes a claim's commit skip waiting for the disk: a claim lost in a crash only
    /// leaves its jobs to be claimed again.
    const CLAIM_WITHOUT_FLUSH: Option<&'static str> = Some("SET LOCAL synchronous_commit = off");

    /// Connects to the database at `url` and migrates it. sqlx's migrator takes an
    /// advisory lock, so replicas starting together migrate once.
    pub async fn open(url: &str) -> crate::Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            crate::StoreError::Other(format!("bad PostgreSQL URL '{}': {e}", crate::redact(url)))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let (jobs, queue) = tokio::sync::mpsc::channel(crate::group::QUEUE);
        let outlets = crate::SharedOutlets::default();
        tokio::spawn(run_writer(
            pool.clone(),
            DirectInsert,
            queue,
            outlets.clone(),
        ));
        let (accepted, accepted_queue) = tokio::sync::mpsc::channel(crate::group::QUEUE);
        tokio::spawn(run_writer(
            pool.clone(),
            DirectInsert,
            accepted_queue,
            outlets.clone(),
        ));
        Ok(Self {
            pool,
            jobs,
            accepted,
            outlets,
            singletons: Arc::default(),
        })
    }

    /// A session-level advisory lock on a connection of its own, taken out of the pool:
    /// the lock lasts exactly as long as that session, so when this process dies (even
    /// by SIGKILL) PostgreSQL ends the session and another replica takes over at once.
    /// A held lock is checked on every call, and given up if its session has broken.
    async fn hold_singleton(&self, name: &str) -> crate::Result<bool> {
        let mut held = self.singletons.lock().await;
        if let Some(conn) = held.get_mut(name) {
            if conn.ping().await.is_ok() {
                return Ok(true);
            }
            tracing::warn!(name, "lost the session holding a singleton lock");
            held.remove(name);
        }
        let mut conn = self.pool.acquire().await?.detach();
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
        if taken {
            held.insert(name.to_owned(), conn);
        } else {
            let _ = conn.close().await;
        }
        Ok(taken)
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    async fn write(&self) -> crate::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Self::begin_write(&self.pool).await
    }

    async fn begin_write(
        pool: &PgPool,
    ) -> crate::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        Ok(pool.begin().await?)
    }

    /// Begins a write transaction on the group-commit writer's own connection.
    async fn begin_on(
        conn: &mut <sqlx::Postgres as sqlx::Database>::Connection,
    ) -> crate::Result<sqlx::Transaction<'_, sqlx::Postgres>> {
        use sqlx::Connection;
        Ok(conn.begin().await?)
    }
}

/// PostgreSQL's writers insert accepted alert events through sqlx, whose connection is
/// a socket polled by the writer task itself: there is no thread to bypass.
struct DirectInsert;

impl DirectInsert {
    fn insert(
        &mut self,
        _entries: &[&crate::alerts::InboxEntry],
    ) -> Option<Result<Vec<bool>, String>> {
        None
    }
}

crate::sql::impl_store!(PostgresStore, sqlx::Postgres);
crate::sql_services::impl_service_store!(PostgresStore, sqlx::Postgres);
crate::sql_alerts::impl_alert_store!(PostgresStore, sqlx::Postgres);
crate::sql_paging::impl_paging_store!(PostgresStore, sqlx::Postgres);
