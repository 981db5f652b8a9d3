//! What the engine's messages lead back to: action links (`action_links`) and incidents'
//! chat rooms (`incident_rooms`).

use jiff::Timestamp;
use klaxon_domain::{ContactMethodId, Handle, IncidentNumber};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use super::{corrupt, instant, ms, unique_violation};
use crate::paging::{ActionLink, Room};
use crate::Result;

/// Stores an action link by the hash of its token.
pub async fn insert_link(
    conn: &mut AnyConnection,
    token_hash: &str,
    link: &ActionLink,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO action_links (token_hash, incident_number, action, handle, expires_at, contact_method_id) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(link.incident.0)
    .bind(&link.action)
    .bind(link.handle.as_str())
    .bind(ms(link.expires_at))
    .bind(link.contact_method.map(|id| id.0))
    .execute(conn)
    .await?;
    Ok(())
}

/// The unused, unexpired link with this token hash.
pub async fn peek_link(
    pool: &AnyPool,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<ActionLink>> {
    let row = sqlx::query(
        "SELECT incident_number, action, handle, expires_at, contact_method_id FROM action_links \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(ms(now))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(link_from_row).transpose()
}

/// Uses the link up, once.
pub async fn use_link(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<ActionLink>> {
    let row = sqlx::query(
        "UPDATE action_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING incident_number, action, handle, expires_at, contact_method_id",
    )
    .bind(ms(now))
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(link_from_row).transpose()
}

/// The incident's chat room, once announced.
pub async fn room(pool: &AnyPool, incident: IncidentNumber) -> Result<Option<Room>> {
    let row = sqlx::query(
        "SELECT channel, thread_ts, headline_ts FROM incident_rooms WHERE incident_number = $1",
    )
    .bind(incident.0)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(Room {
            channel: r.try_get(0)?,
            thread_ts: r.try_get(1)?,
            headline_ts: r.try_get(2)?,
        })
    })
    .transpose()
}

/// Records the incident's chat room; `Duplicate` if it has one already.
pub async fn save_room(
    conn: &mut AnyConnection,
    incident: IncidentNumber,
    room: &Room,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO incident_rooms (incident_number, channel, thread_ts, headline_ts) VALUES ($1, $2, $3, $4)",
    )
    .bind(incident.0)
    .bind(&room.channel)
    .bind(room.thread_ts.as_deref())
    .bind(&room.headline_ts)
    .execute(conn)
    .await
    .map_err(|e| unique_violation(e, "incident", || {
        format!("incident {incident} has a chat room already")
    }))?;
    Ok(())
}

fn link_from_row(row: &AnyRow) -> Result<ActionLink> {
    let handle: String = row.try_get(2)?;
    Ok(ActionLink {
        incident: IncidentNumber(row.try_get(0)?),
        action: row.try_get(1)?,
        handle: Handle::parse(&handle).map_err(|e| corrupt("link handle", e))?,
        contact_method: row.try_get::<Option<i64>, _>(4)?.map(ContactMethodId),
        expires_at: instant(row.try_get(3)?),
    })
}
