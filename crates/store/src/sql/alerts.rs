//! Alerts and their logs (`alerts`, and `alert_events` once applied): reads, and the
//! writes the inbox worker makes through the group commit.

use std::collections::HashMap;

use jiff::Timestamp;
use klaxon_domain::alert::{Alert, AlertEvent, AlertSeverity, AlertStatus};
use klaxon_domain::incident::{Declaration, Incident, Status};
use klaxon_domain::service::{Grouping, Service};
use klaxon_domain::{AlertId, IncidentNumber, ServiceId};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use super::{corrupt, incidents, instant, json, ms, Sql};
use crate::alerts::{
    AlertChange, AlertFilter, AlertLogEntry, AlertOpening, AlertUpdate, IncidentWrite,
};
use crate::{Result, StoreError};

const ALERT_COLUMNS: &str = "id, service_id, dedup_key, status, summary, severity, source, labels, details, \
     links, incident_number, first_seen_at, last_seen_at, repeat_count, acknowledged_at, resolved_at";

/// Rows per statement when alerts are opened together (15 values each).
const ALERT_ROWS: usize = 500;

/// The open alert of a service with this dedup key.
pub async fn open_alert(
    pool: &AnyPool,
    service_id: ServiceId,
    dedup_key: &str,
) -> Result<Option<Alert>> {
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE service_id = $1 AND dedup_key = $2 AND status <> 'resolved'"
    );
    let row = sqlx::query(&sql)
        .bind(service_id.0)
        .bind(dedup_key)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(alert_from_row).transpose()
}

/// The open incident a new alert of `service` would join (see
/// [`crate::AlertStore::grouping_candidate`]).
pub async fn grouping_candidate(
    pool: &AnyPool,
    service: &Service,
    group_key: Option<&str>,
    since: Option<Timestamp>,
) -> Result<Option<IncidentNumber>> {
    let mut q = match (&service.rules.grouping, group_key, since) {
        (Grouping::ByField { .. }, Some(key), _) => {
            let mut q = Sql::new(
                "SELECT i.number FROM alerts a JOIN incidents i ON i.number = a.incident_number WHERE a.service_id = ",
            );
            q.bind(service.id.0).push(" AND a.group_key = ").bind(key);
            q
        }
        (Grouping::TimeWindow { .. }, _, Some(since)) => {
            let mut q = Sql::new("SELECT i.number FROM incidents i WHERE i.service = ");
            q.bind(service.name.as_str())
                .push(" AND i.declared_at >= ")
                .bind(ms(since));
            q
        }
        _ => return Ok(None),
    };
    q.push(" AND i.status IN (");
    q.list(
        Status::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str()),
    );
    q.push(") ORDER BY i.number DESC LIMIT 1");
    let number: Option<i64> = q.fetch_scalar(pool).await?;
    Ok(number.map(IncidentNumber))
}

/// The open alerts of `service_id` with any of these dedup keys, as (key, id).
pub async fn open_alert_ids(
    pool: &AnyPool,
    service_id: ServiceId,
    dedup_keys: &[String],
) -> Result<Vec<(String, AlertId)>> {
    let mut found = Vec::with_capacity(dedup_keys.len());
    for chunk in dedup_keys.chunks(500) {
        let mut q = Sql::new(
            "SELECT dedup_key, id FROM alerts WHERE status <> 'resolved' AND service_id = ",
        );
        q.bind(service_id.0).push(" AND dedup_key IN (");
        q.list(chunk.iter().map(String::as_str)).push(")");
        for row in q.fetch_all(pool).await? {
            found.push((row.try_get(0)?, AlertId(row.try_get(1)?)));
        }
    }
    Ok(found)
}

/// How many of an incident's alerts are open.
pub async fn open_alert_count(pool: &AnyPool, incident: IncidentNumber) -> Result<i64> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM alerts WHERE incident_number = $1 AND status <> 'resolved'",
    )
    .bind(incident.0)
    .fetch_one(pool)
    .await?;
    Ok(n)
}

/// Alert `id`.
pub async fn alert(pool: &AnyPool, id: AlertId) -> Result<Alert> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
    let row = sqlx::query(&sql).bind(id.0).fetch_optional(pool).await?;
    match row {
        Some(row) => alert_from_row(&row),
        None => Err(StoreError::NotFound(format!(
            "there is no alert {id}; see `klaxon alert list`"
        ))),
    }
}

