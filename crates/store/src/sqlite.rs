//! The embedded backend: one SQLite file in WAL mode. All writes go through one writer
//! thread (the group commit, with a plain connection of its own for accepted alert
//! events) or a second writer connection, so writers queue in-process instead of
//! failing with SQLITE_BUSY; reads use their own pool and never wait for writers.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::any::AnyPoolOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::AnyPool;

use crate::alerts::InboxEntry;
use crate::backend::{Backend, Dialect, SqlStore};
use crate::group::{Acceptor, SqlWriter, Upkeep};
use crate::{Result, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Klaxon's store on a SQLite file.
pub type SqliteStore = SqlStore<Sqlite>;

/// The SQLite backend (see the module's documentation).
#[derive(Debug, Clone)]
pub struct Sqlite {
    /// The database file, which reports read through a plain connection of their own.
    database_file: std::path::PathBuf,
}

/// Every connection's settings. In WAL mode `synchronous = NORMAL` loses nothing when
/// the process dies (kill -9); only an operating-system crash or power loss can drop the
/// last commits.
const SETTINGS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

/// The writers' settings besides [`SETTINGS`]: they never checkpoint, as a checkpoint
/// inside a commit stalls every write queued behind it;
/// [`checkpoint`] does it beside the writers.
const WRITER_SETTINGS: &str = "PRAGMA wal_autocheckpoint = 0;";

#[async_trait]
impl Backend for Sqlite {
    const DIALECT: Dialect = Dialect {
        // One writer at a time: there are no row locks to order.
        lock_rows: "",
        // SQLite has one writer; claims never contend.
        skip_locked: "",
        // The inbox read needs no more than its own terms to use its index.
        inbox_order: "",
        // Commits in WAL mode with `synchronous = NORMAL` do not wait for the disk
        // already.
        claim_without_flush: None,
        // Takes the write lock up front, so a transaction never fails half-way because
        // another process (say `klaxon migrate`) holds it; busy_timeout waits for it
        // instead.
        begin_write: "BEGIN IMMEDIATE",
    };

    async fn open(url: &str) -> Result<SqlStore<Self>> {
        open_with(url, RESTART_FRAMES).await
    }

    /// One process serves a SQLite file, so it always holds every singleton.
    async fn hold_singleton(&self, _pool: &AnyPool, _name: &str) -> Result<bool> {
        Ok(true)
    }

    /// Read through a plain rusqlite connection on a blocking thread: through sqlx every
    /// row is handed from the connection's thread and copied twice, which for a year of
    /// incidents cost 0.9 s where the read itself takes 0.2 s (`docs/benchmarks.md`).
    async fn incident_facts(
        &self,
        _reader: &AnyPool,
        filter: &crate::FactsFilter,
    ) -> Result<Vec<klaxon_domain::metrics::IncidentFacts>> {
        let path = self.database_file.clone();
        let filter = filter.clone();
        tokio::task::spawn_blocking(move || read_facts(&path, &filter))
            .await
            .map_err(|e| StoreError::Other(format!("the report's read stopped: {e}")))?
    }
}

/// The facts `filter` selects, read from the file at `path` on a connection opened for
/// it (opening one costs well under a millisecond; a report reads for hundreds).
fn read_facts(
    path: &std::path::Path,
    filter: &crate::FactsFilter,
) -> Result<Vec<klaxon_domain::metrics::IncidentFacts>> {
    use crate::sql::metrics::{facts_of, facts_query, Param};
    use rusqlite::types::ToSqlOutput;
    let failed = |e: rusqlite::Error| StoreError::Other(format!("reading the report's facts: {e}"));
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(failed)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(failed)?;
    let (sql, params) = facts_query(filter);
    let params: Vec<ToSqlOutput<'_>> = params
        .into_iter()
        .map(|p| match p {
            Param::Int(v) => ToSqlOutput::from(v),
            Param::Text(v) => ToSqlOutput::from(v),
            Param::Bool(v) => ToSqlOutput::from(v),
        })
        .collect();
    let mut statement = conn.prepare(&sql).map_err(failed)?;
    let mut rows = statement
        .query(rusqlite::params_from_iter(params))
        .map_err(failed)?;
    let mut facts = Vec::new();
    while let Some(row) = rows.next().map_err(failed)? {
        let text = |i| row.get_ref(i).and_then(|v| Ok(v.as_str()?));
        facts.push(facts_of(
            text(0).map_err(failed)?,
            text(1).map_err(failed)?,
        )?);
    }
    facts.sort_unstable_by_key(|f| f.number);
    Ok(facts)
}

/// A pool of up to `max` connections to `url`, each with [`SETTINGS`] (and, for a
/// `writer`, [`WRITER_SETTINGS`]) run on connecting. Connections are checked by using
/// them: a ping before every acquire would add a round trip to the SQLite thread to
/// every write batch and read.
async fn pool(url: &str, max: u32, min: u32, writer: bool) -> Result<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .min_connections(min)
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute(SETTINGS).await?;
                if writer {
                    conn.execute(WRITER_SETTINGS).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

/// [`Sqlite::open`], with the log started over past `restart_frames` frames.
async fn open_with(url: &str, restart_frames: i64) -> Result<SqlStore<Sqlite>> {
    sqlx::any::install_default_drivers();
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::Other(format!("bad SQLite URL '{url}': {e}")))?;
    let database_file = options.get_filename().to_path_buf();
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StoreError::Other(format!(
            "'{url}' is an in-memory database, which each connection would see apart; use a file (sqlite://PATH)"
        )));
    }
    // An empty file is an empty database: created here, the pools need not be allowed
    // to create one.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&database_file)
        .map_err(|e| {
            StoreError::Other(format!("cannot create {}: {e}", database_file.display()))
        })?;
    // Two connections: one the group-commit writer keeps for itself, one for the other
    // writes; `BEGIN IMMEDIATE` and busy_timeout order them.
    let writer = pool(url, 2, 0, true).await?;
    MIGRATOR.run(&writer).await?;
    let reader = pool(url, 4, 1, false).await?;
    let checkpointer = pool(url, 1, 0, false).await?;
    let restart = Arc::new(AtomicBool::new(false));
    let direct = DirectInsert::open(&database_file, restart.clone())?;
    let (accepts, accepts_rx) = tokio::sync::mpsc::channel(crate::group::QUEUE);
    let (writes, writes_rx) = tokio::sync::mpsc::channel(crate::group::QUEUE);
    let sql_writer = SqlWriter::new(writer.clone(), Sqlite::DIALECT);
    crate::group::spawn_writer(
        "klaxon-writer",
        crate::group::serve(accepts_rx, writes_rx, direct, sql_writer),
    );
    tokio::spawn(checkpoint(
        checkpointer,
        database_file.clone(),
        Upkeep::every(CHECKPOINT_EVERY, &writes),
        restart,
        restart_frames,
    ));
    Ok(SqlStore {
        reader,
        writer,
        writes,
        accepts,
        backend: Sqlite { database_file },
    })
}

