//! Signing in to the web UI: passwords (argon2id, hashed off the async threads) and
//! sessions (a random token in the browser's cookie, its SHA-256 in the database, a
//! CSRF token per session). Wrong passwords are slowed down per account and per client
//! address (`infra::rate_limit::SignInLimits`).

use std::net::IpAddr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use klaxon_domain::auth::{Scope, User};
use klaxon_domain::incident::Source;
use klaxon_domain::session::check_password;
use klaxon_domain::{Handle, Secret};
use klaxon_store::StoreError;

use crate::app::auth::{hash_token, random_hex, Caller};
use crate::app::error::{AppError, ErrorKind};
use crate::infra::state::AppState;

/// A signed-in browser: who it is, the token its forms carry, and the hash its cookie's
/// token is stored under.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub caller: Caller,
    pub csrf: Secret,
    pub token_hash: String,
}

/// A new session: the token to put in the cookie.
pub struct SignedIn {
    pub token: Secret,
}

/// Sets `handle`'s password: their own, or anyone's for an admin. Ends every session of
/// theirs, so a changed password signs out a stolen session.
pub async fn set_password(
    state: &AppState,
    caller: &Caller,
    handle: &Handle,
    password: Secret,
) -> Result<(), AppError> {
    if &caller.user.handle != handle {
        caller.require(Scope::Admin).map_err(|_| {
            AppError::forbidden(format!(
                "only an admin may set another person's password; {} may set their own",
                caller.user.handle
            ))
        })?;
    }
    check_password(password.expose())?;
    let hash = hash_password(password).await?;
    state.store.set_password(handle, Some(&hash)).await?;
    tracing::info!(user = %handle, by = %caller.user.handle, "password set");
    Ok(())
}

/// Checks a sign-in and opens a session. A wrong handle, a wrong password and a user
/// without one are refused alike, and count against the account and the address.
pub async fn sign_in(
    state: &AppState,
    handle: &str,
    password: Secret,
    from: IpAddr,
) -> Result<SignedIn, AppError> {
    let wrong = || {
        AppError::field(
            ErrorKind::Unauthenticated,
            "password",
            "the handle or the password is wrong",
        )
    };
    let account = handle.trim().trim_start_matches('@').to_lowercase();
    state
        .sign_in_limits
        .check(&account, from)
        .map_err(|message| AppError::new(ErrorKind::TooMany, message))?;
    let found = match Handle::parse(&account) {
        Ok(handle) => match state.store.sign_in(&handle).await {
            Ok(found) => Some(found),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let hash = found.as_ref().and_then(|f| f.password_hash.clone());
    // Without a user or a password, verify against a throwaway hash all the same: how
    // long the answer takes must not tell which handles exist.
    let matched = verify_password(password, hash).await?;
    let user = match (found, matched) {
        (Some(found), true) => found.user,
        _ => {
            tracing::info!(account, %from, "sign-in refused");
            return Err(wrong());
        }
    };
    let token = Secret::new(random_hex(32));
    let csrf = Secret::new(random_hex(16));
    let token_hash = hash_token(token.expose());
    let now = state.clock.now();
    state
        .store
        .create_session(&token_hash, &user, &csrf, now)
        .await?;
    tracing::info!(user = %user.handle, "signed in");
    Ok(SignedIn { token })
}

/// The live session of the cookie's `token`, if any; a use is written down at most
/// every few minutes.
pub async fn session(state: &AppState, token: &str) -> Result<Option<WebSession>, AppError> {
    let token_hash = hash_token(token);
    let Some(found) = state.store.session(&token_hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    if !found.times.live_at(now) {
        state.store.end_session(&token_hash).await?;
        return Ok(None);
    }
    if found.times.needs_touch(now) {
        state.store.touch_session(&token_hash, now).await?;
    }
    Ok(Some(session_of(found.user, found.csrf, token_hash)))
}

/// Ends a session, here and on every replica.
pub async fn sign_out(state: &AppState, session: &WebSession) -> Result<(), AppError> {
    state.store.end_session(&session.token_hash).await?;
    tracing::info!(user = %session.caller.user.handle, "signed out");
    Ok(())
}

/// Deletes ended sessions every hour until `stop`: an ended session is refused anyway,
/// this only keeps the table small.
pub async fn sweep(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.wait_for(|&s| s) => return,
        }
        match state.store.delete_ended_sessions(state.clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "deleted ended web sessions"),
            Err(e) => tracing::warn!(error = %e, "cannot delete ended web sessions"),
        }
    }
}

fn session_of(user: User, csrf: Secret, token_hash: String) -> WebSession {
    WebSession {
        caller: Caller::person(user, "web session", Source::Web),
        csrf,
        token_hash,
    }
}

/// Whether `given` is the session's CSRF token, compared in constant time.
pub fn csrf_matches(session: &WebSession, given: &str) -> bool {
    constant_time_eq(session.csrf.expose().as_bytes(), given.as_bytes())
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The argon2id hash of `password` (OWASP's parameters, argon2's defaults), as a PHC
/// string; computed on a blocking thread (tens of milliseconds of CPU).
async fn hash_password(password: Secret) -> Result<Secret, AppError> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| Secret::new(hash.to_string()))
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|hashed| hashed)
    .map_err(|e| {
        tracing::error!(error = %e, "cannot hash a password");
        AppError::new(
            ErrorKind::Internal,
            "internal error; the server log has the cause",
        )
    })
}

/// A throwaway hash to verify against when there is no real one.
const NO_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xq1bKkdYyLmm7hBC1yM3KkC1qVnQ5tbT0ZpkCrT1SE0";

/// Whether `password` matches `hash`; with no hash, verifies against [`NO_HASH`] and
/// answers no.
async fn verify_password(password: Secret, hash: Option<Secret>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let real = hash.is_some();
        let phc = hash.as_ref().map_or(NO_HASH, Secret::expose);
        let matched = PasswordHash::new(phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        real && matched
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "cannot verify a password");
        AppError::new(
            ErrorKind::Internal,
            "internal error; the server log has the cause",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_hash_only() {
        let hash = hash_password(Secret::new("correct horse battery"))
            .await
            .unwrap();
        assert!(hash.expose().starts_with("$argon2id$"));
        assert!(!hash.expose().contains("correct horse"));
        let good = verify_password(Secret::new("correct horse battery"), Some(hash.clone()));
        assert!(good.await.unwrap());
        let bad = verify_password(Secret::new("correct horse battere"), Some(hash));
        assert!(!bad.await.unwrap());
    }

    #[tokio::test]
    async fn without_a_hash_nothing_verifies() {
        // The throwaway hash parses, so an unknown handle costs a real verification.
        assert!(PasswordHash::new(NO_HASH).is_ok());
        assert!(!verify_password(Secret::new("anything at all"), None)
            .await
            .unwrap());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
