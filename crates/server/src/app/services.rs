//! Services: what can break, with its integration keys, maintenance windows and
//! heartbeat monitors. Everyone reads them; admins manage services, keys and heartbeats,
//! responders open and end maintenance windows. Keys and signing secrets are shown to
//! admins only.

use std::sync::Arc;

use klaxon_domain::auth::Scope;
use klaxon_domain::paging::EscalationPolicy;
use klaxon_domain::service::{
    Heartbeat, IntegrationKey, MaintenanceWindow, NewHeartbeat, NewMaintenance, NewService,
    Service, ServiceFields, ServiceName, ServiceUpdate,
};
use klaxon_domain::{KeyId, MaintenanceId};
use klaxon_store::{NewKey, StoreError};

use crate::app::auth::{random_hex, Caller};
use crate::app::error::AppError;
use crate::infra::state::AppState;

/// The service an integration key belongs to (revoked keys belong to none),
/// through the cache.
pub async fn service_by_key(
    state: &AppState,
    key: &str,
) -> Result<Option<Arc<klaxon_domain::service::Service>>, klaxon_store::StoreError> {
    if let Some(found) = state.services.get(key) {
        return Ok(Some(found));
    }
    let found = state.store.service_by_key(key).await?.map(Arc::new);
    if let Some(service) = &found {
        state.services.insert(key.to_owned(), service.clone());
    }
    Ok(found)
}

/// A new integration key (32 hex characters) with its signing secret.
fn new_key() -> NewKey {
    NewKey {
        key: random_hex(16),
        signing_secret: random_hex(32).into(),
    }
}

/// Refuses an escalation policy that does not exist, naming the field.
async fn known_policy(state: &AppState, fields: &ServiceFields) -> Result<(), AppError> {
    let Some(policy) = &fields.rules.escalation_policy else {
        return Ok(());
    };
    match state.store.policy(policy).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound(_)) => Err(AppError::invalid(
            "rules.escalation_policy",
            format!("there is no escalation policy '{policy}'; see `klaxon escalation list`"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Refuses unless the caller may create, change and delete services, their keys and
/// heartbeats: admins.
pub fn may_manage(caller: &Caller) -> Result<(), AppError> {
    caller.require(Scope::Admin)
}

/// Refuses unless the caller may open and end maintenance windows: responders and
/// admins.
pub fn may_maintain(caller: &Caller) -> Result<(), AppError> {
    caller.require(Scope::Responder)
}

/// The service as `caller` may see it: without its keys unless an admin.
fn shown(caller: &Caller, mut service: Service) -> Service {
    if !caller.is_admin() {
        service.integration_keys = None;
        service.integration_key = None;
    }
    service
}

/// Every service, by name, as the caller may see it.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Service>, AppError> {
    caller.require(Scope::Viewer)?;
    let services = state.store.services().await?;
    Ok(services.into_iter().map(|s| shown(caller, s)).collect())
}

/// Service `name`, as the caller may see it.
pub async fn show(
    state: &AppState,
    caller: &Caller,
    name: &ServiceName,
) -> Result<Service, AppError> {
    caller.require(Scope::Viewer)?;
    Ok(shown(caller, state.store.service(name).await?))
}

/// Creates a service with its first integration key (admin); the service with the key
/// and its signing secret.
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle))]
pub async fn create(
    state: &AppState,
    caller: &Caller,
    new: NewService,
) -> Result<Service, AppError> {
    may_manage(caller)?;
    let (name, fields) = new.validated()?;
    known_policy(state, &fields).await?;
    let service = state
        .store
        .create_service(&name, &fields, &new_key(), state.clock.now())
        .await?;
    tracing::info!(service = %service.name, "service created");
    Ok(service)
}

/// Changes service `name` (admin). `change` turns the service as it is into the update:
/// the API sends a whole one, a web form edits some of the rules and keeps the others.
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, service = %name))]
pub async fn update(
    state: &AppState,
    caller: &Caller,
    name: &ServiceName,
    change: impl FnOnce(&Service) -> Result<ServiceUpdate, AppError>,
) -> Result<Service, AppError> {
    may_manage(caller)?;
    let current = state.store.service(name).await?;
    let fields = change(&current)?.apply_to(&current)?;
    known_policy(state, &fields).await?;
    let updated = state.store.update_service(name, &fields).await?;
    state.services.clear();
    Ok(updated)
}

