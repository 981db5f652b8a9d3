//! Heartbeat monitors: a missed ping raises an alert through the same path as any other
//! alert; the next ping resolves it. The deadlines live in the database, so a restart
//! (or another replica) picks up where this one stopped.

use std::time::Duration;

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_domain::time::human_duration;
use klaxon_store::StoreError;

use crate::app::alerts;
use crate::infra::state::AppState;

/// How often overdue monitors are looked for.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Raises an alert for every monitor whose ping is overdue and marks it down.
pub async fn check_heartbeats(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let mut raised = 0;
    for hb in state.store.heartbeats().await? {
        if hb.down || now <= hb.due_at() {
            continue;
        }
        let service = state.store.service(&hb.service).await?;
        let mut event = AlertEvent::new(AlertAction::Trigger, AlertSeverity::Critical);
        event.dedup_key = Some(hb.alert_key());
        event.summary = Some(format!(
            "No heartbeat from {}/{} for {}",
            hb.service,
            hb.name,
            human_duration(now.duration_since(hb.last_ping_at).as_secs())
        ));
        event.source = Some("klaxon heartbeat".into());
        event.client = Some("Klaxon heartbeat monitor".into());
        alerts::ingest_alert(state, &service, event, None).await?;
        state.store.mark_heartbeat_down(hb.id).await?;
        raised += 1;
    }
    Ok(raised)
}

/// Checks heartbeats every [`CHECK_EVERY`] until `stop` changes.
pub async fn run_checks(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {
                if let Err(e) = check_heartbeats(&state).await {
                    tracing::warn!(error = %e, "heartbeat check failed; will try again");
                }
            }
            _ = stop.changed() => break,
        }
    }
}
