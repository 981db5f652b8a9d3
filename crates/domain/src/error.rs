//! What a broken rule looks like. Each variant says which rule, so the HTTP layer can pick
//! the status code and the reader learns what to change.

/// A command was refused by a domain rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input is well-formed but breaks a rule about its own content (HTTP 422).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The command does not fit the incident's current state (HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// The input is larger than the rule allows (HTTP 413).
    #[error("{0}")]
    TooLarge(String),
}

impl DomainError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }
}
