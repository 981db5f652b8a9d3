//! Why a command was refused or failed, in the application's own words: a kind, a
//! message for people and the fields at fault. The edges decide how to say it — the HTTP
//! API answers `application/problem+json` with a status chosen from the kind
//! (`http::error`), a web form shows the message next to its field.

use klaxon_domain::api::FieldError;
use klaxon_domain::paging::verify::VerifyError;
use klaxon_domain::DomainError;
use klaxon_store::StoreError;

/// What kind of refusal or failure an [`AppError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input was read but breaks a rule; `errors` names the fields.
    Invalid,
    /// The caller did not show who they are, or showed it wrongly (a wrong password).
    Unauthenticated,
    /// The caller may not do this.
    Forbidden,
    /// What the command names does not exist.
    NotFound,
    /// The command cannot apply to the thing as it is now (a duplicate, a wrong state,
    /// a lost race that kept losing).
    Conflict,
    /// The input is larger than allowed.
    TooLarge,
    /// The caller asked too often; try later.
    TooMany,
    /// Something the command needs (the database, a phone provider) did not answer.
    Unavailable,
    /// A fault of Klaxon's own; the log has the cause.
    Internal,
}

/// A refusal or failure: its kind, a message for people, and field errors if any.
#[derive(Debug)]
pub struct AppError {
    pub kind: ErrorKind,
    pub detail: String,
    pub errors: Vec<FieldError>,
}

impl AppError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A refusal naming the field at fault.
    pub fn field(kind: ErrorKind, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            kind,
            detail: format!("{field}: {message}"),
            errors: vec![FieldError {
                field: field.to_owned(),
                message,
            }],
        }
    }

    /// A field that breaks a rule.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::field(ErrorKind::Invalid, field, message)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, detail)
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthenticated, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, detail)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, message } => AppError::invalid(field, message),
            DomainError::Conflict(m) => AppError::conflict(m),
            DomainError::TooLarge(m) => AppError::new(ErrorKind::TooLarge, m),
        }
    }
}

impl From<VerifyError> for AppError {
    fn from(e: VerifyError) -> Self {
        let kind = match &e {
            VerifyError::WrongCode { .. } => return AppError::invalid("code", e.to_string()),
            VerifyError::TooSoon { .. } => ErrorKind::TooMany,
            VerifyError::NotAPhone { .. }
            | VerifyError::AlreadyVerified { .. }
            | VerifyError::TakenByAnother { .. }
            | VerifyError::NoCode { .. }
            | VerifyError::Expired { .. }
            | VerifyError::TooManyTries { .. } => ErrorKind::Conflict,
        };
        AppError::new(kind, e.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => AppError::not_found(m),
            StoreError::Duplicate { field, message } => AppError {
                kind: ErrorKind::Conflict,
                errors: vec![FieldError {
                    field: field.to_owned(),
                    message: message.clone(),
                }],
                detail: message,
            },
            StoreError::Stale(message)
            | StoreError::AlreadyApplied(message)
            | StoreError::Refused(message) => AppError::conflict(message),
            StoreError::Other(m) => {
                tracing::error!(error = %m, "store failed");
                AppError::new(
                    ErrorKind::Internal,
                    "internal error; the server log has the cause",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_names_its_field() {
        let e = AppError::from(StoreError::Duplicate {
            field: "name",
            message: "there is already a service 'api'".into(),
        });
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].field, "name");
        assert_eq!(e.detail, "there is already a service 'api'");
    }

    #[test]
    fn a_store_fault_does_not_show_its_cause() {
        let e = AppError::from(StoreError::Other("connection reset by peer".into()));
        assert_eq!(e.kind, ErrorKind::Internal);
        assert!(!e.detail.contains("reset"));
    }
}
