//! Shared infrastructure: the state and what it holds (clock, caches, locks, rate limits,
//! metrics, the outbound channels). Nothing here imports the edges, the application
//! layer or the engine.

pub(crate) mod cache;
pub(crate) mod channels;
pub(crate) mod clock;
pub(crate) mod locks;
pub(crate) mod metrics;
pub(crate) mod rate_limit;
pub(crate) mod state;
pub(crate) mod status_page;
