//! Klaxon's server: the REST API under `/api/v1`, the ingest endpoints and the engine
//! that pages people. Rules live in `klaxon-domain` and SQL in `klaxon-store`, never here.
//! Where each part lives (a folder imports only the folders listed below it):
//!
//! - `http/`: the edges: router, errors, OpenAPI, `api/`, `ingest/`, inbound `hooks/`, links.
//! - `engine/`: the `runner` that claims due jobs with a lease; one file per job kind.
//! - `app/`: the application layer: incidents, alerts and the inbox, paging, links, phones.
//! - `infra/`: shared by all: `AppState` (plain data), clock, caches, locks, limits, metrics.
//!
//! The web UI and the public status page sit in `http/web/` and `http/status/`, beside
//! `http/api/`. Behaviour is functions over the state: `app::incidents::act(&state, …)`.
#![forbid(unsafe_code)]

mod app;
mod engine;
mod http;
mod infra;
#[cfg(test)]
mod testing;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use klaxon_domain::policy::Policy;

pub use http::connections::{
    ConnectionLimits, DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
};
pub use infra::channels::{ChannelConfig, SlackConfig, TwilioConfig};
pub use infra::clock::{Clock, ManualClock, SystemClock};
pub use infra::state::AppState;
pub use infra::status_page::{StatusColors, StatusPageConfig};

// Background work driven by hand, for tests and benchmarks.
pub use app::inbox::settle;
pub use engine::heartbeats::check_heartbeats;
pub use engine::runner::run_due_jobs;
pub use klaxon_domain::Secret;
pub use klaxon_notify::email::{SmtpConfig, SmtpTls};
pub use klaxon_notify::outbound::OutboundGuard;

/// What `klaxon serve` needs to start.
#[derive(Clone)]
pub struct ServeConfig {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    pub listen: SocketAddr,
    pub policy: Policy,
    /// The first admin's token, instead of a generated one (for automation).
    pub bootstrap_token: Option<Secret>,
    /// The URL people use to reach Klaxon, for links in messages.
    pub public_url: Option<String>,
    /// Events per second each integration key may send (bursts of twice that); `None`
    /// for no limit.
    pub ingest_rate_limit: Option<std::num::NonZeroU32>,
    /// The outbound services pages go through.
    pub channels: ChannelConfig,
    /// The bearer token `/metrics` asks for; `None` serves metrics to anyone who can
    /// reach the port.
    pub metrics_token: Option<Secret>,
    /// How long clients may take, and how many connections may be open at once.
    pub connections: ConnectionLimits,
    /// The public status page's name, look and URL.
    pub status_page: StatusPageConfig,
}

/// The default [`ServeConfig::ingest_rate_limit`]: generous, it only stops runaways.
pub const DEFAULT_INGEST_RATE_LIMIT: u32 = 10_000;

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("database_url", &klaxon_store::redact(&self.database_url))
            .field("listen", &self.listen)
            .field("bootstrap_token", &self.bootstrap_token)
            .field("public_url", &self.public_url)
            .field("channels", &self.channels)
            .field("metrics_token", &self.metrics_token)
            .field("connections", &self.connections)
            .field("status_page", &self.status_page)
            .finish_non_exhaustive()
    }
}

/// Why the server could not start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the database: {0}")]
    Database(#[from] klaxon_store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs migrations on the database at `database_url` and returns.
pub async fn migrate(database_url: &str) -> Result<(), ServerError> {
    klaxon_store::open(database_url).await?;
    Ok(())
}

/// Creates an API token straight in the database at `database_url`, without a running
/// server or another token: the way back into an install whose admin tokens are all
/// lost. The token's secret and what is stored of it.
pub async fn create_token_offline(
    database_url: &str,
    new: &klaxon_domain::api::NewToken,
) -> Result<klaxon_domain::api::CreatedToken, ServerError> {
    let name = new
        .validated_name()
        .map_err(|e| ServerError::Config(e.to_string()))?;
    let user = new.user.as_ref().ok_or_else(|| {
        ServerError::Config("say which user the token acts as with --user".into())
    })?;
    let store = klaxon_store::open(database_url).await?;
    // A token acts with at most its user's role: refuse one that could not do what
    // was asked, naming who can.
    let owner = store.user(user).await?;
    if klaxon_domain::auth::check_token_scope(&owner, new.scope).is_err() {
        // Offline means locked out: name who may hold the token instead of a role
        // change nobody can make.
        let admins: Vec<String> = store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.role == klaxon_domain::auth::Scope::Admin)
            .map(|u| u.handle.to_string())
            .collect();
        return Err(ServerError::Config(format!(
            "{user} is {}, so a token of {user} cannot have scope {}; give --user an admin ({})",
            owner.role.with_article(),
            new.scope,
            admins.join(", ")
        )));
    }
    let token = app::auth::generate_token();
    let info = store
        .create_token(
            &name,
            new.scope,
            user,
            &app::auth::hash_token(&token),
            jiff::Timestamp::now(),
        )
        .await?;
    Ok(klaxon_domain::api::CreatedToken { token, info })
}

