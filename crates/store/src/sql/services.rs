//! Services and what belongs to them: integration keys, change events, maintenance
//! windows and heartbeat monitors (`services`, `integration_keys`, `change_events`,
//! `maintenance_windows`, `heartbeats`).

use jiff::Timestamp;
use klaxon_domain::alert::{ChangeEvent, StoredChange};
use klaxon_domain::service::{
    AlertRules, Heartbeat, IntegrationKey, MaintenanceWindow, Service, ServiceFields, ServiceName,
};
use klaxon_domain::{HeartbeatId, KeyId, MaintenanceId, Secret, ServiceId};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use super::{corrupt, flag, instant, json, ms, unique_violation};
use crate::services::NewKey;
use crate::{Result, StoreError};

const SERVICE_COLUMNS: &str = "id, name, description, owner_team, runbook_links, rules, created_at";
const KEY_COLUMNS: &str = "id, key, signing_secret, created_at, revoked_at, service_id";
/// `down` is read as an integer: see [`super::flag`].
const HEARTBEAT_SELECT: &str =
    "SELECT h.id, s.name, h.name, h.key, h.interval_seconds, h.last_ping_at, \
     CASE WHEN h.down THEN 1 ELSE 0 END FROM heartbeats h JOIN services s ON s.id = h.service_id";

/// Creates a service with its first key; `Duplicate` if the name is taken.
pub async fn create_service(
    conn: &mut AnyConnection,
    name: &ServiceName,
    fields: &ServiceFields,
    key: &NewKey,
    at: Timestamp,
) -> Result<Service> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO services (name, description, owner_team, runbook_links, rules, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(name.as_str())
    .bind(&fields.description)
    .bind(fields.owner_team.as_deref())
    .bind(json(&fields.runbook_links))
    .bind(json(&fields.rules))
    .bind(ms(at))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        unique_violation(e, "name", || {
            format!("a service named '{name}' already exists")
        })
    })?;
    insert_key(&mut *conn, id, key, at).await?;
    service(conn, name).await
}

/// Every service, by name, with all its keys.
pub async fn services(pool: &AnyPool) -> Result<Vec<Service>> {
    let sql = format!("SELECT {SERVICE_COLUMNS} FROM services ORDER BY name");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    let sql = format!("SELECT {KEY_COLUMNS} FROM integration_keys ORDER BY id");
    let keys = sqlx::query(&sql).fetch_all(pool).await?;
    let keys: Vec<(i64, IntegrationKey)> = keys
        .iter()
        .map(|r| Ok((r.try_get(5)?, key_from_row(r)?)))
        .collect::<Result<_>>()?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get(0)?;
            let own = keys
                .iter()
                .filter(|(s, _)| *s == id)
                .map(|(_, k)| k.clone())
                .collect();
            service_from_row(row, own)
        })
        .collect()
}

