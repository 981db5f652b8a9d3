//! What the web UI keeps: users' password hashes and their sessions.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::auth::User;
use klaxon_domain::session::SessionTimes;
use klaxon_domain::{Handle, Secret};

use crate::Result;

/// A user with their password hash, for checking a sign-in.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub user: User,
    /// `None` when the user has no password: they cannot sign in to the web UI.
    pub password_hash: Option<Secret>,
}

/// A stored session, with its user as they are now.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    /// The token every form of this session carries.
    pub csrf: Secret,
    pub times: SessionTimes,
}

/// Passwords and sessions.
#[async_trait]
pub trait WebStore {
    /// Sets (or, with `None`, removes) a user's password hash, and ends every session
    /// of theirs; `NotFound` for an unknown handle.
    async fn set_password(&self, user: &Handle, hash: Option<&Secret>) -> Result<()>;

    /// A user and their password hash; `NotFound` for an unknown handle.
    async fn sign_in(&self, user: &Handle) -> Result<SignIn>;

    /// Stores a new session of `user`, found later by `token_hash`.
    async fn create_session(
        &self,
        token_hash: &str,
        user: &User,
        csrf: &Secret,
        at: Timestamp,
    ) -> Result<()>;

    /// The session found by `token_hash`, ended or not (the caller applies
    /// [`SessionTimes::live_at`]).
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;

    /// Records that the session was used at `at`.
    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<()>;

    /// Ends a session; ending one that has gone is no error.
    async fn end_session(&self, token_hash: &str) -> Result<()>;

    /// Deletes the sessions that have ended by `now`; how many.
    async fn delete_ended_sessions(&self, now: Timestamp) -> Result<u64>;
}