/// Deletes service `name` and its keys (admin).
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, service = %name))]
pub async fn delete(state: &AppState, caller: &Caller, name: &ServiceName) -> Result<(), AppError> {
    may_manage(caller)?;
    state.store.delete_service(name).await?;
    state.services.clear();
    tracing::info!("service deleted");
    Ok(())
}

/// Adds an integration key to service `name` (admin); the key with its signing secret,
/// which the caller shows once.
pub async fn add_key(
    state: &AppState,
    caller: &Caller,
    name: &ServiceName,
) -> Result<IntegrationKey, AppError> {
    may_manage(caller)?;
    Ok(state
        .store
        .add_integration_key(name, &new_key(), state.clock.now())
        .await?)
}

/// Replaces key `id` of service `name` with a new one (admin); the new key. The old
/// one stops working at once.
pub async fn rotate_key(
    state: &AppState,
    caller: &Caller,
    name: &ServiceName,
    id: KeyId,
) -> Result<IntegrationKey, AppError> {
    may_manage(caller)?;
    let key = state
        .store
        .rotate_integration_key(name, id, &new_key(), state.clock.now())
        .await?;
    state.services.clear();
    Ok(key)
}

/// Revokes key `id` of service `name` (admin); it stops working at once.
pub async fn revoke_key(
    state: &AppState,
    caller: &Caller,
    name: &ServiceName,
    id: KeyId,
) -> Result<IntegrationKey, AppError> {
    may_manage(caller)?;
    let revoked = state
        .store
        .revoke_integration_key(name, id, state.clock.now())
        .await?;
    state.services.clear();
    Ok(revoked)
}

/// The maintenance windows of service `name` that are not over yet, soonest first.
pub async fn maintenance(
    state: &AppState,
    caller: &Caller,
    name: &ServiceName,
) -> Result<Vec<MaintenanceWindow>, AppError> {
    caller.require(Scope::Viewer)?;
    state.store.service(name).await?;
    Ok(state.store.maintenance(name, state.clock.now()).await?)
}

/// Opens a maintenance window on service `name` (responder).
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, service = %name))]
pub async fn add_maintenance(
    state: &AppState,
    caller: &Caller,
    name: &ServiceName,
    new: &NewMaintenance,
) -> Result<MaintenanceWindow, AppError> {
    may_maintain(caller)?;
    let now = state.clock.now();
    let window = new.validated(now)?;
    Ok(state
        .store
        .add_maintenance(name, window, caller.user.handle.as_str(), now)
        .await?)
}

/// Ends maintenance window `id` of service `name` by removing it (responder).
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, service = %name))]
pub async fn remove_maintenance(
    state: &AppState,
    caller: &Caller,
    name: &ServiceName,
    id: MaintenanceId,
) -> Result<(), AppError> {
    may_maintain(caller)?;
    Ok(state.store.remove_maintenance(name, id).await?)
}

/// Every heartbeat monitor; their ping keys to admins only.
pub async fn heartbeats(state: &AppState, caller: &Caller) -> Result<Vec<Heartbeat>, AppError> {
    caller.require(Scope::Viewer)?;
    let mut all = state.store.heartbeats().await?;
    if !caller.is_admin() {
        all.iter_mut().for_each(|h| h.key = None);
    }
    Ok(all)
}

/// Creates a heartbeat monitor (admin); it with the key to ping.
pub async fn create_heartbeat(
    state: &AppState,
    caller: &Caller,
    new: &NewHeartbeat,
) -> Result<Heartbeat, AppError> {
    may_manage(caller)?;
    let (name, interval) = new.validated()?;
    let key = random_hex(16);
    Ok(state
        .store
        .create_heartbeat(&new.service, &name, interval, &key, state.clock.now())
        .await?)
}

/// The escalation policies a service may page through, by name.
pub async fn policies(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<EscalationPolicy>, AppError> {
    caller.require(Scope::Viewer)?;
    Ok(state.store.policies().await?)
}

/// Whether each of `services` is in a maintenance window now, in their order.
pub async fn in_maintenance_now(
    state: &AppState,
    services: &[Service],
) -> Result<Vec<bool>, AppError> {
    let now = state.clock.now();
    let mut answer = Vec::with_capacity(services.len());
    for service in services {
        answer.push(state.store.in_maintenance(service.id, now).await?);
    }
    Ok(answer)
}
