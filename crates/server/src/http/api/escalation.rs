//! Escalation policies, who is on call for each service, and paging someone directly.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::auth::Scope;
use klaxon_domain::paging::api::{NewPage, Paged, ServiceOnCall};
use klaxon_domain::paging::{EscalationPolicy, NewEscalationPolicy, Target};
use klaxon_domain::Handle;

use crate::app::auth::Caller;
use crate::app::paging::{page_directly, who_is_paged};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::infra::state::AppState;

/// A policy from a client, checked by the domain and against the users and schedules
/// that exist.
async fn checked(
    state: &AppState,
    new: NewEscalationPolicy,
) -> Result<NewEscalationPolicy, ApiError> {
    let policy = new.validated()?;
    let users: Vec<Handle> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| u.handle)
        .collect();
    let schedules: Vec<String> = state
        .store
        .schedules()
        .await?
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    for target in policy.steps.iter().flat_map(|s| s.targets.iter()) {
        let missing = match target {
            Target::User(h) if !users.contains(h) => format!("there is no user '{h}'"),
            Target::Schedule(s) if !schedules.contains(s) => {
                format!("there is no schedule '{s}'; see `klaxon schedule list`")
            }
            _ => continue,
        };
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "steps.targets",
            missing,
        ));
    }
    Ok(policy)
}

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
    caller.require(Scope::Admin)?;
    let policy = checked(&state, new).await?;
    let created = state
        .store
        .create_policy(&policy, state.clock.now())
        .await?;
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
    caller.require(Scope::Admin)?;
    let policy = checked(&state, new).await?;
    Ok(Json(state.store.update_policy(&name, &policy).await?))
}

#[utoipa::path(delete, path = "/escalation-policies/{name}", tag = "escalation", params(("name" = String, Path)), security(("bearer" = ["admin"])),
    responses((status = 204), (status = 404), (status = 409, description = "A service still uses it")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::Admin)?;
    let users: Vec<String> = state
        .store
        .services()
        .await?
        .into_iter()
        .filter(|s| s.rules.escalation_policy.as_deref() == Some(name.as_str()))
        .map(|s| s.name.to_string())
        .collect();
    if !users.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "services {} use escalation policy '{name}'; give them another first",
                users.join(", ")
            ),
        ));
    }
    state.store.delete_policy(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/oncall", tag = "escalation", responses((status = 200, body = [ServiceOnCall], description = "Not paged: one entry per service")))]
pub async fn on_call(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ServiceOnCall>>, ApiError> {
    caller.require(Scope::Viewer)?;
    let now = state.clock.now();
    let mut answer = vec![];
    let lookups = crate::app::lookups::Lookups::new(state.store.clone());
    for service in state.store.services().await? {
        let mut on_call = vec![];
        if let Some(name) = &service.rules.escalation_policy {
            if let Ok(policy) = state.store.policy(name).await {
                let first = policy
                    .steps
                    .first()
                    .map(|s| s.targets.as_slice())
                    .unwrap_or_default();
                on_call = who_is_paged(&lookups, first, now)
                    .await?
                    .iter()
                    .map(|u| u.to_string())
                    .collect();
            }
        }
        answer.push(ServiceOnCall {
            service: service.name.to_string(),
            escalation_policy: service.rules.escalation_policy.clone(),
            on_call,
        });
    }
    Ok(Json(answer))
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
