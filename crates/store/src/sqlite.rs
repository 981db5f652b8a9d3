//! The embedded backend: one SQLite file in WAL mode. All writes go through a pool of
//! one connection, so writers queue in-process instead of failing with SQLITE_BUSY;
//! reads use their own pool and never wait for writers.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Klaxon's store on a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    jobs: tokio::sync::mpsc::Sender<crate::group::WriteJob>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` and migrates it.
    pub async fn open(url: &str) -> crate::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| crate::StoreError::Other(format!("bad SQLite URL '{url}': {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL loses nothing when the process dies (kill -9); only
            // an operating-system crash or power loss can drop the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(options)
            .await?;
        let (jobs, queue) = tokio::sync::mpsc::channel(crate::group::QUEUE);
        tokio::spawn(run_writer(writer.clone(), queue));
        Ok(Self {
            reader,
            writer,
            jobs,
        })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Begins a write transaction. `BEGIN IMMEDIATE` takes the write lock up front, so a
    /// transaction never fails half-way because another process (say `klaxon migrate`)
    /// holds it; busy_timeout waits for it instead.
    async fn write(&self) -> crate::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Self::begin_write(&self.writer).await
    }

    async fn begin_write(
        pool: &SqlitePool,
    ) -> crate::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

crate::sql::impl_store!(SqliteStore, sqlx::Sqlite);
