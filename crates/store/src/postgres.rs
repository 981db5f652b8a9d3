//! The multi-replica backend: PostgreSQL. Several `klaxon serve` processes may share one
//! database; every write is a transaction, and concurrent changes to one incident are
//! caught by its version column.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Klaxon's store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    jobs: tokio::sync::mpsc::Sender<crate::group::WriteJob>,
}

impl PostgresStore {
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
        tokio::spawn(run_writer(pool.clone(), queue));
        Ok(Self { pool, jobs })
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
}

crate::sql::impl_store!(PostgresStore, sqlx::Postgres);
crate::sql_services::impl_service_store!(PostgresStore, sqlx::Postgres);
crate::sql_alerts::impl_alert_store!(PostgresStore, sqlx::Postgres);
