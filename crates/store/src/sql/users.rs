//! Users and their API tokens (`users`, `api_tokens`).

use jiff::Timestamp;
use klaxon_domain::api::NewUser;
use klaxon_domain::auth::{Scope, TokenInfo, User};
use klaxon_domain::{Handle, TokenId};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};

use super::{corrupt, instant, ms, unique_violation};
use crate::{Authenticated, Result, StoreError};

const TOKEN_COLUMNS: &str = "t.id, t.name, t.scope, u.handle, t.created_at, t.revoked_at";
pub(crate) const USER_COLUMNS: &str = "u.id, u.handle, u.name, u.email, u.created_at, u.role";

/// Every user, by handle.
pub async fn users(pool: &AnyPool) -> Result<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.handle");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(user_from_row).collect()
}

/// The user with this handle; `NotFound` if there is none.
pub async fn user(conn: &mut AnyConnection, handle: &Handle) -> Result<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.handle = $1");
    let row = sqlx::query(&sql)
        .bind(handle.as_str())
        .fetch_optional(conn)
        .await?;
    match row {
        Some(row) => user_from_row(&row),
        None => Err(no_user(handle)),
    }
}

/// The id of the user with this handle; `NotFound` if there is none.
pub async fn user_id(conn: &mut AnyConnection, user: &Handle) -> Result<i64> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE handle = $1")
        .bind(user.as_str())
        .fetch_optional(conn)
        .await?;
    id.ok_or_else(|| no_user(user))
}

fn no_user(handle: &Handle) -> StoreError {
    StoreError::NotFound(format!(
        "there is no user '{handle}'; see `klaxon user list`"
    ))
}

/// Inserts a user; `Duplicate` if the handle is taken.
pub async fn insert_user(conn: &mut AnyConnection, user: &NewUser, at: Timestamp) -> Result<User> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (handle, name, email, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user.handle.as_str())
    .bind(&user.name)
    .bind(&user.email)
    .bind(user.role().as_str())
    .bind(ms(at))
    .fetch_one(conn)
    .await
    .map_err(|e| {
        unique_violation(e, "handle", || {
            format!("a user with handle '{}' already exists", user.handle)
        })
    })?;
    Ok(User {
        id,
        handle: user.handle.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        role: user.role(),
        created_at: at,
    })
}

/// Changes a user's role; `NotFound` for an unknown handle.
pub async fn set_role(conn: &mut AnyConnection, handle: &Handle, role: Scope) -> Result<()> {
    let changed = sqlx::query("UPDATE users SET role = $1 WHERE handle = $2")
        .bind(role.as_str())
        .bind(handle.as_str())
        .execute(conn)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(no_user(handle));
    }
    Ok(())
}

/// Creates the first admin and its token, only if there are no users yet (see
/// [`crate::Store::bootstrap`]).
pub async fn bootstrap(
    conn: &mut AnyConnection,
    admin: &NewUser,
    token_name: &str,
    token_hash: &str,
    at: Timestamp,
) -> Result<Option<User>> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *conn)
        .await?;
    if users > 0 {
        return Ok(None);
    }
    let admin = NewUser {
        role: Some(Scope::Admin),
        ..admin.clone()
    };
    let user = insert_user(&mut *conn, &admin, at).await?;
    insert_token(conn, token_name, Scope::Admin, user.id, token_hash, at).await?;
    Ok(Some(user))
}

/// Inserts a token of user `user_id`; its id. `Duplicate` if the hash is taken.
pub async fn insert_token(
    conn: &mut AnyConnection,
    name: &str,
    scope: Scope,
    user_id: i64,
    token_hash: &str,
    at: Timestamp,
) -> Result<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO api_tokens (name, scope, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(name)
    .bind(scope.as_str())
    .bind(user_id)
    .bind(token_hash)
    .bind(ms(at))
    .fetch_one(conn)
    .await
    .map_err(|e| unique_violation(e, "token", || {
            "that token already exists; choose another".to_owned()
        }))?;
    Ok(id)
}

