//! Klaxon's rules, and nothing else: the severity policy, the incident state machine,
//! timeline events and their projection, status-update templates, the maths over
//! incident times and on-call schedules. This crate does no I/O, is not async and knows
//! neither SQL nor HTTP; callers pass in the current time.
#![forbid(unsafe_code)]

pub mod alert;
pub mod api;
pub mod auth;
pub mod error;
pub mod ids;
pub mod incident;
pub mod metrics;
pub mod paging;
pub mod policy;
pub mod review;
pub mod schedule;
mod secret;
pub mod service;
pub mod session;
pub mod severity;
pub mod status;
pub mod template;
pub mod time;

pub use error::DomainError;
pub use ids::{
    AlertId, ComponentId, ContactMethodId, Handle, HeartbeatId, IncidentNumber, JobId, KeyId,
    MaintenanceId, NotificationRuleId, ScheduledMaintenanceId, ServiceId, SubscriberId, TokenId,
};
pub use secret::Secret;
pub use severity::Severity;
