//! What every handler shares.

use std::sync::Arc;

use klaxon_domain::policy::Policy;
use klaxon_store::Store;

use crate::clock::Clock;
use crate::locks::KeyedLocks;
use crate::metrics::Metrics;
use crate::token_cache::TokenCache;

/// The server's shared state: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub policy: Arc<Policy>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub public_url: Option<String>,
    /// Serialise, within this process, commands on one incident (by number) and the
    /// alerts of one service (by service id).
    pub incident_locks: Arc<KeyedLocks<i64>>,
    pub service_locks: Arc<KeyedLocks<i64>>,
    /// Per-integration-key ingest limits, if any.
    pub rate_limit: Option<Arc<crate::rate_limit::KeyLimits>>,
    /// Recently authenticated tokens.
    pub tokens: Arc<TokenCache>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        policy: Policy,
        clock: Arc<dyn Clock>,
        public_url: Option<String>,
    ) -> Self {
        Self {
            store,
            policy: Arc::new(policy),
            clock,
            metrics: Arc::new(Metrics::new()),
            public_url,
            incident_locks: Arc::default(),
            service_locks: Arc::default(),
            rate_limit: None,
            tokens: Arc::new(TokenCache::default()),
        }
    }
}
