//! A change to an incident, decided whole before anything is stored: the events, the
//! projection they lead to, who joins, what the incident's alerts do and which jobs
//! start or stop. A [`Declaration`] is the same for a new incident. The store only
//! writes them.

use super::{Incident, TimelineEvent};
use crate::paging::{JobPlan, Outlets};
use crate::IncidentNumber;

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
    /// What these events do to the status page.
    pub status_page: crate::status::StatusPageChange,
}

impl Change {
    /// The change `events` make to `before`: the projection they lead to, the version
    /// `before` must still be at, who joins the participants, and what the alerts and
    /// the job queue do with it (`outlets`: the jobs that carry events out of Klaxon,
    /// as configured).
    pub fn new(before: &Incident, events: Vec<TimelineEvent>, outlets: &Outlets) -> Change {
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
        let status_page = crate::status::StatusPageChange::of(Some(before), &events);
        let jobs = plan(&events, &incident, outlets, &status_page);
        Change {
            incident,
            expected_version: before.version,
            events,
            new_participants,
            alerts,
            jobs,
            status_page,
        }
    }
}

/// A new incident, decided whole before it is stored: the base of its slug, its first
/// events (a declaration first), the projection they lead to and the jobs they start.
/// The store gives it its number and slug ([`Declaration::numbered`]), which no job
/// and nothing else in the projection depends on.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub slug_base: String,
    pub events: Vec<TimelineEvent>,
    /// The projection of `events`, numbered 0 until the store numbers it.
    pub incident: Incident,
    pub jobs: JobPlan,
    /// What the declaration does to the status page.
    pub status_page: crate::status::StatusPageChange,
}

impl Declaration {
    /// The declaration of an incident from `events`; `None` unless they start with a
    /// declaration.
    pub fn new(
        slug_base: impl Into<String>,
        events: Vec<TimelineEvent>,
        outlets: &Outlets,
    ) -> Option<Declaration> {
        let slug_base = slug_base.into();
        // The number and slug are the store's to give; the plan does not read them.
        let incident = Incident::replay(IncidentNumber(0), &slug_base, &events)?;
        let status_page = crate::status::StatusPageChange::of(None, &events);
        let jobs = plan(&events, &incident, outlets, &status_page);
        Some(Declaration {
            slug_base,
            events,
            incident,
            jobs,
            status_page,
        })
    }

    /// The incident as stored under `number` with `slug`.
    pub fn numbered(&self, number: IncidentNumber, slug: String) -> Incident {
        Incident {
            number,
            slug,
            ..self.incident.clone()
        }
    }
}

/// The jobs `events` call for: the paging rules', the outlets' and the status page's
/// notices to subscribers.
fn plan(
    events: &[TimelineEvent],
    after: &Incident,
    outlets: &Outlets,
    status_page: &crate::status::StatusPageChange,
) -> JobPlan {
    let mut jobs = crate::paging::plan_jobs(events, after);
    jobs.add.extend(outlets.jobs(events, after));
    jobs.add.extend(crate::status::notices::notice_jobs(
        events,
        after,
        status_page,
    ));
    jobs
}
