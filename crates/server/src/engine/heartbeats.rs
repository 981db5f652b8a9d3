//! Heartbeat monitors: a missed ping raises an alert through the same path as any other
//! alert; the next ping resolves it. The deadlines live in the database, so a restart
//! (or another replica) picks up where this one stopped.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use klaxon_domain::alert::{AlertAction, AlertEvent, AlertSeverity};
use klaxon_domain::service::{looks_like_integration_key, Heartbeat};
use klaxon_domain::time::human_duration;
use klaxon_store::StoreError;
use serde_json::json;

use crate::infra::state::AppState;

/// How often overdue monitors are looked for.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

impl AppState {
    /// Raises an alert for every monitor whose ping is overdue and marks it down.
    pub async fn check_heartbeats(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut raised = 0;
        for hb in self.store.heartbeats().await? {
            if hb.down || now <= hb.due_at() {
                continue;
            }
            let service = self.store.service(&hb.service).await?;
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
            self.ingest_alert(&service, event, None).await?;
            self.store.mark_heartbeat_down(hb.id).await?;
            raised += 1;
        }
        Ok(raised)
    }

    /// A ping: the monitor is up, and the alert of a missed ping resolves.
    async fn ping(&self, hb: &Heartbeat) -> Result<(), StoreError> {
        self.store.ping_heartbeat(hb.id, self.clock.now()).await?;
        if hb.down {
            let service = self.store.service(&hb.service).await?;
            let mut event = AlertEvent::new(AlertAction::Resolve, AlertSeverity::Critical);
            event.dedup_key = Some(hb.alert_key());
            self.ingest_alert(&service, event, None).await?;
        }
        Ok(())
    }
}

/// Checks heartbeats every [`CHECK_EVERY`] until `stop` changes.
pub async fn run_checks(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {
                if let Err(e) = state.check_heartbeats().await {
                    tracing::warn!(error = %e, "heartbeat check failed; will try again");
                }
            }
            _ = stop.changed() => break,
        }
    }
}

/// `POST /heartbeat/{key}`: a ping. The body means nothing, but is read (up to the
/// ingest limit, 413 beyond it) so a ping cannot stream megabytes into the server.
pub async fn ping(
    State(state): State<AppState>,
    Path(key): Path<String>,
    _body: crate::http::ingest::pagerduty::IngestBody,
) -> Response {
    let unknown = || {
        let body = json!({"status": "invalid", "errors": [format!("'{key}' is not the key of any heartbeat monitor")]});
        (StatusCode::NOT_FOUND, Json(body)).into_response()
    };
    if !looks_like_integration_key(&key) {
        return unknown();
    }
    let hb = match state.store.heartbeat_by_key(&key).await {
        Ok(Some(hb)) => hb,
        Ok(None) => return unknown(),
        Err(e) => return unavailable(e),
    };
    if let Some(answer) = crate::http::ingest::pagerduty::throttled(&state, &key) {
        return answer;
    }
    match state.ping(&hb).await {
        Ok(()) => (StatusCode::ACCEPTED, Json(json!({"status": "success"}))).into_response(),
        Err(e) => unavailable(e),
    }
}

fn unavailable(e: StoreError) -> Response {
    tracing::error!(error = %e, "heartbeat ping failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "error", "errors": ["retry"]})),
    )
        .into_response()
}
