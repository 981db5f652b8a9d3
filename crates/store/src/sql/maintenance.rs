//! Scheduled maintenance (`scheduled_maintenances`, `scheduled_maintenance_updates`, and
//! the `maintenance_windows` of services it mutes): the rows, their updates, the windows
//! that point back at them and the engine's jobs about them.

use jiff::Timestamp;
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::maintenance::{
    MaintenanceJob, MaintenanceStatus, MaintenanceUpdate, NewUpdate, ScheduledMaintenance,
};
use klaxon_domain::{ComponentId, ScheduledMaintenanceId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{corrupt, flag, instant, json, ms, Sql, CHANGE_ROWS};
use crate::{Result, StoreError};

/// The flags are read as integers: see [`super::flag`].
const SELECT: &str = "SELECT id, name, components, scheduled_for, scheduled_until, status, \
     CASE WHEN auto_start THEN 1 ELSE 0 END, CASE WHEN auto_complete THEN 1 ELSE 0 END, \
     CASE WHEN mute_services THEN 1 ELSE 0 END, started_at, completed_at, reminded_for, \
     created_by, created_at, updated_at, version FROM scheduled_maintenances";

/// Inserts a maintenance (its id and version are ignored); its id. Version 1.
pub async fn insert(
    conn: &mut AnyConnection,
    m: &ScheduledMaintenance,
) -> Result<ScheduledMaintenanceId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scheduled_maintenances (name, components, scheduled_for, scheduled_until, \
         status, auto_start, auto_complete, mute_services, started_at, completed_at, reminded_for, \
         created_by, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1) RETURNING id",
    )
    .bind(&m.name)
    .bind(json(&m.components))
    .bind(ms(m.scheduled_for))
    .bind(ms(m.scheduled_until))
    .bind(m.status.as_str())
    .bind(m.auto_start)
    .bind(m.auto_complete)
    .bind(m.mute_services)
    .bind(m.started_at.map(ms))
    .bind(m.completed_at.map(ms))
    .bind(m.reminded_for.map(ms))
    .bind(&m.created_by)
    .bind(ms(m.created_at))
    .bind(ms(m.updated_at))
    .fetch_one(conn)
    .await?;
    Ok(ScheduledMaintenanceId(id))
}

/// Replaces maintenance `m.id`'s row if it is still at `m.version`, moving the version
/// on. `NotFound` if it is gone, `Stale` if it changed meanwhile.
pub async fn update(conn: &mut AnyConnection, m: &ScheduledMaintenance) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE scheduled_maintenances SET name = $1, components = $2, scheduled_for = $3, \
         scheduled_until = $4, status = $5, auto_start = $6, auto_complete = $7, \
         mute_services = $8, started_at = $9, completed_at = $10, reminded_for = $11, \
         updated_at = $12, version = version + 1 WHERE id = $13 AND version = $14",
    )
    .bind(&m.name)
    .bind(json(&m.components))
    .bind(ms(m.scheduled_for))
    .bind(ms(m.scheduled_until))
    .bind(m.status.as_str())
    .bind(m.auto_start)
    .bind(m.auto_complete)
    .bind(m.mute_services)
    .bind(m.started_at.map(ms))
    .bind(m.completed_at.map(ms))
    .bind(m.reminded_for.map(ms))
    .bind(ms(m.updated_at))
    .bind(m.id.0)
    .bind(m.version)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT version FROM scheduled_maintenances WHERE id = $1")
                .bind(m.id.0)
                .fetch_optional(conn)
                .await?;
        return Err(match exists {
            None => missing(m.id),
            Some(_) => StoreError::Stale(format!(
                "maintenance {} changed meanwhile; read it again",
                m.id
            )),
        });
    }
    Ok(())
}

fn missing(id: ScheduledMaintenanceId) -> StoreError {
    StoreError::NotFound(format!(
        "there is no scheduled maintenance {id}; see `klaxon maintenance list`"
    ))
}

/// Appends updates to maintenance `id`, numbered after the last one.
pub async fn add_updates(
    conn: &mut AnyConnection,
    id: ScheduledMaintenanceId,
    updates: &[NewUpdate],
) -> Result<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(seq) FROM scheduled_maintenance_updates WHERE maintenance_id = $1",
    )
    .bind(id.0)
    .fetch_one(&mut *conn)
    .await?;
    let first = last.unwrap_or(0) + 1;
    let mut q = Sql::new(
        "INSERT INTO scheduled_maintenance_updates (maintenance_id, seq, status, body, posted_by, posted_at) ",
    );
    q.values(updates.iter().zip(first..), |row, (u, seq)| {
        row.bind(id.0)
            .bind(seq)
            .bind(u.status.as_str())
            .bind(u.body.clone())
            .bind(u.by.clone())
            .bind(ms(u.at));
    });
    q.execute(conn).await?;
    Ok(())
}