/// The alerts `filter` selects, newest first.
pub async fn alerts(pool: &AnyPool, filter: &AlertFilter) -> Result<Vec<Alert>> {
    let mut q = Sql::new(format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE 1 = 1"));
    if let Some(service) = filter.service_id {
        q.push(" AND service_id = ").bind(service.0);
    }
    if let Some(status) = filter.status {
        q.push(" AND status = ").bind(status.as_str());
    }
    if let Some(n) = filter.incident {
        q.push(" AND incident_number = ").bind(n.0);
    }
    if let Some(before) = filter.before {
        q.push(" AND id < ").bind(before.0);
    }
    if let Some(viewer) = &filter.viewer {
        q.push(" AND (incident_number IS NULL OR incident_number IN (SELECT number FROM incidents WHERE restricted = ")
            .bind(false)
            .push(") OR incident_number IN (SELECT incident_number FROM incident_participants WHERE handle = ")
            .bind(viewer.as_str())
            .push("))");
    }
    q.push(" ORDER BY id DESC LIMIT ")
        .bind(i64::from(filter.limit));
    let rows = q.fetch_all(pool).await?;
    rows.iter().map(alert_from_row).collect()
}

/// The newest `limit` events on alert `id`'s log, oldest first; with `before` (an
/// entry's id), the newest `limit` of those older than that entry.
pub async fn alert_log(
    pool: &AnyPool,
    id: AlertId,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<AlertLogEntry>> {
    // The log is a chain from the alert's newest event back (migration 0014 on SQLite,
    // 0015 on PostgreSQL), walked `limit` steps at most; from the entry before `before`
    // when given.
    let rows = sqlx::query(
        "WITH RECURSIVE log (id, prev, received_at, event, depth) AS ( \
         SELECT e.id, e.prev_event_id, e.received_at, e.event, 1 FROM alerts a \
         JOIN alert_events e ON e.id = CASE WHEN CAST($3 AS BIGINT) IS NULL THEN a.last_event_id \
         ELSE (SELECT p.prev_event_id FROM alert_events p WHERE p.id = $3 AND p.alert_id = $1) END \
         WHERE a.id = $1 AND $2 > 0 \
         UNION ALL SELECT e.id, e.prev_event_id, e.received_at, e.event, log.depth + 1 FROM log \
         JOIN alert_events e ON e.id = log.prev AND e.alert_id = $1 WHERE log.depth < $2) \
         SELECT id, received_at, event FROM log ORDER BY id",
    )
    .bind(id.0)
    .bind(i64::from(limit))
    .bind(before)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let data: String = row.try_get(2)?;
            Ok(AlertLogEntry {
                id: row.try_get(0)?,
                received_at: instant(row.try_get(1)?),
                event: serde_json::from_str(&data).map_err(|e| corrupt("alert event", e))?,
            })
        })
        .collect()
}

/// Locks the alerts a write is about to update, in id order (PostgreSQL; nothing on
/// SQLite, whose `lock_rows` is empty as it has one writer): alerts `ids`, and the open
/// alerts of `incidents`. The group-commit writer's batches and accepted events then
/// take their locks in one order and never deadlock.
pub async fn lock_alerts(
    conn: &mut AnyConnection,
    lock_rows: &str,
    mut ids: Vec<i64>,
    mut incidents: Vec<i64>,
) -> Result<()> {
    if lock_rows.is_empty() || (ids.is_empty() && incidents.is_empty()) {
        return Ok(());
    }
    ids.sort_unstable();
    ids.dedup();
    incidents.sort_unstable();
    incidents.dedup();
    let mut q = Sql::new("SELECT id FROM alerts WHERE ");
    if !ids.is_empty() {
        q.push("id IN (").list(ids).push(")");
        if !incidents.is_empty() {
            q.push(" OR ");
        }
    }
    if !incidents.is_empty() {
        q.push("(status <> 'resolved' AND incident_number IN (")
            .list(incidents)
            .push("))");
    }
    q.push(" ORDER BY id").push(lock_rows);
    q.fetch_all(conn).await?;
    Ok(())
}

