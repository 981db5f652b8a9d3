use std::time::Duration;

/// Why a delivery failed, split by what the caller should do next.
///
/// The engine retries [`DeliveryError::Transient`] with backoff (no sooner than
/// `retry_after` when the service said so) and dead-letters
/// [`DeliveryError::Permanent`]. Messages never contain credentials or webhook URLs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The service may accept the same request later: 5xx, 429, 408, timeouts, refused
    /// or dropped connections, SMTP 4xx replies.
    #[error("{message} (transient; retry later)")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Repeating the same request will fail the same way: other 4xx, invalid
    /// credentials, unknown channels or numbers, SMTP 5xx replies, a destination this
    /// channel cannot reach.
    #[error("{message} (permanent; will not succeed on retry)")]
    Permanent { message: String },
}

impl DeliveryError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent {
            message: message.into(),
        }
    }

    /// Whether retrying the same delivery later can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    /// The earliest moment the service asked us to try again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Transient { retry_after, .. } => *retry_after,
            Self::Permanent { .. } => None,
        }
    }

    /// The human-readable cause, without the transient/permanent suffix.
    pub fn message(&self) -> &str {
        match self {
            Self::Transient { message, .. } | Self::Permanent { message } => message,
        }
    }
}
