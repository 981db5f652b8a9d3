//! Klaxon's storage: the [`Store`] trait and its two implementations, SQLite (embedded,
//! the default) and PostgreSQL (several replicas), each with its own migrations. The
//! rest of Klaxon never knows which one it talks to. This crate holds no business rules:
//! it keeps what the domain decided, and keeps an incident's events and projection
//! together in one transaction.
//!
//! Where things are:
//! - the traits callers use: [`Store`] here, [`ServiceStore`] (`services.rs`),
//!   [`AlertStore`] and [`InboxWriter`] (`alerts.rs`), [`PagingStore`] (`paging.rs`),
//!   [`WebStore`] (`web.rs`), [`StatusStore`] (`status.rs`), [`ReviewStore`] (`reviews.rs`),
//!   [`SubscriberStore`] (`subscribers.rs`);
//! - every query, once for both databases: [`sql`], a file per group of tables, plain
//!   functions over `sqlx::Any` connections;
//! - the one implementation of the traits, [`SqlStore`] (`store/`), and what a database
//!   must supply, [`Backend`] and its [`Dialect`] (`backend.rs`);
//! - the two backends, `sqlite.rs` and `postgres.rs`: connecting, migrating, upkeep and
//!   each one's native path for accepted alert events;
//! - the group-commit writer that every write of the ingest path and the engine goes
//!   through, with a typed answer per request: `group.rs`.
#![forbid(unsafe_code)]

mod alerts;
pub mod backend;
mod group;
mod paging;
mod postgres;
mod reviews;
mod services;
pub mod sql;
mod sqlite;
mod status;
mod store;
mod subscribers;
pub mod testing;
mod web;

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::api::NewUser;
use klaxon_domain::auth::{Scope, TokenInfo, User};
use klaxon_domain::incident::{Incident, Status, TimelineEvent};
use klaxon_domain::{Handle, IncidentNumber, Severity};

pub use alerts::{
    AlertChange, AlertFilter, AlertLogEntry, AlertOpening, AlertStore, AlertUpdate, InboxEntry,
    InboxFailure, InboxItem, InboxWriter, IncidentWrite, NewAlert, Repeat,
};
pub use backend::{Backend, Dialect, SqlStore};
pub use paging::{ActionLink, Job, JobBacklog, JobDone, JobOutcome, PagingStore, Room};
pub use postgres::{Postgres, PostgresStore};
pub use reviews::{ActionFilter, ReviewStore, ReviewWrite};
pub use services::{NewKey, ServiceStore};
pub use sqlite::{Sqlite, SqliteStore};
pub use status::{MaintenancePlan, MaintenanceWrite, StatusStore};
pub use subscribers::{NewSubscriberRow, SubscriberJobs, SubscriberStore};
pub use web::{Session, SignIn, WebStore};

/// What can go wrong in the store, in the shapes callers act on. Only [`Stale`] is
/// worth retrying (after reading again); the others would fail the same way.
///
/// [`Stale`]: StoreError::Stale
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A value that must be unique is taken; `field` names it.
    #[error("{message}")]
    Duplicate {
        field: &'static str,
        message: String,
    },
    /// The write lost a race: what it was decided from changed meanwhile (an incident
    /// moved past its version, an alert closed or opened). Read again and retry.
    #[error("{0}")]
    Stale(String),
    /// The write was made already, by this caller or another (an inbox entry applied, a
    /// token or key revoked, a job finished or cancelled): nothing is left to do.
    #[error("{0}")]
    AlreadyApplied(String),
    /// A rule refuses the write whatever is retried (the last admin token).
    #[error("{0}")]
    Refused(String),
    /// Anything else: the database is unreachable, a row is corrupt.
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound("not found".into()),
            other => StoreError::Other(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Other(format!("migration failed: {e}"))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An incident change, decided by the domain and written whole by the store.
pub use klaxon_domain::incident::{Change, Declaration};

/// Which incidents to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub service: Option<String>,
    pub open: Option<bool>,
    pub since: Option<Timestamp>,
    pub before: Option<IncidentNumber>,
    pub limit: u32,
    /// Restricted incidents are listed only if this handle participates; `None` lists
    /// them all (for admins).
    pub viewer: Option<Handle>,
}

/// Which incidents a report covers: those declared in `[since, until)`.
#[derive(Debug, Clone)]
pub struct FactsFilter {
    pub since: Timestamp,
    pub until: Timestamp,
    pub severity: Option<Severity>,
    pub service: Option<String>,
    /// Restricted incidents are read only if this handle participates; `None` reads
    /// them all (for admins).
    pub viewer: Option<Handle>,
}

/// A token that matched, with the user it acts as.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub token: TokenInfo,
}

