//! `spawn_app`: the real server on port 0 with a fresh database, a manual clock and a
//! client holding the bootstrap admin token.
//!
//! A test ends with nothing left behind, as crates.io's harness asks: no engine job due
//! at the clock's time and no alert event waiting in the inbox. A test drains what it
//! caused with `run_jobs` and `settle`; one that means to end with jobs due says so with
//! `allow_pending_jobs`. The check runs in `cleanup`, or when the `TestApp` is dropped
//! (not when the test is failing already). Jobs due later (the next escalation step)
//! do not count.

#![allow(dead_code)]

pub mod fakes;
pub mod plain;
pub mod smtp;
pub mod subscribers;

use std::num::NonZeroU32;
use std::sync::Arc;

use jiff::Timestamp;
use klaxon_client::{Client, ClientError};
use klaxon_domain::api::{NewToken, NewUser, Problem};
use klaxon_domain::auth::Scope;
use klaxon_domain::policy::Policy;
use klaxon_domain::Handle;
use klaxon_server::{
    ChannelConfig, Clock, ConnectionLimits, ManualClock, RunningServer, ServeConfig,
};
use klaxon_store::testing::{TempPostgres, TempSqlite};

pub const ADMIN_TOKEN: &str = "klx_test_bootstrap_token_0123456789";

pub struct TestApp {
    pub server: Option<RunningServer>,
    pub url: String,
    pub admin: Client,
    pub clock: Arc<ManualClock>,
    pub database_url: String,
    pub settings: Settings,
    /// Held so the SQLite directory outlives the server; removed on drop.
    _sqlite: Option<TempSqlite>,
    postgres: Option<TempPostgres>,
    /// Set by [`TestApp::allow_pending_jobs`].
    pending_jobs_allowed: bool,
    /// Whether the end-of-test check has run.
    checked: bool,
}

fn start_time() -> Timestamp {
    "2026-11-26T10:00:00Z".parse().unwrap()
}

fn default_rate_limit() -> Option<NonZeroU32> {
    NonZeroU32::new(klaxon_server::DEFAULT_INGEST_RATE_LIMIT)
}

/// What a test server is started with, beyond its fresh database.
#[derive(Clone)]
pub struct Settings {
    pub rate_limit: Option<NonZeroU32>,
    pub channels: ChannelConfig,
    pub policy: Policy,
    pub metrics_token: Option<String>,
    pub connections: ConnectionLimits,
    pub status_page: klaxon_server::StatusPageConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            rate_limit: default_rate_limit(),
            channels: ChannelConfig::default(),
            policy: Policy::builtin(),
            metrics_token: None,
            connections: ConnectionLimits::default(),
            status_page: Default::default(),
        }
    }
}

/// A server on a fresh SQLite file.
pub async fn spawn_app() -> TestApp {
    spawn_sqlite(Settings::default()).await
}

/// A server on a fresh SQLite file whose integration keys may send `per_second` events.
pub async fn spawn_app_with_rate_limit(per_second: u32) -> TestApp {
    spawn_sqlite(Settings {
        rate_limit: NonZeroU32::new(per_second),
        ..Settings::default()
    })
    .await
}

/// A server on a fresh PostgreSQL database, or `None` where none is configured.
pub async fn spawn_app_postgres() -> Option<TestApp> {
    spawn_postgres(Settings::default()).await
}

pub async fn spawn_sqlite(settings: Settings) -> TestApp {
    let db = TempSqlite::new();
    spawn_on(db.url.clone(), Some(db), None, settings).await
}

/// On PostgreSQL, or `None` where none is configured.
pub async fn spawn_postgres(settings: Settings) -> Option<TestApp> {
    let db = TempPostgres::new().await?;
    Some(spawn_on(db.url.clone(), None, Some(db), settings).await)
}

