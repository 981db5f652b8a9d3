//! Who may do what. A token carries one scope; scopes are ordered, each including the
//! rights of the ones below it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// The rights of an API token.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Reads incidents and the policy.
    Viewer,
    /// Also declares and works incidents.
    Responder,
    /// Also manages users and tokens, and sees every restricted incident.
    Admin,
}

impl Scope {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "viewer" => Ok(Self::Viewer),
            "responder" => Ok(Self::Responder),
            "admin" => Ok(Self::Admin),
            other => Err(DomainError::invalid(
                "scope",
                format!("'{other}' is not a scope; use admin, responder or viewer"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Responder => "responder",
            Self::Admin => "admin",
        }
    }

    /// Whether this scope includes the rights of `needed`.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_include_lower_scopes() {
        assert!(Scope::Admin.allows(Scope::Responder));
        assert!(Scope::Responder.allows(Scope::Viewer));
        assert!(!Scope::Viewer.allows(Scope::Responder));
        assert!(!Scope::Responder.allows(Scope::Admin));
    }
}
