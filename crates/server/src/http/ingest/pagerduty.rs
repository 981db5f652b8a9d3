//! The compatibility endpoints, answering exactly as the tools they stand in for:
//! PagerDuty's Events API v2 (`/v2/enqueue`, `/v2/change/enqueue`) and v1
//! (`/generic/2010-04-15/create_event.json`). Parsing is `klaxon-ingest`'s
//! job; this module finds the service by its integration key, stores, and answers.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use klaxon_domain::service::{looks_like_integration_key, Service};
use klaxon_ingest::{IngestError, Parsed};
use serde_json::json;

use crate::app::inbox;
use crate::app::services;
use crate::http::ingest::{invalid, throttled, IngestBody};
use crate::infra::state::AppState;

/// A server fault, in PagerDuty's shape: the sender should retry.
fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "ingest failed");
    let body = json!({"status": "error", "message": "Klaxon could not store the event; retry"});
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// The service a body's routing key names, or PagerDuty's 400 naming the key.
async fn service_for(
    state: &AppState,
    key: Option<&str>,
    field: &str,
) -> Result<std::sync::Arc<Service>, Response> {
    let Some(key) = key else {
        return Err(invalid(
            StatusCode::BAD_REQUEST,
            vec![format!("{field} is required")],
        ));
    };
    let unknown = || {
        invalid(
            StatusCode::BAD_REQUEST,
            vec![format!(
                "{field} '{key}' is not an integration key of any service"
            )],
        )
    };
    if !looks_like_integration_key(key) {
        return Err(unknown());
    }
    match services::service_by_key(state, key).await {
        Ok(Some(service)) => match throttled(state, key) {
            Some(answer) => Err(answer),
            None => Ok(service),
        },
        Ok(None) => Err(unknown()),
        Err(e) => Err(unavailable(e)),
    }
}

/// `POST /v2/change/enqueue`: a change (deploy, config change) for a service. Answered
/// 202 only once stored.
pub async fn change_enqueue(
    State(state): State<AppState>,
    headers: HeaderMap,
    IngestBody(body): IngestBody,
) -> Response {
    let (key, event) = match klaxon_ingest::pagerduty::parse_change(&body, &headers) {
        Ok(Parsed::Change { key, event }) => (key, event),
        Ok(_) => {
            return invalid(
                StatusCode::BAD_REQUEST,
                vec!["not a change event".to_owned()],
            )
        }
        Err(IngestError { errors }) => return invalid(StatusCode::BAD_REQUEST, errors),
    };
    let service = match service_for(&state, key.as_deref(), "routing_key").await {
        Ok(service) => service,
        Err(answer) => return answer,
    };
    match state
        .store
        .record_change(service.id, &event, state.clock.now())
        .await
    {
        Ok(_) => {
            let body = json!({"status": "success", "message": "Change event processed"});
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        Err(e) => unavailable(e),
    }
}

/// `POST /v2/enqueue`: trigger, acknowledge or resolve an alert. Answered 202 with the
/// dedup key once the event is committed to the inbox, as PagerDuty answers once it has
/// queued the event; applying it follows within milliseconds.
pub async fn enqueue(
    State(state): State<AppState>,
    headers: HeaderMap,
    IngestBody(body): IngestBody,
) -> Response {
    let parsed = klaxon_ingest::pagerduty::parse_event(&body, &headers);
    match events(&state, parsed, "routing_key").await {
        Ok(dedup_key) => {
            let body =
                json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key});
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        Err(answer) => answer,
    }
}

/// `POST /generic/2010-04-15/create_event.json`: the Events API v1, which Alertmanager
/// still sends when configured with `service_key`. Success is 200 with `incident_key`.
pub async fn create_event_v1(
    State(state): State<AppState>,
    headers: HeaderMap,
    IngestBody(body): IngestBody,
) -> Response {
    let parsed = klaxon_ingest::pagerduty::parse_v1(&body, &headers);
    match events(&state, parsed, "service_key").await {
        Ok(incident_key) => {
            let body = json!({"status": "success", "message": "Event processed", "incident_key": incident_key});
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(answer) => answer,
    }
}

/// Accepts the alert events of a PagerDuty body whose key is in `key_field`; the dedup
/// key of the last, or PagerDuty's error answer.
async fn events(
    state: &AppState,
    parsed: Result<Parsed, IngestError>,
    key_field: &str,
) -> Result<Option<String>, Response> {
    let (key, events) = match parsed {
        Ok(Parsed::Alerts { key, events }) => (key, events),
        Ok(_) => {
            return Err(invalid(
                StatusCode::BAD_REQUEST,
                vec!["not an alert event".to_owned()],
            ))
        }
        Err(IngestError { errors }) => return Err(invalid(StatusCode::BAD_REQUEST, errors)),
    };
    let service = service_for(state, key.as_deref(), key_field).await?;
    match inbox::accept_alerts(state, &service, events).await {
        Ok(keys) => Ok(keys.into_iter().last()),
        Err(e) => Err(unavailable(e)),
    }
}
