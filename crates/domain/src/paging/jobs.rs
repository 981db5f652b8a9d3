//! Which work an incident change leaves for later. The store writes these jobs in the
//! same transaction as the events that caused them, and cancels the ones an event makes
//! pointless (an acknowledgement stops the escalation), so nothing that must happen
//! later lives only in memory.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::incident::{EventKind, Incident, TimelineEvent, UpdateAudience};

/// What a job does when its time comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// Page an escalation step's targets and schedule the next step.
    Escalate,
    /// Deliver a page to one contact method of one person.
    Page,
    /// After an acknowledgement: page again if the incident is not mitigated in time.
    AckTimeout,
    /// Deliver anything else (a test message, a direct page).
    Notify,
    /// Tell the incident's chat channel about an event (opened, update, mitigated,
    /// resolved), creating the channel when the incident opens.
    Announce,
    /// Remind the communicator (or commander) that an internal update is due.
    Remind,
    /// POST one timeline event to the server-wide event webhook.
    Publish,
    /// Post one announced event in a shared chat room (Teams, Mattermost).
    RoomPost,
    /// Remind of, start or complete a scheduled maintenance on the status page.
    Maintenance,
    /// After a resolution: open the post-incident review if the policy requires one.
    ReviewOpen,
    /// Remind the owner (or, escalated, the stakeholders) of a review's deadline.
    ReviewRemind,
    /// Remind the owner (or, escalated, the stakeholders) of an action item's deadline.
    ActionRemind,
    /// Work out a status-page notice and queue its delivery to each subscriber it
    /// reaches.
    StatusNotice,
    /// Send one status-page mail or webhook to one subscriber.
    SubscriberDelivery,
}

