//! Services and their integration keys. Keys and signing secrets are shown to admins
//! only; everyone else sees the service without them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::auth::Scope;
use klaxon_domain::service::{
    Heartbeat, IntegrationKey, MaintenanceWindow, NewHeartbeat, NewMaintenance, NewService,
    Service, ServiceFields, ServiceName, ServiceUpdate,
};
use klaxon_domain::{KeyId, MaintenanceId};
use klaxon_store::{NewKey, StoreError};

use crate::app::auth::{random_hex, Caller};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ServiceItemPath, ServicePath};
use crate::infra::state::AppState;

/// A new integration key (32 hex characters) with its signing secret.
fn new_key() -> NewKey {
    NewKey {
        key: random_hex(16),
        signing_secret: random_hex(32).into(),
    }
}

/// Refuses an escalation policy that does not exist, naming the field.
async fn known_policy(state: &AppState, fields: &ServiceFields) -> Result<(), ApiError> {
    let Some(policy) = &fields.rules.escalation_policy else {
        return Ok(());
    };
    match state.store.policy(policy).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "rules.escalation_policy",
            format!("there is no escalation policy '{policy}'; see `klaxon escalation list`"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The service as `caller` may see it.
fn shown(caller: &Caller, mut service: Service) -> Service {
    if !caller.is_admin() {
        service.integration_keys = None;
        service.integration_key = None;
    }
    service
}

#[utoipa::path(get, path = "/services", tag = "services", responses((status = 200, body = [Service], description = "Not paged: every service; they are configuration people write")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Service>>, ApiError> {
    caller.require(Scope::Viewer)?;
    let services = state.store.services().await?;
    Ok(Json(
        services.into_iter().map(|s| shown(&caller, s)).collect(),
    ))
}

#[utoipa::path(post, path = "/services", tag = "services", security(("bearer" = ["admin"])), request_body = NewService,
    responses((status = 201, body = Service, description = "With its first integration key"), (status = 409, description = "The name is taken"), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewService>,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    caller.require(Scope::Admin)?;
    let (name, fields) = new.validated()?;
    known_policy(&state, &fields).await?;
    let service = state
        .store
        .create_service(&name, &fields, &new_key(), state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(service)))
}

#[utoipa::path(get, path = "/services/{name}", tag = "services", params(("name" = ServiceName, Path)),
    responses((status = 200, body = Service), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
) -> Result<Json<Service>, ApiError> {
    caller.require(Scope::Viewer)?;
    Ok(Json(shown(&caller, state.store.service(&name).await?)))
}

#[utoipa::path(patch, path = "/services/{name}", tag = "services", params(("name" = ServiceName, Path)), security(("bearer" = ["admin"])), request_body = ServiceUpdate,
    responses((status = 200, body = Service), (status = 404), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
    ApiJson(update): ApiJson<ServiceUpdate>,
) -> Result<Json<Service>, ApiError> {
    caller.require(Scope::Admin)?;
    let current = state.store.service(&name).await?;
    let fields = update.apply_to(&current)?;
    known_policy(&state, &fields).await?;
    let updated = state.store.update_service(&name, &fields).await?;
    state.services.clear();
    Ok(Json(updated))
}

#[utoipa::path(delete, path = "/services/{name}", tag = "services", params(("name" = ServiceName, Path)), security(("bearer" = ["admin"])),
    responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::Admin)?;
    state.store.delete_service(&name).await?;
    state.services.clear();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/services/{name}/keys", tag = "services", params(("name" = ServiceName, Path)), security(("bearer" = ["admin"])),
    responses((status = 201, body = IntegrationKey), (status = 404)))]
