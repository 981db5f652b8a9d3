//! Alerts: listed and shown with their event logs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use klaxon_domain::alert::{Alert, AlertAction, AlertEvent, AlertStatus};
use klaxon_domain::api::{AlertDetail, AlertLogEntry, AlertPage, AlertQuery, AlertShowQuery};
use klaxon_domain::auth::Scope;
use klaxon_domain::service::ServiceName;
use klaxon_domain::AlertId;
use klaxon_store::AlertFilter;

use crate::app::alerts;
use crate::app::alerts::Person;
use crate::app::auth::Caller;
use crate::http::error::ApiError;
use crate::http::extract::{path_id, ApiPath, ApiQuery};
use crate::infra::state::AppState;

#[utoipa::path(get, path = "/alerts", tag = "alerts", params(AlertQuery),
    responses((status = 200, body = AlertPage, description = "Newest first; `next_before` is the cursor of the next page"), (status = 404, description = "No such service"), (status = 422, description = "`limit` out of range, or `service` not a service name")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<AlertPage>, ApiError> {
    caller.require(Scope::Viewer)?;
    let limit = q.limit()?;
    let service_id = match &q.service {
        Some(name) => {
            let name = ServiceName::parse(name)?;
            Some(state.store.service(&name).await?.id)
        }
        None => None,
    };
    let filter = AlertFilter {
        service_id,
        status: q.status,
        incident: q.incident,
        before: q.before,
        // One more than a page tells whether there is a next one.
        limit: limit + 1,
        viewer: caller.viewer(),
    };
    let mut alerts = state.store.alerts(&filter).await?;
    let next_before = (alerts.len() > limit as usize).then(|| {
        alerts.truncate(limit as usize);
        alerts.last().map(|a| a.id)
    });
    Ok(Json(AlertPage {
        alerts,
        next_before: next_before.flatten(),
    }))
}

#[utoipa::path(get, path = "/alerts/{id}", tag = "alerts", params(("id" = AlertId, Path), AlertShowQuery),
    responses((status = 200, body = AlertDetail), (status = 404), (status = 422, description = "`log` out of range")))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<AlertShowQuery>,
) -> Result<Json<AlertDetail>, ApiError> {
    caller.require(Scope::Viewer)?;
    let id: AlertId = path_id(&id)?;
    let limit = q.log()?;
    let alert = alerts::visible_alert(&state, &caller, id).await?;
    // One more than asked for tells whether older entries are left out.
    let mut entries = state.store.alert_log(id, q.log_before, limit + 1).await?;
    let log_truncated = entries.len() > limit as usize;
    if log_truncated {
        entries.remove(0);
    }
    let next_log_before = log_truncated
        .then(|| entries.first().map(|e| e.id))
        .flatten();
    let log = entries
        .into_iter()
        .map(|entry| AlertLogEntry {
            id: entry.id,
            received_at: entry.received_at,
            action: entry.event.action,
            event: serde_json::to_value(&entry.event).unwrap_or_default(),
        })
        .collect();
    Ok(Json(AlertDetail {
        alert,
        log,
        log_truncated,
        next_log_before,
    }))
}

#[utoipa::path(post, path = "/alerts/{id}/ack", tag = "alerts", params(("id" = AlertId, Path)), security(("bearer" = ["responder"])),
    responses((status = 200, body = Alert), (status = 404), (status = 409)))]
pub async fn ack(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Alert>, ApiError> {
    change(state, caller, id, AlertAction::Acknowledge).await
}

#[utoipa::path(post, path = "/alerts/{id}/resolve", tag = "alerts", params(("id" = AlertId, Path)), security(("bearer" = ["responder"])),
    responses((status = 200, body = Alert), (status = 404), (status = 409)))]
pub async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Alert>, ApiError> {
    change(state, caller, id, AlertAction::Resolve).await
}

/// A person acknowledges or resolves an alert: the same path as the event from the
/// monitoring tool, so the alert's incident follows as it would.
async fn change(
    state: AppState,
    caller: Caller,
    id: String,
    action: AlertAction,
) -> Result<Json<Alert>, ApiError> {
    caller.require(Scope::Responder)?;
    let id: AlertId = path_id(&id)?;
    let alert = alerts::visible_alert(&state, &caller, id).await?;
    let done = match action {
        AlertAction::Resolve => alert.status == AlertStatus::Resolved,
        _ => alert.status != AlertStatus::Triggered,
    };
    if done {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("alert {id} is {}", alert.status),
        ));
    }
    let services = state.store.services().await?;
    let service = services
        .into_iter()
        .find(|s| s.id == alert.service_id)
        .ok_or_else(|| ApiError::not_found(format!("the service of alert {id} is gone")))?;
    let mut event = AlertEvent::new(action, alert.severity);
    event.dedup_key = Some(alert.dedup_key.clone());
    event.note = Some(format!("{action:?} by @{}", caller.user.handle).to_lowercase());
    let by = Person {
        handle: caller.user.handle.clone(),
        source: caller.source,
    };
    alerts::ingest_alert(&state, &service, event, Some(&by)).await?;
    Ok(Json(state.store.alert(id).await?))
}
