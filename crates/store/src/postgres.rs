//! The multi-replica backend: PostgreSQL. Several `klaxon serve` processes may share one
//! database; every write is a transaction, and concurrent changes to one incident are
//! caught by its version column.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::AnyPoolOptions;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::AnyConnection;
use sqlx::{AnyPool, Connection, QueryBuilder, Row};

use crate::alerts::InboxEntry;
use crate::backend::{Backend, Dialect, SqlStore};
use crate::group::{Acceptor, SqlWriter, Upkeep};
use crate::sql::{json, ms, Sql};
use crate::{Result, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Klaxon's store on a PostgreSQL database.
pub type PostgresStore = SqlStore<Postgres>;

/// The PostgreSQL backend: the sessions holding this process's singleton advisory
/// locks, by name.
#[derive(Default)]
pub struct Postgres {
    singletons: tokio::sync::Mutex<HashMap<String, AnyConnection>>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Postgres")
    }
}

#[async_trait]
impl Backend for Postgres {
    const DIALECT: Dialect = Dialect {
        // Locks the rows a statement is about to update, in the order of its `ORDER BY`:
        // writers that update many alerts at once (accepting events, counting repeats
        // in bulk) then take their locks in one order and never deadlock. `NO KEY`: the
        // lock an `UPDATE` of non-key columns takes, which still lets other writers
        // insert events that refer to the alert.
        lock_rows: " FOR NO KEY UPDATE",
        // Replicas claiming jobs at once skip each other's rows instead of waiting.
        skip_locked: " FOR UPDATE SKIP LOCKED",
        // The term that lets the inbox worker's read, and only that read, use the index
        // of waiting events in order (migration 0016).
        inbox_order: " AND id > 0",
        // A claim lost in a crash only leaves its jobs to be claimed again.
        claim_without_flush: Some("SET LOCAL synchronous_commit = off"),
        begin_write: "BEGIN",
    };

    /// Connects to the database at `url` and migrates it. sqlx's migrator takes an
    /// advisory lock, so replicas starting together migrate once.
    async fn open(url: &str) -> Result<SqlStore<Self>> {
        sqlx::any::install_default_drivers();
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Other(format!("bad PostgreSQL URL '{}': {e}", crate::redact(url)))
        })?;
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        let (writes, queue) = tokio::sync::mpsc::channel(crate::group::QUEUE);
        let writer = SqlWriter::new(pool.clone(), Self::DIALECT);
        tokio::spawn(crate::group::serve_writes(queue, writer));
        // Accepted alert events have a writer (and connection) of their own, on a
        // thread of its own: an alert storm's incidents and jobs, queued on the main
        // writer, would otherwise hold up the 202s. One such writer, not several: each
        // batch is one statement whose cost is mostly fixed, and one writer gathers the
        // largest batches (in pairs of runs by hand under `bench/ingest.sh`'s load, two
        // gave a fifth less, four less still). It locks the alerts it counts in id
        // order, as the main writer does, so the two never deadlock.
        let (accepts, queue) = tokio::sync::mpsc::channel(crate::group::QUEUE);
        crate::group::spawn_socket_writer("klaxon-accept", async move {
            // Connected lazily, on the writer's own thread (see `spawn_socket_writer`).
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .connect_lazy_with(options);
            crate::group::serve_accepts(queue, Accept { pool, held: None }).await
        });
        tokio::spawn(analyze_growing(
            pool.clone(),
            Upkeep::every(ANALYZE_CHECK_EVERY, &writes),
        ));
        Ok(SqlStore {
            reader: pool.clone(),
            writer: pool,
            writes,
            accepts,
            backend: Postgres::default(),
        })
    }

    /// A session-level advisory lock on a connection of its own, taken out of the pool:
    /// the lock lasts exactly as long as that session, so when this process dies (even
    /// by SIGKILL) PostgreSQL ends the session and another replica takes over at once.
    /// A held lock is checked on every call, and given up if its session has broken.
    async fn hold_singleton(&self, pool: &AnyPool, name: &str) -> Result<bool> {
        let mut held = self.singletons.lock().await;
        if let Some(conn) = held.get_mut(name) {
            if conn.ping().await.is_ok() {
                return Ok(true);
            }
            tracing::warn!(name, "lost the session holding a singleton lock");
            held.remove(name);
        }
        let mut conn = pool.acquire().await?.detach();
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
}

