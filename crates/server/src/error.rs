//! One error type for every handler, answered as `application/problem+json`. A 5xx is
//! logged with its cause and shown to the client only as "internal error".

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use klaxon_domain::api::{FieldError, Problem};
use klaxon_domain::paging::verify::VerifyError;
use klaxon_domain::DomainError;
use klaxon_store::StoreError;

/// An error answer: its status, a message for people, and field errors if any.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn field(status: StatusCode, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError {
                field: field.to_owned(),
                message,
            }],
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message } => {
                ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, field, message)
            }
            DomainError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            DomainError::TooLarge(m) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, m),
        }
    }
}

impl From<VerifyError> for ApiError {
    fn from(e: VerifyError) -> Self {
        let status = match &e {
            VerifyError::WrongCode { .. } => {
                return ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "code", e.to_string())
            }
            VerifyError::TooSoon { .. } => StatusCode::TOO_MANY_REQUESTS,
            VerifyError::NotAPhone { .. }
            | VerifyError::AlreadyVerified { .. }
            | VerifyError::TakenByAnother { .. }
            | VerifyError::NoCode { .. }
            | VerifyError::Expired { .. }
            | VerifyError::TooManyTries { .. } => StatusCode::CONFLICT,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => ApiError::not_found(m),
            StoreError::Duplicate { message, .. }
            | StoreError::Stale(message)
            | StoreError::AlreadyApplied(message)
            | StoreError::Refused(message) => ApiError::new(StatusCode::CONFLICT, message),
            StoreError::Other(m) => {
                tracing::error!(error = %m, "store failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the cause",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let problem = Problem {
            kind: "about:blank".to_owned(),
            title,
            status: self.status.as_u16(),
            detail: self.detail,
            errors: self.errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
