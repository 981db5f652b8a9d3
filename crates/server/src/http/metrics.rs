//! Counting and timing every request by its route pattern (the metrics themselves are
//! `infra::metrics`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::infra::state::AppState;

/// Middleware: counts and times every request by its route pattern.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    state
        .metrics
        .observe(&method, &route, status, started.elapsed().as_secs_f64());
    if response.status().is_server_error() {
        tracing::warn!(%method, %route, status, "request failed");
    } else {
        tracing::debug!(%method, %route, status, "request");
    }
    response
}
