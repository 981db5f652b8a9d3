//! Heartbeat monitors: a ping marks the monitor up, and resolves the alert of a missed
//! ping. (Missed pings are found by the engine: `engine::heartbeats`.)

use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_domain::service::Heartbeat;
use klaxon_store::StoreError;

use crate::app::alerts;
use crate::infra::state::AppState;

/// A ping: the monitor is up, and the alert of a missed ping resolves.
pub(crate) async fn ping(state: &AppState, hb: &Heartbeat) -> Result<(), StoreError> {
    state.store.ping_heartbeat(hb.id, state.clock.now()).await?;
    if hb.down {
        let service = state.store.service(&hb.service).await?;
        let mut event = AlertEvent::new(AlertAction::Resolve, AlertSeverity::Critical);
        event.dedup_key = Some(hb.alert_key());
        alerts::ingest_alert(state, &service, event, None).await?;
    }
    Ok(())
}
