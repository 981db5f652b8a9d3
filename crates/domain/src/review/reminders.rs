//! When a review and its action items come back: the owner is reminded before the
//! deadline and when it passes; some time past it, the severity's stakeholders are
//! told too. Each reminder is a job planned when the deadline is set; a job whose
//! deadline has moved, or whose review or item is done, does nothing when it runs.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::actions::ActionItem;
use super::{Review, ReviewStatus};
use crate::paging::{JobPayload, PlannedJob};
use crate::policy::ReviewRules;

/// Which reminder of a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReminderStage {
    /// `remind_before` the deadline: the owner.
    Before,
    /// At the deadline: the owner, told it is overdue.
    Due,
    /// `escalate_after` past the deadline: the owner and the stakeholders.
    Escalate,
}

impl ReminderStage {
    pub const ALL: [ReminderStage; 3] = [Self::Before, Self::Due, Self::Escalate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before",
            Self::Due => "due",
            Self::Escalate => "escalate",
        }
    }

    /// When this reminder of a deadline `due` runs.
    pub fn run_at(self, due: Timestamp, rules: &ReviewRules) -> Timestamp {
        match self {
            Self::Before => due.checked_sub(rules.remind_before.0).unwrap_or(due),
            Self::Due => due,
            Self::Escalate => due.checked_add(rules.escalate_after.0).unwrap_or(due),
        }
    }
}

/// The job that opens a review when an incident resolves, if its policy requires one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewOpening {
    /// The resolution's event.
    pub resolved_seq: i64,
}

/// A reminder of the review due at `due_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewReminder {
    pub due_at: Timestamp,
    pub stage: ReminderStage,
}

/// A reminder of action item `item` (of the job's incident), due at `due_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionReminder {
    pub item: u32,
    pub due_at: Timestamp,
    pub stage: ReminderStage,
}

/// The reminders of a review not yet published; the one before the deadline only if
/// that is still ahead of `now`.
pub fn review_reminders(review: &Review, rules: &ReviewRules, now: Timestamp) -> Vec<PlannedJob> {
    if review.status == ReviewStatus::Published {
        return vec![];
    }
    stages(review.due_at, rules, now)
        .map(|(stage, at)| {
            let payload = JobPayload::ReviewRemind(ReviewReminder {
                due_at: review.due_at,
                stage,
            });
            payload.planned(
                format!("{}/{}", review.due_at.as_millisecond(), stage.as_str()),
                at,
            )
        })
        .collect()
}

/// The reminders of an action item still owed.
pub fn action_reminders(item: &ActionItem, rules: &ReviewRules, now: Timestamp) -> Vec<PlannedJob> {
    if !item.status.is_pending() {
        return vec![];
    }
    stages(item.due_at, rules, now)
        .map(|(stage, at)| {
            let payload = JobPayload::ActionRemind(ActionReminder {
                item: item.number,
                due_at: item.due_at,
                stage,
            });
            payload.planned(
                format!(
                    "{}/{}/{}",
                    item.number,
                    item.due_at.as_millisecond(),
                    stage.as_str()
                ),
                at,
            )
        })
        .collect()
}

fn stages(
    due: Timestamp,
    rules: &ReviewRules,
    now: Timestamp,
) -> impl Iterator<Item = (ReminderStage, Timestamp)> + '_ {
    ReminderStage::ALL
        .into_iter()
        .map(move |s| (s, s.run_at(due, rules)))
        .filter(move |(s, at)| *s != ReminderStage::Before || *at > now)
}
