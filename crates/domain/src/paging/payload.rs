//! What a job carries, read once by its kind. The store keeps a job's payload as JSON
//! beside its kind; [`JobPayload::read`] turns the pair into one typed value, so the
//! engine matches on variants instead of reading keys.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::jobs::{EscalateJob, JobKind, PlannedJob};
use crate::incident::UpdateAudience;

/// A job's payload, tagged by the job's kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "kebab-case")]
pub enum JobPayload {
    /// Page the step of the escalation it names.
    Escalate(EscalateJob),
    /// Deliver a page to one contact method.
    Page(Delivery),
    /// After an acknowledgement: check, or (`due`) act on, the acknowledgement timeout.
    AckTimeout(AckTimeout),
    /// Deliver a message that is not a page (a test message, a direct page, a reminder).
    Notify(Delivery),
    /// Announce an event, or post a reminder, in the incident's chat channel.
    Announce(Announcement),
    /// Remind that the internal update due at `due_at` has not come.
    Remind(Reminder),
    /// Publish timeline event `seq` to the event webhook.
    Publish(EventRef),
    /// Post timeline event `seq` in a shared room.
    RoomPost(RoomPost),
    /// Remind of, start or complete a scheduled maintenance on the status page.
    Maintenance(crate::status::maintenance::MaintenanceJob),
    /// Open the review of a resolved incident, if its policy requires one.
    ReviewOpen(crate::review::ReviewOpening),
    /// Remind of a review's deadline.
    ReviewRemind(crate::review::ReviewReminder),
    /// Remind of an action item's deadline.
    ActionRemind(crate::review::ActionReminder),
    /// Work out a status-page notice and queue a delivery per subscriber it reaches.
    StatusNotice(crate::status::NoticeSource),
    /// Send a status-page mail or webhook to one subscriber.
    SubscriberDelivery(crate::status::SubscriberDelivery),
}

/// A delivery to one contact method of one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub user: String,
    pub contact_method: crate::ContactMethodId,
    /// The text of a message that is not a test message or a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who sends that message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// The acknowledgement (event `acknowledged_seq`) whose timeout a job watches; `due`
/// once the timeout is over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckTimeout {
    pub acknowledged_seq: i64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub due: bool,
}

/// What an announcement posts: a reminder's text in a known room, or event `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Announcement {
    Reminder {
        reminder: String,
        channel: Option<String>,
        thread_ts: Option<String>,
    },
    Event {
        seq: i64,
    },
}

/// The update a reminder is about: the internal update due at `due_at`, or the
/// incident's next customer update (one reminder job per incident, which waits for
/// whenever that update falls due).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub due_at: Timestamp,
    #[serde(default, skip_serializing_if = "UpdateAudience::is_internal")]
    pub audience: UpdateAudience,
}

/// Timeline event `seq` of the job's incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    pub seq: i64,
}

/// Timeline event `seq` for the shared room `room` (a [`super::ChatRoom`] name; one no
/// longer known posts nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPost {
    pub room: String,
    pub seq: i64,
}

impl JobPayload {
    /// The payload of a job of `kind`, or why it does not fit that kind.
    pub fn read(kind: JobKind, payload: &serde_json::Value) -> Result<Self, String> {
        let tagged = serde_json::json!({ "kind": kind, "payload": payload });
        serde_json::from_value(tagged)
            .map_err(|e| format!("the payload of a {} job: {e}", kind.as_str()))
    }

    /// The job that carries this payload, kept once per `key` (see [`PlannedJob`]), due
    /// at `run_at`.
    pub fn planned(&self, key: impl Into<String>, run_at: Timestamp) -> PlannedJob {
        let mut tagged = serde_json::to_value(self).expect("plain data serialises");
        PlannedJob {
            kind: self.kind(),
            key: key.into(),
            run_at,
            payload: tagged["payload"].take(),
        }
    }

