//! The status page (`components`, `component_periods`, `public_incidents`,
//! `status_page`): components, the stretches of their status history, the incidents
//! published on the page, and the page's secret and version.

use jiff::Timestamp;
use klaxon_domain::incident::{Change, Incident, TimelineEvent};
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::{
    Component, ComponentFields, ComponentPeriod, ComponentStatus, Period, PeriodChange,
    StatusPageChange,
};
use klaxon_domain::{ComponentId, IncidentNumber};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::incidents::{event_from_row, incident_from_json};
use super::{corrupt, flag, instant, json, ms, unique_violation, Sql, CHANGE_ROWS};
use crate::{Result, StoreError};

/// The flags are read as integers: see [`super::flag`].
const COMPONENT_SELECT: &str = "SELECT id, name, description, position, \
     CASE WHEN is_group THEN 1 ELSE 0 END, group_id, services, \
     CASE WHEN only_show_if_degraded THEN 1 ELSE 0 END, CASE WHEN showcase THEN 1 ELSE 0 END, \
     start_date, manual_status, created_at, updated_at FROM components";

/// The events the status page reads of a published incident.
const PUBLIC_EVENT_TYPES: [&str; 10] = [
    "acknowledged",
    "mitigated",
    "resolved",
    "closed",
    "reopened",
    "declined",
    "merged_into",
    "components_changed",
    "status_updated",
    "review_published",
];

