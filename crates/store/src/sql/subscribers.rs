//! Status-page subscribers (`subscribers`, `subscriber_components`).

use jiff::Timestamp;
use klaxon_domain::status::{Subscriber, SubscriberKind};
use klaxon_domain::{ComponentId, Secret, SubscriberId};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{corrupt, flag, instant, ms, unique_violation, Sql};
use crate::subscribers::NewSubscriberRow;
use crate::{Result, StoreError};

/// The flag is read as an integer: see [`super::flag`].
const SELECT: &str = "SELECT id, kind, address, CASE WHEN whole_page THEN 1 ELSE 0 END, \
     confirmed_at, created_at FROM subscribers";

/// Writes a subscriber and the components it follows; its id.
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewSubscriberRow<'_>,
    at: Timestamp,
) -> Result<SubscriberId> {
    let f = new.fields;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO subscribers (kind, address, address_key, whole_page, secret, \
         confirmed_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(f.kind.as_str())
    .bind(&f.address)
    .bind(f.address_key())
    .bind(f.components.is_none())
    .bind(new.secret.map(|s| s.expose().to_owned()))
    .bind(new.confirmed.then(|| ms(at)))
    .bind(ms(at))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        unique_violation(e, "address", || {
            format!("{} is subscribed already", f.address)
        })
    })?;
    if let Some(components) = &f.components {
        let mut q = Sql::new("INSERT INTO subscriber_components (subscriber_id, component_id) ");
        q.values(components, |row, c| {
            row.bind(id).bind(c.0);
        });
        q.execute(&mut *conn).await.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound(
                "a component to follow does not exist; see `klaxon component list`".into(),
            ),
            _ => StoreError::from(e),
        })?;
    }
    Ok(SubscriberId(id))
}

/// Every subscriber, by id, each with what it follows: two reads.
pub async fn subscribers(pool: &AnyPool) -> Result<Vec<Subscriber>> {
    let rows = sqlx::query(&format!("{SELECT} ORDER BY id"))
        .fetch_all(pool)
        .await?;
    let follows = sqlx::query(
        "SELECT subscriber_id, component_id FROM subscriber_components \
         ORDER BY subscriber_id, component_id",
    )
    .fetch_all(pool)
    .await?;
    let mut follows: Vec<(i64, i64)> = follows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_>>()?;
    follows.reverse();
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut s = from_row(row)?;
        if let Some(list) = s.components.as_mut() {
            while follows.last().is_some_and(|(sub, _)| *sub < s.id.0) {
                follows.pop();
            }
            while let Some((_, c)) = follows.last().filter(|(sub, _)| *sub == s.id.0) {
                list.push(ComponentId(*c));
                follows.pop();
            }
        }
        out.push(s);
    }
    Ok(out)
}

/// Subscriber `id`; `NotFound` if there is none.
pub async fn subscriber(conn: &mut AnyConnection, id: SubscriberId) -> Result<Subscriber> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Err(missing(id));
    };
    with_components(conn, from_row(&row)?).await
}

/// The subscriber of `kind` whose address compares equal to `address_key`.
pub async fn by_address(
    conn: &mut AnyConnection,
    kind: SubscriberKind,
    address_key: &str,
) -> Result<Option<Subscriber>> {
    let row = sqlx::query(&format!("{SELECT} WHERE kind = $1 AND address_key = $2"))
        .bind(kind.as_str())
        .bind(address_key)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(Some(with_components(conn, from_row(&row)?).await?)),
        None => Ok(None),
    }
}

async fn with_components(conn: &mut AnyConnection, mut s: Subscriber) -> Result<Subscriber> {
    if let Some(list) = s.components.as_mut() {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT component_id FROM subscriber_components WHERE subscriber_id = $1 \
             ORDER BY component_id",
        )
        .bind(s.id.0)
        .fetch_all(conn)
        .await?;
        list.extend(ids.into_iter().map(ComponentId));
    }
    Ok(s)
}

/// The secret that signs subscriber `id`'s webhook deliveries, if it has one.
pub async fn secret(pool: &AnyPool, id: SubscriberId) -> Result<Option<Secret>> {
    let secret: Option<Option<String>> =
        sqlx::query_scalar("SELECT secret FROM subscribers WHERE id = $1")
            .bind(id.0)
            .fetch_optional(pool)
            .await?;
    Ok(secret.ok_or_else(|| missing(id))?.map(Secret::from))
}

/// Sets `confirmed_at` unless set; whether it was set now.
pub async fn confirm(conn: &mut AnyConnection, id: SubscriberId, at: Timestamp) -> Result<bool> {
    let set = sqlx::query(
        "UPDATE subscribers SET confirmed_at = $1 WHERE id = $2 AND confirmed_at IS NULL",
    )
    .bind(ms(at))
    .bind(id.0)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if set == 1 {
        return Ok(true);
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM subscribers WHERE id = $1")
        .bind(id.0)
        .fetch_optional(conn)
        .await?;
    exists.map(|_| false).ok_or_else(|| missing(id))
}

/// Deletes subscriber `id` and what it follows; `NotFound` if there is none.
pub async fn delete(conn: &mut AnyConnection, id: SubscriberId) -> Result<()> {
    let deleted = sqlx::query("DELETE FROM subscribers WHERE id = $1")
        .bind(id.0)
        .execute(conn)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(missing(id));
    }
    Ok(())
}

/// Whether anyone confirmed a subscription: without, no status notice is worth a job.
pub async fn anyone_confirmed(conn: &mut AnyConnection) -> Result<bool> {
    let one: Option<i64> =
        sqlx::query_scalar("SELECT id FROM subscribers WHERE confirmed_at IS NOT NULL LIMIT 1")
            .fetch_optional(conn)
            .await?;
    Ok(one.is_some())
}

fn missing(id: SubscriberId) -> StoreError {
    StoreError::NotFound(format!(
        "there is no subscriber {id}; see `klaxon subscriber list`"
    ))
}

fn from_row(row: &AnyRow) -> Result<Subscriber> {
    let kind: String = row.try_get(1)?;
    let confirmed: Option<i64> = row.try_get(4)?;
    Ok(Subscriber {
        id: SubscriberId(row.try_get(0)?),
        kind: SubscriberKind::parse(&kind).ok_or_else(|| corrupt("subscriber kind", &kind))?,
        address: row.try_get(2)?,
        components: if flag(row, 3)? {
            None
        } else {
            Some(Vec::new())
        },
        confirmed_at: confirmed.map(instant),
        created_at: instant(row.try_get(5)?),
    })
}
