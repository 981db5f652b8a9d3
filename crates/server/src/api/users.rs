//! Users, tokens and the caller.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::api::{CreatedToken, Me, NewToken, NewUser};
use klaxon_domain::auth::{Scope, TokenInfo, User};

use crate::auth::{generate_token, hash_token, Caller};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[utoipa::path(get, path = "/me", tag = "users", responses((status = 200, body = Me)))]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(Me {
        user: caller.user,
        token: caller.token,
    })
}

#[utoipa::path(get, path = "/users", tag = "users", responses((status = 200, body = [User])))]
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

#[utoipa::path(get, path = "/tokens", tag = "tokens", security(("bearer" = ["admin"])), responses((status = 200, body = [TokenInfo])))]
pub async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    caller.require(Scope::Admin)?;
    Ok(Json(state.store.tokens().await?))
}

#[utoipa::path(post, path = "/tokens", tag = "tokens", security(("bearer" = ["admin"])), request_body = NewToken,
    responses((status = 201, body = CreatedToken, description = "The secret is shown only in this answer")))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    caller.require(Scope::Admin)?;
    let name = new.validated_name()?;
    let user = new.user.unwrap_or_else(|| caller.user.handle.clone());
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

#[utoipa::path(post, path = "/tokens/{id}/revoke", tag = "tokens", params(("id" = i64, Path)), security(("bearer" = ["admin"])),
    responses((status = 200, body = TokenInfo), (status = 404), (status = 409, description = "Already revoked")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TokenInfo>, ApiError> {
    caller.require(Scope::Admin)?;
    let id: i64 = id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("'{id}' is not a token id; see `klaxon token list`"),
        )
    })?;
    let revoked = state.store.revoke_token(id, state.clock.now()).await?;
    state.tokens.clear();
    Ok(Json(revoked))
}
