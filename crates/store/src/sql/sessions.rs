//! Web sign-in: users' password hashes and their sessions (`users.password_hash`,
//! `web_sessions`).

use jiff::Timestamp;
use klaxon_domain::auth::User;
use klaxon_domain::session::SessionTimes;
use klaxon_domain::{Handle, Secret};
use sqlx::{AnyConnection, AnyPool, Row};

use super::users::{user_from_row, user_id, USER_COLUMNS};
use super::{instant, ms};
use crate::web::{Session, SignIn};
use crate::{Result, StoreError};

/// Sets or clears a user's password hash and ends every session of theirs; `NotFound`
/// for an unknown handle.
pub async fn set_password(
    conn: &mut AnyConnection,
    user: &Handle,
    hash: Option<&Secret>,
) -> Result<()> {
    let id = user_id(&mut *conn, user).await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash.map(Secret::expose))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    end_sessions_of(conn, id).await
}

/// A user and their password hash, for signing in; `NotFound` for an unknown handle.
pub async fn sign_in(pool: &AnyPool, user: &Handle) -> Result<SignIn> {
    let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.handle = $1");
    let row = sqlx::query(&sql)
        .bind(user.as_str())
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("there is no user '{user}'")))?;
    let hash: Option<String> = row.try_get(6)?;
    Ok(SignIn {
        user: user_from_row(&row)?,
        password_hash: hash.map(Secret::new),
    })
}

/// Stores a new session of user `user_id`.
pub async fn insert_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    user_id: i64,
    csrf: &Secret,
    at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf.expose())
    .bind(ms(at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The session whose token has this hash, with its user, whether or not it has ended.
pub async fn session(pool: &AnyPool, token_hash: &str) -> Result<Option<Session>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, s.csrf_token, s.created_at, s.last_seen_at \
         FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
    );
    let Some(row) = sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(pool)
        .await?
    else {
        return Ok(None);
    };
    let user: User = user_from_row(&row)?;
    let csrf: String = row.try_get(6)?;
    Ok(Some(Session {
        user,
        csrf: Secret::new(csrf),
        times: SessionTimes {
            created_at: instant(row.try_get(7)?),
            last_seen_at: instant(row.try_get(8)?),
        },
    }))
}

/// Records a use of a session.
pub async fn touch_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE web_sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(ms(at))
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends one session (signing out); ending one that has gone already is no error.
pub async fn end_session(conn: &mut AnyConnection, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of user `user_id`.
pub async fn end_sessions_of(conn: &mut AnyConnection, user_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes sessions unused since `idle_before` or begun before `begun_before`; how
/// many.
pub async fn delete_ended_sessions(
    conn: &mut AnyConnection,
    idle_before: Timestamp,
    begun_before: Timestamp,
) -> Result<u64> {
    let done = sqlx::query("DELETE FROM web_sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(ms(idle_before))
        .bind(ms(begun_before))
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