pub async fn add_key(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
) -> Result<(StatusCode, Json<IntegrationKey>), ApiError> {
    caller.require(Scope::Admin)?;
    let key = state
        .store
        .add_integration_key(&name, &new_key(), state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[utoipa::path(post, path = "/services/{name}/keys/{id}/rotate", tag = "services", params(("name" = ServiceName, Path), ("id" = KeyId, Path)), security(("bearer" = ["admin"])),
    responses((status = 201, body = IntegrationKey, description = "The replacement; the old key is revoked"), (status = 404), (status = 409)))]
pub async fn rotate_key(
    State(state): State<AppState>,
    caller: Caller,
    ServiceItemPath(name, id): ServiceItemPath<KeyId>,
) -> Result<(StatusCode, Json<IntegrationKey>), ApiError> {
    caller.require(Scope::Admin)?;
    let key = state
        .store
        .rotate_integration_key(&name, id, &new_key(), state.clock.now())
        .await?;
    state.services.clear();
    Ok((StatusCode::CREATED, Json(key)))
}

#[utoipa::path(post, path = "/services/{name}/keys/{id}/revoke", tag = "services", params(("name" = ServiceName, Path), ("id" = KeyId, Path)), security(("bearer" = ["admin"])),
    responses((status = 200, body = IntegrationKey), (status = 404), (status = 409)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    ServiceItemPath(name, id): ServiceItemPath<KeyId>,
) -> Result<Json<IntegrationKey>, ApiError> {
    caller.require(Scope::Admin)?;
    let revoked = state
        .store
        .revoke_integration_key(&name, id, state.clock.now())
        .await?;
    state.services.clear();
    Ok(Json(revoked))
}

#[utoipa::path(get, path = "/services/{name}/maintenance", tag = "services", params(("name" = ServiceName, Path)),
    responses((status = 200, body = [MaintenanceWindow], description = "Not paged: the windows not yet over"), (status = 404)))]
pub async fn maintenance(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
) -> Result<Json<Vec<MaintenanceWindow>>, ApiError> {
    caller.require(Scope::Viewer)?;
    state.store.service(&name).await?;
    Ok(Json(
        state.store.maintenance(&name, state.clock.now()).await?,
    ))
}

#[utoipa::path(post, path = "/services/{name}/maintenance", tag = "services", params(("name" = ServiceName, Path)), security(("bearer" = ["responder"])), request_body = NewMaintenance,
    responses((status = 201, body = MaintenanceWindow), (status = 404), (status = 422)))]
pub async fn add_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    ServicePath(name): ServicePath,
    ApiJson(new): ApiJson<NewMaintenance>,
) -> Result<(StatusCode, Json<MaintenanceWindow>), ApiError> {
    caller.require(Scope::Responder)?;
    let now = state.clock.now();
    let window = new.validated(now)?;
    let created = state
        .store
        .add_maintenance(&name, window, caller.user.handle.as_str(), now)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(delete, path = "/services/{name}/maintenance/{id}", tag = "services", params(("name" = ServiceName, Path), ("id" = MaintenanceId, Path)), security(("bearer" = ["responder"])),
    responses((status = 204), (status = 404)))]
pub async fn remove_maintenance(
    State(state): State<AppState>,
    caller: Caller,
    ServiceItemPath(name, id): ServiceItemPath<MaintenanceId>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::Responder)?;
    state.store.remove_maintenance(&name, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/heartbeats", tag = "services", responses((status = 200, body = [Heartbeat], description = "Not paged: every heartbeat monitor; they are configuration people write")))]
pub async fn heartbeats(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Heartbeat>>, ApiError> {
    caller.require(Scope::Viewer)?;
    let mut all = state.store.heartbeats().await?;
    if !caller.is_admin() {
        all.iter_mut().for_each(|h| h.key = None);
    }
    Ok(Json(all))
}

#[utoipa::path(post, path = "/heartbeats", tag = "services", security(("bearer" = ["admin"])), request_body = NewHeartbeat,
    responses((status = 201, body = Heartbeat, description = "With the key to ping"), (status = 404, description = "No such service"), (status = 409, description = "The service has a heartbeat of that name"), (status = 422)))]
pub async fn create_heartbeat(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewHeartbeat>,
) -> Result<(StatusCode, Json<Heartbeat>), ApiError> {
    caller.require(Scope::Admin)?;
    let (name, interval) = new.validated()?;
    let key = random_hex(16);
    let created = state
        .store
        .create_heartbeat(&new.service, &name, interval, &key, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}