/// The service called `name`, with its keys.
pub async fn service(conn: &mut AnyConnection, name: &ServiceName) -> Result<Service> {
    let sql = format!("SELECT {SERVICE_COLUMNS} FROM services WHERE name = $1");
    let row = sqlx::query(&sql)
        .bind(name.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let row = row.ok_or_else(|| missing(name))?;
    let id: i64 = row.try_get(0)?;
    let sql =
        format!("SELECT {KEY_COLUMNS} FROM integration_keys WHERE service_id = $1 ORDER BY id");
    let keys = sqlx::query(&sql).bind(id).fetch_all(conn).await?;
    let keys = keys.iter().map(key_from_row).collect::<Result<Vec<_>>>()?;
    service_from_row(&row, keys)
}

/// Replaces a service's fields.
pub async fn update_service(
    conn: &mut AnyConnection,
    name: &ServiceName,
    fields: &ServiceFields,
) -> Result<Service> {
    let updated = sqlx::query(
        "UPDATE services SET description = $1, owner_team = $2, runbook_links = $3, rules = $4 \
         WHERE name = $5",
    )
    .bind(&fields.description)
    .bind(fields.owner_team.as_deref())
    .bind(json(&fields.runbook_links))
    .bind(json(&fields.rules))
    .bind(name.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(missing(name));
    }
    service(conn, name).await
}

/// Deletes a service, its keys, alerts and alert events.
pub async fn delete_service(conn: &mut AnyConnection, name: &ServiceName) -> Result<()> {
    let id = service_id(&mut *conn, name).await?;
    sqlx::query("DELETE FROM integration_keys WHERE service_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    // Alerts go by cascade; their events (waiting or on an alert's log) name the
    // service but have no foreign key to it.
    sqlx::query("DELETE FROM alert_events WHERE service_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM services WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a key to the service called `name`.
pub async fn add_key(
    conn: &mut AnyConnection,
    name: &ServiceName,
    key: &NewKey,
    at: Timestamp,
) -> Result<IntegrationKey> {
    let id = service_id(&mut *conn, name).await?;
    insert_key(conn, id, key, at).await
}

/// Replaces key `id` with `key`: the new key, the old one revoked.
pub async fn rotate_key(
    conn: &mut AnyConnection,
    name: &ServiceName,
    id: KeyId,
    key: &NewKey,
    at: Timestamp,
) -> Result<IntegrationKey> {
    revoke_key(&mut *conn, name, id, at).await?;
    add_key(conn, name, key, at).await
}

/// The service a live key belongs to.
pub async fn service_by_key(pool: &AnyPool, key: &str) -> Result<Option<Service>> {
    let name: Option<String> = sqlx::query_scalar(
        "SELECT s.name FROM integration_keys k JOIN services s ON s.id = k.service_id \
         WHERE k.key = $1 AND k.revoked_at IS NULL",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    let Some(name) = name else { return Ok(None) };
    let name = ServiceName::parse(&name).map_err(|e| corrupt("service name", e))?;
    let mut conn = pool.acquire().await?;
    service(&mut conn, &name).await.map(Some)
}

/// Stores a change event of service `service_id`; its id.
pub async fn record_change(
    conn: &mut AnyConnection,
    service_id: ServiceId,
    change: &ChangeEvent,
    received_at: Timestamp,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO change_events (service_id, summary, source, occurred_at, received_at, details, links) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(service_id.0)
    .bind(&change.summary)
    .bind(change.source.as_deref())
    .bind(ms(change.occurred_at.unwrap_or(received_at)))
    .bind(ms(received_at))
    .bind(json(&change.details))
    .bind(json(&change.links))
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The service's changes in `[from, to]`, newest first, at most `limit`.
pub async fn changes(
    pool: &AnyPool,
    service: &ServiceName,
    from: Timestamp,
    to: Timestamp,
    limit: u32,
) -> Result<Vec<StoredChange>> {
    let rows = sqlx::query(
        "SELECT c.id, c.summary, c.source, c.occurred_at, c.details, c.links FROM change_events c \
         JOIN services s ON s.id = c.service_id \
         WHERE s.name = $1 AND c.occurred_at >= $2 AND c.occurred_at <= $3 \
         ORDER BY c.occurred_at DESC, c.id DESC LIMIT $4",
    )
    .bind(service.as_str())
    .bind(ms(from))
    .bind(ms(to))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let details: String = row.try_get(4)?;
            let links: String = row.try_get(5)?;
            Ok(StoredChange {
                id: row.try_get(0)?,
                summary: row.try_get(1)?,
                source: row.try_get(2)?,
                occurred_at: instant(row.try_get(3)?),
                details: serde_json::from_str(&details)
                    .map_err(|e| corrupt("change details", e))?,
                links: serde_json::from_str(&links).map_err(|e| corrupt("change links", e))?,
            })
        })
        .collect()
}

/// Adds a maintenance window to a service.
pub async fn add_maintenance(
    conn: &mut AnyConnection,
    service: &ServiceName,
    window: (Timestamp, Timestamp, String),
    created_by: &str,
    at: Timestamp,
) -> Result<MaintenanceWindow> {
    let service_id = service_id(&mut *conn, service).await?;
    let (starts_at, ends_at, reason) = window;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO maintenance_windows (service_id, starts_at, ends_at, reason, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(service_id)
    .bind(ms(starts_at))
    .bind(ms(ends_at))
    .bind(&reason)
    .bind(created_by)
    .bind(ms(at))
    .fetch_one(conn)
    .await?;
    Ok(MaintenanceWindow {
        id: MaintenanceId(id),
        starts_at,
        ends_at,
        reason,
        created_by: created_by.to_owned(),
    })
}

/// The service's maintenance windows that end after `after`, soonest first.
pub async fn maintenance(
    pool: &AnyPool,
    service: &ServiceName,
    after: Timestamp,
) -> Result<Vec<MaintenanceWindow>> {
    let rows = sqlx::query(
        "SELECT m.id, m.starts_at, m.ends_at, m.reason, m.created_by FROM maintenance_windows m \
         JOIN services s ON s.id = m.service_id WHERE s.name = $1 AND m.ends_at > $2 ORDER BY m.starts_at",
    )
    .bind(service.as_str())
    .bind(ms(after))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(MaintenanceWindow {
                id: MaintenanceId(row.try_get(0)?),
                starts_at: instant(row.try_get(1)?),
                ends_at: instant(row.try_get(2)?),
                reason: row.try_get(3)?,
                created_by: row.try_get(4)?,
            })
        })
        .collect()
}

/// Removes maintenance window `id` of a service.
pub async fn remove_maintenance(
    conn: &mut AnyConnection,
    service: &ServiceName,
    id: MaintenanceId,
) -> Result<()> {
    let service_id = service_id(&mut *conn, service).await?;
    let removed = sqlx::query("DELETE FROM maintenance_windows WHERE id = $1 AND service_id = $2")
        .bind(id.0)
        .bind(service_id)
        .execute(conn)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(StoreError::NotFound(format!(
            "service '{service}' has no maintenance window {id}; see `klaxon service maintenance list {service}`"
        )));
    }
    Ok(())
}

/// Whether one of the service's windows covers `at`.
pub async fn in_maintenance(pool: &AnyPool, service_id: ServiceId, at: Timestamp) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM maintenance_windows WHERE service_id = $1 AND starts_at <= $2 AND ends_at > $2",
    )
    .bind(service_id.0)
    .bind(ms(at))
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

/// Creates a heartbeat monitor; `Duplicate` if the service has one of that name.
pub async fn create_heartbeat(
    conn: &mut AnyConnection,
    service: &ServiceName,
    name: &str,
    interval_seconds: i64,
    key: &str,
    at: Timestamp,
) -> Result<Heartbeat> {
    let service_id = service_id(&mut *conn, service).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO heartbeats (service_id, name, key, interval_seconds, last_ping_at, down, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $5) RETURNING id",
    )
    .bind(service_id)
    .bind(name)
    .bind(key)
    .bind(interval_seconds)
    .bind(ms(at))
    .bind(false)
    .fetch_one(conn)
    .await
    .map_err(|e| {
        unique_violation(e, "name", || {
            format!("service '{service}' already has a heartbeat named '{name}'")
        })
    })?;
    Ok(Heartbeat {
        id: HeartbeatId(id),
        service: service.clone(),
        name: name.to_owned(),
        key: Some(key.to_owned()),
        interval_seconds,
        last_ping_at: at,
        down: false,
    })
}

