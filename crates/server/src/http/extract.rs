//! Extractors whose rejections are problems a person can act on: the JSON body (an
//! empty body counts as `{}`), the path's parameters and the query string.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use std::str::FromStr;

use axum::http::{header, StatusCode};
use klaxon_domain::service::ServiceName;
use klaxon_domain::{DomainError, IncidentNumber};
use serde::de::DeserializeOwned;

use crate::http::error::ApiError;

/// The largest request body the API reads.
pub const BODY_LIMIT: usize = 256 * 1024;

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
                    format!("the request body is larger than {} KiB", BODY_LIMIT / 1024),
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
        let mut json = serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(&mut json)
            .map(ApiJson)
            .map_err(|e| json_error(&e.path().to_string(), e.inner()))
    }
}

/// A body that does not fit its type: 422 naming the field (by its path, e.g.
/// `rules.grouping.minutes`), or 400 when it is not JSON at all.
fn json_error(path: &str, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    if e.classify() != Category::Data {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        );
    }
    let message = e.to_string();
    // serde's messages end with " at line L column C", which means nothing to a person.
    let message = message.split(" at line ").next().unwrap_or(&message);
    // The path ends at an unknown field, but stops at the parent of a missing one.
    let field = match (field_named_in(message), path) {
        (Some(child), "." | "") => child,
        (Some(child), path) if path.rsplit('.').next() == Some(child.as_str()) => path.to_owned(),
        (Some(child), parent) => format!("{parent}.{child}"),
        (None, "." | "") => "body".to_owned(),
        (None, path) => path.to_owned(),
    };
    // Our own value types already say which field they are about.
    let last = field.rsplit('.').next().unwrap_or(&field);
    let message = message
        .strip_prefix(&format!("{last}: "))
        .unwrap_or(message);
    ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, &field, message)
}

/// The field a serde message names: "unknown field `x`", "missing field `x`".
fn field_named_in(message: &str) -> Option<String> {
    let mut parts = message.split('`');
    match (parts.next(), parts.next()) {
        (Some(before), Some(name)) if before.ends_with("field ") => Some(name.to_owned()),
        _ => None,
    }
}

/// A route's path parameters; one that is not UTF-8 once percent-decoded answers 400.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| ApiPath(t))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.body_text()))
    }
}

/// The `{number}` of an incident route: `42` (or `%2342`).
pub struct NumberPath(pub IncidentNumber);

impl<S: Send + Sync> FromRequestParts<S> for NumberPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ApiPath(raw) = ApiPath::<String>::from_request_parts(parts, state).await?;
        IncidentNumber::parse(&raw)
            .map(NumberPath)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
    }
}

/// The `{name}` of a service route.
pub struct ServicePath(pub ServiceName);

impl<S: Send + Sync> FromRequestParts<S> for ServicePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ApiPath(raw) = ApiPath::<String>::from_request_parts(parts, state).await?;
        ServiceName::parse(&raw)
            .map(ServicePath)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))
    }
}

/// An id in the path (`/alerts/{id}`), read by its type's parse: one that is not an id
/// is malformed (400), in the parse's own words ("'x' is not an alert id; see `klaxon
/// alert list`").
pub fn path_id<T: FromStr<Err = DomainError>>(text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|e| match e {
        DomainError::Invalid { message, .. } => ApiError::new(StatusCode::BAD_REQUEST, message),
        other => ApiError::new(StatusCode::BAD_REQUEST, other.to_string()),
    })
}

/// The `{name}` and `{id}` of a route to one thing of a service: an integration key
/// ([`klaxon_domain::KeyId`]), a maintenance window ([`klaxon_domain::MaintenanceId`]).
pub struct ServiceItemPath<T>(pub ServiceName, pub T);

impl<S: Send + Sync, T: FromStr<Err = DomainError>> FromRequestParts<S> for ServiceItemPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ApiPath((name, id)) =
            ApiPath::<(String, String)>::from_request_parts(parts, state).await?;
        let name = ServiceName::parse(&name)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        Ok(ServiceItemPath(name, path_id(&id)?))
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