/// Everything Klaxon keeps. Implementations must make each method atomic.
#[async_trait]
pub trait Store:
    ServiceStore
    + AlertStore
    + InboxWriter
    + PagingStore
    + WebStore
    + StatusStore
    + ReviewStore
    + SubscriberStore
    + Send
    + Sync
    + 'static
{
    /// Checks the database answers.
    async fn ping(&self) -> Result<()>;

    async fn create_user(&self, user: &NewUser, at: Timestamp) -> Result<User>;
    async fn users(&self) -> Result<Vec<User>>;
    async fn user(&self, handle: &Handle) -> Result<User>;
    /// Changes a user's role; `NotFound` for an unknown handle.
    async fn set_role(&self, handle: &Handle, role: Scope) -> Result<User>;

    /// Creates the first admin (role admin, whatever `admin.role` says) and its admin
    /// token, only if there are no users yet. Returns
    /// `None` (and changes nothing) when users exist.
    async fn bootstrap(
        &self,
        admin: &NewUser,
        token_name: &str,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<Option<User>>;
    async fn create_token(
        &self,
        name: &str,
        scope: Scope,
        user: &Handle,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<TokenInfo>;
    async fn tokens(&self) -> Result<Vec<TokenInfo>>;
    async fn revoke_token(&self, id: klaxon_domain::TokenId, at: Timestamp) -> Result<TokenInfo>;
    /// The live (not revoked) token with this hash, and its user (with the user's role:
    /// the token acts with the lower of the two).
    async fn authenticate(&self, token_hash: &str) -> Result<Option<Authenticated>>;

    /// Stores a new incident: allocates the number, makes the slug unique (the
    /// declaration's `slug_base`, or `slug_base-NUMBER` if taken) and writes the
    /// projection with the events and the jobs they start.
    async fn declare(&self, declaration: Declaration) -> Result<Incident>;
    async fn incident(&self, number: IncidentNumber) -> Result<Incident>;
    /// The incidents with these numbers that exist, in no particular order: one read for
    /// many (a claim of jobs reads its incidents together).
    async fn incidents_by_number(&self, numbers: &[IncidentNumber]) -> Result<Vec<Incident>>;
    /// An incident's whole timeline, in order.
    async fn timeline(&self, number: IncidentNumber) -> Result<Vec<TimelineEvent>>;
    /// One page of an incident's timeline, newest first: at most `limit` events whose
    /// `seq` is below `before` (the newest, without it). A page reads only its own rows.
    async fn timeline_page(
        &self,
        number: IncidentNumber,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<TimelineEvent>>;
    /// An incident's events after event `after`, in order: what a follower of the
    /// timeline has not seen yet.
    async fn timeline_after(
        &self,
        number: IncidentNumber,
        after: i64,
    ) -> Result<Vec<TimelineEvent>>;
    /// The timeline events with these (incident number, seq) that exist, in no
    /// particular order: one read for many (a claim's announcements).
    async fn timeline_events(
        &self,
        wanted: &[(IncidentNumber, i64)],
    ) -> Result<Vec<(IncidentNumber, TimelineEvent)>>;
    /// Appends events and replaces projections, all or nothing. `Stale` if any
    /// incident moved past its `expected_version` meanwhile.
    async fn commit(&self, changes: &[Change]) -> Result<()>;
    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>>;
    /// The facts reports are computed from, by incident number.
    async fn incident_facts(
        &self,
        filter: &FactsFilter,
    ) -> Result<Vec<klaxon_domain::metrics::IncidentFacts>>;
    /// Counts of non-drill incidents by status and severity, for metrics.
    async fn incident_counts(&self) -> Result<Vec<(Status, Severity, i64)>>;
    /// Takes, or confirms this process still holds, the singleton `name`. Singleton
    /// work (applying the alert inbox) runs only where this answers `true`, so replicas
    /// never run it twice; a process that dies gives it up at once. SQLite: always
    /// `true` (one process per file); PostgreSQL: a session-level advisory lock.
    async fn hold_singleton(&self, name: &str) -> Result<bool>;
}

/// Opens the database at `url` (`sqlite://PATH` or `postgres://…`), creating a SQLite
/// file if missing, and brings its schema up to date.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    match scheme(url)? {
        Scheme::Sqlite => Ok(Arc::new(SqliteStore::open(url).await?)),
        Scheme::Postgres => Ok(Arc::new(PostgresStore::open(url).await?)),
    }
}

enum Scheme {
    Sqlite,
    Postgres,
}

fn scheme(url: &str) -> Result<Scheme> {
    if url.starts_with("sqlite:") {
        Ok(Scheme::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Scheme::Postgres)
    } else {
        Err(StoreError::Other(format!(
            "unsupported database URL '{}'; use sqlite://PATH or postgres://USER@HOST/DB",
            redact(url)
        )))
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:[redacted]{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:[redacted]@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
