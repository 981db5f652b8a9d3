//! Scheduled maintenance in the background: the reminder before it starts, its start
//! at `scheduled_for` and its completion at `scheduled_until`. Each job was planned when
//! the maintenance was scheduled or last changed; one that no longer applies (the
//! maintenance moved, was started or completed by hand, or had the step turned off)
//! does nothing.

use klaxon_domain::status::maintenance::{MaintenanceDecision, MaintenanceJob, MaintenanceStep};
use klaxon_domain::status::{MaintenancePost, MaintenanceStatus, ScheduledMaintenance};
use klaxon_store::StoreError;

use crate::app::maintenance::write;
use crate::app::status_page;
use crate::engine::job::Ran;
use crate::infra::state::AppState;

/// Writes retried after losing a race with a person changing the maintenance.
const TRIES: usize = 5;

/// Runs a maintenance job: the reminder, the start or the completion, if it still
/// applies (a maintenance rescheduled, started or completed by hand, or with its
/// automatic step turned off, makes it do nothing).
pub(crate) async fn run(state: &AppState, job: &MaintenanceJob) -> Result<Ran, StoreError> {
    for _ in 0..TRIES {
        let m = match state.store.scheduled_maintenance(job.maintenance).await {
            Ok(m) => m,
            Err(StoreError::NotFound(_)) => return Ok(Ran::done()),
            Err(e) => return Err(e),
        };
        if !m.due(job) {
            return Ok(Ran::done());
        }
        let now = state.clock.now();
        let engine = "klaxon";
        let decision = match job.step {
            MaintenanceStep::Remind => {
                crate::app::subscribers::maintenance_reminder(state, &m).await?;
                let mut reminded = m.clone();
                reminded.reminded_for = Some(job.at);
                MaintenanceDecision {
                    maintenance: reminded,
                    updates: Vec::new(),
                }
            }
            MaintenanceStep::Start => step(&m, MaintenanceStatus::InProgress, engine, now)?,
            MaintenanceStep::Complete => step(&m, MaintenanceStatus::Completed, engine, now)?,
        };
        match write(state, &decision, engine).await {
            Ok(saved) => {
                tracing::info!(maintenance = %saved.id, step = job.step.as_str(), "maintenance job done");
                status_page::refresh(state).await;
                return Ok(Ran::done());
            }
            Err(StoreError::Stale(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Stale(format!(
        "maintenance {} kept changing while its job ran",
        job.maintenance
    )))
}

fn step(
    m: &ScheduledMaintenance,
    to: MaintenanceStatus,
    by: &str,
    now: jiff::Timestamp,
) -> Result<MaintenanceDecision, StoreError> {
    m.post(
        &MaintenancePost {
            status: Some(to),
            body: None,
        },
        by,
        now,
    )
    .map_err(crate::engine::job::domain)
}