/// How often the write-ahead log is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// How long the log may grow before it is made to start over (see [`checkpoint`]), in
/// frames (pages): 64 MB with 4 KB pages.
const RESTART_FRAMES: i64 = 16_384;

/// Checkpoints the write-ahead log on its own connection while writes go on, so the WAL
/// stays small. `PASSIVE` never blocks the writer or readers. SQLite starts the log over
/// only when a write begins with all of it copied, which never happens while writes go
/// on without a pause: the log then grows by every commit for as long as an alert
/// storm lasts, and each write extends the file. So once the log passes
/// `restart_frames` ([`RESTART_FRAMES`]), the writer is asked to start it over between
/// two batches (see [`DirectInsert`]'s `between_batches`).
async fn checkpoint(
    pool: AnyPool,
    database_file: std::path::PathBuf,
    mut upkeep: Upkeep,
    restart: Arc<AtomicBool>,
    restart_frames: i64,
) {
    while upkeep.tick().await {
        let passive = || async {
            sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&pool)
                .await
                .map(|(_, log, _)| log)
        };
        match passive().await {
            Ok(log) if log > restart_frames => {
                // Once more first: it copies only what came in during the first. Then
                // the database file is flushed to disk here, so that the RESTART's own
                // flush, which holds the writer up, has little left to write.
                if passive().await.is_ok() {
                    let file = database_file.clone();
                    let synced = tokio::task::spawn_blocking(move || {
                        std::fs::File::open(&file).and_then(|f| f.sync_data())
                    })
                    .await;
                    if let Ok(Err(e)) = synced {
                        tracing::warn!(error = %e, "cannot flush the database file");
                    }
                    restart.store(true, Ordering::Relaxed);
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will try again"),
        }
    }
    pool.close().await;
}

/// The SQLite accept path: the group-commit writer's plain SQLite connection, used on
/// the writer's own thread for accepted alert events (the ingest path). Through sqlx,
/// each statement is handed to the connection's thread and its answer handed back, and
/// on two busy cores those two hand-offs took longer than the insert itself
/// (`docs/benchmarks.md`). The writer uses this connection and its sqlx one in turn,
/// never both at once, so they do not contend for SQLite's write lock.
struct DirectInsert {
    conn: rusqlite::Connection,
    /// Set by the checkpointer when the write-ahead log should start over.
    restart: Arc<AtomicBool>,
}

impl DirectInsert {
    /// Opens a connection to `path` with the writers' settings.
    fn open(path: &std::path::Path, restart: Arc<AtomicBool>) -> Result<Self> {
        let opened = rusqlite::Connection::open(path).and_then(|conn| {
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.execute_batch(
                "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
            )?;
            Ok(conn)
        });
        let conn = opened.map_err(|e| {
            StoreError::Other(format!(
                "cannot open {} for accepted alert events: {e}",
                path.display()
            ))
        })?;
        Ok(Self { conn, restart })
    }

    /// Commits `entries` in one transaction, counting the repeats of open alerts on
    /// arrival (see [`crate::AlertStore::enqueue_alerts`]); returns, per entry, whether
    /// it was counted.
    fn insert(&mut self, entries: &[&InboxEntry]) -> rusqlite::Result<Vec<bool>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut counted = alerts_to_count(&tx, entries)?;
        let mut alert_ids = Vec::with_capacity(entries.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO alert_events (service_id, dedup_key, received_at, event, alert_id, action, prev_event_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for e in entries {
                let alert = counted.get_mut(&(e.service_id, e.dedup_key.as_str()));
                let event = crate::sql::json(&e.event);
                insert.execute(rusqlite::params![
                    e.service_id.0,
                    e.dedup_key,
                    crate::sql::ms(e.received_at),
                    event,
                    alert.as_ref().map(|a| a.id),
                    e.event.action.as_str(),
                    alert.as_ref().and_then(|a| a.newest),
                ])?;
                alert_ids.push(alert.is_some());
                if let Some(alert) = alert {
                    alert.newest = Some(tx.last_insert_rowid());
                }
            }
        }
        count_repeats(&tx, counted.values())?;
        tx.commit()?;
        Ok(alert_ids)
    }
}

impl Acceptor for DirectInsert {
    fn accept(
        &mut self,
        entries: &[&InboxEntry],
    ) -> impl std::future::Future<Output = Result<Vec<bool>>> + Send {
        let written = self
            .insert(entries)
            .map_err(|e| StoreError::Other(e.to_string()));
        std::future::ready(written)
    }

    /// Starts the write-ahead log over if the checkpointer asked: a `RESTART`
    /// checkpoint copies what the last passive checkpoint left (little) while no write
    /// is under way and flushes it, so the next commit writes the log from its start.
    /// Run by the writer itself, it holds up the writes queued meanwhile for just that
    /// long; run beside it, the writer's own wait for the lock added whole milliseconds
    /// of SQLite's busy-handler sleeps.
    fn between_batches(&mut self) {
        if self.restart.swap(false, Ordering::Relaxed) {
            if let Err(e) = self
                .conn
                .query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
            {
                tracing::warn!(error = %e, "cannot start the write-ahead log over; will try again");
            }
        }
    }
}

/// An open alert whose repeats among a batch of accepted events are counted on arrival.
struct Counted<'e> {
    id: i64,
    /// The newest event on the alert's log: before the batch, then as its events go in.
    newest: Option<i64>,
    tally: crate::alerts::AlertTally<'e>,
}

