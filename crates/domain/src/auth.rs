//! Who may do what. A user has a role and a token a scope, both a [`Scope`]; scopes are
//! ordered, each including the rights of the ones below it. A token acts with the lower
//! of its own scope and its user's role, so lowering a role lowers every token at once.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// The rights of a user (their role) or of an API token (its scope).
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

    /// What a token of this scope may do for a user of this `role`: the lower of the two.
    pub fn effective(self, role: Scope) -> Scope {
        self.min(role)
    }

    /// "a viewer", "a responder", "an admin".
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Viewer => "a viewer",
            Self::Responder => "a responder",
            Self::Admin => "an admin",
        }
    }
}

/// Refuses a token scope above its user's role: such a token could never use the rest.
pub fn check_token_scope(user: &User, scope: Scope) -> Result<(), DomainError> {
    if user.role.allows(scope) {
        return Ok(());
    }
    Err(DomainError::invalid(
        "scope",
        format!(
            "{h} is {role}, so a token of {h} can have scope {role} or lower, not {scope}; \
             an admin can raise the role first: `klaxon user update {h} --role {scope}`",
            h = user.handle,
            role = user.role.with_article(),
        ),
    ))
}

/// Refuses a role change that would leave nobody able to manage users: lowering an
/// admin's role when no other admin holds a live admin token. `other_admins` counts the
/// other users who are admins and hold one.
pub fn check_role_change(user: &User, to: Scope, other_admins: usize) -> Result<(), DomainError> {
    if user.role == Scope::Admin && to != Scope::Admin && other_admins == 0 {
        return Err(DomainError::conflict(format!(
            "{} is the only admin with a live admin token; make another user admin and give \
             them an admin token before lowering this role",
            user.handle
        )));
    }
    Ok(())
}

/// Refuses acknowledging or resolving for someone whose role does not allow it, with
/// words for that person (an SMS reply, a spoken answer, a page).
pub fn check_may_act(role: Scope) -> Result<(), String> {
    if role.allows(Scope::Responder) {
        Ok(())
    } else {
        Err(
            "You are a viewer in Klaxon; viewers cannot acknowledge or resolve incidents. \
             Nothing was changed. Ask an admin to make you a responder."
                .to_owned(),
        )
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
            id: crate::TokenId(1),
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

    fn user(role: Scope) -> User {
        User {
            id: 1,
            handle: crate::Handle::parse("alice").unwrap(),
            name: "Alice".into(),
            email: "alice@example.com".into(),
            role,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_token_acts_with_the_lower_of_its_scope_and_its_users_role() {
        assert_eq!(Scope::Admin.effective(Scope::Responder), Scope::Responder);
        assert_eq!(Scope::Viewer.effective(Scope::Admin), Scope::Viewer);
        assert_eq!(Scope::Responder.effective(Scope::Viewer), Scope::Viewer);
        assert_eq!(Scope::Admin.effective(Scope::Admin), Scope::Admin);
    }

    #[test]
    fn a_token_scope_cannot_exceed_the_role() {
        assert!(check_token_scope(&user(Scope::Responder), Scope::Responder).is_ok());
        assert!(check_token_scope(&user(Scope::Responder), Scope::Viewer).is_ok());
        match check_token_scope(&user(Scope::Responder), Scope::Admin) {
            Err(DomainError::Invalid { field, message }) => {
                assert_eq!(field, "scope");
                assert!(
                    message.contains("alice is a responder")
                        && message.contains("klaxon user update alice --role admin"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(check_token_scope(&user(Scope::Viewer), Scope::Responder).is_err());
    }

    #[test]
    fn the_last_admin_with_a_token_keeps_the_role() {
        let admin = user(Scope::Admin);
        assert!(matches!(
            check_role_change(&admin, Scope::Responder, 0),
            Err(DomainError::Conflict(_))
        ));
        assert!(check_role_change(&admin, Scope::Responder, 1).is_ok());
        assert!(check_role_change(&admin, Scope::Admin, 0).is_ok());
        assert!(check_role_change(&user(Scope::Viewer), Scope::Admin, 0).is_ok());
    }

    #[test]
    fn viewers_cannot_act() {
        assert!(check_may_act(Scope::Responder).is_ok());
        assert!(check_may_act(Scope::Admin).is_ok());
        let refused = check_may_act(Scope::Viewer).unwrap_err();
        assert!(
            refused.contains("viewers cannot acknowledge or resolve"),
            "{refused}"
        );
    }
}

/// A person who can hold roles and own tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub handle: crate::Handle,
    pub name: String,
    pub email: String,
    /// What the user may do; each of their tokens acts with at most this.
    pub role: Scope,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
}

/// An API token as listed: never the secret itself, which is shown once at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: crate::TokenId,
    pub name: String,
    pub scope: Scope,
    /// The handle of the user the token acts as.
    pub user: crate::Handle,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<jiff::Timestamp>,
}
