//! One writer per incident inside this process. Commands on one incident queue here
//! instead of racing to the store and retrying; the store's version check still guards
//! against writers in other replicas.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use klaxon_domain::IncidentNumber;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Async locks keyed by incident number, dropped when nobody holds or waits for them.
#[derive(Default)]
pub struct IncidentLocks(Mutex<HashMap<i64, Weak<AsyncMutex<()>>>>);

/// Held locks; released on drop.
pub struct Held(#[allow(dead_code)] Vec<OwnedMutexGuard<()>>);

impl IncidentLocks {
    /// Locks every incident in `numbers`, always in ascending order so that two
    /// commands locking the same pair (a merge) cannot deadlock.
    pub async fn lock(&self, numbers: &[IncidentNumber]) -> Held {
        let mut wanted: Vec<i64> = numbers.iter().map(|n| n.0).collect();
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
