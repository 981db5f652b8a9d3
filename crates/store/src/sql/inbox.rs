//! The alert inbox (`alert_events` still waiting): accepted events in order, read by the
//! inbox worker, and what it writes back for the events that change nothing or repeat
//! open alerts. Accepting events is each backend's own path (see
//! [`crate::backend::Backend`]).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use jiff::Timestamp;
use klaxon_domain::alert::RepeatTally;
use klaxon_domain::{AlertId, ServiceId};
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use super::{corrupt, instant, ms, Sql};
use crate::alerts::{InboxEntry, InboxFailure, InboxItem, Repeat};
use crate::{Result, StoreError};

/// The oldest `limit` entries still to apply. `inbox_order` is the backend's term that
/// makes this read use its index ([`crate::backend::Dialect::inbox_order`]).
pub async fn inbox(pool: &AnyPool, limit: u32, inbox_order: &str) -> Result<Vec<InboxItem>> {
    let sql = format!(
        "SELECT id, service_id, dedup_key, received_at, event, attempts FROM alert_events \
         WHERE alert_id IS NULL AND failed_at IS NULL{inbox_order} ORDER BY id LIMIT $1",
    );
    let rows = sqlx::query(&sql)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let event: String = row.try_get(4)?;
            Ok(InboxItem {
                id: row.try_get(0)?,
                entry: InboxEntry {
                    service_id: ServiceId(row.try_get(1)?),
                    dedup_key: row.try_get(2)?,
                    received_at: instant(row.try_get(3)?),
                    event: serde_json::from_str(&event).map_err(|e| corrupt("inbox event", e))?,
                },
                attempts: row.try_get(5)?,
            })
        })
        .collect()
}

/// How many entries wait, given-up ones included.
pub async fn inbox_depth(pool: &AnyPool) -> Result<i64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_events WHERE alert_id IS NULL")
        .fetch_one(pool)
        .await?;
    Ok(n)
}

/// Records a failed attempt at an entry; with `give_up` it is skipped from now on.
pub async fn inbox_failed(conn: &mut AnyConnection, failure: &InboxFailure) -> Result<()> {
    let failed_at = failure.give_up.then(|| ms(Timestamp::now()));
    sqlx::query(
        "UPDATE alert_events SET attempts = attempts + 1, last_error = $1, failed_at = $2 \
         WHERE id = $3 AND alert_id IS NULL",
    )
    .bind(&failure.error)
    .bind(failed_at)
    .bind(failure.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes entries that change no alert.
pub async fn discard(conn: &mut AnyConnection, ids: &[i64]) -> Result<()> {
    for chunk in ids.chunks(1000) {
        let mut q = Sql::new("DELETE FROM alert_events WHERE alert_id IS NULL AND id IN (");
        q.list(chunk.iter().copied()).push(")");
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One alert's repeats in a bulk count: the tally and the newest entry on its log.
struct Tally<'r> {
    alert_id: AlertId,
    tally: RepeatTally<'r>,
    newest: i64,
}

/// Many repeats in a handful of statements: one `UPDATE … FROM (VALUES …)` that makes
/// their inbox entries log entries, chained on each alert's log in order, and one more
/// for the alerts. `Stale` if an alert is no longer open, `AlreadyApplied` if an
/// entry is applied already.
pub async fn apply_repeats(conn: &mut AnyConnection, repeats: &[Repeat]) -> Result<()> {
    let mut tallies: Vec<Tally<'_>> = Vec::new();
    let mut index: HashMap<AlertId, usize> = HashMap::new();
    // Per repeat, the entry before it on its alert's log: the alert's newest before
    // these (NULL here, looked up by the statement) or the repeat before.
    let mut prev = Vec::with_capacity(repeats.len());
    for r in repeats {
        let summary = r.event.summary.as_deref();
        match index.entry(r.alert_id) {
            Entry::Occupied(i) => {
                let t = &mut tallies[*i.get()];
                prev.push(Some(t.newest));
                t.tally.add(r.at, summary);
                t.newest = r.inbox_id;
            }
            Entry::Vacant(slot) => {
                slot.insert(tallies.len());
                prev.push(None);
                tallies.push(Tally {
                    alert_id: r.alert_id,
                    tally: RepeatTally::one(r.at, summary),
                    newest: r.inbox_id,
                });
            }
        }
    }
    // The entries first: the first of each alert's is chained after the alert's newest
    // entry, which the alerts' update then moves on.
    for chunk in repeats.iter().zip(prev).collect::<Vec<_>>().chunks(1000) {
        let mut q = Sql::new(
            "UPDATE alert_events SET alert_id = v.alert_id, prev_event_id = COALESCE(v.prev, \
             (SELECT a.last_event_id FROM alerts a WHERE a.id = v.alert_id)) \
             FROM (SELECT column1 AS id, column2 AS alert_id, column3 AS prev FROM (",
        );
        q.values(chunk, |row, (r, prev)| {
            row.bind(r.inbox_id).bind(r.alert_id.0).bind(*prev);
        });
        q.push(") AS x) AS v WHERE alert_events.id = v.id AND alert_events.alert_id IS NULL");
        let marked = q.execute(&mut *conn).await?;
        if marked != chunk.len() as u64 {
            return Err(StoreError::AlreadyApplied(
                "an inbox entry was applied already".into(),
            ));
        }
    }
    for chunk in tallies.chunks(500) {
        let mut q = Sql::new(format!(
            "UPDATE alerts SET {}, last_event_id = v.newest FROM (SELECT column1 AS id, column2 AS n, \
             column3 AS at, column4 AS summary, column5 AS newest FROM (",
            crate::alerts::count_repeats("alerts", "v.n", "v.at", "v.summary"),
        ));
        q.values(chunk, |row, t| {
            row.bind(t.alert_id.0)
                .bind(t.tally.n)
                .bind(ms(t.tally.last_at))
                .bind(t.tally.summary)
                .bind(t.newest);
        });
        q.push(") AS x) AS v WHERE alerts.id = v.id AND alerts.status <> 'resolved'");
        let updated = q.execute(&mut *conn).await?;
        if updated != chunk.len() as u64 {
            return Err(StoreError::Stale(
                "an alert closed while its repeats were counted".into(),
            ));
        }
    }
    Ok(())
}
