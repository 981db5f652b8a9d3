//! The application layer the edges call.

pub(crate) mod alerts;
pub(crate) mod auth;
pub(crate) mod error;
pub(crate) mod inbox;
pub(crate) mod incidents;
pub(crate) mod lookups;
pub(crate) mod phones;
