//! The JSON API under `/api/v1`, one module per resource. Each handler parses its input,
//! calls the application layer and answers; the OpenAPI document is generated from the
//! handlers' annotations.

pub(crate) mod alerts;
pub(crate) mod components;
pub(crate) mod escalation;
pub(crate) mod incidents;
pub(crate) mod maintenances;
pub(crate) mod people;
pub(crate) mod reports;
pub(crate) mod reviews;
pub(crate) mod schedules;
pub(crate) mod services;
pub(crate) mod subscribers;
pub(crate) mod system;
pub(crate) mod users;
