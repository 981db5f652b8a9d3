//! Where incident events go beyond the incident's own chat channel, when the operator
//! configured it: a server-wide event webhook that receives every timeline event, and
//! shared chat rooms (Microsoft Teams, Mattermost) that receive the announcements. The
//! rules for which event becomes which job live here; the store writes the jobs in the
//! same transaction as the events, and only for the outlets it was told exist.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::jobs::{announced, JobKind, PlannedJob};
use crate::incident::{EventKind, Incident, TimelineEvent};

/// A shared chat room fed by an incoming webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRoom {
    Teams,
    Mattermost,
}

impl ChatRoom {
    pub const ALL: [Self; 2] = [Self::Teams, Self::Mattermost];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Teams => "teams",
            Self::Mattermost => "mattermost",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// The outlets this server was started with. The default (none) adds no job and no
/// write to any incident change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outlets {
    /// Every timeline event is published to the event webhook...
    pub publish_events: bool,
    /// ...restricted incidents' too, when the policy allows it
    /// ([`crate::policy::RestrictedPolicy::publish_events`]).
    pub publish_restricted: bool,
    /// The chat rooms announcements are posted to.
    pub rooms: Vec<ChatRoom>,
}

impl Outlets {
    pub fn is_empty(&self) -> bool {
        !self.publish_events && self.rooms.is_empty()
    }

    /// The jobs `events` (just applied, giving `after`) call for:
    /// - one `publish` job per event, drills included (the receiver is a system the
    ///   operator chose, and the document says which it is), restricted incidents only
    ///   where the policy allows it;
    /// - one `room-post` job per room for each event posted as a message in chat (the
    ///   opening, internal updates, severity changes, mitigation, resolution), never for
    ///   drills and never for restricted incidents: these rooms are shared.
    ///
    /// Each job carries one event's `seq`; keys make them idempotent.
    pub fn jobs(&self, events: &[TimelineEvent], after: &Incident) -> Vec<PlannedJob> {
        let mut jobs = vec![];
        for event in events {
            if self.publish_events && (!after.restricted || self.publish_restricted) {
                jobs.push(PlannedJob {
                    kind: JobKind::Publish,
                    key: event.seq.to_string(),
                    run_at: event.recorded_at,
                    payload: json!({ "seq": event.seq }),
                });
            }
            if after.drill || after.restricted || !posted_in_rooms(&event.kind) {
                continue;
            }
            for room in &self.rooms {
                jobs.push(PlannedJob {
                    kind: JobKind::RoomPost,
                    key: format!("{}/{}", room.as_str(), event.seq),
                    run_at: event.recorded_at,
                    payload: json!({ "room": room, "seq": event.seq }),
                });
            }
        }
        jobs
    }
}

/// Events that are posted as a message of their own in the incident's chat room. An
/// acknowledgement is announced too, but in Slack it only edits the headline, which an
/// incoming webhook cannot do, so it posts nothing in these rooms.
pub fn posted_in_rooms(kind: &EventKind) -> bool {
    announced(kind) && !matches!(kind, EventKind::Acknowledged)
}

/// The id receivers de-duplicate deliveries by: the same on every retry of one event.
pub fn delivery_id(incident: &Incident, seq: i64) -> String {
    format!("incident-{}-{seq}", incident.number.0)
}

/// The event name in `X-Klaxon-Event`, e.g. `incident.acknowledged`.
pub fn event_name(kind: &EventKind) -> String {
    format!("incident.{}", kind.name())
}

