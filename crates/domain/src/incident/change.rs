//! A change to an incident, decided whole before anything is stored: the events, the
//! projection they lead to, who joins, what the incident's alerts do and which jobs
//! start or stop.

use super::{Incident, TimelineEvent};

/// New events and the projection they lead to, for one incident. The store writes them
/// only if the incident is still at `expected_version`.
#[derive(Debug, Clone)]
pub struct Change {
    pub incident: Incident,
    pub expected_version: i64,
    pub events: Vec<TimelineEvent>,
    /// Handles that became participants with these events.
    pub new_participants: Vec<String>,
    /// The status the incident's open alerts move to with these events, if any.
    pub alerts: Option<crate::alert::AlertStatus>,
    /// The jobs these events start and cancel (paging, timeouts).
    pub jobs: crate::paging::JobPlan,
}

impl Change {
    /// The change `events` make to `before`: the projection they lead to, the version
    /// `before` must still be at, who joins the participants, and what the alerts and
    /// the job queue do with it.
    pub fn new(before: &Incident, events: Vec<TimelineEvent>) -> Change {
        let mut incident = before.clone();
        for event in &events {
            incident.apply(event);
        }
        let new_participants = incident
            .participants
            .iter()
            .filter(|p| !before.participants.contains(p))
            .cloned()
            .collect();
        let alerts = crate::alert::alerts_after(&events);
        let jobs = crate::paging::plan_jobs(&events, &incident);
        Change {
            incident,
            expected_version: before.version,
            events,
            new_participants,
            alerts,
            jobs,
        }
    }
}