/// New alerts, each with the incident it declares, joins or none and the inbox entry it
/// comes from (if any), a statement per kind of row for all of them: a storm of new
/// alerts under per-alert grouping opens thousands at once. Returns each alert's id and
/// incident, in order. `Stale` if an open alert with one of the keys appeared
/// meanwhile or an incident moved on, `AlreadyApplied` if an inbox entry is applied
/// already.
pub async fn open_alerts(
    conn: &mut AnyConnection,
    openings: &[&AlertOpening],
) -> Result<Vec<(AlertId, Option<Incident>)>> {
    if openings.is_empty() {
        return Ok(Vec::new());
    }
    let declarations: Vec<&Declaration> = openings
        .iter()
        .filter_map(|o| match &o.incident {
            IncidentWrite::Declare(declaration) => Some(declaration.as_ref()),
            _ => None,
        })
        .collect();
    let mut declared = incidents::declare(&mut *conn, &declarations)
        .await?
        .into_iter();
    let mut joined = Vec::with_capacity(openings.len());
    for o in openings {
        joined.push(match &o.incident {
            IncidentWrite::None => None,
            IncidentWrite::Declare(_) => declared.next(),
            IncidentWrite::Join(change) => {
                incidents::apply_changes(&mut *conn, &[change]).await?;
                Some(change.incident.clone())
            }
        });
    }
    let mut ids = HashMap::new();
    for chunk in openings
        .iter()
        .zip(&joined)
        .collect::<Vec<_>>()
        .chunks(ALERT_ROWS)
    {
        let mut q = Sql::new(
            "INSERT INTO alerts (service_id, dedup_key, status, summary, severity, source, labels, details, links, \
             group_key, incident_number, first_seen_at, last_seen_at, repeat_count, last_event_id) ",
        );
        q.values(chunk, |row, (o, incident)| {
            let (alert, e) = (&o.alert, &o.alert.event);
            row.bind(alert.service_id.0)
                .bind(alert.dedup_key.as_str())
                .raw("'triggered'")
                .bind(e.summary.as_deref().unwrap_or(&alert.dedup_key))
                .bind(e.severity.as_str())
                .bind(e.source.as_deref())
                .bind(json(&e.labels))
                .bind(json(&e.details))
                .bind(json(&e.links))
                .bind(alert.group_key.as_deref())
                .bind(incident.as_ref().map(|i| i.number.0))
                .bind(ms(alert.received_at))
                .bind(ms(alert.received_at))
                .raw("1")
                // The inbox entry becomes the alert's first log entry (below); an event
                // without one is the newest once logged.
                .bind(o.inbox);
        });
        q.push(" RETURNING id, service_id, dedup_key");
        let rows = q.fetch_all(&mut *conn).await.map_err(|err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Stale(match openings {
                    [o] => format!(
                        "an open alert with dedup key '{}' appeared meanwhile",
                        o.alert.dedup_key
                    ),
                    _ => "an open alert with one of these dedup keys appeared meanwhile".to_owned(),
                })
            }
            _ => StoreError::from(err),
        })?;
        for row in rows {
            ids.insert(
                (row.try_get::<i64, _>(1)?, row.try_get::<String, _>(2)?),
                row.try_get::<i64, _>(0)?,
            );
        }
    }
    let ids = openings
        .iter()
        .map(|o| {
            ids.get(&(o.alert.service_id.0, o.alert.dedup_key.clone()))
                .copied()
                .ok_or_else(|| {
                    StoreError::Other(format!(
                        "the new alert '{}' was not written",
                        o.alert.dedup_key
                    ))
                })
        })
        .collect::<Result<Vec<i64>>>()?;
    let mut entries = Vec::new();
    for (o, &id) in openings.iter().zip(&ids) {
        match o.inbox {
            Some(entry) => entries.push((entry, id)),
            None => {
                let first = log_event(
                    &mut *conn,
                    id,
                    &o.alert.event,
                    o.alert.received_at,
                    None,
                    true,
                )
                .await?;
                sqlx::query("UPDATE alerts SET last_event_id = $1 WHERE id = $2")
                    .bind(first)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    for chunk in entries.chunks(ALERT_ROWS) {
        let mut q = Sql::new(
            "UPDATE alert_events SET alert_id = v.alert_id, prev_event_id = NULL \
             FROM (SELECT column1 AS entry, column2 AS alert_id FROM (",
        );
        q.values(chunk, |row, (entry, id)| {
            row.bind(*entry).bind(*id);
        });
        q.push(") AS x) AS v WHERE alert_events.id = v.entry AND alert_events.alert_id IS NULL");
        let taken = q.execute(&mut *conn).await?;
        if taken != chunk.len() as u64 {
            return Err(StoreError::AlreadyApplied(match chunk {
                [(entry, _)] => format!("inbox entry {entry} was applied already"),
                _ => "one of these inbox entries was applied already".to_owned(),
            }));
        }
    }
    Ok(ids.into_iter().map(AlertId).zip(joined).collect())
}

/// Applies an update to an open alert and logs its event (without the incident
/// change, which the caller writes in the same transaction). `Stale` if the alert is
/// no longer open, `AlreadyApplied` if the inbox entry is applied already.
pub async fn change_alert(conn: &mut AnyConnection, change: &AlertChange) -> Result<()> {
    let AlertChange {
        id,
        update,
        ref event,
        at,
        inbox,
        ..
    } = *change;
    // Logged first, chained after the alert's newest entry, then made the newest by the
    // alert's update; a refused update rolls both back.
    let entry = log_event(&mut *conn, id.0, event, at, inbox, false).await?;
    let repeat = format!(
        "UPDATE alerts SET {}, last_event_id = $4 WHERE id = $3 AND status <> 'resolved'",
        crate::alerts::count_repeats("alerts", "1", "$1", "$2"),
    );
    let query = match update {
        AlertUpdate::Repeat => sqlx::query(&repeat)
            .bind(ms(at))
            .bind(event.summary.as_deref()),
        AlertUpdate::Acknowledge => sqlx::query(
            "UPDATE alerts SET status = 'acknowledged', acknowledged_at = $1, last_event_id = $3 \
             WHERE id = $2 AND status = 'triggered'",
        )
        .bind(ms(at)),
        AlertUpdate::Resolve => sqlx::query(
            "UPDATE alerts SET status = 'resolved', resolved_at = $1, last_event_id = $3 \
             WHERE id = $2 AND status <> 'resolved'",
        )
        .bind(ms(at)),
    };
    let updated = query
        .bind(id.0)
        .bind(entry)
        .execute(conn)
        .await?
        .rows_affected();
    if updated == 0 {
        return Err(StoreError::Stale(format!(
            "alert {id} changed meanwhile; try again"
        )));
    }
    Ok(())
}

/// Puts `event` on alert `id`'s log: the inbox entry it came in as becomes the log
/// entry; gone or applied means another worker applied it already, so the write must
/// not happen twice. An event without an entry (a person's acknowledgement) is logged
/// as it is. Either way it is chained after the alert's newest entry (none for a new
/// alert's `first`), and its id is returned for the caller to make the newest in its
/// own write of the alert's row, which on PostgreSQL is locked already.
async fn log_event(
    conn: &mut AnyConnection,
    id: i64,
    event: &AlertEvent,
    at: Timestamp,
    inbox: Option<i64>,
    first: bool,
) -> Result<i64> {
    let prev = if first {
        "NULL"
    } else {
        "(SELECT last_event_id FROM alerts WHERE id = $1)"
    };
    let Some(entry) = inbox else {
        let sql = format!(
            "INSERT INTO alert_events (service_id, dedup_key, received_at, event, alert_id, prev_event_id) \
             SELECT service_id, dedup_key, $2, $3, id, {prev} FROM alerts WHERE id = $1 RETURNING id"
        );
        let logged = sqlx::query_scalar(&sql)
            .bind(id)
            .bind(ms(at))
            .bind(json(event))
            .fetch_one(conn)
            .await?;
        return Ok(logged);
    };
    let sql = format!(
        "UPDATE alert_events SET alert_id = $1, prev_event_id = {prev} WHERE id = $2 AND alert_id IS NULL"
    );
    let taken = sqlx::query(&sql)
        .bind(id)
        .bind(entry)
        .execute(conn)
        .await?
        .rows_affected();
    if taken == 0 {
        return Err(StoreError::AlreadyApplied(format!(
            "inbox entry {entry} was applied already"
        )));
    }
    Ok(entry)
}

fn alert_from_row(row: &AnyRow) -> Result<Alert> {
    let status: String = row.try_get(3)?;
    let severity: String = row.try_get(5)?;
    let labels: String = row.try_get(7)?;
    let details: String = row.try_get(8)?;
    let links: String = row.try_get(9)?;
    let incident: Option<i64> = row.try_get(10)?;
    let acknowledged: Option<i64> = row.try_get(14)?;
    let resolved: Option<i64> = row.try_get(15)?;
    Ok(Alert {
        id: AlertId(row.try_get(0)?),
        service_id: ServiceId(row.try_get(1)?),
        dedup_key: row.try_get(2)?,
        status: AlertStatus::parse(&status).ok_or_else(|| corrupt("alert status", &status))?,
        summary: row.try_get(4)?,
        severity: AlertSeverity::parse(&severity)
            .ok_or_else(|| corrupt("alert severity", &severity))?,
        source: row.try_get(6)?,
        labels: serde_json::from_str(&labels).map_err(|e| corrupt("alert labels", e))?,
        details: serde_json::from_str(&details).map_err(|e| corrupt("alert details", e))?,
        links: serde_json::from_str(&links).map_err(|e| corrupt("alert links", e))?,
        incident: incident.map(IncidentNumber),
        first_seen_at: instant(row.try_get(11)?),
        last_seen_at: instant(row.try_get(12)?),
        repeat_count: row.try_get(13)?,
        acknowledged_at: acknowledged.map(instant),
        resolved_at: resolved.map(instant),
    })
}
