//! Status-page components: everyone signed in reads them, admins create, change and
//! delete them and set their status by hand. Each change rebuilds this replica's copy of
//! the public page at once (the others follow within their poll interval).

use klaxon_domain::auth::Scope;
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::{
    self, AffectedComponent, Component, ComponentChoice, ComponentStatus, ComponentUpdate,
    NewComponent,
};
use klaxon_domain::{ComponentId, Severity};

use crate::app::auth::Caller;
use crate::app::error::AppError;
use crate::app::status_page;
use crate::infra::state::AppState;

/// Refuses unless the caller may manage components: admins.
pub fn may_manage(caller: &Caller) -> Result<(), AppError> {
    caller.require(Scope::Admin)
}

/// Every component and group with its effective status, in page order.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Component>, AppError> {
    caller.require(Scope::Viewer)?;
    let all = with_status(state).await?;
    Ok(status::page_order(&all).into_iter().cloned().collect())
}

/// Component `id` with its effective status.
pub async fn show(
    state: &AppState,
    caller: &Caller,
    id: ComponentId,
) -> Result<Component, AppError> {
    caller.require(Scope::Viewer)?;
    with_status(state)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| missing(id))
}

fn missing(id: ComponentId) -> AppError {
    AppError::not_found(format!(
        "there is no component {id}; see `klaxon component list`"
    ))
}

/// Every component, with the status the open incidents, active maintenances and hands
/// give it.
async fn with_status(state: &AppState) -> Result<Vec<Component>, AppError> {
    let components = state.store.components().await?;
    let now = state.clock.now();
    let open: Vec<_> = state
        .store
        .component_periods(now)
        .await?
        .into_iter()
        .filter(|p| p.incident.is_some() && p.period.end.is_none())
        .map(|p| (p.component, p.period.status))
        .chain(status::maintenance::impacts(
            &state.store.scheduled_maintenances(now, 1_000).await?,
        ))
        .collect();
    Ok(status::effective(&components, &open))
}

/// Refuses services that do not exist, naming the first.
async fn known_services(state: &AppState, services: &[ServiceName]) -> Result<(), AppError> {
    if services.is_empty() {
        return Ok(());
    }
    let known = state.store.services().await?;
    for s in services {
        if !known.iter().any(|k| &k.name == s) {
            return Err(AppError::invalid(
                "services",
                format!("there is no service '{s}'; see `klaxon service list`"),
            ));
        }
    }
    Ok(())
}

#[tracing::instrument(skip_all, fields(actor = %caller.user.handle))]
pub async fn create(
    state: &AppState,
    caller: &Caller,
    new: NewComponent,
) -> Result<Component, AppError> {
    may_manage(caller)?;
    let fields = new.validated()?;
    let all = state.store.components().await?;
    status::check_placement(None, &fields, &all)?;
    known_services(state, &fields.services).await?;
    let created = state
        .store
        .create_component(&fields, state.clock.now())
        .await?;
    tracing::info!(component = %created.id, name = %created.name, "component created");
    status_page::refresh(state).await;
    show(state, caller, created.id).await
}

#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, component = %id))]
pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: ComponentId,
    update: ComponentUpdate,
) -> Result<Component, AppError> {
    may_manage(caller)?;
    let all = state.store.components().await?;
    let current = all.iter().find(|c| c.id == id).ok_or_else(|| missing(id))?;
    let fields = update.apply_to(current)?;
    status::check_placement(Some(id), &fields, &all)?;
    if fields.group_id.is_some() && all.iter().any(|c| c.group_id == Some(id)) {
        return Err(AppError::invalid(
            "group_id",
            "a group cannot be inside another group: groups nest one level",
        ));
    }
    if update.status.is_some() {
        status::check_manual_status(current)?;
    }
    if update.services.is_some() {
        known_services(state, &fields.services).await?;
    }
    let now = state.clock.now();
    // A status set by hand is told to subscribers (if it changes what they see).
    let notice: Vec<_> = update
        .status
        .map(|_| {
            status::NoticeSource::Components {
                at: now,
                components: vec![id],
            }
            .planned(now)
        })
        .into_iter()
        .collect();
    state
        .store
        .update_component(id, &fields, update.status, &notice, now)
        .await?;
    state.engine_wake.notify_one();
    status_page::refresh(state).await;
    show(state, caller, id).await
}

#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, component = %id))]
pub async fn delete(state: &AppState, caller: &Caller, id: ComponentId) -> Result<(), AppError> {
    may_manage(caller)?;
    let all = state.store.components().await?;
    let current = all.iter().find(|c| c.id == id).ok_or_else(|| missing(id))?;
    status::check_delete(current, &all)?;
    state.store.delete_component(id).await?;
    status_page::refresh(state).await;
    Ok(())
}

/// The components an incident names, resolved: each exists and is not a group, with the
/// status given or the one the policy suggests for `severity`.
pub async fn resolve(
    state: &AppState,
    choices: &[ComponentChoice],
    severity: Severity,
) -> Result<Vec<AffectedComponent>, AppError> {
    if choices.is_empty() {
        return Ok(Vec::new());
    }
    let all = state.store.components().await?;
    let suggested = state.policy.severity(severity).component_status();
    choices
        .iter()
        .map(|choice| {
            let c = all
                .iter()
                .find(|c| c.id == choice.component)
                .ok_or_else(|| {
                    AppError::invalid(
                        "components",
                        format!(
                            "there is no component {}; see `klaxon component list`",
                            choice.component
                        ),
                    )
                })?;
            if c.group {
                return Err(AppError::invalid(
                    "components",
                    format!("'{}' is a group; name the components in it", c.name),
                ));
            }
            Ok(AffectedComponent {
                component: c.id,
                name: c.name.clone(),
                status: choice.status.unwrap_or(suggested),
            })
        })
        .collect()
}

/// The components linked to `service`, with the status the policy suggests for
/// `severity`: what a customer-facing incident of the service names unless told
/// otherwise.
pub async fn suggested(
    state: &AppState,
    service: &str,
    severity: Severity,
) -> Result<Vec<AffectedComponent>, AppError> {
    let status: ComponentStatus = state.policy.severity(severity).component_status();
    Ok(state
        .store
        .components()
        .await?
        .into_iter()
        .filter(|c| !c.group && c.services.iter().any(|s| s.as_str() == service))
        .map(|c| AffectedComponent {
            component: c.id,
            name: c.name,
            status,
        })
        .collect())
}