    /// The kind of job that carries this payload.
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Escalate(_) => JobKind::Escalate,
            Self::Page(_) => JobKind::Page,
            Self::AckTimeout(_) => JobKind::AckTimeout,
            Self::Notify(_) => JobKind::Notify,
            Self::Announce(_) => JobKind::Announce,
            Self::Remind(_) => JobKind::Remind,
            Self::Publish(_) => JobKind::Publish,
            Self::RoomPost(_) => JobKind::RoomPost,
            Self::Maintenance(_) => JobKind::Maintenance,
            Self::ReviewOpen(_) => JobKind::ReviewOpen,
            Self::ReviewRemind(_) => JobKind::ReviewRemind,
            Self::ActionRemind(_) => JobKind::ActionRemind,
            Self::StatusNotice(_) => JobKind::StatusNotice,
            Self::SubscriberDelivery(_) => JobKind::SubscriberDelivery,
        }
    }

    /// The timeline event the job is about, for the kinds that deliver one in order.
    pub fn seq(&self) -> Option<i64> {
        match self {
            Self::Announce(Announcement::Event { seq })
            | Self::Publish(EventRef { seq })
            | Self::RoomPost(RoomPost { seq, .. }) => Some(*seq),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(kind: JobKind, payload: serde_json::Value) -> JobPayload {
        JobPayload::read(kind, &payload).unwrap()
    }

    /// Every payload Klaxon writes reads back as the variant of its kind.
    #[test]
    fn each_kind_reads_its_payload() {
        assert_eq!(
            read(
                JobKind::Escalate,
                EscalateJob::first().planned(Timestamp::UNIX_EPOCH).payload
            ),
            JobPayload::Escalate(EscalateJob::first())
        );
        let page = read(JobKind::Page, json!({"user": "ana", "contact_method": 3}));
        assert_eq!(
            page,
            JobPayload::Page(Delivery {
                user: "ana".into(),
                contact_method: crate::ContactMethodId(3),
                message: None,
                from: None
            })
        );
        let notify = read(
            JobKind::Notify,
            json!({"user": "ana", "contact_method": 3, "message": "hi", "from": "bo"}),
        );
        assert!(matches!(
            notify,
            JobPayload::Notify(Delivery {
                message: Some(_),
                from: Some(_),
                ..
            })
        ));
        assert_eq!(
            read(JobKind::AckTimeout, json!({"acknowledged_seq": 4})),
            JobPayload::AckTimeout(AckTimeout {
                acknowledged_seq: 4,
                due: false
            })
        );
        assert_eq!(
            read(
                JobKind::AckTimeout,
                crate::paging::ack_timeout_check(4, Timestamp::UNIX_EPOCH, 5).payload
            ),
            JobPayload::AckTimeout(AckTimeout {
                acknowledged_seq: 4,
                due: true
            })
        );
        assert_eq!(
            read(JobKind::Announce, json!({"seq": 2})),
            JobPayload::Announce(Announcement::Event { seq: 2 })
        );
        assert_eq!(
            read(
                JobKind::Announce,
                json!({"reminder": "update due", "channel": "C1", "thread_ts": null})
            ),
            JobPayload::Announce(Announcement::Reminder {
                reminder: "update due".into(),
                channel: Some("C1".into()),
                thread_ts: None
            })
        );
        assert_eq!(
            read(JobKind::Remind, json!({"due_at": "2026-11-26T10:30:00Z"})),
            JobPayload::Remind(Reminder {
                due_at: "2026-11-26T10:30:00Z".parse().unwrap(),
                audience: UpdateAudience::Internal,
            }),
            "a reminder stored before customer reminders is of an internal update"
        );
        assert_eq!(
            read(
                JobKind::Remind,
                json!({"due_at": "2026-11-26T10:30:00Z", "audience": "customer"})
            ),
            JobPayload::Remind(Reminder {
                due_at: "2026-11-26T10:30:00Z".parse().unwrap(),
                audience: UpdateAudience::Customer,
            })
        );
        assert_eq!(read(JobKind::Publish, json!({"seq": 5})).seq(), Some(5));
        let planned = JobPayload::Notify(Delivery {
            user: "ana".into(),
            contact_method: crate::ContactMethodId(3),
            message: Some("hi".into()),
            from: Some("bo".into()),
        })
        .planned("k", Timestamp::UNIX_EPOCH);
        assert_eq!(planned.kind, JobKind::Notify);
        assert_eq!(
            planned.payload,
            json!({"user": "ana", "contact_method": 3, "message": "hi", "from": "bo"})
        );
        assert_eq!(
            read(JobKind::RoomPost, json!({"room": "teams", "seq": 6})),
            JobPayload::RoomPost(RoomPost {
                room: "teams".into(),
                seq: 6
            })
        );
        for kind in JobKind::ALL {
            let wrong = JobPayload::read(kind, &json!({"nonsense": true}));
            assert!(wrong.is_err(), "{kind:?}: {wrong:?}");
            assert_eq!(
                read(kind, sample(kind)).kind(),
                kind,
                "a payload is read as its own kind"
            );
        }
    }

    fn sample(kind: JobKind) -> serde_json::Value {
        match kind {
            JobKind::Escalate => json!({"generation": "0", "round": 0, "step": 0}),
            JobKind::Page | JobKind::Notify => json!({"user": "ana", "contact_method": 1}),
            JobKind::AckTimeout => json!({"acknowledged_seq": 1}),
            JobKind::Announce | JobKind::Publish => json!({"seq": 1}),
            JobKind::Remind => json!({"due_at": "2026-11-26T10:30:00Z"}),
            JobKind::RoomPost => json!({"room": "mattermost", "seq": 1}),
            JobKind::Maintenance => {
                json!({"maintenance": 3, "step": "start", "at": "2026-11-28T10:00:00Z"})
            }
            JobKind::ReviewOpen => json!({"resolved_seq": 4}),
            JobKind::ReviewRemind => {
                json!({"due_at": "2026-11-28T10:00:00Z", "stage": "before"})
            }
            JobKind::ActionRemind => {
                json!({"item": 1, "due_at": "2026-11-28T10:00:00Z", "stage": "due"})
            }
            JobKind::StatusNotice => json!({"update": {"seq": 4}}),
            JobKind::SubscriberDelivery => json!({"subscriber": 2, "message": "confirm"}),
        }
    }
}
