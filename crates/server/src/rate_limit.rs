//! Per-integration-key limits on ingest (GCRA, from `governor`): a runaway sender is told
//! to slow down with 429 and `Retry-After` instead of filling the database. Counted per
//! replica; with several replicas each allows the full rate.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

pub struct KeyLimits {
    limiter: RateLimiter<String, HashMapStateStore<String>, DefaultClock>,
    clock: DefaultClock,
}

impl KeyLimits {
    /// `per_second` events a second per key, with bursts of twice that.
    pub fn new(per_second: NonZeroU32) -> Self {
        let burst = per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: RateLimiter::hashmap(quota),
            clock: DefaultClock::default(),
        }
    }

    /// `Ok` if `key` may send one more event now, else how long it should wait.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        match self.limiter.check_key(&key.to_owned()) {
            Ok(()) => Ok(()),
            Err(not_until) => Err(not_until.wait_time_from(self.clock.now())),
        }
    }
}
