//! Shared infrastructure.

pub(crate) mod cache;
pub(crate) mod channels;
pub(crate) mod clock;
pub(crate) mod locks;
pub(crate) mod metrics;
pub(crate) mod rate_limit;
pub(crate) mod state;
