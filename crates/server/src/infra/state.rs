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
    /// Recently authenticated tokens, and services by integration key.
    pub tokens: Arc<TokenCache>,
    pub services: Arc<ServiceCache>,
    /// Wakes the alert inbox worker when events are accepted.
    pub inbox_wake: Arc<tokio::sync::Notify>,
    /// Wakes the engine when jobs may have become due.
    pub engine_wake: Arc<tokio::sync::Notify>,
    /// The outbound channels pages and messages go through.
    pub channels: Arc<crate::infra::channels::Channels>,
    /// The SHA-256 of the bearer token `/metrics` asks for, if it asks for one.
    pub metrics_token_hash: Option<String>,
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
            tokens: Arc::default(),
            services: Arc::default(),
            inbox_wake: Arc::default(),
            engine_wake: Arc::default(),
            channels: Arc::new(channels),
            metrics_token_hash,
        }))
    }
}
