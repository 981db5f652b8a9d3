//! The one error every parser returns.

use std::fmt;

/// Why a body was refused: one message per problem, each naming the field it is about
/// (PagerDuty's 400 answer lists them as `errors`). Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestError {
    pub errors: Vec<String>,
}

impl IngestError {
    /// An error with a single message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            errors: vec![message.into()],
        }
    }

    /// `Ok(())` when `errors` is empty, else the error holding them.
    pub(crate) fn check(errors: Vec<String>) -> Result<(), Self> {
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Self { errors })
        }
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.errors.join("; "))
    }
}

impl std::error::Error for IngestError {}
