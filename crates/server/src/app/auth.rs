//! Bearer tokens: generated with 160 random bits, stored as SHA-256 hashes (a token is
//! random, so a fast hash is enough: nothing to brute-force), checked on every
//! `/api/v1` request. A request acts with the lower of the token's scope and its user's
//! role, read with the token (and cached with it for at most [`crate::infra::cache::TTL`]).

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use klaxon_domain::api::{NewUser, SOURCE_HEADER};
use klaxon_domain::auth::{Scope, TokenInfo, User};
use klaxon_domain::incident::Source;
use klaxon_domain::Handle;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::error::ApiError;
use crate::infra::state::AppState;
use crate::ServerError;

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

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
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

    /// Refuses the request unless the caller's scope includes `needed`.
    pub fn require(&self, needed: Scope) -> Result<(), ApiError> {
        if self.scope.allows(needed) {
            Ok(())
        } else if self.token.scope.allows(needed) {
            let h = &self.user.handle;
            Err(ApiError::forbidden(format!(
                "{h} is {}, and a token acts with at most its user's role; this needs {needed}. \
                 An admin can change the role: `klaxon user update {h} --role {needed}`",
                self.user.role.with_article()
            )))
        } else {
            Err(ApiError::forbidden(format!(
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

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer(&parts.headers) else {
            return Err(ApiError::unauthorized(
                "missing API token: send `Authorization: Bearer <token>` (the CLI reads KLAXON_TOKEN)",
            ));
        };
        let hash = hash_token(token);
        let found = match state.tokens.get(&hash) {
            Some(found) => Some(found),
            None => {
                let found = state.store.authenticate(&hash).await?;
                if let Some(found) = &found {
                    state.tokens.insert(hash, found.clone());
                }
                found
            }
        };
        let Some(found) = found else {
            return Err(ApiError::unauthorized(
                "API token not recognised: it is mistyped or was revoked",
            ));
        };
        let source = parts
            .headers
            .get(SOURCE_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(Source::parse)
            .filter(|s| matches!(s, Source::Api | Source::Cli | Source::Web | Source::Chat))
            .unwrap_or(Source::Api);
        Ok(Caller::new(found.user, found.token, source))
    }
}

/// On an empty database, creates the `admin` user and its admin token: the given one,
/// or a new one printed once on stderr.
pub async fn bootstrap(state: &AppState, token: Option<String>) -> Result<(), ServerError> {
    if let Some(t) = &token {
        if t.len() < 16 {
            return Err(ServerError::Config(
                "KLAXON_BOOTSTRAP_TOKEN is shorter than 16 characters; use a long random value"
                    .into(),
            ));
        }
    }
    let admin = NewUser {
        handle: Handle::parse("admin").expect("a valid handle"),
        name: "Administrator".into(),
        email: "admin@localhost".into(),
        role: Some(Scope::Admin),
    };
    let generated = token.is_none();
    let token = token.unwrap_or_else(generate_token);
    let created = state
        .store
        .bootstrap(&admin, "bootstrap", &hash_token(&token), state.clock.now())
        .await?;
    if created.is_some() {
        if generated {
            eprintln!(
                "\n  Klaxon created the first user, `admin`, with this admin API token.\n  \
                 It is shown only now; keep it somewhere safe:\n\n    export KLAXON_TOKEN={token}\n"
            );
        }
        tracing::info!("created the first admin user and its token");
    }
    Ok(())
}
