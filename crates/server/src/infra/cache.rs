//! Short-lived caches of what nearly every request looks up: authenticated tokens (by
//! hash) and services (by integration key), so a request does not cost a database read
//! to learn who sent it. A change (revocation, service update) clears the cache of the
//! replica that made it at once; other replicas trust the old answer for at most [`TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use klaxon_domain::service::Service;
use klaxon_store::Authenticated;

/// How long a looked-up answer is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(10);
/// Past this many entries a cache starts over, so it cannot grow without bound.
const MAX_ENTRIES: usize = 10_000;

/// Answers by key, each trusted for [`TTL`].
pub struct TtlCache<V>(Mutex<HashMap<String, (V, Instant)>>);

impl<V> Default for TtlCache<V> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

/// Callers by token hash.
pub type TokenCache = TtlCache<Authenticated>;
/// Services by integration key.
pub type ServiceCache = TtlCache<Arc<Service>>;

impl<V: Clone> TtlCache<V> {
    /// The answer for `key`, if looked up less than [`TTL`] ago.
    pub fn get(&self, key: &str) -> Option<V> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(found, _)| found.clone())
    }

    pub fn insert(&self, key: String, found: V) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (found, Instant::now()));
    }

    /// Forgets everything: after a change that may make an answer wrong.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
