//! The engine: what happens later, in the background. The `runner` claims due jobs with
//! a lease and hands each to the file of its kind (a page that is due: `deliveries`);
//! `job` holds what they share (the outcome, retries, ordering); `reviews` opens
//! post-incident reviews and reminds of their deadlines and their action items';
//! `maintenance` reminds of, starts and completes scheduled maintenance; `notices` works
//! out what status-page subscribers are told and `subscribers` delivers it to each.
//! `heartbeats` looks for monitors whose ping is overdue.

pub(crate) mod announcements;
pub(crate) mod deliveries;
pub(crate) mod escalations;
pub(crate) mod heartbeats;
pub(crate) mod job;
pub(crate) mod maintenance;
pub(crate) mod notices;
pub(crate) mod publish;
pub(crate) mod reminders;
pub(crate) mod reviews;
pub(crate) mod rooms;
pub(crate) mod runner;
pub(crate) mod subscribers;