/// Creates a token for the user with this handle; `NotFound` if there is none.
pub async fn create_token(
    conn: &mut AnyConnection,
    name: &str,
    scope: Scope,
    user: &Handle,
    token_hash: &str,
    at: Timestamp,
) -> Result<TokenInfo> {
    let user_id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE handle = $1")
        .bind(user.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let user_id = user_id.ok_or_else(|| {
        StoreError::NotFound(format!(
            "there is no user '{user}'; create it with `klaxon user create`"
        ))
    })?;
    let id = insert_token(conn, name, scope, user_id, token_hash, at).await?;
    Ok(TokenInfo {
        id: TokenId(id),
        name: name.to_owned(),
        scope,
        user: user.clone(),
        created_at: at,
        revoked_at: None,
    })
}

/// Every token, revoked ones too, by id.
pub async fn tokens(pool: &AnyPool) -> Result<Vec<TokenInfo>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id"
    );
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(token_from_row).collect()
}

/// Revokes token `id`, unless it is the last that acts as admin. `lock_rows` locks the
/// live admin tokens ([`crate::backend::Dialect::lock_rows`]), so two revocations
/// cannot each leave the other.
pub async fn revoke_token(
    conn: &mut AnyConnection,
    id: TokenId,
    at: Timestamp,
    lock_rows: &str,
) -> Result<TokenInfo> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1"
    );
    let row = sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    let mut token = match row {
        Some(row) => token_from_row(&row)?,
        None => {
            return Err(StoreError::NotFound(format!(
                "there is no token {id}; see `klaxon token list`"
            )))
        }
    };
    if let Some(revoked) = token.revoked_at {
        return Err(StoreError::AlreadyApplied(format!(
            "token {id} ('{}') was already revoked at {revoked}",
            token.name
        )));
    }
    // The live tokens that act as admin (an admin scope of an admin user).
    let admins: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT t.id FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.scope = $1 AND u.role = $1 AND t.revoked_at IS NULL ORDER BY t.id{lock_rows}"
    ))
    .bind(Scope::Admin.as_str())
    .fetch_all(&mut *conn)
    .await?;
    if admins.contains(&id.0) {
        let others = admins.iter().filter(|other| **other != id.0).count();
        klaxon_domain::auth::check_revocable(&token, others)
            .map_err(|e| StoreError::Refused(e.to_string()))?;
    }
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
        .bind(ms(at))
        .bind(id.0)
        .execute(conn)
        .await?;
    token.revoked_at = Some(at);
    Ok(token)
}

/// The live token with this hash and its user.
pub async fn authenticate(pool: &AnyPool, token_hash: &str) -> Result<Option<Authenticated>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS}, {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let token = token_from_row(&row)?;
    // The user's columns follow the token's six.
    let role: String = row.try_get(11)?;
    let user = User {
        id: row.try_get(6)?,
        handle: token.user.clone(),
        name: row.try_get(8)?,
        email: row.try_get(9)?,
        role: Scope::parse(&role).map_err(|e| corrupt("user role", e))?,
        created_at: instant(row.try_get(10)?),
    };
    Ok(Some(Authenticated { user, token }))
}

pub(crate) fn user_from_row(row: &AnyRow) -> Result<User> {
    let handle: String = row.try_get(1)?;
    let role: String = row.try_get(5)?;
    Ok(User {
        id: row.try_get(0)?,
        handle: Handle::parse(&handle).map_err(|e| corrupt("user handle", e))?,
        name: row.try_get(2)?,
        email: row.try_get(3)?,
        role: Scope::parse(&role).map_err(|e| corrupt("user role", e))?,
        created_at: instant(row.try_get(4)?),
    })
}

fn token_from_row(row: &AnyRow) -> Result<TokenInfo> {
    let scope: String = row.try_get(2)?;
    let user: String = row.try_get(3)?;
    let revoked: Option<i64> = row.try_get(5)?;
    Ok(TokenInfo {
        id: TokenId(row.try_get(0)?),
        name: row.try_get(1)?,
        scope: Scope::parse(&scope).map_err(|e| corrupt("token scope", e))?,
        user: Handle::parse(&user).map_err(|e| corrupt("user handle", e))?,
        created_at: instant(row.try_get(4)?),
        revoked_at: revoked.map(instant),
    })
}