/// The JSON document the event webhook receives for `event`. `incident` is the
/// incident as it stood right after the event (replayed up to it), so a retry sends
/// the same document and a receiver sees the state each event produced.
pub fn event_document(incident: &Incident, event: &TimelineEvent) -> serde_json::Value {
    let data = match serde_json::to_value(&event.kind) {
        Ok(serde_json::Value::Object(mut fields)) => {
            fields.remove("type");
            serde_json::Value::Object(fields)
        }
        _ => json!({}),
    };
    json!({
        "delivery_id": delivery_id(incident, event.seq),
        "event": event_name(&event.kind),
        "incident": {
            "number": incident.number.0,
            "slug": incident.slug,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status,
            "service": incident.service,
            "restricted": incident.restricted,
            "drill": incident.drill,
        },
        "seq": event.seq,
        "kind": event.kind.name(),
        "actor": event.actor,
        "source": event.source,
        "recorded_at": event.recorded_at,
        "occurred_at": event.occurred_at,
        "drill": incident.drill,
        "restricted": incident.restricted,
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{declare, Context, DeclareInput, Source};
    use crate::policy::Policy;
    use crate::{Handle, IncidentNumber, Severity};

    fn opened(restricted: bool, drill: bool) -> (Vec<TimelineEvent>, Incident) {
        let policy = Policy::builtin();
        let ctx = Context {
            actor: Handle::parse("alice").unwrap(),
            source: Source::Cli,
            now: "2026-11-26T10:00:00Z".parse().unwrap(),
            policy: &policy,
            link_base: None,
        };
        let input = DeclareInput {
            title: "API down".into(),
            severity: Some(Severity::new(1).unwrap()),
            restricted,
            drill,
            ..Default::default()
        };
        let events = declare(&input, &ctx).unwrap();
        let incident = Incident::replay(IncidentNumber(42), "incident-api", &events).unwrap();
        (events, incident)
    }

    fn kinds(jobs: &[PlannedJob]) -> Vec<(JobKind, String)> {
        jobs.iter().map(|j| (j.kind, j.key.clone())).collect()
    }

    #[test]
    fn no_outlets_no_jobs() {
        let (events, incident) = opened(false, false);
        assert!(Outlets::default().jobs(&events, &incident).is_empty());
    }

    #[test]
    fn every_event_is_published_and_openings_posted_per_room() {
        let (events, incident) = opened(false, false);
        let outlets = Outlets {
            publish_events: true,
            rooms: vec![ChatRoom::Teams, ChatRoom::Mattermost],
            ..Default::default()
        };
        let jobs = outlets.jobs(&events, &incident);
        let published = jobs.iter().filter(|j| j.kind == JobKind::Publish).count();
        assert_eq!(published, events.len());
        let posted: Vec<_> = kinds(&jobs)
            .into_iter()
            .filter(|(k, _)| *k == JobKind::RoomPost)
            .collect();
        assert_eq!(
            posted,
            vec![
                (JobKind::RoomPost, "teams/1".to_owned()),
                (JobKind::RoomPost, "mattermost/1".to_owned())
            ]
        );
    }

    #[test]
    fn drills_are_published_but_never_posted() {
        let outlets = Outlets {
            publish_events: true,
            rooms: vec![ChatRoom::Teams],
            ..Default::default()
        };
        let (events, incident) = opened(false, true);
        let jobs = outlets.jobs(&events, &incident);
        assert_eq!(jobs.len(), events.len());
        assert!(jobs.iter().all(|j| j.kind == JobKind::Publish), "{jobs:?}");
        let doc = event_document(&incident, &events[0]);
        assert_eq!(doc["drill"], true);
        assert_eq!(doc["delivery_id"], "incident-42-1");
        assert_eq!(doc["event"], "incident.declared");
    }

    #[test]
    fn restricted_incidents_go_nowhere_unless_the_policy_publishes_them() {
        let (events, incident) = opened(true, false);
        let mut outlets = Outlets {
            publish_events: true,
            rooms: vec![ChatRoom::Teams, ChatRoom::Mattermost],
            publish_restricted: false,
        };
        assert!(outlets.jobs(&events, &incident).is_empty());
        outlets.publish_restricted = true;
        let jobs = outlets.jobs(&events, &incident);
        assert_eq!(jobs.len(), events.len());
        assert!(jobs.iter().all(|j| j.kind == JobKind::Publish), "{jobs:?}");
        assert_eq!(event_document(&incident, &events[0])["restricted"], true);
    }
}
