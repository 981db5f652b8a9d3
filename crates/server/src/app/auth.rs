//! Who acts, and with what scope. Bearer tokens: generated with 160 random bits, stored
//! as SHA-256 hashes (a token is random, so a fast hash is enough: nothing to
//! brute-force), checked on every `/api/v1` request (`http::auth`). A request acts with the lower of the token's scope and its user's
//! role, read with the token (and cached with it for at most [`crate::infra::cache::TTL`]).

use klaxon_domain::auth::{Scope, TokenInfo, User};
use klaxon_domain::incident::Source;
use klaxon_domain::Handle;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::error::AppError;

const TOKEN_PREFIX: &str = "klx_";

/// A new random API token.
pub fn generate_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_hex(20))
}

/// `bytes` random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// What the store keeps of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub token: TokenInfo,
    /// What the caller may do: the lower of the token's scope and the user's role.
    pub scope: Scope,
    /// Where the caller says the change comes from (`x-klaxon-source`), `api` by default.
    pub source: Source,
}

impl Caller {
    /// A caller acting as `user` with the token `token`.
    pub fn new(user: User, token: TokenInfo, source: Source) -> Self {
        let scope = token.scope.effective(user.role);
        Self {
            user,
            token,
            scope,
            source,
        }
    }

    /// `user` acting with the whole of their role, signed in otherwise than with a
    /// token (a web session, a signed link); `how` names the way, as a token's name
    /// would.
    pub fn person(user: User, how: &str, source: Source) -> Self {
        let token = TokenInfo {
            id: klaxon_domain::TokenId(0),
            name: how.to_owned(),
            scope: user.role,
            user: user.handle.clone(),
            created_at: user.created_at,
            revoked_at: None,
        };
        Self::new(user, token, source)
    }

    /// Refuses the request unless the caller's scope includes `needed`.
    pub fn require(&self, needed: Scope) -> Result<(), AppError> {
        if self.scope.allows(needed) {
            Ok(())
        } else if self.token.scope.allows(needed) {
            let h = &self.user.handle;
            Err(AppError::forbidden(format!(
                "{h} is {}, and a token acts with at most its user's role; this needs {needed}. \
                 An admin can change the role: `klaxon user update {h} --role {needed}`",
                self.user.role.with_article()
            )))
        } else {
            Err(AppError::forbidden(format!(
                "token '{}' has scope {}; this needs {needed}",
                self.token.name, self.token.scope
            )))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.scope == Scope::Admin
    }

    /// Whom lists of incidents and alerts are cut down for: the caller, unless an
    /// admin (who sees every restricted incident).
    pub fn viewer(&self) -> Option<Handle> {
        (!self.is_admin()).then(|| self.user.handle.clone())
    }
}
