//! A short-lived cache of authenticated tokens, so a request does not cost a database
//! read to learn who sent it. A revocation clears the cache of the replica that made it
//! at once; other replicas accept a revoked token for at most [`TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use klaxon_store::Authenticated;

/// How long a looked-up token is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(10);
/// Past this many entries the cache starts over, so random bad tokens cannot grow it.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct TokenCache(Mutex<HashMap<String, (Authenticated, Instant)>>);

impl TokenCache {
    /// The caller behind a token hash, if looked up less than [`TTL`] ago.
    pub fn get(&self, hash: &str) -> Option<Authenticated> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(found, _)| found.clone())
    }

    pub fn insert(&self, hash: String, found: Authenticated) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(hash, (found, Instant::now()));
    }

    /// Forgets every token: after a revocation.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