/// The open alerts among `entries` whose repeats may be counted on arrival: an alert's
/// triggers count when it is open and no event of it but triggers waits in the inbox
/// (see [`crate::AlertStore::enqueue_alerts`]). [`count_repeats`] counts them once
/// their events are in.
fn alerts_to_count<'e>(
    tx: &rusqlite::Transaction<'_>,
    entries: &[&'e InboxEntry],
) -> rusqlite::Result<HashMap<(klaxon_domain::ServiceId, &'e str), Counted<'e>>> {
    use rusqlite::OptionalExtension;
    let mut find = tx.prepare_cached(&format!(
        "SELECT id, last_event_id FROM alerts WHERE service_id = ?1 AND dedup_key = ?2 AND status <> 'resolved' \
         AND NOT EXISTS (SELECT 1 FROM alert_events w WHERE w.service_id = ?1 AND w.dedup_key = ?2 AND {})",
        crate::alerts::HOLDS_BACK_REPEATS,
    ))?;
    let mut counted = HashMap::new();
    for tally in crate::alerts::repeat_tallies(entries) {
        let found: Option<(i64, Option<i64>)> = find
            .query_row(
                rusqlite::params![tally.service_id.0, tally.dedup_key],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if let Some((id, newest)) = found {
            counted.insert(
                (tally.service_id, tally.dedup_key),
                Counted { id, newest, tally },
            );
        }
    }
    Ok(counted)
}

/// Counts the repeats on each alert of `counted` and moves its log on to its newest
/// event. Each alert is found by a read ([`alerts_to_count`]) and then updated by its
/// row id, in the writer's transaction: an `UPDATE … RETURNING` would do it in one
/// statement, but SQLite gathers `RETURNING` rows in a temporary b-tree it opens and
/// closes for every execution, which cost the single writer more than the second
/// statement does.
fn count_repeats<'a, 'e: 'a>(
    tx: &rusqlite::Transaction<'_>,
    counted: impl Iterator<Item = &'a Counted<'e>>,
) -> rusqlite::Result<()> {
    let mut count = tx.prepare_cached(&format!(
        "UPDATE alerts SET {}, last_event_id = ?4 WHERE id = ?5",
        crate::alerts::count_repeats("alerts", "?1", "?2", "?3"),
    ))?;
    for c in counted {
        let t = &c.tally.tally;
        count.execute(rusqlite::params![
            t.n,
            crate::sql::ms(t.last_at),
            t.summary,
            c.newest,
            c.id
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlertStore;

    /// An in-memory database is refused: each pooled connection would see its own.
    #[tokio::test]
    async fn in_memory_databases_are_refused() {
        let refused = open_with("sqlite::memory:", RESTART_FRAMES).await.err();
        assert!(
            matches!(&refused, Some(StoreError::Other(m)) if m.contains("in-memory")),
            "{refused:?}"
        );
    }

    /// Every connection keeps the settings SQLite's durability and speed rely on; the
    /// writers never checkpoint.
    #[tokio::test]
    async fn connections_keep_their_settings() {
        let db = crate::testing::TempSqlite::new();
        let store = open_with(&db.url, RESTART_FRAMES).await.unwrap();
        for (pool, autocheckpoint) in [(&store.writer, 0), (&store.reader, 1000)] {
            let mut conn = pool.acquire().await.unwrap();
            let mut int = async |pragma: &str| -> i64 {
                sqlx::query_scalar(&format!("PRAGMA {pragma}"))
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap()
            };
            assert_eq!(int("synchronous").await, 1, "NORMAL");
            assert_eq!(int("busy_timeout").await, 10_000);
            assert_eq!(int("foreign_keys").await, 1);
            assert_eq!(int("wal_autocheckpoint").await, autocheckpoint);
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            assert_eq!(mode, "wal");
        }
    }

    /// Under writes without a pause, the log starts over once past its limit instead of
    /// growing by every commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_starts_over_under_writes_without_a_pause() {
        let db = crate::testing::TempSqlite::new();
        let store = Arc::new(open_with(&db.url, 50).await.unwrap());
        let wal = db.dir.join("klaxon.db-wal");
        let started = std::time::Instant::now();
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while started.elapsed() < Duration::from_secs(2) {
                        let event = klaxon_domain::alert::AlertEvent::new(
                            klaxon_domain::alert::AlertAction::Trigger,
                            klaxon_domain::alert::AlertSeverity::Error,
                        );
                        let entry = InboxEntry {
                            service_id: klaxon_domain::ServiceId(1),
                            dedup_key: format!("{w}-{n}"),
                            received_at: jiff::Timestamp::now(),
                            event,
                        };
                        store.enqueue_alerts(vec![entry]).await.unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        // Each start of the log writes a new salt into its header (bytes 16..24).
        let mut salts = std::collections::HashSet::new();
        while started.elapsed() < Duration::from_secs(2) {
            let mut header = [0u8; 32];
            let read = std::fs::File::open(&wal).and_then(|mut f| {
                use std::io::Read;
                f.read_exact(&mut header)
            });
            if read.is_ok() {
                salts.insert(header[16..24].to_vec());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for w in writers {
            assert!(w.await.unwrap() > 100, "each writer kept writing");
        }
        assert!(
            salts.len() >= 3,
            "the log started over {} times in 2 s of writes",
            salts.len().saturating_sub(1)
        );
    }
}
