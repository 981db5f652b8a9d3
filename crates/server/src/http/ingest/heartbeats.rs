//! `POST /heartbeat/{key}`: a heartbeat monitor's ping.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use klaxon_domain::service::looks_like_integration_key;
use klaxon_store::StoreError;
use serde_json::json;

use crate::app::heartbeats;
use crate::infra::state::AppState;

/// `POST /heartbeat/{key}`: a ping. The body means nothing, but is read (up to the
/// ingest limit, 413 beyond it) so a ping cannot stream megabytes into the server.
pub async fn ping(
    State(state): State<AppState>,
    Path(key): Path<String>,
    _body: crate::http::ingest::IngestBody,
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
    if let Some(answer) = crate::http::ingest::throttled(&state, &key) {
        return answer;
    }
    match heartbeats::ping(&state, &hb).await {
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
