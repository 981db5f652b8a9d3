//! Incidents, their timelines and participants (`incidents`, `incident_events`,
//! `incident_participants`, `counters`). An incident's projection is written with its
//! events in one transaction, and only if it is still at the version it was read at.

use std::collections::HashSet;

use klaxon_domain::incident::{Declaration, EventKind, Incident, Source, Status, TimelineEvent};
use klaxon_domain::{IncidentNumber, Severity};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use super::{corrupt, instant, jobs, metrics, ms, status, Sql, CHANGE_ROWS};
use crate::{Change, IncidentFilter, Result, StoreError};

/// The incident with this number; `NotFound` if there is none.
pub async fn incident(pool: &AnyPool, number: IncidentNumber) -> Result<Incident> {
    let data: Option<String> = sqlx::query_scalar("SELECT data FROM incidents WHERE number = $1")
        .bind(number.0)
        .fetch_optional(pool)
        .await?;
    match data {
        Some(data) => incident_from_json(&data),
        None => Err(StoreError::NotFound(format!(
            "there is no incident {number}"
        ))),
    }
}

/// The incidents with these numbers that exist, in no particular order.
pub async fn incidents_by_number(
    pool: &AnyPool,
    numbers: &[IncidentNumber],
) -> Result<Vec<Incident>> {
    let mut found = Vec::with_capacity(numbers.len());
    for chunk in numbers.chunks(CHANGE_ROWS) {
        let mut q = Sql::new("SELECT data FROM incidents WHERE number IN (");
        q.list(chunk.iter().map(|n| n.0)).push(")");
        for data in q.fetch_scalars::<_, String>(pool).await? {
            found.push(incident_from_json(&data)?);
        }
    }
    Ok(found)
}

