//! Paging: how people want to be reached (contact methods and notification rules) and
//! how an incident escalates through people and schedules until someone acknowledges.
//! Pure rules; the engine in the server runs them as durable jobs.

pub mod api;
mod contact;
mod escalation;
mod jobs;
mod message;
mod outlets;
mod payload;
mod rules;
pub mod verify;

pub use jobs::{plan as plan_jobs, EscalateJob, JobKind, JobPlan, PlannedJob};
pub use message::{page_text, PageText};
pub use outlets::{delivery_id, event_document, event_name, posted_in_rooms, ChatRoom, Outlets};
pub use payload::{AckTimeout, Announcement, Delivery, EventRef, JobPayload, Reminder, RoomPost};
pub use rules::{ack_timeout_check, deliveries, FIRST_GENERATION};

pub use crate::policy::Urgency;
pub use contact::{
    ContactKind, ContactMethod, NewContactMethod, NewNotificationRule, NotificationRule,
    MAX_RULE_DELAY_MINUTES,
};
pub use escalation::{EscalationPolicy, EscalationStep, NewEscalationPolicy, Position, Target};