/// Every heartbeat monitor, by service and name.
pub async fn heartbeats(pool: &AnyPool) -> Result<Vec<Heartbeat>> {
    let rows = sqlx::query(&format!("{HEARTBEAT_SELECT} ORDER BY s.name, h.name"))
        .fetch_all(pool)
        .await?;
    rows.iter().map(heartbeat_from_row).collect()
}

/// The heartbeat monitor with this key.
pub async fn heartbeat_by_key(pool: &AnyPool, key: &str) -> Result<Option<Heartbeat>> {
    let row = sqlx::query(&format!("{HEARTBEAT_SELECT} WHERE h.key = $1"))
        .bind(key)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(heartbeat_from_row).transpose()
}

/// Records a ping; the monitor is up again.
pub async fn ping_heartbeat(
    conn: &mut AnyConnection,
    id: HeartbeatId,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE heartbeats SET last_ping_at = $1, down = $2 WHERE id = $3")
        .bind(ms(at))
        .bind(false)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a monitor down.
pub async fn mark_heartbeat_down(conn: &mut AnyConnection, id: HeartbeatId) -> Result<()> {
    sqlx::query("UPDATE heartbeats SET down = $1 WHERE id = $2")
        .bind(true)
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

fn heartbeat_from_row(row: &AnyRow) -> Result<Heartbeat> {
    let service: String = row.try_get(1)?;
    Ok(Heartbeat {
        id: HeartbeatId(row.try_get(0)?),
        service: ServiceName::parse(&service).map_err(|e| corrupt("service name", e))?,
        name: row.try_get(2)?,
        key: Some(row.try_get(3)?),
        interval_seconds: row.try_get(4)?,
        last_ping_at: instant(row.try_get(5)?),
        down: flag(row, 6)?,
    })
}

fn missing(name: &ServiceName) -> StoreError {
    StoreError::NotFound(format!(
        "there is no service '{name}'; see `klaxon service list`"
    ))
}

async fn service_id(conn: &mut AnyConnection, name: &ServiceName) -> Result<i64> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM services WHERE name = $1")
        .bind(name.as_str())
        .fetch_optional(conn)
        .await?;
    id.ok_or_else(|| missing(name))
}

async fn insert_key(
    conn: &mut AnyConnection,
    service_id: i64,
    key: &NewKey,
    at: Timestamp,
) -> Result<IntegrationKey> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO integration_keys (service_id, key, signing_secret, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(service_id)
    .bind(&key.key)
    .bind(key.signing_secret.expose())
    .bind(ms(at))
    .fetch_one(conn)
    .await?;
    Ok(IntegrationKey {
        id: KeyId(id),
        key: key.key.clone(),
        signing_secret: key.signing_secret.clone(),
        created_at: at,
        revoked_at: None,
    })
}

/// Revokes key `id` of the service; `AlreadyApplied` if it is revoked already.
pub async fn revoke_key(
    conn: &mut AnyConnection,
    name: &ServiceName,
    id: KeyId,
    at: Timestamp,
) -> Result<IntegrationKey> {
    let service = service_id(&mut *conn, name).await?;
    let sql =
        format!("SELECT {KEY_COLUMNS} FROM integration_keys WHERE id = $1 AND service_id = $2");
    let row = sqlx::query(&sql)
        .bind(id.0)
        .bind(service)
        .fetch_optional(&mut *conn)
        .await?;
    let mut key = match row {
        Some(row) => key_from_row(&row)?,
        None => {
            return Err(StoreError::NotFound(format!(
                "service '{name}' has no integration key {id}; see `klaxon service show {name}`"
            )))
        }
    };
    if let Some(when) = key.revoked_at {
        return Err(StoreError::AlreadyApplied(format!(
            "integration key {id} was already revoked at {when}"
        )));
    }
    sqlx::query("UPDATE integration_keys SET revoked_at = $1 WHERE id = $2")
        .bind(ms(at))
        .bind(id.0)
        .execute(conn)
        .await?;
    key.revoked_at = Some(at);
    Ok(key)
}

fn service_from_row(row: &AnyRow, keys: Vec<IntegrationKey>) -> Result<Service> {
    let name: String = row.try_get(1)?;
    let links: String = row.try_get(4)?;
    let rules: String = row.try_get(5)?;
    let integration_key = keys
        .iter()
        .rev()
        .find(|k| k.revoked_at.is_none())
        .map(|k| k.key.clone());
    Ok(Service {
        id: ServiceId(row.try_get(0)?),
        name: ServiceName::parse(&name).map_err(|e| corrupt("service name", e))?,
        description: row.try_get(2)?,
        owner_team: row.try_get(3)?,
        runbook_links: serde_json::from_str(&links).map_err(|e| corrupt("runbook links", e))?,
        rules: serde_json::from_str::<AlertRules>(&rules).map_err(|e| corrupt("alert rules", e))?,
        created_at: instant(row.try_get(6)?),
        integration_keys: Some(keys),
        integration_key,
    })
}

fn key_from_row(row: &AnyRow) -> Result<IntegrationKey> {
    let revoked: Option<i64> = row.try_get(4)?;
    Ok(IntegrationKey {
        id: KeyId(row.try_get(0)?),
        key: row.try_get(1)?,
        signing_secret: Secret::from(row.try_get::<String, _>(2)?),
        created_at: instant(row.try_get(3)?),
        revoked_at: revoked.map(instant),
    })
}