/// On an empty database, creates the `admin` user and its admin token: the given one,
/// or a new one printed once on stderr.
async fn bootstrap(state: &AppState, token: Option<String>) -> Result<(), ServerError> {
    if let Some(t) = &token {
        if t.len() < 16 {
            return Err(ServerError::Config(
                "KLAXON_BOOTSTRAP_TOKEN is shorter than 16 characters; use a long random value"
                    .into(),
            ));
        }
    }
    let admin = klaxon_domain::api::NewUser {
        handle: klaxon_domain::Handle::parse("admin").expect("a valid handle"),
        name: "Administrator".into(),
        email: "admin@localhost".into(),
        role: Some(klaxon_domain::auth::Scope::Admin),
    };
    let generated = token.is_none();
    let token = token.unwrap_or_else(app::auth::generate_token);
    let created = state
        .store
        .bootstrap(
            &admin,
            "bootstrap",
            &app::auth::hash_token(&token),
            state.clock.now(),
        )
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

/// Serves until `shutdown` resolves, then finishes the requests in flight and returns.
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let server = start(config, Arc::new(SystemClock)).await?;
    tracing::info!(addr = %server.addr, "klaxon listening on http://{}", server.addr);
    shutdown.await;
    tracing::info!("shutting down");
    server.stop().await
}

/// A server running in the background, for `serve` and for tests.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting connections, waits for requests in flight, and returns.
    pub async fn stop(self) -> Result<(), ServerError> {
        self.state.stop();
        match self.task.await {
            Ok(result) => Ok(result?),
            Err(e) => Err(ServerError::Config(format!("server task failed: {e}"))),
        }
    }
}

/// Says which server-wide outlets are on, without their URLs' paths (credentials).
fn log_outlets(config: &ChannelConfig) {
    if let Some(url) = &config.events_webhook {
        tracing::info!(
            origin = infra::channels::url_origin(url),
            "publishing every incident event to the event webhook"
        );
    }
    if config.teams_webhook.is_some() {
        tracing::info!("posting incident announcements to the Teams room");
    }
    if config.mattermost_webhook.is_some() {
        tracing::info!("posting incident announcements to the Mattermost room");
    }
}

/// Opens the database, bootstraps the first admin if needed, binds and starts serving.
pub async fn start(
    config: ServeConfig,
    clock: Arc<dyn Clock>,
) -> Result<RunningServer, ServerError> {
    // Bad settings stop the start before anything is opened or written.
    config.connections.check().map_err(ServerError::Config)?;
    config.status_page.check().map_err(ServerError::Config)?;
    let channels = infra::channels::Channels::new(&config.channels).map_err(ServerError::Config)?;
    let store = klaxon_store::open(&config.database_url).await?;
    log_outlets(&config.channels);
    let rate_limit = config
        .ingest_rate_limit
        .map(|per_second| Arc::new(infra::rate_limit::KeyLimits::new(per_second)));
    let state = AppState::new(
        store,
        config.policy,
        clock,
        config.public_url,
        channels,
        rate_limit,
        config
            .metrics_token
            .as_ref()
            .map(|t| app::auth::hash_token(t.expose())),
    )
    .with_status_page(config.status_page);
    bootstrap(
        &state,
        config.bootstrap_token.map(|t| t.expose().to_owned()),
    )
    .await?;
    // The public page answers from memory: build it before the first request.
    app::status_page::refresh(&state).await;
    let listener =
        http::connections::bind(config.listen).map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    let router = http::router::router(state.clone());
    // One signal stops both the HTTP server and the background checks.
    let stopped = state.stopping();
    tokio::spawn(engine::heartbeats::run_checks(
        state.clone(),
        stopped.clone(),
    ));
    tokio::spawn(app::inbox::run(state.clone(), stopped.clone()));
    tokio::spawn(engine::runner::run(state.clone(), stopped.clone()));
    tokio::spawn(app::sessions::sweep(state.clone(), stopped.clone()));
    tokio::spawn(app::status_page::run(state.clone(), stopped.clone()));
    let task = tokio::spawn(http::connections::serve(
        listener,
        router,
        config.connections,
        stopped,
    ));
    Ok(RunningServer { addr, state, task })
}
