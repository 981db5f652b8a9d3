//! The caller of an API request, from its `Authorization: Bearer` token: looked up by
//! hash (through the token cache), acting with the lower of the token's scope and its
//! user's role.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use klaxon_domain::api::SOURCE_HEADER;
use klaxon_domain::incident::Source;

use crate::app::auth::{hash_token, Caller};
use crate::app::error::AppError;
use crate::http::error::ApiError;
use crate::infra::state::AppState;

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer(&parts.headers) else {
            return Err(AppError::unauthenticated(
                "missing API token: send `Authorization: Bearer <token>` (the CLI reads KLAXON_TOKEN)",
            )
            .into());
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
            return Err(AppError::unauthenticated(
                "API token not recognised: it is mistyped or was revoked",
            )
            .into());
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
