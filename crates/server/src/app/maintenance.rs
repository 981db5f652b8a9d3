//! Scheduled maintenance on the status page: everyone signed in reads it, admins
//! schedule, change, start, complete and cancel it. Each write plans the engine's jobs
//! (the reminder, the start, the completion) and moves the services' maintenance
//! windows it makes, in the same transaction; then this replica's copy of the public
//! page is rebuilt at once (the others follow within their poll interval).

use jiff::SignedDuration;
use klaxon_domain::auth::Scope;
use klaxon_domain::service::ServiceName;
use klaxon_domain::status::maintenance::MaintenanceDecision;
use klaxon_domain::status::{
    MaintenanceChange, MaintenancePost, NewScheduledMaintenance, ScheduledMaintenance,
};
use klaxon_domain::ScheduledMaintenanceId;
use klaxon_store::{MaintenanceWrite, StoreError};

use crate::app::auth::Caller;
use crate::app::error::AppError;
use crate::app::status_page;
use crate::infra::state::AppState;

/// How far back the list goes for maintenances that are over.
const LIST_WINDOW: SignedDuration = SignedDuration::from_hours(24 * 90);
/// The most maintenances a list holds.
const LIST_LIMIT: u32 = 200;
/// Writes retried after losing a race with another (the engine starting it, say).
const TRIES: usize = 5;

/// Refuses unless the caller may manage maintenance: admins, as for components.
pub fn may_manage(caller: &Caller) -> Result<(), AppError> {
    caller.require(Scope::Admin)
}

/// The maintenances not over yet and those of the last 90 days, latest window first.
pub async fn list(
    state: &AppState,
    caller: &Caller,
) -> Result<Vec<ScheduledMaintenance>, AppError> {
    caller.require(Scope::Viewer)?;
    let now = state.clock.now();
    let since = now.checked_sub(LIST_WINDOW).unwrap_or(now);
    Ok(state
        .store
        .scheduled_maintenances(since, LIST_LIMIT)
        .await?)
}

pub async fn show(
    state: &AppState,
    caller: &Caller,
    id: ScheduledMaintenanceId,
) -> Result<ScheduledMaintenance, AppError> {
    caller.require(Scope::Viewer)?;
    Ok(state.store.scheduled_maintenance(id).await?)
}

#[tracing::instrument(skip_all, fields(actor = %caller.user.handle))]
pub async fn schedule(
    state: &AppState,
    caller: &Caller,
    new: NewScheduledMaintenance,
) -> Result<ScheduledMaintenance, AppError> {
    may_manage(caller)?;
    let all = state.store.components().await?;
    let by = caller.user.handle.as_str();
    let decision = new.decide(&all, by, state.clock.now())?;
    let saved = write(state, &decision, by).await?;
    tracing::info!(maintenance = %saved.id, name = %saved.name, "maintenance scheduled");
    status_page::refresh(state).await;
    Ok(saved)
}

/// Changes a maintenance: its name, components, window or flags.
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, maintenance = %id))]
pub async fn change(
    state: &AppState,
    caller: &Caller,
    id: ScheduledMaintenanceId,
    change: MaintenanceChange,
) -> Result<ScheduledMaintenance, AppError> {
    may_manage(caller)?;
    let by = caller.user.handle.as_str();
    let saved = retry(
        state,
        id,
        |m, all| m.change(&change, all, by, state.clock.now()),
        by,
    )
    .await?;
    status_page::refresh(state).await;
    Ok(saved)
}

/// Posts an update, moving the status if it names one (start, verify, complete,
/// cancel).
#[tracing::instrument(skip_all, fields(actor = %caller.user.handle, maintenance = %id))]
pub async fn post(
    state: &AppState,
    caller: &Caller,
    id: ScheduledMaintenanceId,
    post: MaintenancePost,
) -> Result<ScheduledMaintenance, AppError> {
    may_manage(caller)?;
    let by = caller.user.handle.as_str();
    let saved = retry(state, id, |m, _| m.post(&post, by, state.clock.now()), by).await?;
    if let Some(status) = post.status {
        tracing::info!(maintenance = %id, status = %status, "maintenance status changed");
    }
    status_page::refresh(state).await;
    Ok(saved)
}

/// Reads the maintenance, decides and writes, reading again if it changed meanwhile.
async fn retry(
    state: &AppState,
    id: ScheduledMaintenanceId,
    decide: impl Fn(
        &ScheduledMaintenance,
        &[klaxon_domain::status::Component],
    ) -> Result<MaintenanceDecision, klaxon_domain::DomainError>,
    by: &str,
) -> Result<ScheduledMaintenance, AppError> {
    let mut last = None;
    for _ in 0..TRIES {
        let current = state.store.scheduled_maintenance(id).await?;
        let all = state.store.components().await?;
        let decision = decide(&current, &all)?;
        match write(state, &decision, by).await {
            Err(StoreError::Stale(m)) => last = Some(m),
            other => return Ok(other?),
        }
    }
    Err(AppError::conflict(last.unwrap_or_else(|| {
        format!("maintenance {id} kept changing; try again")
    })))
}

/// The services linked to the maintenance's components.
async fn linked_services(
    state: &AppState,
    m: &ScheduledMaintenance,
) -> Result<Vec<ServiceName>, StoreError> {
    let mut services: Vec<ServiceName> = state
        .store
        .components()
        .await?
        .into_iter()
        .filter(|c| m.components.contains(&c.id))
        .flat_map(|c| c.services)
        .collect();
    services.sort();
    services.dedup();
    Ok(services)
}

/// Writes what the rules decided, with the services' windows it makes and the engine's
/// jobs for it as it now is.
pub(crate) async fn write(
    state: &AppState,
    decision: &MaintenanceDecision,
    by: &str,
) -> Result<ScheduledMaintenance, StoreError> {
    let m = &decision.maintenance;
    let window = m
        .mute_window()
        .map(|(from, until)| (from, until, format!("scheduled maintenance: {}", m.name)));
    let services = match window {
        Some(_) => linked_services(state, m).await?,
        None => Vec::new(),
    };
    let now = state.clock.now();
    let lead = state.policy.status_page.maintenance_reminder.0;
    let plan = move |saved: &ScheduledMaintenance| saved.jobs(lead, now);
    state
        .store
        .save_maintenance(
            &MaintenanceWrite {
                decision,
                services,
                window,
                by,
                at: now,
            },
            &plan,
        )
        .await
}
