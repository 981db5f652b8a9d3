//! The HTTP edges: the router, extractors, the JSON API, ingest endpoints, links and
//! inbound hooks, and the connections they are served on.

pub(crate) mod api;
pub(crate) mod auth;
pub(crate) mod connections;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod hooks;
pub(crate) mod ingest;
pub(crate) mod links;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub(crate) mod router;
pub(crate) mod status;
pub(crate) mod web;
