//! Extractors whose rejections are problems a person can act on: the JSON body (an
//! empty body counts as `{}`), the incident number in the path and the query string.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use klaxon_domain::IncidentNumber;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body. Unknown fields, wrong types and missing fields answer 422 naming
/// the field; malformed JSON 400; a non-JSON content type 415; an oversized body 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req.headers().get(header::CONTENT_TYPE).cloned();
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the request body is larger than {} KiB",
                        crate::api::BODY_LIMIT / 1024
                    ),
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("cannot read the request body: {e}"),
                )
            }
        })?;
        let body: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        if !bytes.is_empty() {
            let is_json = content_type
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or("").trim())
                .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
            if !is_json {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "send the body as JSON with `Content-Type: application/json`",
                ));
            }
        }
        serde_json::from_slice(body)
            .map(ApiJson)
            .map_err(|e| json_error(&e))
    }
}

fn json_error(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            let message = e.to_string();
            // serde's messages end with " at line L column C"; the field name is inside.
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            let field = field_named_in(&message);
            ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, &field, message)
        }
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        ),
    }
}

/// The field a serde message is about: "unknown field `x`", "missing field `x`".
fn field_named_in(message: &str) -> String {
    let mut parts = message.split('`');
    match (parts.next(), parts.next()) {
        (Some(before), Some(name)) if before.ends_with("field ") => name.to_owned(),
        _ => "body".to_owned(),
    }
}

/// The `{number}` of an incident route: `42` (or `%2342`).
pub struct NumberPath(pub IncidentNumber);

impl<S: Send + Sync> FromRequestParts<S> for NumberPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))?;
        IncidentNumber::parse(&raw)
            .map(NumberPath)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
    }
}

/// A query string; unknown or malformed parameters answer 400 naming them.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        parse_query(query).map(ApiQuery)
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the query string is malformed"))?,
    )
    .map(|q| q.0)
    .map_err(|e| {
        let text = e.body_text();
        let text = text.trim_start_matches("Failed to deserialize query string: ");
        ApiError::new(StatusCode::BAD_REQUEST, format!("query: {text}"))
    })
}