/// An incident's timeline, in order.
pub async fn timeline(pool: &AnyPool, number: IncidentNumber) -> Result<Vec<TimelineEvent>> {
    let rows = sqlx::query(
        "SELECT seq, actor, source, recorded_at, occurred_at, data FROM incident_events \
         WHERE incident_number = $1 ORDER BY seq",
    )
    .bind(number.0)
    .fetch_all(pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// One page of an incident's timeline, newest first: at most `limit` events before
/// event `before` (from the newest without it). The primary key `(incident_number, seq)`
/// serves it as a range scan backwards, so a page costs the same on any timeline length.
pub async fn timeline_page(
    pool: &AnyPool,
    number: IncidentNumber,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<TimelineEvent>> {
    let rows = sqlx::query(
        "SELECT seq, actor, source, recorded_at, occurred_at, data FROM incident_events \
         WHERE incident_number = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
    )
    .bind(number.0)
    .bind(before.unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// An incident's events after event `after`, in order.
pub async fn timeline_after(
    pool: &AnyPool,
    number: IncidentNumber,
    after: i64,
) -> Result<Vec<TimelineEvent>> {
    let rows = sqlx::query(
        "SELECT seq, actor, source, recorded_at, occurred_at, data FROM incident_events \
         WHERE incident_number = $1 AND seq > $2 ORDER BY seq",
    )
    .bind(number.0)
    .bind(after)
    .fetch_all(pool)
    .await?;
    rows.iter().map(event_from_row).collect()
}

/// The timeline events with these (incident number, seq) that exist.
pub async fn timeline_events(
    pool: &AnyPool,
    wanted: &[(IncidentNumber, i64)],
) -> Result<Vec<(IncidentNumber, TimelineEvent)>> {
    let mut found = Vec::with_capacity(wanted.len());
    for chunk in wanted.chunks(400) {
        let mut q = Sql::new(
            "SELECT seq, actor, source, recorded_at, occurred_at, data, incident_number FROM incident_events \
             WHERE (incident_number, seq) IN (",
        );
        q.values(chunk, |row, (n, seq)| {
            row.bind(n.0).bind(*seq);
        });
        q.push(")");
        for row in q.fetch_all(pool).await? {
            found.push((IncidentNumber(row.try_get(6)?), event_from_row(&row)?));
        }
    }
    Ok(found)
}

/// The incidents `filter` selects, newest first.
pub async fn incidents(pool: &AnyPool, filter: &IncidentFilter) -> Result<Vec<Incident>> {
    let mut q = Sql::new("SELECT data FROM incidents WHERE 1 = 1");
    if let Some(status) = filter.status {
        q.push(" AND status = ").bind(status.as_str());
    }
    if let Some(severity) = filter.severity {
        q.push(" AND severity = ").bind(i64::from(severity.level()));
    }
    if let Some(service) = &filter.service {
        q.push(" AND service = ").bind(service.as_str());
    }
    if let Some(open) = filter.open {
        q.push(if open {
            " AND status IN ("
        } else {
            " AND status NOT IN ("
        });
        q.list(
            Status::ALL
                .into_iter()
                .filter(|s| s.is_open())
                .map(|s| s.as_str()),
        );
        q.push(")");
    }
    if let Some(since) = filter.since {
        q.push(" AND declared_at >= ").bind(ms(since));
    }
    if let Some(before) = filter.before {
        q.push(" AND number < ").bind(before.0);
    }
    if let Some(viewer) = &filter.viewer {
        q.push(" AND (restricted = ")
            .bind(false)
            .push(
                " OR number IN (SELECT incident_number FROM incident_participants WHERE handle = ",
            )
            .bind(viewer.as_str())
            .push("))");
    }
    q.push(" ORDER BY number DESC LIMIT ")
        .bind(i64::from(filter.limit));
    let rows: Vec<String> = q.fetch_scalars(pool).await?;
    rows.iter().map(|data| incident_from_json(data)).collect()
}

/// Counts of non-drill incidents by status and severity.
pub async fn incident_counts(pool: &AnyPool) -> Result<Vec<(Status, Severity, i64)>> {
    let rows = sqlx::query(
        "SELECT status, severity, COUNT(*) FROM incidents WHERE drill = $1 GROUP BY status, severity",
    )
    .bind(false)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let status: String = row.try_get(0)?;
            let severity: i64 = row.try_get(1)?;
            let status = Status::parse(&status).map_err(|e| corrupt("incident status", e))?;
            let severity = Severity::new(severity).map_err(|e| corrupt("incident severity", e))?;
            Ok((status, severity, row.try_get(2)?))
        })
        .collect()
}

/// Declares incidents with their first events and jobs, a statement per kind of row for
/// all of them: an alert storm under per-alert grouping opens thousands of incidents at
/// once. Numbers are given out in order; a slug already taken, or taken earlier in the
/// same call, gets the incident's number appended.
pub async fn declare(
    conn: &mut AnyConnection,
    declarations: &[&Declaration],
) -> Result<Vec<Incident>> {
    if declarations.is_empty() {
        return Ok(Vec::new());
    }
    // The counter row also serialises concurrent declarations on PostgreSQL, which
    // keeps the slug check below free of races.
    let last: i64 = sqlx::query_scalar(
        "UPDATE counters SET value = value + $1 WHERE name = 'incident_number' RETURNING value",
    )
    .bind(declarations.len() as i64)
    .fetch_one(&mut *conn)
    .await?;
    let first = last - declarations.len() as i64 + 1;
    let mut taken = HashSet::new();
    for chunk in declarations.chunks(CHANGE_ROWS) {
        let mut q = Sql::new("SELECT slug FROM incidents WHERE slug IN (");
        q.list(chunk.iter().map(|d| d.slug_base.as_str())).push(")");
        taken.extend(q.fetch_scalars::<_, String>(&mut *conn).await?);
    }
    let mut incidents = Vec::with_capacity(declarations.len());
    for (number, declaration) in (first..).zip(declarations) {
        let base = &declaration.slug_base;
        let slug = match taken.insert(base.to_string()) {
            true => base.to_string(),
            false => format!("{base}-{number}"),
        };
        incidents.push(declaration.numbered(IncidentNumber(number), slug));
    }
    let declared: Vec<_> = incidents.iter().zip(declarations.iter().copied()).collect();
    for chunk in declared.chunks(CHANGE_ROWS) {
        let mut q = Sql::new(
            "INSERT INTO incidents (number, slug, status, severity, service, restricted, drill, declared_at, version, updated_at, data, facts, fact_events) ",
        );
        q.values(chunk, |row, (incident, declaration)| {
            row.bind(incident.number.0)
                .bind(incident.slug.as_str())
                .bind(incident.status.as_str())
                .bind(i64::from(incident.severity.level()))
                .bind(incident.service.as_deref())
                .bind(incident.restricted)
                .bind(incident.drill)
                .bind(ms(incident.declared_at))
                .bind(incident.version)
                .bind(ms(incident.updated_at))
                .bind(projection_json(incident))
                .bind(metrics::facts_json(incident))
                .bind(metrics::fact_events(&declaration.events));
        });
        q.execute(&mut *conn).await?;
    }
    let events: Vec<_> = incidents
        .iter()
        .zip(declarations)
        .flat_map(|(incident, d)| d.events.iter().map(|e| (incident.number, e)))
        .collect();
    for chunk in events.chunks(CHANGE_ROWS) {
        insert_events(&mut *conn, chunk).await?;
    }
    let participants: Vec<_> = incidents
        .iter()
        .flat_map(|i| i.participants.iter().map(|h| (i.number, h.as_str())))
        .collect();
    write_participants(&mut *conn, &participants).await?;
    let planned: Vec<_> = incidents
        .iter()
        .zip(declarations)
        .flat_map(|(incident, d)| {
            let (number, at) = (incident.number, incident.updated_at);
            d.jobs.add.iter().map(move |job| (Some(number), job, at))
        })
        .collect();
    jobs::insert_jobs(&mut *conn, &planned).await?;
    let page: Vec<_> = incidents
        .iter()
        .zip(declarations)
        .filter(|(_, d)| d.status_page != Default::default())
        .map(|(i, d)| (i.number, i.updated_at, &d.status_page))
        .collect();
    status::write_incident_changes(conn, &page).await?;
    Ok(incidents)
}

/// Writes incident changes. Changes to distinct incidents go in together, a statement
/// per kind of row for all of them: the engine finishes thousands of escalation steps
/// at once, and a statement per change per row would cost a round trip each. Two
/// changes to one incident go one after the other.
pub async fn apply_changes(conn: &mut AnyConnection, changes: &[&Change]) -> Result<()> {
    let mut numbers = HashSet::new();
    if changes.iter().all(|c| numbers.insert(c.incident.number)) {
        return apply_distinct_changes(conn, changes).await;
    }
    for change in changes {
        apply_distinct_changes(&mut *conn, &[change]).await?;
    }
    Ok(())
}

/// Writes changes to distinct incidents, a statement per kind of row.
async fn apply_distinct_changes(conn: &mut AnyConnection, changes: &[&Change]) -> Result<()> {
    for chunk in changes.chunks(CHANGE_ROWS) {
        update_incidents(&mut *conn, chunk).await?;
    }
    let events: Vec<_> = changes
        .iter()
        .flat_map(|c| c.events.iter().map(|e| (c.incident.number, e)))
        .collect();
    for chunk in events.chunks(CHANGE_ROWS) {
        insert_events(&mut *conn, chunk).await?;
    }
    let participants: Vec<_> = changes
        .iter()
        .flat_map(|c| {
            c.new_participants
                .iter()
                .map(|h| (c.incident.number, h.as_str()))
        })
        .collect();
    write_participants(&mut *conn, &participants).await?;
    let mut planned = vec![];
    for change in changes {
        let (number, at) = (change.incident.number, change.incident.updated_at);
        jobs::cancel_jobs(&mut *conn, number, &change.jobs.cancel).await?;
        planned.extend(change.jobs.add.iter().map(|j| (Some(number), j, at)));
        move_alerts(&mut *conn, change).await?;
    }
    jobs::insert_jobs(&mut *conn, &planned).await?;
    status::write_changes(conn, changes).await
}

/// The projections of changed incidents, each only if it is still at the version its
/// change was made from.
async fn update_incidents(conn: &mut AnyConnection, changes: &[&Change]) -> Result<()> {
    let mut q = Sql::new(
        "UPDATE incidents SET status = v.status, severity = v.severity, service = v.service, \
         restricted = v.restricted, drill = v.drill, version = v.version, updated_at = v.updated_at, data = v.data, \
         facts = v.facts, fact_events = incidents.fact_events || v.fact_events \
         FROM (SELECT column1 AS number, column2 AS expected, column3 AS status, column4 AS severity, \
         column5 AS service, column6 AS restricted, column7 AS drill, column8 AS version, \
         column9 AS updated_at, column10 AS data, column11 AS facts, column12 AS fact_events FROM (",
    );
    q.values(changes, |row, change| {
        let i = &change.incident;
        row.bind(i.number.0)
            .bind(change.expected_version)
            .bind(i.status.as_str())
            .bind(i64::from(i.severity.level()))
            .bind(i.service.as_deref())
            .bind(i.restricted)
            .bind(i.drill)
            .bind(i.version)
            .bind(ms(i.updated_at))
            .bind(projection_json(i))
            .bind(metrics::facts_json(i))
            .bind(metrics::fact_events(&change.events));
    });
    q.push(") AS x) AS v WHERE incidents.number = v.number AND incidents.version = v.expected");
    let updated = q.execute(conn).await?;
    if updated != changes.len() as u64 {
        return Err(StoreError::Stale(match changes {
            [one] => format!(
                "incident {} changed while this request was handled; try again",
                one.incident.number
            ),
            _ => "an incident changed while this request was handled; try again".to_owned(),
        }));
    }
    Ok(())
}

/// Moves an incident's open alerts along with it (acknowledged, resolved).
async fn move_alerts(conn: &mut AnyConnection, change: &Change) -> Result<()> {
    let i = &change.incident;
    let sql = match change.alerts {
        Some(klaxon_domain::alert::AlertStatus::Acknowledged) => {
            "UPDATE alerts SET status = 'acknowledged', acknowledged_at = $1 \
             WHERE incident_number = $2 AND status = 'triggered'"
        }
        Some(klaxon_domain::alert::AlertStatus::Resolved) => {
            "UPDATE alerts SET status = 'resolved', resolved_at = $1 \
             WHERE incident_number = $2 AND status <> 'resolved'"
        }
        Some(klaxon_domain::alert::AlertStatus::Triggered) | None => return Ok(()),
    };
    sqlx::query(sql)
        .bind(ms(i.updated_at))
        .bind(i.number.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Timeline events of one or more incidents, with one statement.
async fn insert_events(
    conn: &mut AnyConnection,
    rows: &[(IncidentNumber, &TimelineEvent)],
) -> Result<()> {
    let Some((first, _)) = rows.first().copied() else {
        return Ok(());
    };
    let mut data = Vec::with_capacity(rows.len());
    for (_, e) in rows {
        data.push(serde_json::to_string(&e.kind).map_err(|e| StoreError::Other(e.to_string()))?);
    }
    let mut q = Sql::new(
        "INSERT INTO incident_events (incident_number, seq, type, actor, source, recorded_at, occurred_at, data) ",
    );
    q.values(rows.iter().zip(data), |row, ((number, e), data)| {
        row.bind(number.0)
            .bind(e.seq)
            .bind(e.kind.name())
            .bind(e.actor.as_str())
            .bind(e.source.as_str())
            .bind(ms(e.recorded_at))
            .bind(e.occurred_at.map(ms))
            .bind(data);
    });
    let one = rows.iter().all(|(n, _)| *n == first);
    // A taken (incident, seq) means another writer appended to the incident first.
    q.execute(conn).await.map_err(|err| {
        stale_on_duplicate(err, || match one {
            true => format!("incident {first} changed while this request was handled; try again"),
            false => "an incident changed while this request was handled; try again".to_owned(),
        })
    })?;
    Ok(())
}

/// People taking part in incidents, by incident and handle, a statement per
/// [`CHANGE_ROWS`]; those already in are left as they are.
async fn write_participants(
    conn: &mut AnyConnection,
    rows: &[(IncidentNumber, &str)],
) -> Result<()> {
    for chunk in rows.chunks(CHANGE_ROWS) {
        let mut q = Sql::new("INSERT INTO incident_participants (incident_number, handle) ");
        q.values(chunk, |row, (number, handle)| {
            row.bind(number.0).bind(*handle);
        });
        q.push(" ON CONFLICT DO NOTHING");
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `e`, with a unique-constraint violation turned into `Stale(message())`.
fn stale_on_duplicate(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Stale(message()),
        _ => StoreError::from(e),
    }
}

pub(crate) fn event_from_row(row: &AnyRow) -> Result<TimelineEvent> {
    let source: String = row.try_get(2)?;
    let occurred: Option<i64> = row.try_get(4)?;
    let data: String = row.try_get(5)?;
    Ok(TimelineEvent {
        seq: row.try_get(0)?,
        kind: serde_json::from_str::<EventKind>(&data).map_err(|e| corrupt("event", e))?,
        actor: row.try_get(1)?,
        source: Source::parse(&source).ok_or_else(|| corrupt("event source", &source))?,
        recorded_at: instant(row.try_get(3)?),
        occurred_at: occurred.map(instant),
    })
}

fn projection_json(incident: &Incident) -> String {
    serde_json::to_string(incident).expect("an incident always serialises")
}

pub(crate) fn incident_from_json(data: &str) -> Result<Incident> {
    serde_json::from_str(data).map_err(|e| corrupt("incident", e))
}