impl JobKind {
    pub const ALL: [Self; 14] = [
        Self::Escalate,
        Self::Page,
        Self::AckTimeout,
        Self::Notify,
        Self::Announce,
        Self::Remind,
        Self::Publish,
        Self::RoomPost,
        Self::Maintenance,
        Self::ReviewOpen,
        Self::ReviewRemind,
        Self::ActionRemind,
        Self::StatusNotice,
        Self::SubscriberDelivery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Escalate => "escalate",
            Self::Page => "page",
            Self::AckTimeout => "ack-timeout",
            Self::Notify => "notify",
            Self::Announce => "announce",
            Self::Remind => "remind",
            Self::Publish => "publish",
            Self::RoomPost => "room-post",
            Self::Maintenance => "maintenance",
            Self::ReviewOpen => "review-open",
            Self::ReviewRemind => "review-remind",
            Self::ActionRemind => "action-remind",
            Self::StatusNotice => "status-notice",
            Self::SubscriberDelivery => "subscriber-delivery",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A job to write: `key` makes it idempotent (one live job per kind, incident and key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedJob {
    pub kind: JobKind,
    pub key: String,
    pub run_at: Timestamp,
    pub payload: serde_json::Value,
}

/// Where an escalation is: which run of the policy (`generation`, restarted by an
/// acknowledgement timeout), which pass over its steps and which step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalateJob {
    pub generation: String,
    pub round: u32,
    pub step: u32,
}

impl EscalateJob {
    pub fn planned(&self, run_at: Timestamp) -> PlannedJob {
        PlannedJob {
            kind: JobKind::Escalate,
            key: format!("{}/{}/{}", self.generation, self.round, self.step),
            run_at,
            payload: serde_json::to_value(self).expect("plain data serialises"),
        }
    }
}

/// The jobs a change adds and the kinds of the incident's pending jobs it cancels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobPlan {
    pub add: Vec<PlannedJob>,
    pub cancel: Vec<JobKind>,
}

/// Whether `kind` is announced in the incident's chat channel: openings,
/// acknowledgements, severity changes, internal updates, mitigations and resolutions.
pub fn announced(kind: &EventKind) -> bool {
    match kind {
        EventKind::Declared { .. }
        | EventKind::Mitigated { .. }
        | EventKind::Resolved { .. }
        | EventKind::Acknowledged
        | EventKind::SeverityChanged { .. } => true,
        EventKind::StatusUpdated { audience, .. } => *audience == UpdateAudience::Internal,
        _ => false,
    }
}

/// The job that reminds of a customer-facing incident's customer updates, first run at
/// `at`: one per incident (its key), planned again by any change while none is live.
pub fn customer_reminder(at: Timestamp) -> PlannedJob {
    crate::paging::JobPayload::Remind(crate::paging::Reminder {
        due_at: at,
        audience: UpdateAudience::Customer,
    })
    .planned("customer", at)
}

/// The jobs that `events` (just applied, giving `after`) call for:
/// - a declaration starts the escalation at once (drills page nobody);
/// - an acknowledgement stops the escalation and pending pages, and starts the
///   acknowledgement-timeout check;
/// - mitigation ends the timeout check; resolving, declining or merging ends all paging;
/// - openings, acknowledgements, severity changes, internal updates, mitigations and
///   resolutions are announced in the incident's chat channel, in order;
/// - an open customer-facing incident (not a drill) has its customer-update reminder.
pub fn plan(events: &[TimelineEvent], after: &Incident) -> JobPlan {
    let mut plan = JobPlan::default();
    for event in events {
        if announced(&event.kind) && !after.drill {
            plan.add.push(PlannedJob {
                kind: JobKind::Announce,
                key: event.seq.to_string(),
                run_at: event.recorded_at,
                payload: serde_json::json!({ "seq": event.seq }),
            });
        }
        match &event.kind {
            EventKind::Declared { .. } if !after.drill => {
                plan.add
                    .push(EscalateJob::first().planned(event.recorded_at));
            }
            EventKind::Acknowledged => {
                plan.cancel.extend([JobKind::Escalate, JobKind::Page]);
                plan.add.push(PlannedJob {
                    kind: JobKind::AckTimeout,
                    key: event.seq.to_string(),
                    run_at: event.recorded_at,
                    payload: serde_json::json!({ "acknowledged_seq": event.seq }),
                });
            }
            EventKind::Mitigated { .. } => {
                plan.cancel
                    .extend([JobKind::AckTimeout, JobKind::Escalate, JobKind::Page]);
            }
            EventKind::Resolved { .. } => {
                plan.cancel.extend([
                    JobKind::Escalate,
                    JobKind::Page,
                    JobKind::AckTimeout,
                    JobKind::Remind,
                ]);
                // Whether a review is required is the policy's; the job reads it.
                plan.add.push(
                    crate::paging::JobPayload::ReviewOpen(crate::review::ReviewOpening {
                        resolved_seq: event.seq,
                    })
                    .planned(event.seq.to_string(), event.recorded_at),
                );
            }
            EventKind::Declined { .. } | EventKind::MergedInto { .. } => {
                plan.cancel.extend([
                    JobKind::Escalate,
                    JobKind::Page,
                    JobKind::AckTimeout,
                    JobKind::Remind,
                ]);
            }
            // The reminder for the next update is planned when this one is announced.
            EventKind::StatusUpdated { audience, .. } if *audience == UpdateAudience::Internal => {
                plan.cancel.push(JobKind::Remind);
            }
            _ => {}
        }
    }
    // A customer-facing incident keeps one job watching for its next customer update:
    // the job reads when that falls due (the policy's cadence) and waits until then.
    if let Some(last) = events.last() {
        if after.customer_facing && after.status.is_open() && !after.drill {
            plan.add.push(customer_reminder(last.recorded_at));
        }
    }
    // A job added after a cancellation of its kind in the same change survives it:
    // the store cancels first, then adds.
    plan.cancel.sort_by_key(|k| k.as_str());
    plan.cancel.dedup();
    plan
}
