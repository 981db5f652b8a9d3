//! `/ingest/{format}/{key}`: monitoring tools' webhooks, one format per path, the
//! service's integration key in the URL. Signed formats are checked on the raw bytes
//! with the key's signing secret. Answers: 202 once committed to the alert inbox; 400 naming what is wrong
//! with the body (tools do not retry 4xx); 401 for a bad signature; 404 for an unknown
//! key; 503 only when a retry can help.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use klaxon_domain::service::{looks_like_integration_key, AlertmanagerDedup, Service};
use klaxon_domain::Secret;
use klaxon_ingest::{
    alertmanager, cloudwatch, datadog, generic, grafana, sentry, IngestError, Parsed,
};
use serde_json::json;

use crate::app::inbox;
use crate::app::services;
use crate::http::ingest::IngestBody;
use crate::infra::state::AppState;

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

fn refused(status: StatusCode, errors: Vec<String>) -> Response {
    answer(status, json!({"status": "invalid", "errors": errors}))
}

/// `POST /ingest/{format}/{key}`.
pub async fn ingest(
    State(state): State<AppState>,
    Path((format, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    IngestBody(body): IngestBody,
) -> Response {
    let unknown_key = || {
        refused(
            StatusCode::NOT_FOUND,
            vec![format!("'{key}' is not an integration key of any service")],
        )
    };
    if !looks_like_integration_key(&key) {
        return unknown_key();
    }
    let service = match services::service_by_key(&state, &key).await {
        Ok(Some(service)) => service,
        Ok(None) => return unknown_key(),
        Err(e) => return unavailable(e),
    };
    if let Some(answer) = crate::http::ingest::throttled(&state, &key) {
        return answer;
    }
    let secret = signing_secret(&service, &key);
    let dedup = match service.rules.alertmanager_dedup {
        AlertmanagerDedup::PerAlert => alertmanager::Grouping::PerAlert,
        AlertmanagerDedup::PerGroup => alertmanager::Grouping::PerGroup,
    };
    let parsed = match format.as_str() {
        "alertmanager" => alertmanager::parse(&body, &headers, dedup),
        "grafana" => {
            let signed = grafana::SIGNATURE_HEADERS.iter().any(|h| headers.contains_key(*h));
            if signed {
                if let Err(e) = grafana::verify_grafana_signature(secret.expose().as_bytes(), &body, &headers) {
                    return refused(StatusCode::UNAUTHORIZED, vec![e.to_string()]);
                }
            }
            grafana::parse(&body, &headers, dedup)
        }
        "sentry" => {
            if let Err(e) = sentry::verify_sentry_signature(secret.expose().as_bytes(), &body, &headers) {
                return refused(StatusCode::UNAUTHORIZED, vec![e.to_string()]);
            }
            sentry::parse(&body, &headers)
        }
        "datadog" => datadog::parse(&body, &headers),
        "cloudwatch" => cloudwatch::parse(&body, &headers),
        "generic" => generic::parse(&body, &headers, query.as_deref()),
        other => {
            return refused(
                StatusCode::NOT_FOUND,
                vec![format!("'{other}' is not a format; use alertmanager, grafana, sentry, datadog, cloudwatch or generic")],
            )
        }
    };
    let events = match parsed {
        Ok(Parsed::Alerts { events, .. }) => events,
        Ok(Parsed::Ignored { reason }) => {
            return answer(
                StatusCode::OK,
                json!({"status": "ignored", "reason": reason}),
            )
        }
        Ok(Parsed::SnsSubscription { subscribe_url }) => {
            // The parser has checked the URL is SNS's own, so this is no SSRF.
            return match state.channels.sns.confirm(&subscribe_url).await {
                Ok(()) => {
                    tracing::info!(service = %service.name, "SNS subscription confirmed");
                    answer(StatusCode::OK, json!({"status": "confirmed"}))
                }
                Err(e) => {
                    tracing::warn!(service = %service.name, error = e.message(), "SNS subscription not confirmed");
                    let message = format!(
                        "could not confirm the SNS subscription ({}); ask SNS to send the confirmation again, or open {subscribe_url} yourself",
                        e.message()
                    );
                    answer(
                        StatusCode::BAD_GATEWAY,
                        json!({"status": "error", "errors": [message]}),
                    )
                }
            };
        }
        Ok(Parsed::Change { .. }) => {
            return refused(
                StatusCode::BAD_REQUEST,
                vec!["send change events to /v2/change/enqueue".into()],
            )
        }
        Err(IngestError { errors }) => return refused(StatusCode::BAD_REQUEST, errors),
    };
    let alerts: Vec<_> = match inbox::accept_alerts(&state, &service, events).await {
        Ok(keys) => keys.into_iter().map(|k| json!({"dedup_key": k})).collect(),
        Err(e) => return unavailable(e),
    };
    answer(
        StatusCode::ACCEPTED,
        json!({"status": "success", "alerts": alerts}),
    )
}

/// The signing secret of the key the request came with.
fn signing_secret(service: &Service, key: &str) -> Secret {
    service
        .integration_keys
        .iter()
        .flatten()
        .find(|k| k.key == key)
        .map(|k| k.signing_secret.clone())
        .unwrap_or_else(|| Secret::new(""))
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "webhook ingest failed");
    answer(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"status": "error", "errors": ["Klaxon could not store the event; retry"]}),
    )
}
