//! The engine: background work.

pub(crate) mod announcements;
pub(crate) mod deliveries;
pub(crate) mod heartbeats;
pub(crate) mod publish;
pub(crate) mod reminders;
pub(crate) mod rooms;
pub(crate) mod runner;
