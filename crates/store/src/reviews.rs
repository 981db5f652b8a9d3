//! What post-incident reviews keep: each review with its history and action items.

use async_trait::async_trait;
use jiff::Timestamp;
use klaxon_domain::review::{ActionItem, HistoryEntry, ReviewChange, ReviewRecord};
use klaxon_domain::{Handle, IncidentNumber};

use crate::{Change, Result};

/// A review change to write, with what it records on the incident's timeline.
#[derive(Debug, Clone)]
pub struct ReviewWrite {
    pub change: ReviewChange,
    /// The incident's events about it (opened, published), if any.
    pub incident: Option<Change>,
}

/// Which action items to list, by deadline.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    pub owner: Option<Handle>,
    pub incident: Option<IncidentNumber>,
    /// Only those still owed (open or in progress).
    pub pending: bool,
    /// Only those due before this instant (with `pending`: overdue).
    pub due_before: Option<Timestamp>,
    /// Items of restricted incidents only where this handle participates; `None`:
    /// every incident's (for admins).
    pub viewer: Option<Handle>,
    pub limit: u32,
}

/// Reviews and action items.
#[async_trait]
pub trait ReviewStore {
    /// The review of incident `number` with its action items, if it has one.
    async fn review(&self, number: IncidentNumber) -> Result<Option<ReviewRecord>>;

    /// A review's history, oldest first.
    async fn review_history(&self, number: IncidentNumber) -> Result<Vec<HistoryEntry>>;

    /// Writes a review change whole, in one transaction: the review (created when the
    /// change expects version 0, `Duplicate` if the incident has one already; else
    /// `Stale` unless still at the expected version), its history, the items it
    /// changed, the reminders it plans and cancels, and the incident's events.
    async fn write_review(&self, write: ReviewWrite) -> Result<()>;

    /// Action items across incidents, by deadline, each with its incident's title.
    async fn action_items(&self, filter: &ActionFilter) -> Result<Vec<(ActionItem, String)>>;
}
