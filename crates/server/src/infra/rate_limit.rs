//! Rate limits (GCRA, from `governor`), counted per replica: per integration key on
//! ingest, so a runaway sender is told to slow down with 429 and `Retry-After` instead
//! of filling the database; and on test messages, so a contact method's test cannot be
//! used to flood a phone or an inbox.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use klaxon_domain::Handle;

pub struct KeyLimits {
    limiter: RateLimiter<String, HashMapStateStore<String>, DefaultClock>,
    clock: DefaultClock,
}

impl KeyLimits {
    /// `per_second` events a second per key, with bursts of twice that.
    pub fn new(per_second: NonZeroU32) -> Self {
        let burst = per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        Self::with_quota(Quota::per_second(per_second).allow_burst(burst))
    }

    fn with_quota(quota: Quota) -> Self {
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

/// `burst` at once, then one every `every` seconds.
fn quota(every: u64, burst: u32) -> Quota {
    Quota::with_period(Duration::from_secs(every))
        .expect("a period")
        .allow_burst(NonZeroU32::new(burst).expect("not zero"))
}

/// A refusal saying `what` and how long to wait.
fn refuse(wait: Duration, what: &str) -> String {
    format!("{what}; wait {} s and try again", wait.as_secs().max(1))
}

/// Test messages: one per contact method a minute, and five per person an hour.
pub struct TestLimits {
    per_method: KeyLimits,
    per_user: KeyLimits,
}

impl Default for TestLimits {
    fn default() -> Self {
        Self {
            per_method: KeyLimits::with_quota(quota(60, 1)),
            per_user: KeyLimits::with_quota(quota(12 * 60, 5)),
        }
    }
}

impl TestLimits {
    /// Counts one test message to `user`'s contact method `method`, or refuses it with a
    /// message saying when to try again (answered 429).
    pub fn check(
        &self,
        user: &Handle,
        method: klaxon_domain::ContactMethodId,
    ) -> Result<(), String> {
        let refuse = |wait: Duration, what: &str| {
            format!("{what}; try again in {} s", wait.as_secs().max(1))
        };
        self.per_method.check(&method.to_string()).map_err(|wait| {
            refuse(
                wait,
                "this contact method was sent a test message less than a minute ago",
            )
        })?;
        self.per_user.check(user.as_str()).map_err(|wait| {
            refuse(
                wait,
                &format!("{user} was sent 5 test messages in the last hour"),
            )
        })
    }
}

/// Sign-in attempts to the web UI: per account, 5 at once and then one every 12
/// seconds; per client address, 20 at once and then one every 3 seconds. A password
/// guesser is slowed to a few hundred guesses an hour per account, while a person who
/// mistypes a few times is not held up. Every attempt counts, right or wrong.
pub struct SignInLimits {
    per_account: KeyLimits,
    per_address: KeyLimits,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            per_account: KeyLimits::with_quota(quota(12, 5)),
            per_address: KeyLimits::with_quota(quota(3, 20)),
        }
    }
}

impl SignInLimits {
    /// Counts one attempt at `account` from `from`, or refuses it with a message saying
    /// when to try again.
    pub fn check(&self, account: &str, from: std::net::IpAddr) -> Result<(), String> {
        self.per_address
            .check(&from.to_string())
            .map_err(|wait| refuse(wait, "too many sign-in attempts from this address"))?;
        self.per_account
            .check(account)
            .map_err(|wait| refuse(wait, &format!("too many sign-in attempts for '{account}'")))
    }
}

/// Subscribing to the status page, which mails the address a link: per address, 3 at
/// once and then one every 10 minutes, so nobody can flood an inbox with confirmation
/// mails; per client address, 10 at once and then one a minute, so nobody can sign up
/// lists of strangers. Every well-formed request counts, whether it
/// sends a mail or not (an address subscribed already gets none).
pub struct SubscribeLimits {
    per_address: KeyLimits,
    per_client: KeyLimits,
}

impl Default for SubscribeLimits {
    fn default() -> Self {
        Self {
            per_address: KeyLimits::with_quota(quota(600, 3)),
            per_client: KeyLimits::with_quota(quota(60, 10)),
        }
    }
}

impl SubscribeLimits {
    /// Counts one subscription of `address` (as compared) from `from`, or refuses it
    /// with a message saying when to try again (answered 429).
    pub fn check(&self, address: &str, from: std::net::IpAddr) -> Result<(), String> {
        self.per_client.check(&from.to_string()).map_err(|wait| {
            refuse(
                wait,
                "too many subscriptions from your network in a short time",
            )
        })?;
        self.per_address.check(address).map_err(|wait| {
            refuse(
                wait,
                "this address was subscribed several times in a short time",
            )
        })
    }
}
