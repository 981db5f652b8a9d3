//! Escalation policies, who is on call for each service, and paging someone directly.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::api::{NewPage, Paged, ServiceOnCall};
use klaxon_domain::paging::{EscalationPolicy, NewEscalationPolicy, Target};

use crate::app::auth::Caller;
use crate::app::escalation;
use crate::app::paging::{on_call_now, page_directly};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::infra::state::AppState;

#[utoipa::path(get, path = "/escalation-policies", tag = "escalation", responses((status = 200, body = [EscalationPolicy], description = "Not paged: every escalation policy; they are configuration people write, a few per team")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<EscalationPolicy>>, ApiError> {
    caller.require(Scope::Viewer)?;
    Ok(Json(state.store.policies().await?))
}

#[utoipa::path(post, path = "/escalation-policies", tag = "escalation", security(("bearer" = ["admin"])), request_body = NewEscalationPolicy,
    responses((status = 201, body = EscalationPolicy), (status = 409), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewEscalationPolicy>,
) -> Result<(StatusCode, Json<EscalationPolicy>), ApiError> {
    let created = escalation::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/escalation-policies/{name}", tag = "escalation", params(("name" = String, Path)),
    responses((status = 200, body = EscalationPolicy), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<EscalationPolicy>, ApiError> {
    caller.require(Scope::Viewer)?;
    Ok(Json(state.store.policy(&name).await?))
}

#[utoipa::path(put, path = "/escalation-policies/{name}", tag = "escalation", params(("name" = String, Path)), security(("bearer" = ["admin"])),
    request_body = NewEscalationPolicy, responses((status = 200, body = EscalationPolicy), (status = 404), (status = 409, description = "Renamed to a name that is taken"), (status = 422)))]
pub async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(new): ApiJson<NewEscalationPolicy>,
) -> Result<Json<EscalationPolicy>, ApiError> {
    Ok(Json(
        escalation::replace(&state, &caller, &name, new).await?,
    ))
}

#[utoipa::path(delete, path = "/escalation-policies/{name}", tag = "escalation", params(("name" = String, Path)), security(("bearer" = ["admin"])),
    responses((status = 204), (status = 404), (status = 409, description = "A service still uses it")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    escalation::delete(&state, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/oncall", tag = "escalation", responses((status = 200, body = [ServiceOnCall], description = "Not paged: one entry per service")))]
pub async fn on_call(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ServiceOnCall>>, ApiError> {
    caller.require(Scope::Viewer)?;
    Ok(Json(on_call_now(&state).await?))
}

#[utoipa::path(post, path = "/page", tag = "escalation", security(("bearer" = ["responder"])), request_body = NewPage,
    responses((status = 202, body = Paged), (status = 404), (status = 422)))]
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewPage>,
) -> Result<(StatusCode, Json<Paged>), ApiError> {
    caller.require(Scope::Responder)?;
    let message = new.message.trim();
    if message.is_empty() || message.chars().count() > 500 {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "message",
            "say what is wrong in 1 to 500 characters",
        ));
    }
    let user = match &new.target {
        Target::User(h) => {
            state.store.user(h).await?;
            h.clone()
        }
        Target::Schedule(s) => state
            .store
            .schedule(s)
            .await?
            .on_call_at(state.clock.now())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("nobody is on call on schedule '{s}' now"),
                )
            })?,
    };
    let deliveries = page_directly(&state, &user, message, &caller.user.handle).await?;
    if deliveries == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{user} has no contact methods; add one with `klaxon user contact add {user} ...`"
            ),
        ));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Paged {
            user: user.to_string(),
            deliveries,
        }),
    ))
}
