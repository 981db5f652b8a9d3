//! The server's state: plain data, the handles every part shares (store, policy, clock,
//! metrics, caches, locks, limits, wake-ups, channels). What is done with them lives in
//! `app/` and `engine/`, as functions that take the state.

use std::sync::Arc;

use klaxon_domain::policy::Policy;
use klaxon_store::Store;

use crate::infra::cache::{ServiceCache, TokenCache};
use crate::infra::clock::Clock;
use crate::infra::locks::KeyedLocks;
use crate::infra::metrics::Metrics;

/// A status page with nothing on it, until the first build.
fn empty_page(
    config: &crate::infra::status_page::StatusPageConfig,
    public_url: Option<&str>,
    now: jiff::Timestamp,
) -> Arc<crate::infra::status_page::StatusPageCache> {
    let view =
        klaxon_domain::status::PublicView::empty(&config.name, &config.base_url(public_url), now);
    Arc::new(crate::infra::status_page::StatusPageCache::new(
        crate::infra::status_page::PageSnapshot::new(Arc::new(view), -1, now),
    ))
}

/// The server's shared state: one pointer, cloned for every request (axum's `State`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] points to.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub policy: Arc<Policy>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub public_url: Option<String>,
    /// Serialise, within this process, commands on one incident (by number), and the
    /// alert events of one service (by service id) that open, acknowledge or resolve.
    pub incident_locks: Arc<KeyedLocks<i64>>,
    pub service_locks: Arc<KeyedLocks<klaxon_domain::ServiceId>>,
    /// Per-integration-key ingest limits, if any.
    pub rate_limit: Option<Arc<crate::infra::rate_limit::KeyLimits>>,
    /// How often people may send themselves test messages.
    pub test_limits: Arc<crate::infra::rate_limit::TestLimits>,
    /// How often people may try to sign in to the web UI.
    pub sign_in_limits: Arc<crate::infra::rate_limit::SignInLimits>,
    /// How often an address, or a client, may subscribe to the status page.
    pub subscribe_limits: Arc<crate::infra::rate_limit::SubscribeLimits>,
    /// Recently authenticated tokens, and services by integration key.
    pub tokens: Arc<TokenCache>,
    pub services: Arc<ServiceCache>,
    /// Wakes the alert inbox worker when events are accepted.
    pub inbox_wake: Arc<tokio::sync::Notify>,
    /// Wakes the engine when jobs may have become due.
    pub engine_wake: Arc<tokio::sync::Notify>,
    /// The outbound channels pages and messages go through.
    pub channels: Arc<crate::infra::channels::Channels>,
    /// The outlets every incident change plans jobs for (the event webhook, shared
    /// chat rooms), from `channels` and the policy.
    pub outlets: klaxon_domain::paging::Outlets,
    /// The SHA-256 of the bearer token `/metrics` asks for, if it asks for one.
    pub metrics_token_hash: Option<String>,
    /// How the public status page looks, and the latest build of it.
    pub status_config: crate::infra::status_page::StatusPageConfig,
    pub status_page: Arc<crate::infra::status_page::StatusPageCache>,
    /// Set once the server is stopping: background tasks and long answers (live
    /// timelines) end.
    stop: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        policy: Policy,
        clock: Arc<dyn Clock>,
        public_url: Option<String>,
        channels: crate::infra::channels::Channels,
        rate_limit: Option<Arc<crate::infra::rate_limit::KeyLimits>>,
        metrics_token_hash: Option<String>,
    ) -> Self {
        let outlets = channels.outlets(&policy.restricted);
        let status_config = crate::infra::status_page::StatusPageConfig::default();
        let status_page = empty_page(&status_config, public_url.as_deref(), clock.now());
        Self(Arc::new(Shared {
            store,
            policy: Arc::new(policy),
            clock,
            metrics: Arc::new(Metrics::new()),
            public_url,
            incident_locks: Arc::default(),
            service_locks: Arc::default(),
            rate_limit,
            test_limits: Arc::default(),
            sign_in_limits: Arc::default(),
            subscribe_limits: Arc::default(),
            tokens: Arc::default(),
            services: Arc::default(),
            inbox_wake: Arc::default(),
            engine_wake: Arc::default(),
            channels: Arc::new(channels),
            outlets,
            metrics_token_hash,
            status_config,
            status_page,
            stop: tokio::sync::watch::channel(false).0,
        }))
    }

    /// The state with the public status page's settings, set before the state is shared
    /// (it is cloned for every request once serving starts).
    pub fn with_status_page(mut self, config: crate::infra::status_page::StatusPageConfig) -> Self {
        let shared = Arc::get_mut(&mut self.0).expect("the state is not shared yet");
        shared.status_page = empty_page(&config, shared.public_url.as_deref(), shared.clock.now());
        shared.status_config = config;
        self
    }

    /// Tells every background task and long answer to end.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Resolves its `wait_for(|&s| s)` once the server is stopping.
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }
}
