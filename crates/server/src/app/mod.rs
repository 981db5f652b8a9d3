//! The application layer the edges and the engine call: load what a command needs, let
//! the domain decide, store the outcome. Functions over the state
//! (`incidents::act(&state, &caller, number, command)`), answering in [`error::AppError`].

pub(crate) mod alerts;
pub(crate) mod auth;
pub(crate) mod components;
pub(crate) mod error;
pub(crate) mod escalation;
pub(crate) mod heartbeats;
pub(crate) mod inbox;
pub(crate) mod incidents;
pub(crate) mod links;
pub(crate) mod lookups;
pub(crate) mod maintenance;
pub(crate) mod paging;
pub(crate) mod people;
pub(crate) mod phones;
pub(crate) mod reports;
pub(crate) mod reviews;
pub(crate) mod schedules;
pub(crate) mod services;
pub(crate) mod sessions;
pub(crate) mod status_page;
pub(crate) mod subscribers;
