//! The ceiling for the ingest benchmark (`bench/ingest.sh`): an axum handler that
//! parses a PagerDuty event exactly as Klaxon does and answers 202 without storing
//! anything. Klaxon can only approach this; the gap is the cost of durability and of
//! everything else. For the status page's benchmark (`bench/status-page.sh`), every
//! `GET` answers a fixed body from memory: the most a page served from memory can reach.
//!   ingest-ceiling 127.0.0.1:18091
#![forbid(unsafe_code)]

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use klaxon_ingest::Parsed;
use serde_json::json;

async fn enqueue(headers: HeaderMap, body: Bytes) -> Response {
    match klaxon_ingest::pagerduty::parse_event(&body, &headers) {
        Ok(Parsed::Alerts { events, .. }) => {
            let key = events.last().and_then(|e| e.dedup_key.clone());
            let answer =
                json!({"status": "success", "message": "Event processed", "dedup_key": key});
            (StatusCode::ACCEPTED, Json(answer)).into_response()
        }
        _ => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// A fixed body, as a page served from memory answers.
async fn fixed() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        Bytes::from_static(
            br#"{"status":{"indicator":"none","description":"All Systems Operational"}}"#,
        ),
    )
        .into_response()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18091".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = Router::new()
        .route("/v2/enqueue", post(enqueue))
        .fallback(get(fixed));
    axum::serve(listener, app).await
}
