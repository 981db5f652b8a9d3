//! Users, tokens and the caller.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::api::{CreatedToken, Me, NewPassword, NewToken, NewUser, UserUpdate};
use klaxon_domain::auth::{self, Scope, TokenInfo, User};
use klaxon_domain::{Handle, Secret, TokenId};

use crate::app::auth::{generate_token, hash_token, Caller};
use crate::app::sessions;
use crate::http::error::ApiError;
use crate::http::extract::{path_id, ApiJson, ApiPath};
use crate::infra::state::AppState;

#[utoipa::path(get, path = "/me", tag = "users", responses((status = 200, body = Me)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        user: caller.user,
        token: caller.token,
        scope: caller.scope,
    })
}

#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, body = [User], description = "Not paged: every user; people are added by admins")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<User>>, ApiError> {
    caller.require(Scope::Viewer)?;
    Ok(Json(state.store.users().await?))
}

#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = ["admin"])), request_body = NewUser,
    responses((status = 201, body = User), (status = 409, description = "The handle is taken")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(user): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    caller.require(Scope::Admin)?;
    let clean = user.validated()?;
    let created = state.store.create_user(&clean, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(put, path = "/users/{handle}/password", tag = "people", params(("handle" = Handle, Path)),
    request_body = NewPassword,
    responses((status = 204, description = "Set; every web session of the person is ended"), (status = 403, description = "Another person's password, and the caller is no admin"),
        (status = 404), (status = 422, description = "Shorter than 10 or longer than 256 characters")))]
pub async fn set_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(handle): ApiPath<String>,
    ApiJson(new): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let handle = Handle::parse(&handle)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    state.store.user(&handle).await?;
    sessions::set_password(&state, &caller, &handle, Secret::new(new.password)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(patch, path = "/users/{handle}", tag = "users", params(("handle" = Handle, Path)), security(("bearer" = ["admin"])),
    request_body = UserUpdate,
    responses((status = 200, body = User), (status = 404), (status = 409, description = "The last admin with a live admin token keeps the role"), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(handle): ApiPath<String>,
    ApiJson(update): ApiJson<UserUpdate>,
) -> Result<Json<User>, ApiError> {
    caller.require(Scope::Admin)?;
    let handle = Handle::parse(&handle)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let role = update.role()?;
    let users = state.store.users().await?;
    let user = users.iter().find(|u| u.handle == handle).ok_or_else(|| {
        ApiError::not_found(format!(
            "there is no user '{handle}'; see `klaxon user list`"
        ))
    })?;
    let tokens = state.store.tokens().await?;
    let other_admins = users
        .iter()
        .filter(|u| u.role == Scope::Admin && u.handle != handle)
        .filter(|u| {
            tokens
                .iter()
                .any(|t| t.user == u.handle && t.scope == Scope::Admin && t.revoked_at.is_none())
        })
        .count();
    auth::check_role_change(user, role, other_admins)?;
    let updated = state.store.set_role(&handle, role).await?;
    // Cached callers carry the old role; a lowered role takes effect at once.
    state.tokens.clear();
    Ok(Json(updated))
}

#[utoipa::path(get, path = "/tokens", tag = "tokens", security(("bearer" = ["admin"])), responses((status = 200, body = [TokenInfo], description = "Not paged: every token, revoked ones included; tokens are made by hand")))]
pub async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(Json(state.store.tokens().await?))
}

#[utoipa::path(post, path = "/tokens", tag = "tokens", security(("bearer" = ["admin"])), request_body = NewToken,
    responses((status = 201, body = CreatedToken, description = "The secret is shown only in this answer"),
        (status = 422, description = "No such user, or a scope above the user's role")))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    caller.require(Scope::Admin)?;
    let name = new.validated_name()?;
    let user = new.user.unwrap_or_else(|| caller.user.handle.clone());
    let owner = state.store.user(&user).await.map_err(|e| match e {
        klaxon_store::StoreError::NotFound(_) => ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "user",
            format!("there is no user '{user}'; create it with `klaxon user create`"),
        ),
        other => other.into(),
    })?;
    auth::check_token_scope(&owner, new.scope)?;
    let token = generate_token();
    let info = state
        .store
        .create_token(
            &name,
            new.scope,
            &user,
            &hash_token(&token),
            state.clock.now(),
        )
        .await
        .map_err(|e| match e {
            klaxon_store::StoreError::NotFound(m) => {
                ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "user", m)
            }
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, info })))
}

#[utoipa::path(post, path = "/tokens/{id}/revoke", tag = "tokens", params(("id" = TokenId, Path)), security(("bearer" = ["admin"])),
    responses((status = 200, body = TokenInfo), (status = 404), (status = 409, description = "Already revoked")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TokenInfo>, ApiError> {
    caller.require(Scope::Admin)?;
    let id: TokenId = path_id(&id)?;
    let revoked = state.store.revoke_token(id, state.clock.now()).await?;
    state.tokens.clear();
    Ok(Json(revoked))
}
