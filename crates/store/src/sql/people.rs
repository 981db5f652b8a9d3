//! How people are reached: contact methods, their verification codes and verified
//! numbers, notification rules and team subscriptions (`contact_methods`,
//! `contact_codes`, `verified_numbers`, `notification_rules`, `team_subscriptions`).

use jiff::Timestamp;
use klaxon_domain::paging::verify::SentCode;
use klaxon_domain::paging::{
    ContactKind, ContactMethod, NewContactMethod, NewNotificationRule, NotificationRule, Urgency,
};
use klaxon_domain::{ContactMethodId, Handle, NotificationRuleId};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use super::users::user_id;
use super::{corrupt, instant, ms, unique_violation};
use crate::{Result, StoreError};

const METHOD_COLUMNS: &str =
    "c.id, u.handle, c.kind, c.address, c.label, c.verified_at, c.created_at";

/// Adds a contact method of `user`; its id.
pub async fn add_contact_method(
    conn: &mut AnyConnection,
    user: &Handle,
    method: &NewContactMethod,
    at: Timestamp,
) -> Result<ContactMethodId> {
    let user_id = user_id(&mut *conn, user).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contact_methods (user_id, kind, address, label, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(method.kind.as_str())
    .bind(&method.address)
    .bind(method.label.as_deref())
    .bind(ms(at))
    .fetch_one(conn)
    .await
    .map_err(|e| {
        unique_violation(e, "address", || {
            format!("{user} already has {} {}", method.kind.as_str(), method.address)
        })
    })?;
    Ok(ContactMethodId(id))
}

/// A user's contact methods, by id.
pub async fn contact_methods(pool: &AnyPool, user: &Handle) -> Result<Vec<ContactMethod>> {
    let sql = format!(
        "SELECT {METHOD_COLUMNS} FROM contact_methods c JOIN users u ON u.id = c.user_id WHERE u.handle = $1 ORDER BY c.id"
    );
    let rows = sqlx::query(&sql)
        .bind(user.as_str())
        .fetch_all(pool)
        .await?;
    rows.iter().map(method_from_row).collect()
}

/// Contact method `id`.
pub async fn contact_method(pool: &AnyPool, id: ContactMethodId) -> Result<ContactMethod> {
    let sql = format!(
        "SELECT {METHOD_COLUMNS} FROM contact_methods c JOIN users u ON u.id = c.user_id WHERE c.id = $1"
    );
    match sqlx::query(&sql).bind(id.0).fetch_optional(pool).await? {
        Some(row) => method_from_row(&row),
        None => Err(StoreError::NotFound(format!(
            "there is no contact method {id}; see `klaxon user contact list`"
        ))),
    }
}

/// The contact method of this kind and address: a verified one first, else the oldest.
pub async fn contact_method_by_address(
    pool: &AnyPool,
    kind: ContactKind,
    address: &str,
) -> Result<Option<ContactMethod>> {
    let sql = format!(
        "SELECT {METHOD_COLUMNS} FROM contact_methods c JOIN users u ON u.id = c.user_id \
         WHERE c.kind = $1 AND c.address = $2 \
         ORDER BY CASE WHEN c.verified_at IS NULL THEN 1 ELSE 0 END, c.id LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(kind.as_str())
        .bind(address)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(method_from_row).transpose()
}

/// Removes a contact method of `user` (its rules go by cascade); its number stops being
/// `user`'s verified number unless another of their methods has it verified.
pub async fn remove_contact_method(
    conn: &mut AnyConnection,
    user: &Handle,
    id: ContactMethodId,
) -> Result<()> {
    let user_id = user_id(&mut *conn, user).await?;
    let gone: Option<String> = sqlx::query_scalar(
        "DELETE FROM contact_methods WHERE id = $1 AND user_id = $2 RETURNING address",
    )
    .bind(id.0)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(address) = gone else {
        return Err(StoreError::NotFound(format!(
            "{user} has no contact method {id}"
        )));
    };
    sqlx::query(
        "DELETE FROM verified_numbers WHERE number = $1 AND user_id = $2 AND NOT EXISTS \
         (SELECT 1 FROM contact_methods WHERE user_id = $2 AND address = $1 \
          AND kind IN ('sms', 'voice') AND verified_at IS NOT NULL)",
    )
    .bind(&address)
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a method other than a phone number verified.
pub async fn mark_contact_verified(
    conn: &mut AnyConnection,
    id: ContactMethodId,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE contact_methods SET verified_at = $1 WHERE id = $2 AND kind NOT IN ('sms', 'voice')",
    )
    .bind(ms(at))
    .bind(id.0)
    .execute(conn)
    .await?;
    Ok(())
}

/// Who has this phone number verified.
pub async fn number_verified_by(pool: &AnyPool, number: &str) -> Result<Option<Handle>> {
    let handle: Option<String> = sqlx::query_scalar(
        "SELECT u.handle FROM verified_numbers v JOIN users u ON u.id = v.user_id WHERE v.number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await?;
    handle
        .map(|h| Handle::parse(&h).map_err(|e| corrupt("user handle", e)))
        .transpose()
}

/// Keeps `code` as the pending code of method `id` unless a later one blocks it
/// (see [`crate::PagingStore::save_contact_code`]). `Ok(None)` if it was saved; the
/// caller commits only then.
pub async fn save_contact_code(
    conn: &mut AnyConnection,
    id: ContactMethodId,
    code: &SentCode,
    replaces_up_to: Timestamp,
) -> Result<Option<SentCode>> {
    let saved = sqlx::query(
        "INSERT INTO contact_codes (contact_method_id, code_hash, sent_at, tries) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (contact_method_id) DO UPDATE SET code_hash = excluded.code_hash, \
         sent_at = excluded.sent_at, tries = excluded.tries WHERE contact_codes.sent_at <= $5",
    )
    .bind(id.0)
    .bind(&code.hash)
    .bind(ms(code.sent_at))
    .bind(i64::from(code.tries))
    .bind(ms(replaces_up_to))
    .execute(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound(format!(
            "there is no contact method {id}; see `klaxon user contact list`"
        )),
        _ => StoreError::from(e),
    })?
    .rows_affected();
    if saved == 1 {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT code_hash, sent_at, tries FROM contact_codes WHERE contact_method_id = $1",
    )
    .bind(id.0)
    .fetch_one(conn)
    .await?;
    code_from_row(&row).map(Some)
}

/// Forgets the pending code of method `id`.
pub async fn drop_contact_code(conn: &mut AnyConnection, id: ContactMethodId) -> Result<()> {
    sqlx::query("DELETE FROM contact_codes WHERE contact_method_id = $1")
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts one try at the pending code of method `id`.
pub async fn try_contact_code(
    conn: &mut AnyConnection,
    id: ContactMethodId,
) -> Result<Option<SentCode>> {
    let row = sqlx::query(
        "UPDATE contact_codes SET tries = tries + 1 WHERE contact_method_id = $1 RETURNING code_hash, sent_at, tries",
    )
    .bind(id.0)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(code_from_row).transpose()
}

/// Marks phone method `id` verified and its number its owner's (see
/// [`crate::PagingStore::verify_number`]).
pub async fn verify_number(
    conn: &mut AnyConnection,
    id: ContactMethodId,
    at: Timestamp,
) -> Result<()> {
    let row = sqlx::query(
        "SELECT user_id, address FROM contact_methods WHERE id = $1 AND kind IN ('sms', 'voice')",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::NotFound(format!(
            "there is no phone contact method {id}; see `klaxon user contact list`"
        )));
    };
    let (user_id, number): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    // A concurrent claim of the same number waits here for the other transaction,
    // then finds its row.
    sqlx::query(
        "INSERT INTO verified_numbers (number, user_id, verified_at) VALUES ($1, $2, $3) ON CONFLICT (number) DO NOTHING",
    )
    .bind(&number)
    .bind(user_id)
    .bind(ms(at))
    .execute(&mut *conn)
    .await?;
    let holder: i64 = sqlx::query_scalar("SELECT user_id FROM verified_numbers WHERE number = $1")
        .bind(&number)
        .fetch_one(&mut *conn)
        .await?;
    if holder != user_id {
        return Err(StoreError::Duplicate {
            field: "number",
            message: format!("{number} is verified by another user"),
        });
    }
    sqlx::query("UPDATE contact_methods SET verified_at = $1 WHERE id = $2")
        .bind(ms(at))
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM contact_codes WHERE contact_method_id = $1")
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a notification rule of `user`; `NotFound` unless the method is the user's own.
pub async fn add_notification_rule(
    conn: &mut AnyConnection,
    user: &Handle,
    rule: &NewNotificationRule,
) -> Result<NotificationRule> {
    let user_id = user_id(&mut *conn, user).await?;
    let owner: Option<i64> =
        sqlx::query_scalar("SELECT user_id FROM contact_methods WHERE id = $1")
            .bind(rule.contact_method.0)
            .fetch_optional(&mut *conn)
            .await?;
    if owner != Some(user_id) {
        return Err(StoreError::NotFound(format!(
            "{user} has no contact method {}; see `klaxon user contact list {user}`",
            rule.contact_method
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notification_rules (user_id, contact_method_id, urgency, delay_minutes) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(user_id)
    .bind(rule.contact_method.0)
    .bind(rule.urgency.as_str())
    .bind(i64::from(rule.delay_minutes))
    .fetch_one(conn)
    .await
    .map_err(|e| unique_violation(e, "contact_method", || {
        "that rule exists already".to_owned()
    }))?;
    Ok(NotificationRule {
        id: NotificationRuleId(id),
        user: user.clone(),
        urgency: rule.urgency,
        contact_method: rule.contact_method,
        delay_minutes: rule.delay_minutes,
    })
}

/// A user's notification rules, by urgency and delay.
pub async fn notification_rules(pool: &AnyPool, user: &Handle) -> Result<Vec<NotificationRule>> {
    let rows = sqlx::query(
        "SELECT r.id, r.urgency, r.contact_method_id, r.delay_minutes FROM notification_rules r \
         JOIN users u ON u.id = r.user_id WHERE u.handle = $1 ORDER BY r.urgency, r.delay_minutes, r.id",
    )
    .bind(user.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let urgency: String = row.try_get(1)?;
            let delay: i64 = row.try_get(3)?;
            Ok(NotificationRule {
                id: NotificationRuleId(row.try_get(0)?),
                user: user.clone(),
                urgency: Urgency::parse(&urgency).ok_or_else(|| corrupt("urgency", &urgency))?,
                contact_method: ContactMethodId(row.try_get(2)?),
                delay_minutes: u32::try_from(delay).map_err(|e| corrupt("rule delay", e))?,
            })
        })
        .collect()
}

/// Removes notification rule `id` of `user`.
pub async fn remove_notification_rule(
    conn: &mut AnyConnection,
    user: &Handle,
    id: NotificationRuleId,
) -> Result<()> {
    let user_id = user_id(&mut *conn, user).await?;
    let gone = sqlx::query("DELETE FROM notification_rules WHERE id = $1 AND user_id = $2")
        .bind(id.0)
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(StoreError::NotFound(format!(
            "{user} has no notification rule {id}"
        )));
    }
    Ok(())
}

/// Subscribes `user` to `team`'s incidents; `Duplicate` if so already.
pub async fn subscribe(conn: &mut AnyConnection, team: &str, user: &Handle) -> Result<()> {
    let user_id = user_id(&mut *conn, user).await?;
    sqlx::query("INSERT INTO team_subscriptions (team, user_id) VALUES ($1, $2)")
        .bind(team)
        .bind(user_id)
        .execute(conn)
        .await
        .map_err(|e| {
            unique_violation(e, "team", || {
                format!("{user} is subscribed to {team} already")
            })
        })?;
    Ok(())
}

/// Ends a subscription.
pub async fn unsubscribe(conn: &mut AnyConnection, team: &str, user: &Handle) -> Result<()> {
    let user_id = user_id(&mut *conn, user).await?;
    let gone = sqlx::query("DELETE FROM team_subscriptions WHERE team = $1 AND user_id = $2")
        .bind(team)
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected();
    if gone == 0 {
        return Err(StoreError::NotFound(format!(
            "{user} is not subscribed to {team}"
        )));
    }
    Ok(())
}

/// Every (team, user) subscription, by team.
pub async fn subscriptions(pool: &AnyPool) -> Result<Vec<(String, Handle)>> {
    let rows = sqlx::query(
        "SELECT s.team, u.handle FROM team_subscriptions s JOIN users u ON u.id = s.user_id ORDER BY s.team, u.handle",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let handle: String = r.try_get(1)?;
            Ok((
                r.try_get(0)?,
                Handle::parse(&handle).map_err(|e| corrupt("user handle", e))?,
            ))
        })
        .collect()
}

fn method_from_row(row: &AnyRow) -> Result<ContactMethod> {
    let handle: String = row.try_get(1)?;
    let kind: String = row.try_get(2)?;
    let verified: Option<i64> = row.try_get(5)?;
    Ok(ContactMethod {
        id: ContactMethodId(row.try_get(0)?),
        user: Handle::parse(&handle).map_err(|e| corrupt("user handle", e))?,
        kind: ContactKind::parse(&kind).map_err(|e| corrupt("contact kind", e))?,
        address: row.try_get(3)?,
        label: row.try_get(4)?,
        verified: verified.is_some(),
        verified_at: verified.map(instant),
        created_at: instant(row.try_get(6)?),
    })
}

fn code_from_row(row: &AnyRow) -> Result<SentCode> {
    let tries: i64 = row.try_get(2)?;
    Ok(SentCode {
        hash: row.try_get(0)?,
        sent_at: instant(row.try_get(1)?),
        tries: u32::try_from(tries).unwrap_or(u32::MAX),
    })
}
