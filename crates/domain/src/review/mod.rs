//! The post-incident review: one per incident, its own small aggregate (the sections of
//! the runbook's report, the 5-whys chains and the action items) with its own history.
//! The incident's timeline is read, never rewritten: starring an event or adding context
//! to it is a note of the review's. Like an incident command, [`decide`] never changes
//! anything; the caller stores the [`ReviewChange`] it returns whole.

mod actions;
pub mod api;
mod command;
mod markdown;
mod reminders;
mod sections;
mod view;
mod whys;

#[cfg(test)]
mod tests;

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use actions::{
    default_due, ActionItem, ActionItemPatch, ActionItemRef, ActionLists, ActionStatus, Answers,
    Category, ListedAction, NewActionItem,
};
pub use command::{decide, may_close, open, HistoryEntry, OpenReview, ReviewChange, ReviewCommand};
pub use markdown::markdown;
pub use reminders::{
    action_reminders, review_reminders, ActionReminder, ReminderStage, ReviewOpening,
    ReviewReminder,
};
pub use sections::{
    AgendaItem, Factor, FactorInput, Impact, ImpactFigure, Lessons, Meeting, RootCause,
    RootCauseInput, Summary, TimelineNote,
};
pub use view::{chains, ReviewView, TimelineEntry};
pub use whys::{check_whys, WhyNode, WhyNodeInput};

use crate::{DomainError, Handle, IncidentNumber};

/// Where a review is: written (`draft`), read by the team (`in_review`), done
/// (`published`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Draft,
    InReview,
    Published,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 3] = [Self::Draft, Self::InReview, Self::Published];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::InReview => "in_review",
            Self::Published => "published",
        }
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let t = text.trim().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == t)
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!("'{text}' is not a review status; use draft, in_review or published"),
                )
            })
    }
}

impl fmt::Display for ReviewStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A post-incident review as it stands. Its `version` counts the entries of its
/// history: the store writes a change only if the review is still at the version the
/// change was decided from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Review {
    pub incident: IncidentNumber,
    pub status: ReviewStatus,
    /// Who sees it written: the commander by default.
    pub owner: Option<Handle>,
    /// Whether the severity's policy required it when it opened (it then holds the
    /// incident open until published).
    pub required: bool,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: Timestamp,
    pub opened_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<Timestamp>,
    pub summary: Summary,
    pub impact: Impact,
    pub root_cause: RootCause,
    /// The 5-whys: nodes that each follow another (or start a chain).
    pub whys: Vec<WhyNode>,
    pub lessons: Lessons,
    pub meeting: Meeting,
    /// Stars and context the team put on timeline events.
    pub notes: Vec<TimelineNote>,
    pub version: i64,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A review and its action items: the aggregate every command reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRecord {
    pub review: Review,
    pub items: Vec<ActionItem>,
}

impl Review {
    /// Past due and not published.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status != ReviewStatus::Published && now > self.due_at
    }

    /// The sections that must be filled before the review is published.
    pub fn missing_sections(&self) -> Vec<&'static str> {
        let mut missing = vec![];
        if self.summary.what_happened.trim().is_empty() {
            missing.push("summary");
        }
        if self.impact.description.trim().is_empty() && self.impact.figures.is_empty() {
            missing.push("impact");
        }
        if self.root_cause.technical_cause.trim().is_empty() {
            missing.push("root_cause");
        }
        if self.whys.is_empty() {
            missing.push("whys");
        }
        if self.lessons.went_well.trim().is_empty() && self.lessons.could_improve.trim().is_empty()
        {
            missing.push("lessons");
        }
        missing
    }
}
