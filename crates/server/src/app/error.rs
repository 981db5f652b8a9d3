//! Why a command was refused or failed, as the application layer says it to the edges:
//! a status, a message for people and field errors, converted from the domain's and the
//! store's errors. The HTTP edge answers it as `application/problem+json`
//! (`http::error`); a 5xx is logged with its cause and shown only as "internal error".

use axum::http::StatusCode;
use klaxon_domain::api::FieldError;
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
