//! Health, readiness, metrics and the policy in force.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use klaxon_domain::auth::Scope;
use klaxon_domain::policy::Policy;

use crate::app::auth::Caller;
use crate::http::error::ApiError;
use crate::infra::state::AppState;

/// Alive: the process answers.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers too.
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "database not reachable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is not reachable",
        )
    })?;
    Ok("ready\n")
}

/// Prometheus metrics; behind `Authorization: Bearer <--metrics-token>` when one is set.
pub async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(expected) = &state.metrics_token_hash {
        let given = crate::http::auth::bearer(&headers).map(crate::app::auth::hash_token);
        if given.as_ref() != Some(expected) {
            return Err(ApiError::unauthorized(
                "/metrics needs the metrics token: send `Authorization: Bearer <token>` (the server's --metrics-token)",
            ));
        }
    }
    let text = state
        .metrics
        .render(state.store.as_ref(), &state.policy, state.clock.now())
        .await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    ))
}

/// The policy in force.
#[utoipa::path(get, path = "/policy", tag = "policy", responses((status = 200, description = "The policy in force", body = Object)))]
pub async fn policy(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Policy>, ApiError> {
    caller.require(Scope::Viewer)?;
    Ok(Json(state.policy.as_ref().clone()))
}
