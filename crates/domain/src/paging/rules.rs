//! The rules paging follows, which the engine runs as jobs: whom an escalation still
//! pages, how a person is reached at an urgency when they said nothing about it, and
//! when an acknowledged incident that nobody mitigates is paged again.

use jiff::{SignedDuration, Timestamp};

use super::jobs::{EscalateJob, PlannedJob};
use super::payload::{AckTimeout, JobPayload};
use super::{ContactMethod, NotificationRule, Urgency};
use crate::incident::Status;
use crate::ContactMethodId;

/// The generation of the escalation a declaration starts.
pub const FIRST_GENERATION: &str = "0";

impl EscalateJob {
    /// The first step of the escalation a declaration starts.
    pub fn first() -> Self {
        EscalateJob {
            generation: FIRST_GENERATION.into(),
            round: 0,
            step: 0,
        }
    }

    /// The escalation an acknowledgement timeout restarts from the first step: a
    /// generation of its own, named after the acknowledgement (event `acknowledged_seq`),
    /// so its jobs never collide with the first one's.
    pub fn after_ack_timeout(acknowledged_seq: i64) -> Self {
        EscalateJob {
            generation: format!("ack{acknowledged_seq}"),
            round: 0,
            step: 0,
        }
    }

    /// Whether this escalation still pages an incident in `status`: the first while
    /// nobody has acknowledged; one restarted by an acknowledgement timeout while nobody
    /// has mitigated.
    pub fn still_pages(&self, status: Status) -> bool {
        match self.generation.as_str() {
            FIRST_GENERATION => status == Status::Triggered,
            _ => matches!(status, Status::Triggered | Status::Acknowledged),
        }
    }
}

/// The deliveries that reach a person at `urgency`, as (contact method id, delay in
/// minutes): one per notification rule of that urgency; without any, every contact
/// method that suits the urgency (all of them for high urgency, those that do not
/// interrupt for low) at once, so that a missing rule never means a silent page.
pub fn deliveries(
    methods: &[ContactMethod],
    rules: &[NotificationRule],
    urgency: Urgency,
) -> Vec<(ContactMethodId, u32)> {
    let chosen: Vec<(ContactMethodId, u32)> = rules
        .iter()
        .filter(|r| r.urgency == urgency)
        .map(|r| (r.contact_method, r.delay_minutes))
        .collect();
    if !chosen.is_empty() {
        return chosen;
    }
    methods
        .iter()
        .filter(|m| urgency == Urgency::High || !m.kind.interrupts())
        .map(|m| (m.id, 0))
        .collect()
}

/// The check that runs when an acknowledgement (event `acknowledged_seq`, made at
/// `acknowledged_at`) times out after `minutes`: if the incident is only acknowledged
/// then, it is paged again ([`EscalateJob::after_ack_timeout`]).
pub fn ack_timeout_check(
    acknowledged_seq: i64,
    acknowledged_at: Timestamp,
    minutes: u32,
) -> PlannedJob {
    JobPayload::AckTimeout(AckTimeout {
        acknowledged_seq,
        due: true,
    })
    .planned(
        format!("{acknowledged_seq}/due"),
        acknowledged_at + SignedDuration::from_mins(i64::from(minutes)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paging::{ContactKind, JobKind};
    use crate::Handle;

    fn method(id: i64, kind: ContactKind) -> ContactMethod {
        ContactMethod {
            id: ContactMethodId(id),
            user: Handle::parse("ana").unwrap(),
            kind,
            address: format!("address-{id}"),
            label: None,
            verified: true,
            verified_at: None,
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn rule(urgency: Urgency, contact_method: i64, delay_minutes: u32) -> NotificationRule {
        NotificationRule {
            id: crate::NotificationRuleId(contact_method * 10),
            user: Handle::parse("ana").unwrap(),
            urgency,
            contact_method: ContactMethodId(contact_method),
            delay_minutes,
        }
    }

    #[test]
    fn rules_of_the_urgency_decide_the_deliveries() {
        let methods = [method(1, ContactKind::Sms), method(2, ContactKind::Email)];
        let rules = [
            rule(Urgency::High, 1, 0),
            rule(Urgency::High, 2, 5),
            rule(Urgency::Low, 2, 0),
        ];
        assert_eq!(
            deliveries(&methods, &rules, Urgency::High),
            [(ContactMethodId(1), 0), (ContactMethodId(2), 5)]
        );
        assert_eq!(
            deliveries(&methods, &rules, Urgency::Low),
            [(ContactMethodId(2), 0)]
        );
    }

    #[test]
    fn without_rules_every_suitable_method_is_used_at_once() {
        let methods = [
            method(1, ContactKind::Sms),
            method(2, ContactKind::Voice),
            method(3, ContactKind::Email),
            method(4, ContactKind::Slack),
        ];
        let only_low = [rule(Urgency::Low, 3, 10)];
        assert_eq!(
            deliveries(&methods, &only_low, Urgency::High),
            [1, 2, 3, 4].map(|id| (ContactMethodId(id), 0)),
            "no rule for high urgency: every method"
        );
        let low: Vec<ContactMethodId> = deliveries(&methods, &[], Urgency::Low)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert!(!low.is_empty(), "low urgency still reaches someone");
        for id in &low {
            let kind = methods.iter().find(|m| m.id == *id).unwrap().kind;
            assert!(!kind.interrupts(), "{kind:?} interrupts");
        }
        assert!(deliveries(&[], &[], Urgency::High).is_empty());
    }

    #[test]
    fn the_first_escalation_stops_at_the_acknowledgement_a_restarted_one_at_mitigation() {
        let first = EscalateJob::first();
        let again = EscalateJob::after_ack_timeout(7);
        assert_eq!(again.generation, "ack7");
        assert_ne!(
            first.planned(Timestamp::UNIX_EPOCH).key,
            again.planned(Timestamp::UNIX_EPOCH).key
        );
        for status in Status::ALL {
            assert_eq!(
                first.still_pages(status),
                status == Status::Triggered,
                "{status:?}"
            );
            assert_eq!(
                again.still_pages(status),
                matches!(status, Status::Triggered | Status::Acknowledged),
                "{status:?}"
            );
        }
    }

    #[test]
    fn the_timeout_check_runs_when_the_timeout_is_over() {
        let acked: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        let job = ack_timeout_check(4, acked, 15);
        assert_eq!(job.kind, JobKind::AckTimeout);
        assert_eq!(job.run_at, "2026-11-26T10:15:00Z".parse().unwrap());
        assert_eq!(job.key, "4/due");
        assert_eq!(job.payload["acknowledged_seq"], 4);
        assert_eq!(job.payload["due"], true);
    }
}