async fn spawn_on(
    database_url: String,
    sqlite: Option<TempSqlite>,
    postgres: Option<TempPostgres>,
    settings: Settings,
) -> TestApp {
    let clock = Arc::new(ManualClock::new(start_time()));
    let server = start(&database_url, clock.clone(), &settings).await;
    let url = format!("http://{}", server.addr);
    let admin = Client::new(url.clone(), ADMIN_TOKEN).with_source("cli");
    TestApp {
        server: Some(server),
        url,
        admin,
        clock,
        database_url,
        settings,
        _sqlite: sqlite,
        postgres,
        pending_jobs_allowed: false,
        checked: false,
    }
}

/// What a test left behind in the database at `url`: engine jobs due at `now` (unless
/// `jobs_allowed`) and alert events not applied, one line each.
async fn left_behind(url: &str, now: Timestamp, jobs_allowed: bool) -> Vec<String> {
    let store = klaxon_store::open(url)
        .await
        .expect("the test database opens");
    let mut left = vec![];
    if !jobs_allowed {
        let due: i64 = store
            .job_backlog(now)
            .await
            .unwrap()
            .iter()
            .map(|b| b.due)
            .sum();
        if due > 0 {
            let jobs = store.jobs(None).await.unwrap();
            left.extend(
                jobs.iter()
                    .filter(|j| j.dead_at.is_none() && j.run_at <= now)
                    .map(|j| {
                        format!(
                            "job {} ({}) of incident {:?} due at {}, attempts {}",
                            j.id,
                            j.kind.as_str(),
                            j.incident.map(|n| n.0),
                            j.run_at,
                            j.attempts
                        )
                    }),
            );
        }
    }
    let inbox = store.inbox_depth().await.unwrap();
    if inbox > 0 {
        left.push(format!("{inbox} alert events in the inbox"));
    }
    left
}

fn fail_if_left(left: &[String]) {
    assert!(
        left.is_empty(),
        "the test left work behind; drain it (app.run_jobs(), app.settle()) and check its \
         effects, or say it is meant (app.allow_pending_jobs()):\n{}",
        left.join("\n")
    );
}

/// Starts a server on `database_url` (another replica, when one runs already).
pub async fn start(
    database_url: &str,
    clock: Arc<ManualClock>,
    settings: &Settings,
) -> RunningServer {
    let config = ServeConfig {
        database_url: database_url.to_owned(),
        listen: "127.0.0.1:0".parse().unwrap(),
        policy: settings.policy.clone(),
        bootstrap_token: Some(ADMIN_TOKEN.into()),
        public_url: Some("https://klaxon.example.com".into()),
        ingest_rate_limit: settings.rate_limit,
        channels: settings.channels.clone(),
        metrics_token: settings.metrics_token.clone().map(Into::into),
        connections: settings.connections,
        status_page: settings.status_page.clone(),
    };
    klaxon_server::start(config, clock)
        .await
        .expect("server starts")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if self.checked || std::thread::panicking() {
            return;
        }
        self.checked = true;
        // The test's runtime is busy dropping this: ask from a runtime of our own.
        let (url, now, allowed) = (
            self.database_url.clone(),
            self.clock.now(),
            self.pending_jobs_allowed,
        );
        let left = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(left_behind(&url, now, allowed))
        })
        .join()
        .expect("the end-of-test check runs");
        fail_if_left(&left);
    }
}

impl TestApp {
    /// Lets this test end with engine jobs due: it checks what is queued, not what
    /// running it does. The alert inbox must still be empty.
    pub fn allow_pending_jobs(&mut self) {
        self.pending_jobs_allowed = true;
    }

    /// Fails the test if it left jobs due or alert events unapplied (see the module's
    /// comment); `cleanup` and dropping the app run it.
    pub async fn assert_nothing_left_behind(&mut self) {
        self.checked = true;
        let left = left_behind(
            &self.database_url,
            self.clock.now(),
            self.pending_jobs_allowed,
        )
        .await;
        fail_if_left(&left);
    }

    /// Stops the server and starts a new one on the same database: a restart.
    pub async fn restart(&mut self) {
        self.server.take().unwrap().stop().await.unwrap();
        let server = start(&self.database_url, self.clock.clone(), &self.settings).await;
        self.url = format!("http://{}", server.addr);
        self.admin = Client::new(self.url.clone(), ADMIN_TOKEN).with_source("cli");
        self.server = Some(server);
    }

