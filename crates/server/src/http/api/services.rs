//! Services and their integration keys, maintenance windows and heartbeats: each
//! handler reads the request and answers with what `app::services` decided (keys and
//! signing secrets are shown to admins only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::service::{
    Heartbeat, IntegrationKey, MaintenanceWindow, NewHeartbeat, NewMaintenance, NewService,
    Service, ServiceName, ServiceUpdate,
};
use klaxon_domain::{KeyId, MaintenanceId};

use crate::app::auth::Caller;
use crate::app::services;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ServiceItemPath, ServicePath};
use crate::infra::state::AppState;

#[utoipa::path(get, path = "/services", tag = "services", responses((status = 200, body = [Service], description = "Not paged: every service; they are configuration people write")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Service>>, ApiError> {
    Ok(Json(services::list(&state, &caller).await?))
}

#[utoipa::path(post, path = "/services", tag = "services", security(("bearer" = ["admin"])), request_body = NewService,
    responses((status = 201, body = Service, description = "With its first integration key"), (status = 409, description = "The name is taken"), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewService>,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let service = services::create(&state, &caller, new).await?;
    Ok((StatusCode::CREATED, Json(service)))
}

#[utoipa::path(get, path = "/services/{name}", tag = "services", params(("name" = ServiceName, Path)),
    responses((status = 200, body = Service), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
) -> Result<Json<Service>, ApiError> {
    Ok(Json(services::show(&state, &caller, &name).await?))
}

#[utoipa::path(patch, path = "/services/{name}", tag = "services", params(("name" = ServiceName, Path)), security(("bearer" = ["admin"])), request_body = ServiceUpdate,
    responses((status = 200, body = Service), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
    ApiJson(update): ApiJson<ServiceUpdate>,
) -> Result<Json<Service>, ApiError> {
    let updated = services::update(&state, &caller, &name, |_| Ok(update)).await?;
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/services/{name}", tag = "services", params(("name" = ServiceName, Path)), security(("bearer" = ["admin"])),
    responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
) -> Result<StatusCode, ApiError> {
    services::delete(&state, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/services/{name}/keys", tag = "services", params(("name" = ServiceName, Path)), security(("bearer" = ["admin"])),
    responses((status = 201, body = IntegrationKey), (status = 404)))]
pub async fn add_key(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
) -> Result<(StatusCode, Json<IntegrationKey>), ApiError> {
    let key = services::add_key(&state, &caller, &name).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[utoipa::path(post, path = "/services/{name}/keys/{id}/rotate", tag = "services", params(("name" = ServiceName, Path), ("id" = KeyId, Path)), security(("bearer" = ["admin"])),
    responses((status = 201, body = IntegrationKey, description = "The replacement; the old key is revoked"), (status = 404), (status = 409)))]
pub async fn rotate_key(
    State(state): State<AppState>,
    caller: Caller,
    ServiceItemPath(name, id): ServiceItemPath<KeyId>,
) -> Result<(StatusCode, Json<IntegrationKey>), ApiError> {
    let key = services::rotate_key(&state, &caller, &name, id).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[utoipa::path(post, path = "/services/{name}/keys/{id}/revoke", tag = "services", params(("name" = ServiceName, Path), ("id" = KeyId, Path)), security(("bearer" = ["admin"])),
    responses((status = 200, body = IntegrationKey), (status = 404), (status = 409)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    ServiceItemPath(name, id): ServiceItemPath<KeyId>,
) -> Result<Json<IntegrationKey>, ApiError> {
    Ok(Json(
        services::revoke_key(&state, &caller, &name, id).await?,
    ))
}

#[utoipa::path(get, path = "/services/{name}/maintenance", tag = "services", params(("name" = ServiceName, Path)),
    responses((status = 200, body = [MaintenanceWindow], description = "Not paged: the windows not yet over"), (status = 404)))]
pub async fn maintenance(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
) -> Result<Json<Vec<MaintenanceWindow>>, ApiError> {
    Ok(Json(services::maintenance(&state, &caller, &name).await?))
}

#[utoipa::path(post, path = "/services/{name}/maintenance", tag = "services", params(("name" = ServiceName, Path)), security(("bearer" = ["responder"])), request_body = NewMaintenance,
    responses((status = 201, body = MaintenanceWindow), (status = 404), (status = 422)))]
pub async fn add_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
    ApiJson(new): ApiJson<NewMaintenance>,
) -> Result<(StatusCode, Json<MaintenanceWindow>), ApiError> {
    let created = services::add_maintenance(&state, &caller, &name, &new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(delete, path = "/services/{name}/maintenance/{id}", tag = "services", params(("name" = ServiceName, Path), ("id" = MaintenanceId, Path)), security(("bearer" = ["responder"])),
    responses((status = 204), (status = 404)))]
pub async fn remove_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    ServiceItemPath(name, id): ServiceItemPath<MaintenanceId>,
) -> Result<StatusCode, ApiError> {
    services::remove_maintenance(&state, &caller, &name, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/heartbeats", tag = "services", responses((status = 200, body = [Heartbeat], description = "Not paged: every heartbeat monitor; they are configuration people write")))]
pub async fn heartbeats(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Heartbeat>>, ApiError> {
    Ok(Json(services::heartbeats(&state, &caller).await?))
}

#[utoipa::path(post, path = "/heartbeats", tag = "services", security(("bearer" = ["admin"])), request_body = NewHeartbeat,
    responses((status = 201, body = Heartbeat, description = "With the key to ping"), (status = 404, description = "No such service"), (status = 409, description = "The service has a heartbeat of that name"), (status = 422)))]
pub async fn create_heartbeat(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewHeartbeat>,
) -> Result<(StatusCode, Json<Heartbeat>), ApiError> {
    let created = services::create_heartbeat(&state, &caller, &new).await?;
    Ok((StatusCode::CREATED, Json(created)))
}
