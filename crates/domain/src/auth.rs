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

/// Refuses to revoke the last live admin token: nobody could manage users or tokens
/// afterwards. `other_admin_tokens` counts the live admin tokens besides `token`.
pub fn check_revocable(token: &TokenInfo, other_admin_tokens: usize) -> Result<(), DomainError> {
    if token.scope == Scope::Admin && other_admin_tokens == 0 {
        return Err(DomainError::Conflict(format!(
            "token {} ('{}') is the last admin token; create another first \
             (`klaxon token create NAME --scope admin`), then revoke this one",
            token.id, token.name
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_admin_token_cannot_be_revoked() {
        let token = |scope| TokenInfo {
            id: 1,
            name: "laptop".into(),
            scope,
            user: crate::Handle::parse("admin").unwrap(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            revoked_at: None,
        };
        let err = check_revocable(&token(Scope::Admin), 0).unwrap_err();
        assert!(
            err.to_string()
                .contains("is the last admin token; create another first"),
            "{err}"
        );
        assert!(check_revocable(&token(Scope::Admin), 1).is_ok());
        assert!(check_revocable(&token(Scope::Responder), 0).is_ok());
    }

    #[test]
    fn scopes_include_lower_scopes() {
        assert!(Scope::Admin.allows(Scope::Responder));
        assert!(Scope::Responder.allows(Scope::Viewer));
        assert!(!Scope::Viewer.allows(Scope::Responder));
        assert!(!Scope::Responder.allows(Scope::Admin));
    }
}

/// A person who can hold roles and own tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub handle: crate::Handle,
    pub name: String,
    pub email: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

/// An API token as listed: never the secret itself, which is shown once at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    /// The handle of the user the token acts as.
    pub user: crate::Handle,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<jiff::Timestamp>,
}