    /// A client acting as a new user whose role and token scope are `scope`.
    pub async fn user(&self, handle: &str, scope: Scope) -> Client {
        let h = Handle::parse(handle).unwrap();
        let new = NewUser {
            handle: h.clone(),
            name: handle.to_uppercase(),
            email: format!("{handle}@example.com"),
            role: Some(scope),
        };
        self.admin.create_user(&new).await.unwrap();
        let token = self
            .admin
            .create_token(&NewToken {
                name: format!("{handle}-token"),
                scope,
                user: Some(h),
            })
            .await
            .unwrap();
        Client::new(self.url.clone(), token.token)
    }

    /// Creates service `name` with the default alert rules; its integration key.
    #[allow(dead_code)]
    pub async fn service_key(&self, name: &str) -> String {
        let new = klaxon_domain::service::NewService {
            name: klaxon_domain::service::ServiceName::parse(name).unwrap(),
            description: String::new(),
            owner_team: None,
            runbook_links: vec![],
            rules: Default::default(),
        };
        self.admin
            .create_service(&new)
            .await
            .unwrap()
            .integration_key
            .unwrap()
    }

    /// Sends one event to `POST /v2/enqueue` and checks it was accepted (202).
    #[allow(dead_code)]
    pub async fn enqueue(&self, body: &serde_json::Value) {
        let r = self
            .http()
            .post(format!("{}/v2/enqueue", self.url))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202, "{body}");
    }

    /// Waits until every accepted alert event has been applied to its alert.
    pub async fn settle(&self) {
        let state = &self.server.as_ref().expect("a running server").state;
        klaxon_server::settle(state, std::time::Duration::from_secs(10))
            .await
            .expect("the alert inbox empties");
    }

    /// Applies the alert events accepted so far, then runs every job due: what a test
    /// does before it ends, so that it leaves nothing behind.
    pub async fn drain(&self) {
        self.settle().await;
        self.run_jobs().await;
    }

    pub fn state(&self) -> &klaxon_server::AppState {
        &self.server.as_ref().expect("a running server").state
    }

    /// Runs the engine until no job is due at the clock's time (the background engine
    /// may run some of them; this waits for those too).
    pub async fn run_jobs(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            klaxon_server::run_due_jobs(self.state())
                .await
                .expect("jobs run");
            let now = self.clock.now();
            let due: Vec<_> = self
                .state()
                .store
                .jobs(None)
                .await
                .unwrap()
                .into_iter()
                .filter(|j| j.dead_at.is_none() && j.run_at <= now)
                .collect();
            if due.is_empty() {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "jobs stay due: {due:#?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    pub async fn cleanup(mut self) {
        self.assert_nothing_left_behind().await;
        if let Some(server) = self.server.take() {
            server.stop().await.unwrap();
        }
        if let Some(db) = self.postgres.take() {
            db.drop_database().await;
        }
    }
}

/// The problem inside a client error, or a panic naming what came instead.
pub fn problem(result: Result<impl std::fmt::Debug, ClientError>) -> Problem {
    match result {
        Err(ClientError::Api(p)) => p,
        other => panic!("expected a problem answer, got {other:?}"),
    }
}

/// A declaration with a title and severity, and nothing else.
pub fn declare_input(title: &str, severity: i64) -> klaxon_domain::incident::DeclareInput {
    klaxon_domain::incident::DeclareInput {
        title: title.into(),
        severity: Some(klaxon_domain::Severity::new(severity).unwrap()),
        ..Default::default()
    }
}

/// A status update of `kind` with every field the runbook's template has filled in.
pub fn update(
    kind: klaxon_domain::incident::UpdateKind,
    status: Option<&str>,
) -> klaxon_domain::incident::StatusUpdateInput {
    klaxon_domain::incident::StatusUpdateInput {
        status: status.map(Into::into),
        progress: Some("rolled back the deploy".into()),
        next_steps: Some("watch error rates".into()),
        eta: Some("10 minutes".into()),
        ..klaxon_domain::incident::StatusUpdateInput::new(kind)
    }
}