/// The PostgreSQL accept path: a typed connection of its own (on the accept writer's
/// thread), kept from batch to batch while it works.
struct Accept {
    pool: PgPool,
    held: Option<PoolConnection<sqlx::Postgres>>,
}

impl Acceptor for Accept {
    /// Commits with one statement per [`INBOX_ROWS`] entries (a transaction around them
    /// only if there are more).
    async fn accept(&mut self, entries: &[&InboxEntry]) -> Result<Vec<bool>> {
        let mut conn = match self.held.take() {
            Some(conn) => conn,
            None => self.pool.acquire().await?,
        };
        let written = async {
            if entries.len() <= INBOX_ROWS {
                return accept(&mut conn, entries).await;
            }
            let mut tx = conn.begin().await?;
            let mut counted = Vec::with_capacity(entries.len());
            for chunk in entries.chunks(INBOX_ROWS) {
                counted.extend(accept(&mut tx, chunk).await?);
            }
            tx.commit().await?;
            Ok(counted)
        }
        .await;
        // A connection that failed may be broken: take a fresh one next.
        if written.is_ok() {
            self.held = Some(conn);
        }
        written
    }
}

/// The most accepted events one statement inserts: well inside PostgreSQL's limit on
/// parameters.
const INBOX_ROWS: usize = 1000;

/// Commits accepted events with one statement, counting the repeats of open alerts on
/// arrival (see [`crate::AlertStore::enqueue_alerts`]): the tallies update their alerts
/// in a data-modifying `WITH`, and each entry goes in already applied if its alert was
/// counted, waiting otherwise, in order. Returns, per entry, whether it was counted.
/// (`OFFSET 0` keeps the check for waiting events a probe of their index per alert: as
/// an anti-join, PostgreSQL hashed every waiting event for each batch, which during a
/// storm of new alerts cut acceptance to a quarter.)
async fn accept(conn: &mut sqlx::PgConnection, entries: &[&InboxEntry]) -> Result<Vec<bool>> {
    let tallies = crate::alerts::repeat_tallies(entries);
    if tallies.is_empty() {
        let mut q = QueryBuilder::<sqlx::Postgres>::new(
            "INSERT INTO alert_events (service_id, dedup_key, received_at, event, action) ",
        );
        q.push_values(entries, |mut row, e| {
            row.push_bind(e.service_id.0)
                .push_bind(e.dedup_key.clone())
                .push_bind(ms(e.received_at))
                .push_bind(json(&e.event))
                .push_bind(e.event.action.as_str());
        });
        q.build().execute(&mut *conn).await?;
        return Ok(vec![false; entries.len()]);
    }
    let mut q = QueryBuilder::<sqlx::Postgres>::new("WITH tally (sid, dkey, n, at, summary) AS (");
    q.push_values(&tallies, |mut row, t| {
        row.push_bind(t.service_id.0)
            .push_bind(t.dedup_key.to_owned())
            .push_bind(t.tally.n)
            .push_bind(ms(t.tally.last_at))
            .push_bind(t.tally.summary.map(str::to_owned));
    });
    q.push(format!(
        "), locked AS (SELECT a.id, a.last_event_id, t.sid, t.dkey, t.n, t.at, t.summary FROM alerts a \
         JOIN tally t ON a.service_id = t.sid AND a.dedup_key = t.dkey WHERE a.status <> 'resolved' \
         AND NOT EXISTS (SELECT 1 FROM alert_events w WHERE w.service_id = t.sid AND w.dedup_key = t.dkey \
         AND {} OFFSET 0) ORDER BY a.id{} OF a), entry (ord, sid, dkey, at, event, action) AS (",
        crate::alerts::HOLDS_BACK_REPEATS,
        Postgres::DIALECT.lock_rows,
    ));
    q.push_values(entries.iter().enumerate(), |mut row, (i, e)| {
        row.push_bind(i as i64)
            .push_bind(e.service_id.0)
            .push_bind(e.dedup_key.clone())
            .push_bind(ms(e.received_at))
            .push_bind(json(&e.event))
            .push_bind(e.event.action.as_str());
    });
    // Ids are taken in acceptance order (volatile functions in a select list run
    // after its ORDER BY), so that each counted event can be chained on its alert's
    // log after the one before it. The sequence is looked up once per statement (a
    // subquery), not once per row.
    q.push(format!(
        "), numbered AS MATERIALIZED (SELECT nextval((SELECT pg_get_serial_sequence('alert_events', 'id'))::regclass) AS id, e.* \
         FROM entry e ORDER BY e.ord), \
         chained AS MATERIALIZED (SELECT n.*, l.id AS alert_id, CASE WHEN l.id IS NOT NULL THEN \
         COALESCE(LAG(n.id) OVER (PARTITION BY n.sid, n.dkey ORDER BY n.ord), l.last_event_id) END AS prev \
         FROM numbered n LEFT JOIN locked l ON l.sid = n.sid AND l.dkey = n.dkey), \
         counted AS (UPDATE alerts a SET {}, last_event_id = c.newest FROM locked l \
         JOIN (SELECT alert_id, MAX(id) AS newest FROM chained WHERE alert_id IS NOT NULL GROUP BY alert_id) c \
         ON c.alert_id = l.id WHERE a.id = l.id) \
         INSERT INTO alert_events (id, service_id, dedup_key, received_at, event, alert_id, action, prev_event_id) \
         OVERRIDING SYSTEM VALUE SELECT id, sid, dkey, at, event, alert_id, action, prev FROM chained ORDER BY ord \
         RETURNING service_id, dedup_key, alert_id IS NOT NULL",
        crate::alerts::count_repeats("a", "l.n", "l.at", "l.summary"),
    ));
    let mut counted = HashSet::new();
    for row in q.build().fetch_all(&mut *conn).await? {
        if row.try_get::<bool, _>(2)? {
            counted.insert((row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?));
        }
    }
    Ok(entries
        .iter()
        .map(|e| counted.contains(&(e.service_id.0, e.dedup_key.clone())))
        .collect())
}