/// Creates a component; its id. `Duplicate` of `name` if the name is taken.
pub async fn create_component(
    conn: &mut AnyConnection,
    fields: &ComponentFields,
    at: Timestamp,
) -> Result<ComponentId> {
    let position = match fields.position {
        Some(p) => p,
        None => next_position(&mut *conn, fields.group_id).await?,
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO components (name, description, position, is_group, group_id, services, \
         only_show_if_degraded, showcase, start_date, manual_status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(&fields.name)
    .bind(fields.description.as_deref())
    .bind(position)
    .bind(fields.group)
    .bind(fields.group_id.map(|g| g.0))
    .bind(json(&fields.services))
    .bind(fields.only_show_if_degraded)
    .bind(fields.showcase)
    .bind(fields.start_date.map(|d| d.to_string()))
    .bind(ComponentStatus::Operational.as_str())
    .bind(ms(at))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| taken(e, &fields.name))?;
    Ok(ComponentId(id))
}

fn taken(e: sqlx::Error, name: &str) -> StoreError {
    unique_violation(e, "name", || {
        format!("a component named '{name}' already exists")
    })
}

/// After the last sibling: the top level's, or the group's.
async fn next_position(conn: &mut AnyConnection, group: Option<ComponentId>) -> Result<i64> {
    let last: Option<i64> = match group {
        Some(g) => {
            sqlx::query_scalar("SELECT MAX(position) FROM components WHERE group_id = $1")
                .bind(g.0)
                .fetch_one(conn)
                .await?
        }
        None => {
            sqlx::query_scalar("SELECT MAX(position) FROM components WHERE group_id IS NULL")
                .fetch_one(conn)
                .await?
        }
    };
    Ok(last.unwrap_or(0) + 1)
}

/// Every component, by id.
pub async fn components(pool: &AnyPool) -> Result<Vec<Component>> {
    let rows = sqlx::query(&format!("{COMPONENT_SELECT} ORDER BY id"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(component_from_row).collect()
}

/// Component `id`; `NotFound` if there is none.
pub async fn component(conn: &mut AnyConnection, id: ComponentId) -> Result<Component> {
    let row = sqlx::query(&format!("{COMPONENT_SELECT} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(conn)
        .await?;
    match row {
        Some(row) => component_from_row(&row),
        None => Err(missing(id)),
    }
}

fn missing(id: ComponentId) -> StoreError {
    StoreError::NotFound(format!(
        "there is no component {id}; see `klaxon component list`"
    ))
}

/// Replaces a component's fields (not whether it is a group, nor its status set by hand).
pub async fn update_component(
    conn: &mut AnyConnection,
    id: ComponentId,
    fields: &ComponentFields,
    at: Timestamp,
) -> Result<()> {
    let position = match fields.position {
        Some(p) => p,
        None => next_position(&mut *conn, fields.group_id).await?,
    };
    let updated = sqlx::query(
        "UPDATE components SET name = $1, description = $2, position = $3, group_id = $4, \
         services = $5, only_show_if_degraded = $6, showcase = $7, start_date = $8, \
         updated_at = $9 WHERE id = $10",
    )
    .bind(&fields.name)
    .bind(fields.description.as_deref())
    .bind(position)
    .bind(fields.group_id.map(|g| g.0))
    .bind(json(&fields.services))
    .bind(fields.only_show_if_degraded)
    .bind(fields.showcase)
    .bind(fields.start_date.map(|d| d.to_string()))
    .bind(ms(at))
    .bind(id.0)
    .execute(conn)
    .await
    .map_err(|e| taken(e, &fields.name))?
    .rows_affected();
    if updated == 0 {
        return Err(missing(id));
    }
    Ok(())
}

/// Sets the status set by hand: ends the stretch set by hand that lasts, and starts one
/// unless the new status is operational. Nothing changes if it is the same.
pub async fn set_manual_status(
    conn: &mut AnyConnection,
    id: ComponentId,
    status: ComponentStatus,
    at: Timestamp,
) -> Result<()> {
    let current: Option<String> =
        sqlx::query_scalar("SELECT manual_status FROM components WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?;
    let current = current.ok_or_else(|| missing(id))?;
    if current == status.as_str() {
        return Ok(());
    }
    sqlx::query("UPDATE components SET manual_status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(ms(at))
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    end_periods(&mut *conn, id, None, at).await?;
    if status != ComponentStatus::Operational {
        sqlx::query(
            "INSERT INTO component_periods (component_id, incident_number, status, started_at) \
             VALUES ($1, NULL, $2, $3)",
        )
        .bind(id.0)
        .bind(status.as_str())
        .bind(ms(at))
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Ends the lasting stretches of component `id` set by incident `incident` (by hand:
/// `None`) at `at`, or at their start if that is later (a time stated in the past).
async fn end_periods(
    conn: &mut AnyConnection,
    id: ComponentId,
    incident: Option<IncidentNumber>,
    at: Timestamp,
) -> Result<()> {
    const BY_INCIDENT: &str = "UPDATE component_periods SET ended_at = \
        CASE WHEN started_at > $1 THEN started_at ELSE $1 END \
        WHERE component_id = $2 AND ended_at IS NULL AND incident_number = $3";
    const BY_HAND: &str = "UPDATE component_periods SET ended_at = \
        CASE WHEN started_at > $1 THEN started_at ELSE $1 END \
        WHERE component_id = $2 AND ended_at IS NULL AND incident_number IS NULL";
    let q = match incident {
        Some(n) => sqlx::query(BY_INCIDENT).bind(ms(at)).bind(id.0).bind(n.0),
        None => sqlx::query(BY_HAND).bind(ms(at)).bind(id.0),
    };
    q.execute(conn).await?;
    Ok(())
}

/// Deletes a component (its history goes with it).
pub async fn delete_component(conn: &mut AnyConnection, id: ComponentId) -> Result<()> {
    let deleted = sqlx::query("DELETE FROM components WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(missing(id));
    }
    Ok(())
}

/// Moves the page's version on: every replica rebuilds its copy of the page.
pub async fn bump_version(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE status_page SET version = version + 1 WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes what incident changes do to the page: the history stretches they end and
/// start, the incidents they publish, and a new version if the page shows anything new.
/// Most changes (the engine's paging) do none of it and cost no statement.
pub async fn write_incident_changes(
    conn: &mut AnyConnection,
    changes: &[(IncidentNumber, Timestamp, &StatusPageChange)],
) -> Result<()> {
    let mut touched = false;
    for (number, at, change) in changes {
        touched |= change.touched || !change.periods.is_empty();
        for op in &change.periods {
            match *op {
                PeriodChange::End { component, at } => {
                    end_periods(&mut *conn, component, Some(*number), at).await?
                }
                // A component deleted meanwhile has no history to keep.
                PeriodChange::Start {
                    component,
                    status,
                    at,
                } => {
                    sqlx::query(
                        "INSERT INTO component_periods (component_id, incident_number, status, started_at) \
                         SELECT id, $1, $2, $3 FROM components WHERE id = $4",
                    )
                    .bind(number.0)
                    .bind(status.as_str())
                    .bind(ms(at))
                    .bind(component.0)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
        if change.published {
            sqlx::query(
                "INSERT INTO public_incidents (incident_number, published_at) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(number.0)
            .bind(ms(*at))
            .execute(&mut *conn)
            .await?;
        }
    }
    if touched {
        bump_version(conn).await?;
    }
    Ok(())
}

/// [`write_incident_changes`] for changes of the incident write path.
pub async fn write_changes(conn: &mut AnyConnection, changes: &[&Change]) -> Result<()> {
    let page: Vec<_> = changes
        .iter()
        .filter(|c| c.status_page != StatusPageChange::default())
        .map(|c| (c.incident.number, c.incident.updated_at, &c.status_page))
        .collect();
    write_incident_changes(conn, &page).await
}

/// The stretches that end at or after `since`, or still last, by start.
pub async fn component_periods(pool: &AnyPool, since: Timestamp) -> Result<Vec<ComponentPeriod>> {
    let rows = sqlx::query(
        "SELECT component_id, incident_number, status, started_at, ended_at FROM component_periods \
         WHERE ended_at IS NULL OR ended_at >= $1 ORDER BY started_at, id",
    )
    .bind(ms(since))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let status: String = row.try_get(2)?;
            let incident: Option<i64> = row.try_get(1)?;
            let ended: Option<i64> = row.try_get(4)?;
            Ok(ComponentPeriod {
                component: ComponentId(row.try_get(0)?),
                incident: incident.map(IncidentNumber),
                period: Period {
                    status: ComponentStatus::parse(&status)
                        .map_err(|e| corrupt("component status", e))?,
                    start: instant(row.try_get(3)?),
                    end: ended.map(instant),
                },
            })
        })
        .collect()
}

/// Published incidents declared at or after `since` or still open, newest first.
pub async fn public_incidents(
    pool: &AnyPool,
    since: Timestamp,
    limit: u32,
) -> Result<Vec<Incident>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT i.data FROM incidents i JOIN public_incidents p ON p.incident_number = i.number \
         WHERE i.declared_at >= $1 OR i.status IN ('triggered', 'acknowledged', 'mitigated') \
         ORDER BY i.number DESC LIMIT $2",
    )
    .bind(ms(since))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|data| incident_from_json(data)).collect()
}

/// The events of these incidents that the page reads, in order per incident.
pub async fn public_events(
    pool: &AnyPool,
    numbers: &[IncidentNumber],
) -> Result<Vec<(IncidentNumber, TimelineEvent)>> {
    let mut found = Vec::new();
    for chunk in numbers.chunks(CHANGE_ROWS) {
        let mut q = Sql::new(
            "SELECT seq, actor, source, recorded_at, occurred_at, data, incident_number \
             FROM incident_events WHERE incident_number IN (",
        );
        q.list(chunk.iter().map(|n| n.0));
        q.push(") AND type IN (").list(PUBLIC_EVENT_TYPES);
        q.push(") ORDER BY incident_number, seq");
        for row in q.fetch_all(pool).await? {
            found.push((IncidentNumber(row.try_get(6)?), event_from_row(&row)?));
        }
    }
    Ok(found)
}

/// The page's secret and version.
pub async fn status_page(pool: &AnyPool) -> Result<(String, i64)> {
    let row = sqlx::query("SELECT secret, version FROM status_page WHERE id = 1")
        .fetch_one(pool)
        .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// The page's version.
pub async fn status_page_version(pool: &AnyPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT version FROM status_page WHERE id = 1")
            .fetch_one(pool)
            .await?,
    )
}

fn component_from_row(row: &AnyRow) -> Result<Component> {
    let services: String = row.try_get(6)?;
    let services: Vec<ServiceName> =
        serde_json::from_str(&services).map_err(|e| corrupt("component services", e))?;
    let start_date: Option<String> = row.try_get(9)?;
    let start_date = start_date
        .map(|d| d.parse().map_err(|e| corrupt("component start date", e)))
        .transpose()?;
    let manual: String = row.try_get(10)?;
    let manual = ComponentStatus::parse(&manual).map_err(|e| corrupt("component status", e))?;
    let group_id: Option<i64> = row.try_get(5)?;
    Ok(Component {
        id: ComponentId(row.try_get(0)?),
        name: row.try_get(1)?,
        description: row.try_get(2)?,
        position: row.try_get(3)?,
        group: flag(row, 4)?,
        group_id: group_id.map(ComponentId),
        services,
        only_show_if_degraded: flag(row, 7)?,
        showcase: flag(row, 8)?,
        start_date,
        manual_status: manual,
        status: manual,
        created_at: instant(row.try_get(11)?),
        updated_at: instant(row.try_get(12)?),
    })
}
