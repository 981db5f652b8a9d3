//! Update cadence: when an incident's next internal update is due and none has come, the
//! communicator (or, without one, the commander) is reminded in the incident's room and
//! by their contact methods, and the missed update goes on the timeline. Reminders repeat
//! every cadence until an update is posted or the incident is resolved.

use jiff::Timestamp;
use klaxon_domain::incident::{EventKind, Incident, IncidentView};
use klaxon_domain::paging::{self, Announcement, JobPayload, PlannedJob};
use klaxon_domain::Handle;
use klaxon_store::{Job, StoreError};

use crate::app::paging::pages_for;
use crate::engine::job::Ran;
use crate::infra::state::AppState;

/// The reminder job for `incident`'s next internal update, if its severity has a
/// cadence and it is open.
pub(crate) fn reminder_for(state: &AppState, incident: &Incident) -> Option<PlannedJob> {
    let due =
        IncidentView::new(incident.clone(), &state.policy, state.clock.now()).next_update_due_at?;
    Some(reminder(due))
}

/// Runs a reminder: still due (no update since it was planned) and open, it reminds
/// and plans the next one.
pub(crate) async fn remind(state: &AppState, job: &Job) -> Result<Ran, StoreError> {
    let Some(n) = job.incident else {
        return Ok(Ran::done());
    };
    let incident = state.store.incident(n).await?;
    let view = IncidentView::new(incident.clone(), &state.policy, state.clock.now());
    let Some(due) = view.next_update_due_at else {
        return Ok(Ran::done());
    };
    if due > job.run_at {
        // An update came after this reminder was planned; its own reminder is queued.
        return Ok(Ran::done());
    }
    let people: Vec<Handle> = incident
        .roles
        .communicator
        .clone()
        .or_else(|| incident.roles.commander.clone())
        .into_iter()
        .collect();
    let mut ran = Ran::done();
    let message = format!(
        "Update due for {}: the next internal status update was due at {due}. Post one with `klaxon incident update {}`.",
        incident.number, incident.number.0
    );
    let now = state.clock.now();
    let lookups = crate::app::lookups::Lookups::new(state.store.clone());
    for person in &people {
        let key = paging::EscalateJob {
            generation: format!("remind-{}", due.as_millisecond()),
            round: 0,
            step: 0,
        };
        let from_klaxon = Some((message.as_str(), "klaxon"));
        ran.jobs.extend(
            pages_for(
                &lookups,
                person,
                paging::Urgency::Low,
                &key,
                from_klaxon,
                now,
            )
            .await?,
        );
    }
    if let Some(room) = state.store.room(n).await? {
        let post = Announcement::Reminder {
            reminder: message.clone(),
            channel: Some(room.channel),
            thread_ts: room.thread_ts,
        };
        ran.jobs.push(
            JobPayload::Announce(post).planned(format!("remind-{}", due.as_millisecond()), now),
        );
    }
    ran.events.push(EventKind::UpdateMissed {
        due_at: due,
        reminded: people.iter().map(|p| p.to_string()).collect(),
    });
    let cadence = state
        .policy
        .severity(incident.severity)
        .internal_update_every;
    if let Some(next) = cadence.and_then(|c| now.checked_add(c.0).ok()) {
        ran.jobs.push(reminder(next));
    }
    Ok(ran)
}

fn reminder(due: Timestamp) -> PlannedJob {
    JobPayload::Remind(paging::Reminder { due_at: due })
        .planned(due.as_millisecond().to_string(), due)
}
