//! One writer per key inside this process: commands on one incident, alerts of one
//! service. They queue here instead of racing to the store and retrying; the store's
//! own checks still guard against writers in other replicas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Async locks by key, dropped when nobody holds or waits for them.
pub struct KeyedLocks<K>(Mutex<HashMap<K, Weak<AsyncMutex<()>>>>);

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

/// Held locks; released on drop.
pub struct Held(#[allow(dead_code)] Vec<OwnedMutexGuard<()>>);

impl<K: Copy + Ord + std::hash::Hash> KeyedLocks<K> {
    /// Locks every key in `keys`, always in ascending order so that two commands
    /// locking the same pair (a merge) cannot deadlock.
    pub async fn lock(&self, keys: &[K]) -> Held {
        let mut wanted: Vec<K> = keys.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mutexes: Vec<Arc<AsyncMutex<()>>> = {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            map.retain(|_, lock| lock.strong_count() > 0);
            wanted
                .iter()
                .map(|n| match map.get(n).and_then(Weak::upgrade) {
                    Some(lock) => lock,
                    None => {
                        let lock = Arc::new(AsyncMutex::new(()));
                        map.insert(*n, Arc::downgrade(&lock));
                        lock
                    }
                })
                .collect()
        };
        let mut guards = Vec::with_capacity(mutexes.len());
        for lock in mutexes {
            guards.push(lock.lock_owned().await);
        }
        Held(guards)
    }
}
