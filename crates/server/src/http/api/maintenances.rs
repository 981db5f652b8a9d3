//! Scheduled maintenance on the status page: each handler reads the request and answers
//! with what `app::maintenance` decided.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::status::{
    MaintenanceChange, MaintenancePost, NewScheduledMaintenance, ScheduledMaintenance,
};
use klaxon_domain::ScheduledMaintenanceId;

use crate::app::auth::Caller;
use crate::app::maintenance;
use crate::http::error::ApiError;
use crate::http::extract::{path_id, ApiJson, ApiPath};
use crate::infra::state::AppState;

#[utoipa::path(get, path = "/maintenances", tag = "maintenances",
    responses((status = 200, body = [ScheduledMaintenance], description = "Not paged: those not over yet and those of the last 90 days (at most 200), latest window first")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ScheduledMaintenance>>, ApiError> {
    Ok(Json(maintenance::list(&state, &caller).await?))
}

#[utoipa::path(post, path = "/maintenances", tag = "maintenances", security(("bearer" = ["admin"])), request_body = NewScheduledMaintenance,
    responses((status = 201, body = ScheduledMaintenance), (status = 422, description = "A field breaks a rule: an unknown component or a group, a window that ends before it starts or is over")))]
pub async fn schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewScheduledMaintenance>,
) -> Result<(StatusCode, Json<ScheduledMaintenance>), ApiError> {
    let created = maintenance::schedule(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/maintenances/{id}", tag = "maintenances", params(("id" = ScheduledMaintenanceId, Path)),
    responses((status = 200, body = ScheduledMaintenance), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ScheduledMaintenance>, ApiError> {
    let id: ScheduledMaintenanceId = path_id(&id)?;
    Ok(Json(maintenance::show(&state, &caller, id).await?))
}

#[utoipa::path(patch, path = "/maintenances/{id}", tag = "maintenances", params(("id" = ScheduledMaintenanceId, Path)), security(("bearer" = ["admin"])), request_body = MaintenanceChange,
    responses((status = 200, body = ScheduledMaintenance), (status = 404), (status = 409, description = "It is over, or has started and the start would move"), (status = 422)))]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<MaintenanceChange>,
) -> Result<Json<ScheduledMaintenance>, ApiError> {
    let id: ScheduledMaintenanceId = path_id(&id)?;
    Ok(Json(
        maintenance::change(&state, &caller, id, change).await?,
    ))
}

#[utoipa::path(post, path = "/maintenances/{id}/updates", tag = "maintenances", params(("id" = ScheduledMaintenanceId, Path)), security(("bearer" = ["admin"])), request_body = MaintenancePost,
    responses((status = 200, body = ScheduledMaintenance), (status = 404), (status = 409, description = "The status cannot move there from where it is"), (status = 422)))]
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(post): ApiJson<MaintenancePost>,
) -> Result<Json<ScheduledMaintenance>, ApiError> {
    let id: ScheduledMaintenanceId = path_id(&id)?;
    Ok(Json(maintenance::post(&state, &caller, id, post).await?))
}