/// How often [`analyze_growing`] looks at the tables' sizes.
const ANALYZE_CHECK_EVERY: Duration = Duration::from_secs(5);

/// The tables whose size decides the plans of the ingest path and the engine.
const PLANNED_TABLES: [&str; 4] = ["alerts", "alert_events", "jobs", "incidents"];

/// Analyzes each of [`PLANNED_TABLES`] that has more than doubled (by 500 rows or more)
/// since PostgreSQL last analyzed it. A prepared statement's cached plan is made for the
/// tables as the statistics describe them and kept until the next ANALYZE, and
/// autovacuum analyzes a table at most once a minute: a new database's first storm ran
/// that minute on plans made for empty tables, scanning every alert for each batch of
/// accepted events (`docs/benchmarks.md`). Grown tables are what autovacuum leaves
/// alone longest; churn on a table of steady size is its job.
async fn analyze_growing(pool: AnyPool, mut upkeep: Upkeep) {
    while upkeep.tick().await {
        let mut q = Sql::new(
            "SELECT s.relname::text FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
             WHERE s.schemaname = current_schema() \
             AND s.n_live_tup > 2 * GREATEST(c.reltuples, 0) + 500 AND s.relname::text IN (",
        );
        q.list(PLANNED_TABLES).push(")");
        let grown: Result<Vec<String>, _> = q.fetch_scalars(&pool).await;
        let grown = match grown {
            Ok(grown) => grown,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read table sizes; will try again");
                continue;
            }
        };
        // The statement names only tables of this list, never one read back.
        for table in PLANNED_TABLES
            .iter()
            .filter(|t| grown.iter().any(|g| g == *t))
        {
            if let Err(e) = sqlx::query(&format!("ANALYZE {table}"))
                .execute(&pool)
                .await
            {
                tracing::warn!(table, error = %e, "cannot analyze; will try again");
            }
        }
    }
}