/// Replaces the maintenance windows maintenance `id` made: one per service that exists,
/// for `window`, reusing the services' own maintenance windows (which mute alerts).
pub async fn replace_windows(
    conn: &mut AnyConnection,
    id: ScheduledMaintenanceId,
    services: &[ServiceName],
    window: Option<(Timestamp, Timestamp, String)>,
    created_by: &str,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("DELETE FROM maintenance_windows WHERE scheduled_maintenance_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    let Some(window) = window else {
        return Ok(());
    };
    for service in services {
        // A component may still name a service deleted since: it has no alerts to mute.
        let made = match super::services::add_maintenance(
            &mut *conn,
            service,
            window.clone(),
            created_by,
            at,
        )
        .await
        {
            Ok(made) => made,
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        sqlx::query("UPDATE maintenance_windows SET scheduled_maintenance_id = $1 WHERE id = $2")
            .bind(id.0)
            .bind(made.id.0)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Cancels the live jobs of maintenance `id` (those planned for its old state).
pub async fn cancel_jobs(conn: &mut AnyConnection, id: ScheduledMaintenanceId) -> Result<()> {
    // The keys are `maintenance/-/{id}/…` (see `sql::jobs::insert_jobs`).
    sqlx::query("DELETE FROM jobs WHERE dead_at IS NULL AND kind = $1 AND dedup_key LIKE $2")
        .bind("maintenance")
        .bind(format!("maintenance/-/{}%", MaintenanceJob::key_prefix(id)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Maintenance `id` with its updates; `NotFound` if there is none.
pub async fn maintenance(
    conn: &mut AnyConnection,
    id: ScheduledMaintenanceId,
) -> Result<ScheduledMaintenance> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    let mut m = match row {
        Some(row) => from_row(&row)?,
        None => return Err(missing(id)),
    };
    let rows = sqlx::query(
        "SELECT maintenance_id, seq, status, body, posted_by, posted_at \
         FROM scheduled_maintenance_updates WHERE maintenance_id = $1 ORDER BY seq",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await?;
    for row in &rows {
        m.updates.push(update_from_row(row)?);
    }
    Ok(m)
}

/// The maintenances that end at or after `since` or are not over, latest window first,
/// at most `limit`, with their updates.
pub async fn maintenances(
    pool: &AnyPool,
    since: Timestamp,
    limit: u32,
) -> Result<Vec<ScheduledMaintenance>> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE scheduled_until >= $1 OR status IN ('scheduled', 'in_progress', 'verifying') \
         ORDER BY scheduled_for DESC, id DESC LIMIT $2"
    ))
    .bind(ms(since))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let mut found: Vec<ScheduledMaintenance> = rows.iter().map(from_row).collect::<Result<_>>()?;
    let ids: Vec<i64> = found.iter().map(|m| m.id.0).collect();
    for chunk in ids.chunks(CHANGE_ROWS) {
        let mut q = Sql::new(
            "SELECT maintenance_id, seq, status, body, posted_by, posted_at \
             FROM scheduled_maintenance_updates WHERE maintenance_id IN (",
        );
        q.list(chunk.iter().copied());
        q.push(") ORDER BY maintenance_id, seq");
        for row in q.fetch_all(pool).await? {
            let id: i64 = row.try_get(0)?;
            if let Some(m) = found.iter_mut().find(|m| m.id.0 == id) {
                m.updates.push(update_from_row(&row)?);
            }
        }
    }
    Ok(found)
}

fn from_row(row: &AnyRow) -> Result<ScheduledMaintenance> {
    let components: String = row.try_get(2)?;
    let components: Vec<ComponentId> =
        serde_json::from_str(&components).map_err(|e| corrupt("maintenance components", e))?;
    let status: String = row.try_get(5)?;
    let at = |i: usize| -> Result<Option<Timestamp>> {
        Ok(row.try_get::<Option<i64>, _>(i)?.map(instant))
    };
    Ok(ScheduledMaintenance {
        id: ScheduledMaintenanceId(row.try_get(0)?),
        name: row.try_get(1)?,
        components,
        scheduled_for: instant(row.try_get(3)?),
        scheduled_until: instant(row.try_get(4)?),
        status: MaintenanceStatus::parse(&status).map_err(|e| corrupt("maintenance status", e))?,
        auto_start: flag(row, 6)?,
        auto_complete: flag(row, 7)?,
        mute_services: flag(row, 8)?,
        started_at: at(9)?,
        completed_at: at(10)?,
        reminded_for: at(11)?,
        updates: Vec::new(),
        created_by: row.try_get(12)?,
        created_at: instant(row.try_get(13)?),
        updated_at: instant(row.try_get(14)?),
        version: row.try_get(15)?,
    })
}

fn update_from_row(row: &AnyRow) -> Result<MaintenanceUpdate> {
    let status: String = row.try_get(2)?;
    Ok(MaintenanceUpdate {
        seq: row.try_get(1)?,
        status: MaintenanceStatus::parse(&status)
            .map_err(|e| corrupt("maintenance update status", e))?,
        body: row.try_get(3)?,
        by: row.try_get(4)?,
        at: instant(row.try_get(5)?),
    })
}
