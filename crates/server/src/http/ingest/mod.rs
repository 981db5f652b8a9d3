//! Alerts in: the PagerDuty-compatible endpoints, the monitoring tools' webhooks and
//! heartbeat pings, each authenticated by a service's integration key. What they share:
//! the body limit and the per-key rate limit, both answered in PagerDuty's shape.

pub(crate) mod heartbeats;
pub(crate) mod pagerduty;
pub(crate) mod webhooks;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::infra::state::AppState;

/// The largest body an ingest endpoint reads, as PagerDuty's Events API allows.
pub const INGEST_BODY_LIMIT: usize = 512 * 1024;

/// An ingest request body; over [`INGEST_BODY_LIMIT`] answers 413 in PagerDuty's shape.
pub struct IngestBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for IngestBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        Bytes::from_request(req, state)
            .await
            .map(IngestBody)
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    let message = format!(
                        "the request body is larger than {} KB",
                        INGEST_BODY_LIMIT / 1024
                    );
                    invalid(StatusCode::PAYLOAD_TOO_LARGE, vec![message])
                } else {
                    invalid(
                        StatusCode::BAD_REQUEST,
                        vec![format!("cannot read the request body: {e}")],
                    )
                }
            })
    }
}

/// PagerDuty's answer to an event it refuses.
pub(crate) fn invalid(status: StatusCode, errors: Vec<String>) -> Response {
    let body =
        json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors});
    (status, Json(body)).into_response()
}

/// 429 with `Retry-After` (whole seconds, at least 1) when `key` is over its rate.
pub fn throttled(state: &AppState, key: &str) -> Option<Response> {
    let limits = state.rate_limit.as_ref()?;
    limits.check(key).err().map(|wait| {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let body = json!({
            "status": "throttle event",
            "message": "Requests for this integration key are arriving too quickly. Please retry later."
        });
        let retry = [(axum::http::header::RETRY_AFTER, seconds.max(1).to_string())];
        (StatusCode::TOO_MANY_REQUESTS, retry, Json(body)).into_response()
    })
}
